"""A tiny LIME-shaped dataset whose emotions live only in synthetic prosody (for model tests).

Each "utterance" is a harmonic tone with a syllable-like envelope, at the voice's own F0,
transformed by the docs/emotions.md profile (F0 shift and range, rate, loudness, tremolo...).
It is not speech, but it has the one property the model tests need: the same text in
every emotion, with the label recoverable only from the sound. Same schema as `lime build`.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import soundfile as sf
from datasets import Dataset, DatasetDict

from core.audio.pcm import SAMPLE_RATE as SR
from core.emotion.labels import EMOTION_ID, EMOTIONS, PROSODY
from training.lime.dataset import lime_features


def render(emotion: str, intensity: str, f0: float, seed: int, seconds: float = 1.0) -> np.ndarray:
    p = PROSODY[emotion].at(intensity)
    n = int(SR * seconds / p.rate)
    t = np.arange(n) / SR
    contour = 12 * np.log2(f0) + p.f0_semitones + p.f0_range * 2.0 * np.sin(2 * np.pi * 1.5 * t + seed)
    freq = 2 ** (contour / 12)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    env = 0.5 * (1 - np.cos(2 * np.pi * 4 * p.rate * t)) * 0.2 * 10 ** (p.loudness_db / 20)
    if p.quality == "tremolo":
        env *= 1 + 0.1 * np.sin(2 * np.pi * 6 * t)
    return (x * env).astype(np.float32)


def _flac(x: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, SR, format="FLAC")
    return buf.getvalue()


def build(out: Path, texts: int = 2, voices: tuple[tuple[str, float, str], ...] = (
        ("v0", 110.0, "train"), ("v1", 180.0, "train"), ("v2", 140.0, "test"))) -> Path:
    """Save a DatasetDict (train / validation / test) at `out` and return it."""
    rows: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    for ti in range(texts):
        for vname, f0, split in voices:
            for ei, emotion in enumerate(EMOTIONS):
                kind = "conflict" if (ti + ei) % 5 == 0 and emotion != "neutral" else "single"
                text_emotion = "happy" if kind == "conflict" and emotion != "happy" else ("sad" if kind == "conflict" else "neutral")
                x = render(emotion, "medium", f0, seed=ti * 7 + ei)
                rid = f"t{ti}-{vname}-{emotion}"
                rows[split].append({
                    "id": rid, "audio": {"bytes": _flac(x), "path": f"{rid}.flac"}, "text": f"sentence number {ti} here",
                    "words": [], "word_emotions": [], "emotion": emotion, "emotion_id": EMOTION_ID[emotion],
                    "intensity": "medium", "kind": kind, "text_emotion": text_emotion, "segments": [],
                    "voice": vname, "voice_synthetic": True, "source": "synthetic-test", "split": split,
                    "group": f"t{ti}" if split == "train" else f"test-t{ti}", "duration": len(x) / SR,
                })
    feats = lime_features(SR)
    # through Arrow directly: datasets' Audio encoder needs torchcodec, which is not installed
    splits = {s: Dataset(pa.Table.from_pylist(r, schema=feats.arrow_schema)) for s, r in rows.items() if r}
    DatasetDict(splits).save_to_disk(str(out))
    return out
