"""Classification scores on label strings (no scikit-learn in this environment; these are a few lines)."""

from __future__ import annotations

from collections.abc import Sequence


def accuracy(pred: Sequence[str | None], gold: Sequence[str]) -> float:
    if not gold:
        return float("nan")
    return sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold)


def macro_f1(pred: Sequence[str | None], gold: Sequence[str], labels: Sequence[str]) -> float:
    """Mean F1 over the labels present in `gold` (a missing prediction counts as wrong)."""
    f1s = []
    for c in labels:
        if c not in gold:
            continue
        tp = sum(p == c and g == c for p, g in zip(pred, gold, strict=True))
        fp = sum(p == c and g != c for p, g in zip(pred, gold, strict=True))
        fn = sum(p != c and g == c for p, g in zip(pred, gold, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s) if f1s else float("nan")
