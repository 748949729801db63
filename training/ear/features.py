"""Per-clip cache of the Whisper encoder's output, computed once with the run-time pass.

The encoder stays frozen, so its output for a clip never changes: it is computed once with
exactly the pass the app runs (core.speech.encoder_pass.EncoderPass: the same CTranslate2 model,
compute type and short window) and kept on disk. The emotion head and the projector + LoRA
train on these cached frames, minutes instead of hours on a 2-core CPU, and what they learn
on is bit-for-bit what they get at run time.

The key is the audio's digest + the augmentation + the encoder's identity (name, compute
type, window rule, model.bin size and mtime): a changed encoder or window makes old entries
stale (a miss), never silently reused. A damaged entry is recomputed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.ear.encoder_stem import EncoderStem
from core.ear.pooling import stats_pool
from core.speech.encoder_pass import WINDOW_FACTOR, WINDOW_MIN_S, EncoderPass, digest
from training.ear.stem import stem_fingerprint

MAX_SAMPLES = 30 * SAMPLE_RATE  # EncoderPass.encode reads the first 30 s of a longer turn
WINDOW_RULE = f"max({WINDOW_MIN_S},{WINDOW_FACTOR}x)"


@dataclass(frozen=True)
class Cached:
    pooled: np.ndarray  # (2d,) float32 stats over the speech frames
    frames: np.ndarray  # (n_valid, d) float16 speech frames, for projector training


def encoder_fingerprint(model_dir: Path, name: str, compute_type: str) -> str:
    """Identity of an encoder: its name, compute type, the window rule and its weights file."""
    model_dir = Path(model_dir)
    stats = []
    for part in sorted(model_dir.glob("model.bin*")):
        st = part.stat()
        stats.append(f"{part.name}:{st.st_size}:{int(st.st_mtime)}")
    return f"{name}|{compute_type}|{WINDOW_RULE}|{','.join(stats)}"


class FeatureCache:
    """`get(pcm, augment)` -> Cached; computes and stores on a miss."""

    def __init__(self, root: Path, encoder: EncoderPass | None, fingerprint: str, stem: EncoderStem | None = None) -> None:
        self.root = Path(root)
        self.encoder = encoder
        self.stem = stem  # set: pooled features of the stem's output (frames not kept: the projector reads the last layer)
        self.fingerprint = fingerprint if stem is None else f"{fingerprint}|{stem_fingerprint(stem.n_layers, stem.source)}"
        self.hits = self.misses = 0

    def key(self, pcm: np.ndarray, augment: str = "") -> str:
        h = hashlib.sha256()
        for part in (self.fingerprint, augment, digest(pcm)):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def lookup(self, key: str) -> Cached | None:
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path) as data:
                return Cached(data["pooled"].astype(np.float32), data["frames"])
        except Exception:  # damaged (cut short by a crash): recompute
            path.unlink(missing_ok=True)
            return None

    def get(self, pcm: np.ndarray, augment: str = "") -> Cached:
        key = self.key(pcm, augment)
        hit = self.lookup(key)
        if hit is not None:
            self.hits += 1
            return hit
        if self.encoder is None:
            raise KeyError(f"feature {key} not cached and no encoder to compute it")
        self.misses += 1
        if self.stem is not None:  # the mel window alone: no CTranslate2 pass, the stem is the encoder here
            pcm = np.asarray(pcm, dtype=np.float32)[: MAX_SAMPLES]
            frames = self.stem.speech_frames(self.encoder.features(pcm), pcm.size)
            cached = Cached(stats_pool(frames), np.zeros((0, frames.shape[1]), np.float16))
            self._store(key, cached)
            return cached
        out = self.encoder.encode(pcm)
        cached = Cached(stats_pool(out.speech), out.speech.astype(np.float16))
        self._store(key, cached)
        return cached

    def _store(self, key: str, cached: Cached) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, pooled=cached.pooled, frames=cached.frames)
        os.replace(tmp, path)  # whole or absent, even if the process dies here


class JoinedCache:
    """Pooled features of several caches side by side (the last layer's, then each stem's, as the
    head reads them), each keyed by its own encoder identity; the frames are the first cache's."""

    def __init__(self, *parts: FeatureCache) -> None:
        self.parts = parts

    @property
    def hits(self) -> int:
        return sum(p.hits for p in self.parts)

    @property
    def misses(self) -> int:
        return sum(p.misses for p in self.parts)

    def get(self, pcm: np.ndarray, augment: str = "") -> Cached:
        got = [p.get(pcm, augment) for p in self.parts]
        return Cached(np.concatenate([g.pooled for g in got]), got[0].frames)
