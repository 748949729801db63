"""One Whisper encoder pass over a short window of the turn, shared by the transcript and the ear.

Whisper pads every input to 30 s; CTranslate2's encoder accepts shorter mel windows (as
whisper.cpp's `audio_ctx` does). A turn of up to `SHORT_MAX_S` is encoded with a window of
twice its length, at least 10 s: measured on the LIME test voices (bench/asr_context.py)
that window keeps the padded word error rate, and tighter ones make the decoder repeat.
The same frames feed the emotion head and the audio projector, so the emotion costs no
second encoder pass; training caches exactly these frames (training/ear/features.py), so
the model learns on what it hears at run time.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import numpy as np

from core.audio.pcm import SAMPLE_RATE

SHORT_MAX_S = 15.0  # from here on the window would be 30 s anyway
WINDOW_MIN_S = 10.0
WINDOW_FACTOR = 2.0
MEL_FRAMES_PER_S = 100
SAMPLES_PER_FRAME = 320  # one encoder frame: two hop-160 mel frames (the stride-2 convolution)


def window_frames(n_samples: int) -> int:
    """Mel frames of the window for a turn of `n_samples` (even: the encoder halves it)."""
    duration = n_samples / SAMPLE_RATE
    window_s = min(30.0, max(WINDOW_MIN_S, WINDOW_FACTOR * duration))
    n = int(round(window_s * MEL_FRAMES_PER_S))
    return n + n % 2


def valid_frames(n_samples: int, n_frames: int) -> int:
    """Encoder frames that cover real samples (the rest of the window is padding)."""
    return max(1, min(n_frames, -(-int(n_samples) // SAMPLES_PER_FRAME)))


@dataclass(frozen=True)
class EncoderOutput:
    """The encoder's last layer over the window: frames (T, d) float32, the first n_valid of
    which cover the turn. Only numpy is kept: a held CTranslate2 StorageView pins its
    allocator's blocks (measured: +46 MB RSS over 16 soak turns), so the decoder gets a view
    built on demand (`storage`)."""

    frames: np.ndarray
    n_valid: int
    mel: np.ndarray | None = None  # (n_mels, window) log-mel the frames came from: the ear's stem reads it
    n_samples: int = 0  # samples of the turn (at most 30 s)
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # what readers derived from it (the ear's pooled vector)

    @property
    def storage(self):
        """A CTranslate2 StorageView over the frames, (1, T, d), for the Whisper decoder."""
        import ctranslate2

        return ctranslate2.StorageView.from_array(np.ascontiguousarray(self.frames[None]))

    @property
    def speech(self) -> np.ndarray:
        return self.frames[: self.n_valid]


def digest(pcm: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(pcm, dtype=np.float32).tobytes(), digest_size=16).hexdigest()


class EncoderPass:
    """`encode(pcm)` on a faster-whisper `WhisperModel`; remembers the last few turns so that
    the transcript and the ear share one pass (thread-safe: the prefetch worker calls it too)."""

    def __init__(self, whisper_model, keep: int = 4) -> None:
        self._model = whisper_model
        self._keep = keep
        self._lock = threading.Lock()
        self._recent: dict[str, tuple[np.ndarray, EncoderOutput]] = {}
        self.passes = 0  # encoder runs, for tests and the benchmark

    def features(self, pcm: np.ndarray) -> np.ndarray:
        """Log-mel features (n_mels, window frames), padded the way faster-whisper pads."""
        n_frames = window_frames(pcm.size)
        mel = self._model.feature_extractor(pcm, chunk_length=30)[:, :n_frames]
        if mel.shape[1] < n_frames:
            mel = np.pad(mel, ((0, 0), (0, n_frames - mel.shape[1])), constant_values=mel.min())
        return mel

    def encode(self, pcm: np.ndarray, reuse_prefix_s: float = 0.0) -> EncoderOutput:
        """The encoder output for `pcm`. With `reuse_prefix_s`, an earlier pass over a prefix of
        `pcm` followed by at most that much more audio is reused: the endpointer only answers
        after windows it judged silent, so the prefetched pass over the speech is the turn's."""
        pcm = np.ascontiguousarray(np.asarray(pcm, dtype=np.float32).reshape(-1))
        if pcm.size > 30 * SAMPLE_RATE:
            pcm = pcm[: 30 * SAMPLE_RATE]  # one 30 s window: what a long turn's emotion is read from
        key = digest(pcm)
        with self._lock:
            hit = self._recent.get(key)
            if hit is None and reuse_prefix_s > 0:
                extra = int(reuse_prefix_s * SAMPLE_RATE)
                for audio, out in reversed(self._recent.values()):
                    n = audio.size
                    if n <= pcm.size <= n + extra and np.array_equal(pcm[:n], audio):
                        hit = (audio, out)
                        break
        if hit is not None:
            return hit[1]
        from faster_whisper.transcribe import get_ctranslate2_storage

        mel = self.features(pcm)
        storage = self._model.model.encode(get_ctranslate2_storage(mel[None]), to_cpu=True)
        frames = np.array(storage, dtype=np.float32)[0]
        del storage
        out = EncoderOutput(frames, valid_frames(pcm.size, frames.shape[0]), mel, int(pcm.size))
        with self._lock:
            self.passes += 1
            self._recent[key] = (pcm, out)
            while len(self._recent) > self._keep:
                self._recent.pop(next(iter(self._recent)))
        return out
