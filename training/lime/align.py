"""Word-level timestamps for a known text: faster-whisper word times matched onto the text.

Whisper transcribes the rendering with word timestamps (the bundled tiny.en); its words are
matched to the text's words with difflib, and words it missed or misheard get times
interpolated between their matched neighbours, in proportion to their length. faster-whisper
has no forced alignment of a given text, hence this small matching step.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.models.bundled import require_bundled

_NORM = re.compile(r"[^a-z0-9']+")


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


def text_words(text: str) -> list[str]:
    return text.split()


def _norm(word: str) -> str:
    return _NORM.sub("", word.lower())


def speech_bounds(samples: np.ndarray, rate: int, floor_db: float = -40.0) -> tuple[float, float]:
    """First and last time the 10 ms frame energy is within `floor_db` of the loudest frame."""
    hop = max(1, rate // 100)
    n = len(samples) // hop
    if n == 0:
        return 0.0, len(samples) / rate
    frames = samples[: n * hop].reshape(n, hop).astype(np.float64)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    active = np.flatnonzero(db > db.max() + floor_db)
    return float(active[0] * hop / rate), float((active[-1] + 1) * hop / rate)


def fill_times(words: list[str], anchors: dict[int, tuple[float, float]], bounds: tuple[float, float]) -> list[Word]:
    """Times for every word: anchors as given, the rest spread by length between anchors."""
    out: list[Word | None] = [None] * len(words)
    for i, (s, e) in anchors.items():
        out[i] = Word(words[i], s, e)
    i = 0
    while i < len(words):
        if out[i] is not None:
            i += 1
            continue
        j = i
        while j < len(words) and out[j] is None:
            j += 1
        left = out[i - 1].end if i > 0 else bounds[0]
        right = out[j].start if j < len(words) else bounds[1]
        right = max(right, left)
        weights = np.array([len(w) + 1 for w in words[i:j]], dtype=float)
        edges = left + (right - left) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        for k in range(i, j):
            out[k] = Word(words[k], float(edges[k - i]), float(edges[k - i + 1]))
        i = j
    return [w for w in out if w is not None]


class EvenAligner:
    """Spreads the words over the speech by length: no model (used by fast unit tests)."""

    def align(self, text: str, samples: np.ndarray, rate: int) -> list[Word]:
        return fill_times(text_words(text), {}, speech_bounds(samples, rate))


class WhisperAligner:
    """faster-whisper word timestamps (bundled tiny.en unless a model is named)."""

    def __init__(self, model: str = "bundled", threads: int = 1) -> None:
        from faster_whisper import WhisperModel

        path = str(require_bundled("asr")) if model == "bundled" else model
        self._model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads)

    def align(self, text: str, samples: np.ndarray, rate: int) -> list[Word]:
        if rate != SAMPLE_RATE:
            raise ValueError(f"WhisperAligner needs 16 kHz audio, got {rate} Hz")
        segments, _ = self._model.transcribe(
            samples.astype(np.float32), language="en", beam_size=1, word_timestamps=True,
            condition_on_previous_text=False, initial_prompt=text,
        )
        heard = [w for seg in segments for w in (seg.words or [])]
        words = text_words(text)
        matcher = difflib.SequenceMatcher(a=[_norm(w) for w in words], b=[_norm(w.word) for w in heard], autojunk=False)
        anchors: dict[int, tuple[float, float]] = {}
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                h = heard[block.b + k]
                anchors[block.a + k] = (float(h.start), float(h.end))
        return fill_times(words, anchors, speech_bounds(samples, rate))
