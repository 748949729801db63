"""Statistics pooling: one vector per turn from the encoder frames that cover the speech.

Mean and standard deviation of each encoder dimension over time (the x-vector / SUPERB
probe recipe): a turn of any length becomes a fixed 2*d vector, and the std half keeps how
much the voice moves, which the mean alone averages away.
"""

from __future__ import annotations

import numpy as np


def stats_pool(frames: np.ndarray) -> np.ndarray:
    """(T, d) frames -> (2d,) float32 [mean, std]; T must be at least 1."""
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 2 or frames.shape[0] == 0:
        raise ValueError(f"stats_pool needs (T>=1, d) frames, got shape {frames.shape}")
    return np.concatenate([frames.mean(0), frames.std(0)]).astype(np.float32)
