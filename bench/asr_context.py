"""Word error rate and time of the short-window ASR path against faster-whisper's padded 30 s.

    python bench/asr_context.py [--data data/lime-tiny] [--rows 120]

Uses LIME test rows (their texts are the references) or, without the dataset, the bundled
samples. Prints a table: path, median ms per turn, WER. Both paths run on the same rows in
the same process, interleaved, so machine load hits them alike.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import jiwer
import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.pcm import SAMPLE_RATE, load_audio, resample  # noqa: E402
from core.settings import AsrSettings  # noqa: E402
from core.speech.asr import SpeechRecognizer  # noqa: E402


def _rows(data: str, n: int) -> list[tuple[np.ndarray, str]]:
    if Path(data).exists():
        from datasets import load_from_disk

        test = load_from_disk(data)["test"].shuffle(seed=0).select(range(n))
        out = []
        for r in test:
            a, rate = soundfile.read(io.BytesIO(r["audio"]["bytes"]), dtype="float32")  # stored undecoded
            out.append((resample(a, rate, SAMPLE_RATE), r["text"]))
        return out
    import csv

    root = Path(__file__).resolve().parents[1] / "assets" / "samples"
    lines = [r for r in csv.reader(open(root / "samples.tsv"), delimiter="\t") if r and not r[0].startswith("#")]
    return [(load_audio(root / f"{r[0]}.wav"), r[-1]) for r in lines if (root / f"{r[0]}.wav").exists()]


def _norm(s: str) -> str:
    return " ".join("".join(c.lower() if c.isalnum() or c == "'" else " " for c in s).split())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/lime-tiny")
    ap.add_argument("--rows", type=int, default=120)
    args = ap.parse_args()
    rows = _rows(args.data, args.rows)
    # Long turns too: 2-5 rows joined with 0.3 s pauses (4-13 s), where a short window is riskier.
    rng = np.random.default_rng(0)
    joined, i = [], 0
    while i < len(rows):
        group = rows[i : i + int(rng.integers(2, 6))]
        i += len(group)
        gap = np.zeros(4800, np.float32)
        joined.append((np.concatenate([np.concatenate([a, gap]) for a, _ in group]), " ".join(t for _, t in group)))
    paths = {
        "short window (default)": SpeechRecognizer(AsrSettings(short_context=True)),
        "padded 30 s (faster-whisper)": SpeechRecognizer(AsrSettings(short_context=False)),
    }
    for title, turns in (("single sentences", rows), ("joined sentences", joined)):
        _compare(title, turns, paths)


def _compare(title: str, rows: list[tuple[np.ndarray, str]], paths: dict[str, SpeechRecognizer]) -> None:
    times: dict[str, list[float]] = {k: [] for k in paths}
    hyps: dict[str, list[str]] = {k: [] for k in paths}
    for audio, _ in rows:
        for name, asr in paths.items():
            t = time.perf_counter()
            hyps[name].append(_norm(asr.transcribe(audio).text))
            times[name].append((time.perf_counter() - t) * 1000)
    refs = [_norm(text) for _, text in rows]
    durations = [a.size / SAMPLE_RATE for a, _ in rows]
    print(f"{title}: {len(rows)} turns, {min(durations):.1f}-{max(durations):.1f} s (median {statistics.median(durations):.1f} s)")
    print(f"{'path':<30} {'median ms':>10} {'WER':>7} {'empty':>6}")
    base = statistics.median(times["padded 30 s (faster-whisper)"])
    for name in paths:
        wer = jiwer.wer(refs, [h or "<empty>" for h in hyps[name]])
        med = statistics.median(times[name])
        print(f"{name:<30} {med:>10.0f} {wer:>7.3f} {sum(not h for h in hyps[name]):>6}   x{base / med:.2f} vs padded")


if __name__ == "__main__":
    main()
