"""Sampling weights that balance a mixed training set by label, language, speaker (or any keys).

Real corpora are lopsided (docs/corpora.md): surprised comes from 2 TESS speakers only,
URDU has 400 clips against TESS's 2,800, some speakers have 2 clips and others 1,400. A
weighted sampler (e.g. torch's WeightedRandomSampler) over `balance_weights(rows)` draws
each label equally often, within a label each language equally often, within those each
speaker equally often, then each clip.

`alpha` softens this the way multilingual pre-training samples languages (mass of a group
proportional to its size ** alpha): 0 = every group at a level gets the same mass, 1 = the
natural frequencies (all weights 1). Hand-written because it is a few lines on top of
counting, and the samplers of torch/datasets take weights, not a hierarchy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def balance_weights(rows: Sequence[dict], levels: Sequence[str] = ("label", "language", "speaker"),
                    alpha: float = 0.0) -> np.ndarray:
    """One weight per row, summing to len(rows); see the module docstring."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    n = len(rows)
    if n == 0:
        return np.zeros(0)
    missing = [k for k in levels if any(k not in r for r in rows)]
    if missing:
        raise ValueError(f"rows lack the balancing keys {missing}")
    keys = [tuple(r[k] for k in levels) for r in rows]
    mass = np.ones(n)
    for depth in range(len(levels)):
        child = Counter(k[: depth + 1] for k in keys)  # rows under each group at this level
        # share of a group within its parent: size**alpha / sum of sibling sizes**alpha
        siblings: Counter = Counter()
        for g, size in child.items():
            siblings[g[:depth]] += size ** alpha
        mass *= np.array([child[k[: depth + 1]] ** alpha / siblings[k[:depth]] for k in keys])
    leaf = Counter(keys)
    weights = mass / np.array([leaf[k] for k in keys])  # the clips of a leaf group share its mass
    return weights * (n / weights.sum())
