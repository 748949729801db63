"""`cogaudio <subcommand>`: reply, talk, doctor, models, bench, safety, voice.

Each subcommand lives in its own module under core/cli/ and registers itself here.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cogaudio", description="CogAudio Companion: a voice companion that hears how you feel.")
    sub = parser.add_subparsers(dest="command", required=True)
    # Subcommand modules add their parsers here (each exposes add_parser(sub)).

    for module in _subcommand_modules():
        module.add_parser(sub)
    return parser


def _subcommand_modules():
    import importlib

    names = ("reply", "talk", "doctor", "models", "bench", "safety", "voice")
    return [importlib.import_module(f"core.cli.{name}_cmd") for name in names]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
