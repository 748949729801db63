"""Scores of the ear on a set of clips: accuracy, macro-F1, recall per label, calibration.

Label-set restriction: a corpus recorded with 4 emotions is scored on its own labels (the
arg-max is taken over those labels only), as a 4-way task; chance is then 1/4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.emotion.labels import EMOTIONS
from training.eval.metrics import accuracy, macro_f1


def restrict(probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Probabilities renormalised over `labels` (others set to 0)."""
    keep = np.array([e in labels for e in EMOTIONS])
    p = probs * keep
    return p / np.clip(p.sum(1, keepdims=True), 1e-12, None)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-label confidence over equal-width bins (Guo et al. 2017)."""
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def confusion(y: np.ndarray, pred: np.ndarray, n: int = len(EMOTIONS)) -> np.ndarray:
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (y, pred), 1)
    return m


@dataclass
class Scores:
    n: int
    labels: list[str]
    accuracy: float
    macro_f1: float
    recall: dict[str, float]
    ece: float
    confusion: np.ndarray
    predicted_share: dict[str, float]

    def row(self) -> dict:
        return {"n": self.n, "accuracy": round(self.accuracy, 4), "macro_f1": round(self.macro_f1, 4),
                "ece": round(self.ece, 4), "min_recall": round(min(self.recall.values()), 4) if self.recall else None,
                "recall": {k: round(v, 4) for k, v in self.recall.items()}}


def score(probs: np.ndarray, y: np.ndarray, labels: Sequence[str] | None = None) -> Scores:
    labels = list(labels or sorted({EMOTIONS[i] for i in y}, key=EMOTIONS.index))
    p = restrict(probs, labels)
    pred = p.argmax(1)
    gold_s = [EMOTIONS[i] for i in y]
    pred_s = [EMOTIONS[i] for i in pred]
    recall = {lab: float(np.mean(pred[y == EMOTIONS.index(lab)] == EMOTIONS.index(lab)))
              for lab in labels if np.any(y == EMOTIONS.index(lab))}
    share = {lab: float(np.mean(pred == EMOTIONS.index(lab))) for lab in labels}
    return Scores(len(y), labels, accuracy(pred_s, gold_s), macro_f1(pred_s, gold_s, labels), recall,
                  expected_calibration_error(p, y), confusion(y, pred), share)


def group_accuracy(probs: np.ndarray, y: np.ndarray, groups: np.ndarray, labels: Sequence[str] | None = None) -> dict[str, tuple[int, float]]:
    out = {}
    for g in sorted(set(groups.tolist())):
        m = groups == g
        s = score(probs[m], y[m], labels)
        out[g] = (s.n, s.accuracy)
    return out
