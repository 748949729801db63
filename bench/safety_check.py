"""What the crisis check costs per turn, and how it does on the held-out phrasings.

A turn passes the check once on its transcript and, as the reply streams, on the reply at
every delta (patterns each time, the classifier on each finished sentence, cached). This
script replays that on the held-out phrasings as transcripts and on replies of typical length
streamed word by word, and prints per-turn medians and p90s for the pattern layer alone and
for patterns + classifier, next to the held-out recall and false-positive rate. Nothing here
asserts a time: it measures (run: `python bench/safety_check.py [--json] [--repeat N]`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPLIES = [
    "That sounds really hard. I'm here with you. Do you want to tell me more about what happened today?",
    "I'm so sorry you're going through this. It makes sense that you feel tired. What would help right now?",
    "Congratulations! That's wonderful news. You must be so relieved. When do you start?",
]


def _turn_cost(check, transcript: str, reply: str) -> tuple[float, float]:
    """(wall ms, CPU ms of this process) for one turn's checks; on a shared machine the CPU time is the cost."""
    t0, c0 = time.perf_counter(), time.process_time()
    check.check_transcript(transcript)
    text = ""
    for word in reply.split(" "):
        text += word + " "
        check.check_reply(text)
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the held-out phrasings")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from core.safety.check import SafetyCheck
    from core.safety.classifier import CrisisClassifier
    from core.safety.data import BATCH5_PATH, FRESH2_PATH, FRESH_PATH, batch_halves, load_phrasings, split
    from core.safety.detector import CrisisDetector

    _, held = split(load_phrasings())
    fresh, fresh2 = load_phrasings(FRESH_PATH), load_phrasings(FRESH2_PATH)
    fifth = batch_halves(load_phrasings(BATCH5_PATH))[1]  # the fifth batch's test half: scored, never trained on
    t0 = time.perf_counter()
    classifier = CrisisClassifier.load()
    load_ms = (time.perf_counter() - t0) * 1000
    rows = []
    for name, clf in (("patterns only", None), ("patterns + classifier", classifier)):
        detector = CrisisDetector(clf)
        fired = [detector.check(r.text).triggered for r in held]
        pos = [f for f, r in zip(fired, held, strict=True) if r.label]
        neg = [f for f, r in zip(fired, held, strict=True) if not r.label]
        f_fired = [detector.check(r.text).triggered for r in fresh]
        f_pos = [f for f, r in zip(f_fired, fresh, strict=True) if r.label]
        f_neg = [f for f, r in zip(f_fired, fresh, strict=True) if not r.label]
        g_fired = [detector.check(r.text).triggered for r in fresh2]
        g_pos = [f for f, r in zip(g_fired, fresh2, strict=True) if r.label]
        g_neg = [f for f, r in zip(g_fired, fresh2, strict=True) if not r.label]
        h_fired = [detector.check(r.text).triggered for r in fifth]
        h_pos = [f for f, r in zip(h_fired, fifth, strict=True) if r.label]
        h_neg = [f for f, r in zip(h_fired, fifth, strict=True) if not r.label]
        costs, cpu = [], []
        for rep in range(args.repeat):
            for i, r in enumerate(held):
                check = SafetyCheck(detector=CrisisDetector(clf))  # a fresh cache: every turn pays in full
                wall, used = _turn_cost(check, r.text, REPLIES[(i + rep) % len(REPLIES)])
                costs.append(wall)
                cpu.append(used)
        costs.sort()
        rows.append({"detector": name, "recall": sum(pos) / len(pos), "fpr": sum(neg) / len(neg),
                     "fresh_recall": sum(f_pos) / len(f_pos), "fresh_fpr": sum(f_neg) / len(f_neg),
                     "fresh2_recall": sum(g_pos) / len(g_pos), "fresh2_fpr": sum(g_neg) / len(g_neg),
                     "batch5_test_recall": sum(h_pos) / len(h_pos), "batch5_test_fpr": sum(h_neg) / len(h_neg),
                     "turn_ms_median": statistics.median(costs), "turn_ms_p90": costs[int(0.9 * (len(costs) - 1))],
                     "turn_cpu_ms_median": statistics.median(cpu), "turn_cpu_ms_p90": sorted(cpu)[int(0.9 * (len(cpu) - 1))],
                     "turns": len(costs)})
    base = rows[0]["turn_ms_median"]
    if args.json:
        print(json.dumps({"held_out_rows": len(held), "classifier_load_ms": round(load_ms, 1), "rows": rows}))
        return 0
    print(f"held-out phrasings: {len(held)} ({sum(r.label for r in held)} must fire); fresh set: {len(fresh)} "
          f"({sum(r.label for r in fresh)} must fire); third batch, untouched half: {len(fresh2)} "
          f"({sum(r.label for r in fresh2)} must fire); fifth batch, test half: {len(fifth)} "
          f"({sum(r.label for r in fifth)} must fire); classifier load {load_ms:.0f} ms")
    print(f"{'detector':<24} {'recall':>7} {'FPR':>6} {'fresh rec':>9} {'fresh FPR':>9} {'3rd rec':>8} {'3rd FPR':>8} {'5th rec':>8} {'5th FPR':>8} "
          f"{'ms/turn median':>15} "
          f"{'p90':>7} {'CPU ms/turn':>12} {'CPU p90':>8} {'x patterns':>11}")
    for r in rows:
        print(f"{r['detector']:<24} {r['recall']:>7.3f} {r['fpr']:>6.3f} {r['fresh_recall']:>9.3f} {r['fresh_fpr']:>9.3f} "
              f"{r['fresh2_recall']:>8.3f} {r['fresh2_fpr']:>8.3f} {r['batch5_test_recall']:>8.3f} {r['batch5_test_fpr']:>8.3f} "
              f"{r['turn_ms_median']:>15.2f} {r['turn_ms_p90']:>7.2f} {r['turn_cpu_ms_median']:>12.2f} {r['turn_cpu_ms_p90']:>8.2f} "
              f"{r['turn_ms_median'] / base:>10.2f}x")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
