"""`cogaudio-train lime build --config CONFIG.yaml --out DIR` and `cogaudio-train lime verify DIR`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _build(args: argparse.Namespace) -> int:
    from training.lime.build import build
    from training.lime.config import load_config

    try:
        cfg = load_config(args.config)
        result = build(cfg, args.out, workers=args.workers)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"lime build: {exc}")
        return 2
    report = json.loads((Path(args.out) / "build_report.json").read_text())
    print(json.dumps(report["stats"], indent=2))
    if result.bad:
        print(f"{len(result.bad)} bad rows skipped (see {args.out}/build_report.json), for example:")
        for bad in result.bad[:5]:
            print(f"  {bad['where']}: {bad['error']}")
    print(f"dataset written to {args.out} (load with datasets.load_from_disk)")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from training.lime.verify import VerifyOptions, verify

    report = verify(Path(args.dir), VerifyOptions(min_balance=args.min_balance))
    print(report.render())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_json(), indent=2))
    return 0 if report.ok else 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    lime = subparsers.add_parser("lime", help="Build or verify a LIME (lexically-identical, multi-emotion) dataset.")
    sub = lime.add_subparsers(dest="lime_command", required=True)
    b = sub.add_parser("build", help="Filter texts, render every emotion x intensity x voice, write a datasets folder.")
    b.add_argument("--config", type=Path, required=True, help="YAML config (see configs/lime-tiny.yaml).")
    b.add_argument("--out", type=Path, required=True, help="Output folder (re-run the same command to resume).")
    b.add_argument("--workers", type=int, default=None, help="Override `workers` of the config.")
    b.set_defaults(func=_build)
    v = sub.add_parser("verify", help="Check duplicates, split leakage, label balance and audio sanity.")
    v.add_argument("dir", help="A folder written by `lime build`.")
    v.add_argument("--min-balance", type=float, default=0.5,
                   help="Fail when the rarest emotion of single rows has fewer than this fraction of the commonest.")
    v.add_argument("--json", default=None, help="Also write the report as JSON to this file.")
    v.set_defaults(func=_verify)
