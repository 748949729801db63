"""Fuzz the readers of outside input longer than the tests do, and count what happened.

The targets are the property tests' own (tests/helpers/fuzz_targets.py: the audio reader,
the settings loader, the EIPS parser, the manifest reader). For each, hypothesis generates
`--examples` inputs; the table counts inputs accepted, inputs refused with the documented
clear error, and anything else (which would be a bug: its first example is printed).
Run: `python bench/fuzz_inputs.py [--examples 2000] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def _fuzz(target, examples: int) -> tuple[Counter, str | None]:
    """Counts of accepted / clear error / other exception over `examples` generated inputs."""
    from hypothesis import HealthCheck, given, settings

    counts: Counter[str] = Counter()
    first_bug: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def run(value):
        with tempfile.TemporaryDirectory() as folder:
            try:
                target.call(value, Path(folder))
                counts["accepted"] += 1
            except target.errors:
                counts["clear error"] += 1
            except Exception as exc:  # counted, not raised: the table reports them all
                counts["other exception"] += 1
                if not first_bug:
                    first_bug.append(f"{type(exc).__name__}: {exc} <- {value!r:.200}")

    run()
    return counts, (first_bug[0] if first_bug else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from tests.helpers.fuzz_targets import TARGETS

    rows = []
    for target in TARGETS:
        t0 = time.perf_counter()
        counts, first_bug = _fuzz(target, args.examples)
        rows.append({"target": target.name, "examples": sum(counts.values()), **{k: counts[k] for k in
                     ("accepted", "clear error", "other exception")}, "seconds": round(time.perf_counter() - t0, 1),
                     "first_bug": first_bug})
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'reader':<18} {'examples':>8} {'accepted':>9} {'clear error':>12} {'other':>6} {'s':>6}")
    for r in rows:
        print(f"{r['target']:<18} {r['examples']:>8} {r['accepted']:>9} {r['clear error']:>12} "
              f"{r['other exception']:>6} {r['seconds']:>6}")
        if r["first_bug"]:
            print(f"  first other exception: {r['first_bug']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
