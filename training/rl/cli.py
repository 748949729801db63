"""`cogaudio-train rl --config configs/tiny-cpu.yaml`: stage 3, DR-SAPO, from the stage-2 model.

    cogaudio-train rl --config configs/tiny-cpu.yaml                       # stage3: section of the YAML
    cogaudio-train rl --config configs/tiny-cpu.yaml --set max_steps=4 --set init_from=runs/x/stage2/model

Re-running the same command resumes from the last checkpoint. Writes OUTPUT_DIR/model (export
it like stage 2: `cogaudio-train export --model OUTPUT_DIR/model ...`), metrics.jsonl,
reward_errors.jsonl, learning_curve.png and result.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def _run(args: argparse.Namespace) -> int:
    from training.rl.config import load_rl_config
    from training.rl.trainer import train_rl

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_rl_config(args.config, args.set or [])
        if args.output_dir:
            cfg.output_dir = args.output_dir
        result = train_rl(cfg)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("rl", help="stage 3: DR-SAPO (explicit + direct routes, SAPO loss) from the stage-2 model",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="YAML config with a stage3: section (configs/tiny-cpu.yaml)")
    p.add_argument("--output-dir", help="override stage3.output_dir")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a stage-3 field, e.g. --set max_steps=4 --set group_size=2")
    p.set_defaults(func=_run)
