"""Speaker sessions in training and evaluation: the run-time baseline, replayed per speaker.

At run time each turn updates the speaker's baseline and is then read against it
(core.ear.baseline.VoiceBaseline.observe). Here every speaker's clips are fed through the
same object in a random order, so the head trains, and is scored, on exactly the features
the app computes after 1, 2, ... n turns of a voice. `single_turn` is a session of one turn
(what `cogaudio reply` without --session and a first turn see).
"""

from __future__ import annotations

import numpy as np

from core.ear.baseline import VoiceBaseline


def population_prior(pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and variance of training features: the baseline's prior."""
    pooled = np.asarray(pooled, dtype=np.float64)
    return pooled.mean(0), pooled.var(0) + 1e-6


def single_turn(pooled: np.ndarray, prior: VoiceBaseline) -> np.ndarray:
    """Each clip read as the first and only turn of its speaker."""
    out = np.empty_like(pooled, dtype=np.float32)
    for i, x in enumerate(pooled):
        out[i] = prior.fresh().observe(x)
    return out


def in_session(pooled: np.ndarray, speakers: np.ndarray, prior: VoiceBaseline, seed: int,
               max_turns: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each speaker's clips as one session in a seeded random order (a new session every
    `max_turns` turns when given). Returns (features, turn number of each clip, 1-based)."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(pooled, dtype=np.float32)
    turn = np.zeros(len(pooled), dtype=np.int32)
    for spk in np.unique(speakers):
        idx = np.flatnonzero(speakers == spk)
        base = prior.fresh()
        for j, i in enumerate(rng.permutation(idx)):
            if max_turns and j % max_turns == 0:
                base = prior.fresh()
            out[i] = base.observe(pooled[i])
            turn[i] = base.n
    return out, turn
