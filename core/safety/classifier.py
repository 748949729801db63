"""The learned layer of the crisis check: a linear head over hashed n-grams, numpy only.

Two logistic regressions share the features: a binary one whose probability is the crisis
score (crisis vs none), and a multinomial one over the crisis categories that names the
category when the score fires. Two heads rather than one softmax over "none" + 8 categories
because the binary score is what the threshold acts on, and it was better calibrated when
not shared out among eight classes (train_head.py prints both). They are trained by
`python -m training.safety.train_head` on the phrasing set (assets/safety/phrasings.tsv) and
stored in assets/safety/crisis_head.npz: weights as float16 (a 64k x 9 matrix), the category
names, the decision threshold picked on the training split, and the training figures. Loading reads arrays only (no pickle), so a
damaged or foreign file is refused with a message, never executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.models.bundled import ASSETS
from core.safety.features import featurize

HEAD_PATH = ASSETS / "safety" / "crisis_head.npz"


class ClassifierError(RuntimeError):
    """The classifier weights are missing or unreadable; the message says how to restore them."""


@dataclass(frozen=True)
class ModelScore:
    """The classifier's verdict on one piece of text."""

    score: float  # P(any crisis category) = 1 - P(none)
    category: str | None  # the most likely crisis category (None when the text is empty)


@dataclass
class CrisisClassifier:
    """A trained head: `score(text)` -> ModelScore; `threshold` is where it fires."""

    weights: np.ndarray  # (dim, 1 + n_categories) float32: column 0 the crisis logit, then the categories
    bias: np.ndarray  # (1 + n_categories,)
    categories: tuple[str, ...]
    threshold: float
    name: str = "ngram-logreg"
    info: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.weights.shape[0]

    @property
    def classes(self) -> bool:
        """Whether the head reads the word-class features (lexicon.py); heads before them did not."""
        return self.info.get("features", "ngram") != "ngram"

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> CrisisClassifier:
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                weights = z["weights"].astype(np.float32)
                bias = z["bias"].astype(np.float32)
                categories = tuple(str(c) for c in z["categories"])
                threshold = float(z["threshold"])
                info = json.loads(str(z["info"]))
        except (OSError, ValueError, KeyError) as exc:
            raise ClassifierError(f"cannot read the crisis classifier {path}: {exc}. Restore "
                                  "assets/safety/crisis_head.npz from the repository or retrain it with "
                                  "`python -m training.safety.train_head`.") from exc
        n = 1 + len(categories)
        if not categories or weights.ndim != 2 or weights.shape[1] != n or bias.shape != (n,):
            raise ClassifierError(f"{path} does not hold a crisis head (categories {categories}, weights "
                                  f"{weights.shape}); retrain it with `python -m training.safety.train_head`.")
        return cls(weights, bias, categories, threshold, info.get("name", "ngram-logreg"), info)

    def logits(self, text: str) -> np.ndarray:
        idx, val = featurize(text, self.dim, self.classes)
        return self.bias + (val @ self.weights[idx] if len(idx) else 0.0)

    def score(self, text: str) -> ModelScore:
        if not text or not text.strip():
            return ModelScore(0.0, None)
        z = self.logits(text)
        return ModelScore(float(1.0 / (1.0 + np.exp(-z[0]))), self.categories[int(np.argmax(z[1:]))])
