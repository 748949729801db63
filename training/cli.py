"""`cogaudio-train <stage>`: lime, eips, sft, export, quantize, pipeline.

Each stage module exposes add_parser(subparsers) and registers its own subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys

STAGE_MODULES = [
    "training.lime.cli",
    "training.eips_annotate.cli",
    "training.stages.cli",
    "training.export.cli",
    "training.pipeline",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cogaudio-train", description="Train and export CogAudio-LLM.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in STAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "\0"):
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
