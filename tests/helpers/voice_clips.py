"""Three bundled voice clips of different lengths, and the per-frame cosine the encoder parity tests use."""

from __future__ import annotations

import numpy as np

from core.audio.pcm import load_audio
from core.models.bundled import ASSETS


def clips() -> dict[str, np.ndarray]:
    """16 kHz mono: worried 4.2 s, tired 5.2 s and hello + good_news back to back, 8.9 s."""
    s = {n: load_audio(ASSETS / "samples" / f"{n}.wav") for n in ("worried", "tired", "hello", "good_news")}
    return {"worried": s["worried"], "tired": s["tired"], "hello+good_news": np.concatenate([s["hello"], s["good_news"]])}


def frame_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of each row (frame or token) of `a` with the same row of `b`."""
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
