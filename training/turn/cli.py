"""`cogaudio-train turn calibrate --rows data/lime-turns --out assets/turn/end_of_turn.json [--lm]` and
`cogaudio-train turn tradeoff` (held-out cut-offs against delay, with and without the language model)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.models.bundled import ASSETS


def _calibrate(args: argparse.Namespace) -> int:
    from core.cli.turn_bench import TurnBenchError
    from core.conversation.lm_completion import LmUnavailable
    from training.turn.calibrate import calibrate

    try:
        spec = calibrate(Path(args.rows), Path(args.out), args.max_rows, args.max_cut_off, args.seed,
                         points_file=Path(args.points) if args.points else None, lm=args.lm)
    except (TurnBenchError, LmUnavailable) as exc:
        print(f"turn calibrate: {exc}")
        return 2
    print(json.dumps({k: spec[k] for k in ("source", "complete_at", "incomplete_at", "calibration", "with_lm")
                      if k in spec}, indent=2))
    print(f"end-of-turn model written to {args.out}")
    return 0


def _tradeoff(args: argparse.Namespace) -> int:
    from core.cli.turn_bench import TurnBenchError
    from core.conversation.lm_completion import LmUnavailable
    from core.settings import Settings
    from training.turn.calibrate import points_for
    from training.turn.tradeoff import report

    settings = Settings()
    try:
        budgets = [float(b) for b in args.budgets.split(",")]
    except ValueError:
        print(f"turn tradeoff: --budgets takes fractions separated by commas (0.02,0.05), not {args.budgets!r}")
        return 2
    try:
        cal = points_for(Path(args.rows), Path(args.points) if args.points else None, ("train", "validation"),
                         args.max_rows, args.seed, settings)
        test = points_for(Path(args.rows), Path(args.test_points) if args.test_points else None, ("test",),
                          args.test_rows, args.seed, settings)
        print(report(cal, test, budgets, settings))
    except (TurnBenchError, LmUnavailable) as exc:
        print(f"turn tradeoff: {exc}")
        return 2
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
    c.add_argument("--lm", action="store_true",
                   help="also fit with the language model's end-of-turn probability (the with_lm section)")
    c.set_defaults(func=_calibrate)
    t = sub.add_parser("tradeoff", help="held-out cut-offs against delay at several budgets, with and without the "
                       "language model (the same points for both)")
    t.add_argument("--rows", default="data/lime-turns")
    t.add_argument("--max-rows", type=int, default=None, help="calibration rows per split (train, validation)")
    t.add_argument("--test-rows", type=int, default=None, help="held-out rows (the test split)")
    t.add_argument("--points", default=None, metavar="FILE.json", help="calibration points, kept and reused")
    t.add_argument("--test-points", default=None, metavar="FILE.json", help="held-out points, kept and reused")
    t.add_argument("--budgets", default="0.02,0.03,0.05,0.1,0.2", help="cut-off budgets on the calibration rows")
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=_tradeoff)
