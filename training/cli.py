"""`cogaudio-train <stage>`: lime, corpora, eips, sft, export, quantize, pipeline.

Each stage module exposes add_parser(subparsers) and registers its own subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys

STAGE_MODULES = [
    "training.lime.cli",
    "training.lime.corpora_cli",
    "training.eips_annotate.cli",
    "training.stages.cli",
    "training.rl.cli",
    "training.eval.reply_cli",
    "training.export.cli",
    "training.ear.cli",
    "training.turn.cli",
    "training.pipeline",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cogaudio-train", description="Train and export CogAudio-LLM.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in STAGE_MODULES:
        module = importlib.import_module(name)
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ModuleNotFoundError as exc:
        # the training dependencies live behind an extra; say how to get them instead of a traceback
        print(f"cogaudio-train: the training dependencies are not installed ({exc.name} is missing); "
              'run: pip install -e ".[train]"', file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
