"""What the ear's encoder stem costs per turn, against the transcript's own encoder pass.

    python bench/ear_cost.py [--runs 7] [--head assets/models/emotion-head.gguf]

On the bundled voice samples (and each one repeated to 8 s), one turn per timing, rows
interleaved so that machine load hits every row alike: the CTranslate2 encoder pass the
transcript runs anyway (int8, short window), the ear reading the last layer's frames only,
and the ear with the head's stem (its first Whisper layers in numpy over the turn's mel). Median
and p90 in ms, and the ratio to the encoder pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.pcm import load_audio  # noqa: E402
from core.ear.ear import Ear  # noqa: E402
from core.ear.head import EmotionHead  # noqa: E402
from core.models.bundled import ASSETS, require_bundled  # noqa: E402
from core.speech.encoder_pass import EncoderPass  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--head", default=str(ASSETS / "models" / "emotion-head.gguf"))
    args = ap.parse_args()
    from faster_whisper import WhisperModel

    head = EmotionHead.load(Path(args.head))
    if head.stem is None:
        raise SystemExit(f"{args.head} has no encoder stem: nothing to measure")
    enc = EncoderPass(WhisperModel(str(require_bundled("asr")), device="cpu", compute_type="int8", cpu_threads=args.threads), keep=1)
    clips = [load_audio(p) for p in sorted((ASSETS / "samples").glob("*.wav"))]
    clips += [np.tile(c, 1 + int(8 * 16000 / c.size))[: 8 * 16000] for c in clips[:2]]
    # the cost of a head on the transcript's frames alone (its weights are the first 768 of this head's: only the
    # time is compared)
    last_only = Ear(dataclasses.replace(head, stem=None, stem_with_last=False, extra_stems=(), mu0=head.mu0[:768], var0=head.var0[:768],
                                        w=head.w[:, :768], wi=head.wi[:, :768]))
    with_stem = Ear(head)
    rows: dict[str, list[float]] = {"CTranslate2 encoder pass (the transcript's)": [], "ear, last layer only": [],
                                    f"ear with the stems ({head.features})": []}
    names = list(rows)
    for _ in range(args.runs):
        for pcm in clips:
            pcm = pcm + np.float32(1e-6) * np.random.default_rng().standard_normal(pcm.size).astype(np.float32)  # no cache hit
            t0 = time.perf_counter()
            out = enc.encode(pcm)
            t1 = time.perf_counter()
            last_only.hear(out, last_only.head.baseline())
            t2 = time.perf_counter()
            with_stem.hear(out, head.baseline())
            t3 = time.perf_counter()
            for name, dt in zip(names, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                rows[name].append(1000 * dt)
    base = statistics.median(rows[names[0]])
    print(f"{len(clips)} clips ({', '.join(f'{c.size / 16000:.1f}' for c in clips)} s) x {args.runs} runs, {args.threads} threads")
    print("| step | median ms | p90 ms | x encoder pass |\n|---|---:|---:|---:|")
    for name, v in rows.items():
        v = sorted(v)
        print(f"| {name} | {statistics.median(v):.1f} | {v[int(0.9 * (len(v) - 1))]:.1f} | {statistics.median(v) / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
