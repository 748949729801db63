"""`cogaudio-train corpora prepare --config configs/corpora.yaml`: real emotional speech, ready to train on.

Converts the local corpus folders named in the config (docs/corpora.md says where each comes
from) to 16 kHz mono float32, writes `<out>/manifest.jsonl` and `<out>/build_report.json`,
and prints the report's tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _prepare(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from training.lime.corpus_prepare import load_corpora_config, prepare, render_tables

    try:
        cfg = load_corpora_config(args.config)
        if args.out is not None:
            cfg.out = args.out.resolve()
        report = prepare(cfg, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    except (FileNotFoundError, ValueError, ValidationError) as exc:
        print(f"corpora prepare: {exc}", file=sys.stderr)
        return 2
    print(render_tables(report))
    t = report["totals"]
    print(f"\nfound {t['found']} = used {t['used']} + converted {t['converted']} + skipped {t['skipped']}; "
          f"{t['rows']} rows, {t['hours']:.2f} h")
    print(f"manifest: {Path(report['out']) / report['manifest']}; report: {Path(report['out']) / 'build_report.json'}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    corpora = subparsers.add_parser("corpora", help="Prepare real emotional speech corpora (TESS, EmoDB, URDU, TurEV-DB...).")
    sub = corpora.add_subparsers(dest="corpora_command", required=True)
    p = sub.add_parser("prepare", help="Convert local corpus folders to 16 kHz mono float32; write a manifest and a report.")
    p.add_argument("--config", type=Path, required=True, help="YAML config (see configs/corpora.yaml).")
    p.add_argument("--out", type=Path, default=None, help="Override `out` of the config.")
    p.set_defaults(func=_prepare)
