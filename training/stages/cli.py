"""`cogaudio-train sft` (stage 1, or stage 2 with --stage 2) and `cogaudio-train implicit` (stage 2).

    cogaudio-train sft --config configs/tiny-cpu.yaml
    cogaudio-train implicit --config configs/tiny-cpu.yaml --set init_from=runs/tiny-cpu/stage1/model
    accelerate launch --config_file configs/accelerate-deepspeed.yaml -m training.cli sft --config configs/gpu-multi.yaml

A YAML file may hold both stages: top-level fields are shared, `stage1:` / `stage2:` sections
override them for their stage. Re-running the same command resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys


def _run(args: argparse.Namespace) -> int:
    from training.stages.config import load_config
    from training.stages.trainer import train

    stage = 2 if args.command == "implicit" else args.stage
    try:
        cfg = load_config(args.config, args.set or [], stage=stage)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output_dir:
        cfg.output_dir = args.output_dir
    result = train(cfg)
    print(json.dumps(result, indent=2, default=str))
    return 0


def add_parser(subparsers) -> None:
    for name, help_text in (("sft", "stage 1 explicit EIPS SFT (or stage 2 with --stage 2)"),
                            ("implicit", "stage 2 implicit internalisation (explicit/direct mixture)")):
        p = subparsers.add_parser(name, help=help_text, description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--config", required=True, help="YAML config (see configs/tiny-cpu.yaml)")
        if name == "sft":
            p.add_argument("--stage", type=int, choices=(1, 2), default=1, help="1 explicit (default) or 2 implicit")
        p.add_argument("--output-dir", help="override output_dir")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a config field, e.g. --set max_steps=10 --set model.lora_r=4")
        p.set_defaults(func=_run)
