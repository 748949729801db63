"""`cogaudio-train turn calibrate --rows data/lime-turns --out assets/turn/end_of_turn.json`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.models.bundled import ASSETS


def _calibrate(args: argparse.Namespace) -> int:
    from core.cli.turn_bench import TurnBenchError
    from training.turn.calibrate import calibrate

    try:
        spec = calibrate(Path(args.rows), Path(args.out), args.max_rows, args.max_cut_off, args.seed,
                         points_file=Path(args.points) if args.points else None)
    except TurnBenchError as exc:
        print(f"turn calibrate: {exc}")
        return 2
    print(json.dumps({k: spec[k] for k in ("source", "complete_at", "incomplete_at", "calibration")}, indent=2))
    print(f"end-of-turn model written to {args.out}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("turn", help="the end-of-turn model (core.conversation.end_of_turn)")
    sub = p.add_subparsers(dest="turn_command", required=True)
    c = sub.add_parser("calibrate", help="fit it on LIME rows with inserted pauses (train + validation splits)")
    c.add_argument("--rows", default="data/lime-turns", help="a LIME dataset (configs/lime-turns.yaml builds one)")
    c.add_argument("--out", default=str(ASSETS / "turn" / "end_of_turn.json"))
    c.add_argument("--max-rows", type=int, default=None, help="at most this many rows per split")
    c.add_argument("--max-cut-off", type=float, default=0.02, help="cut-off rate allowed on the calibration rows")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--points", default=None, metavar="FILE.json",
                   help="keep the measured points here (transcripts take most of the time) and reuse them if it exists")
    c.set_defaults(func=_calibrate)
