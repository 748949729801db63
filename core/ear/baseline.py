"""The speaker's own voice as a baseline: a running normalisation of the pooled features.

The same pitch or pace is calm for one voice and tense for another, so each turn's pooled
vector x is read against the statistics of this speaker's turns so far. With n turns seen
(the current one included) and the population statistics (mu0, var0) from training as a
prior worth `k` turns:

    mu  = (k * mu0 + sum x_i) / (k + n)
    var = (k * (var0 + (mu0 - mu)^2) + sum (x_i - mu)^2) / (k + n)
    z   = (x - mu) / sqrt(var + eps)

so a first turn is read mostly against the population and later turns more and more against
the speaker. Training (training/ear/) feeds each speaker's clips through the same object in
a random order, so the head learns on exactly these z at every session length.

Only statistics are kept (sums of x and x^2, the count), never audio; `save`/`load` write the
user's profile atomically and `reset` forgets the voice.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

EPS = 1e-4


@dataclass
class VoiceBaseline:
    mu0: np.ndarray  # population mean of the pooled features
    var0: np.ndarray  # population variance
    k: float = 3.0  # weight of the population prior, in turns
    n: int = 0
    sum_x: np.ndarray | None = None
    sum_x2: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.mu0 = np.asarray(self.mu0, dtype=np.float64)
        self.var0 = np.asarray(self.var0, dtype=np.float64)
        if self.sum_x is None:
            self.sum_x = np.zeros_like(self.mu0)
        if self.sum_x2 is None:
            self.sum_x2 = np.zeros_like(self.mu0)

    @property
    def dim(self) -> int:
        return int(self.mu0.shape[0])

    def add(self, x: np.ndarray) -> None:
        x = self._check(x)
        self.n += 1
        self.sum_x += x
        self.sum_x2 += x * x

    def stats(self) -> tuple[np.ndarray, np.ndarray]:
        """The current (mean, variance) with the prior folded in."""
        total = self.k + self.n
        mu = (self.k * self.mu0 + self.sum_x) / total
        # sum (x_i - mu)^2 = sum x^2 - 2 mu sum x + n mu^2
        spread = self.sum_x2 - 2 * mu * self.sum_x + self.n * mu * mu
        var = (self.k * (self.var0 + (self.mu0 - mu) ** 2) + np.maximum(spread, 0.0)) / total
        return mu, var

    def normalise(self, x: np.ndarray) -> np.ndarray:
        mu, var = self.stats()
        return ((self._check(x) - mu) / np.sqrt(var + EPS)).astype(np.float32)

    def observe(self, x: np.ndarray) -> np.ndarray:
        """Add this turn to the baseline, then read it against the baseline (one step of a session)."""
        self.add(x)
        return self.normalise(x)

    def reset(self) -> None:
        self.n = 0
        self.sum_x = np.zeros_like(self.mu0)
        self.sum_x2 = np.zeros_like(self.mu0)

    def fresh(self) -> VoiceBaseline:
        """A baseline with the same prior and no turns (a new speaker)."""
        return VoiceBaseline(self.mu0, self.var0, self.k)

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if x.shape[0] != self.dim:
            raise ValueError(f"pooled feature has {x.shape[0]} values, the baseline expects {self.dim}")
        return x

    # ----- the user's profile (statistics only) -----------------------------------------

    def to_dict(self, encoder: str) -> dict:
        return {"format": "cogaudio-voice-baseline", "version": 1, "encoder": encoder, "n": self.n,
                "sum_x": self.sum_x.tolist(), "sum_x2": self.sum_x2.tolist()}

    def save(self, path: Path, encoder: str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".baseline-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(encoder), fh)
        os.replace(tmp, path)
        return path

    def load(self, path: Path, encoder: str) -> bool:
        """Take the turns saved at `path` if they were heard by the same encoder; False (and the
        baseline left empty) when the file is missing, unreadable or from another encoder."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != "cogaudio-voice-baseline" or data.get("encoder") != encoder:
                return False
            sum_x = np.asarray(data["sum_x"], dtype=np.float64)
            sum_x2 = np.asarray(data["sum_x2"], dtype=np.float64)
            n = int(data["n"])
            if sum_x.shape != self.mu0.shape or sum_x2.shape != self.mu0.shape or n < 0:
                return False
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self.n, self.sum_x, self.sum_x2 = n, sum_x, sum_x2
        return True
