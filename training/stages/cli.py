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


def _run_eval(args: argparse.Namespace) -> int:
    """Score a saved model folder on a LIME split, as the training stages do at their end."""
    from pathlib import Path

    from training.eval.emotion_eval import evaluate
    from training.lime.dataset import load_lime
    from training.model.export_layout import load_model
    from training.stages.config import EvalConfig
    from training.stages.data import ExampleBuilder

    try:
        model = load_model(args.model)
        data = load_lime(Path(args.data))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = EvalConfig(split=args.split, max_rows=args.max_rows, format_rows=args.format_rows,
                     text_baseline=not args.no_text_baseline)
    builder = ExampleBuilder.for_model(model)
    result = evaluate(model, data[cfg.split], cfg, builder, explicit=args.explicit)
    print(json.dumps(result, indent=2, default=str))
    return 0


def add_parser(subparsers) -> None:
    e = subparsers.add_parser("sft-eval", help="score a trained model folder on the held-out LIME split")
    e.add_argument("--model", required=True, help="model folder (OUT/model from sft or implicit)")
    e.add_argument("--data", default="data/lime-tiny", help="LIME dataset folder")
    e.add_argument("--split", default="test")
    e.add_argument("--max-rows", type=int, default=56, help="rows, spread over kind x emotion (0 = all)")
    e.add_argument("--format-rows", type=int, default=4, help="rows generated in full for format validity")
    e.add_argument("--explicit", action="store_true", help="read the tag under the explicit (EIPS) prompt")
    e.add_argument("--no-text-baseline", action="store_true", help="skip the transcript-only baseline")
    e.set_defaults(func=_run_eval)
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
    from training.stages import dist_check

    dist_check.add_parser(subparsers)
