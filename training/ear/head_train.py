"""Fitting the emotion head on cached, speaker-normalised features.

The head is a multinomial logistic regression (scikit-learn) on the pooled encoder features
after the speaker baseline: linear, because the encoder is frozen and a linear read-out is
what carries across corpora and microphones (a probe, not a second network to overfit), and
because it runs as one matrix product at run time. Training rows are every clip read as a
single turn plus every clip inside replayed sessions of its speaker (training/ear/sessions),
weighted so that each (corpus, label) cell counts the same: one corpus of 2,800 clips does
not drown a corpus of 400, and no label wins by being frequent. The softmax temperature is
then fitted on held-out data (calibration), and a second read-out gives the intensity from
the rows that have one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from core.ear.baseline import VoiceBaseline
from core.ear.head import EmotionHead
from core.emotion.labels import EMOTIONS, INTENSITIES
from training.ear.sessions import in_session, population_prior, single_turn
from training.ear.table import Table


@dataclass
class HeadConfig:
    C: float = 0.05  # inverse L2 strength (chosen on leave-one-corpus-out, docs/ear.md)
    prior_turns: float = 3.0  # weight of the population prior in the speaker baseline, in turns
    session_orders: int = 2  # replayed sessions per speaker (new random order each)
    short_session: int = 8  # every other replay restarts the baseline every this many turns
    seed: int = 0
    max_iter: int = 3000
    # "cross-corpus": the temperature is fitted on each real training corpus as read by a head trained
    # without it (plus the validation rows), i.e. on the condition the app meets: a voice, language and
    # microphone it never heard. "validation": on the validation rows alone (synthetic LIME voices,
    # which are far easier and leave the head overconfident on real speech).
    calibration: str = "cross-corpus"


def cell_weights(table: Table) -> np.ndarray:
    """1 / size of the row's (corpus, label) cell, normalised to mean 1."""
    cells = list(zip(table.corpus, table.label, strict=True))
    counts = Counter(cells)
    w = np.array([1.0 / counts[c] for c in cells])
    return w * (len(w) / w.sum())


def training_views(table: Table, base: VoiceBaseline, cfg: HeadConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, weights) over the single-turn view and the replayed sessions."""
    w = cell_weights(table)
    views = [single_turn(table.pooled, base)]
    for r in range(cfg.session_orders):
        z, _ = in_session(table.pooled, table.speaker, base, seed=cfg.seed + r,
                          max_turns=cfg.short_session if r % 2 else None)
        views.append(z)
    y = table.y
    return np.concatenate(views), np.tile(y, len(views)), np.tile(w, len(views))


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, n_classes: int, cfg: HeadConfig) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter)
    clf.fit(x, y, sample_weight=w)
    coef = np.full((n_classes, x.shape[1]), 0.0, dtype=np.float32)
    bias = np.full(n_classes, -30.0, dtype=np.float32)  # a class never seen in training is never predicted
    if len(clf.classes_) == 2:  # scikit-learn's binary form: one row for the second class
        coef[clf.classes_[1]], bias[clf.classes_[1]] = clf.coef_[0], clf.intercept_[0]
        bias[clf.classes_[0]] = 0.0
    else:
        for row, c in enumerate(clf.classes_):
            coef[c], bias[c] = clf.coef_[row], clf.intercept_[row]
    return coef, bias


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The T minimising the negative log-likelihood of softmax(logits / T) (Guo et al. 2017)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def _readings(table: Table, base: VoiceBaseline, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels): `table` in session and single-turn, the two readings the app makes."""
    z, _ = in_session(table.pooled, table.speaker, base, seed=seed)
    return np.concatenate([z, single_turn(table.pooled, base)]), np.tile(table.y, 2)


def held_out_corpus_logits(train: Table, cfg: HeadConfig) -> tuple[np.ndarray, np.ndarray]:
    """Logits of every real corpus of `train` from a head fitted without it (its original clips,
    both readings). Empty when fewer than two real corpora are present."""
    real = sorted(c for c in set(train.corpus.tolist()) if c != "lime")
    logits, labels = [], []
    if len(real) < 2:
        return np.zeros((0, len(EMOTIONS))), np.zeros(0, np.int64)
    for c in real:
        rest = train.subset(train.corpus != c)
        mu0, var0 = population_prior(rest.pooled[rest.augment == ""])
        base = VoiceBaseline(mu0, var0, cfg.prior_turns)
        coef, bias = _fit(*training_views(rest, base, cfg), len(EMOTIONS), cfg)
        z, y = _readings(train.subset((train.corpus == c) & (train.augment == "")), base, cfg.seed)
        logits.append(z @ coef.T + bias)
        labels.append(y)
    return np.concatenate(logits), np.concatenate(labels)


def train_head(train: Table, val: Table | None, cfg: HeadConfig, encoder: str) -> EmotionHead:
    if len(train) == 0:
        raise ValueError("no training rows: build the feature table first (cogaudio-train ear features)")
    if cfg.calibration not in ("cross-corpus", "validation"):
        raise ValueError(f"head.calibration must be 'cross-corpus' or 'validation', not {cfg.calibration!r}")
    originals = train.augment == ""
    mu0, var0 = population_prior(train.pooled[originals])
    base = VoiceBaseline(mu0, var0, cfg.prior_turns)
    x, y, w = training_views(train, base, cfg)
    coef, bias = _fit(x, y, w, len(EMOTIONS), cfg)

    # only LIME grades intensity; the real corpora store "medium" for want of a grade
    has_int = np.isin(train.intensity, INTENSITIES) & (train.label != "neutral") & (train.corpus == "lime")
    if has_int.sum() >= 10 and len(set(train.intensity[has_int])) > 1:
        sub = train.subset(has_int)
        xi = single_turn(sub.pooled, base)
        zi, _ = in_session(sub.pooled, sub.speaker, base, seed=cfg.seed)
        yi = np.array([INTENSITIES.index(v) for v in sub.intensity])
        wi, bi = _fit(np.concatenate([xi, zi]), np.tile(yi, 2), np.ones(2 * len(yi)), len(INTENSITIES), cfg)
    else:  # no intensity labels: always "medium"
        wi = np.zeros((len(INTENSITIES), x.shape[1]), np.float32)
        bi = np.array([0.0, 1.0, 0.0], np.float32)

    head = EmotionHead(encoder, mu0.astype(np.float32), var0.astype(np.float32), coef, bias, wi, bi, 1.0, cfg.prior_turns)
    logits, labels = [], []
    if val is not None and len(val):
        z, yv = _readings(val, base, cfg.seed)
        logits.append(z @ coef.T + bias)
        labels.append(yv)
    if cfg.calibration == "cross-corpus":
        lc, yc = held_out_corpus_logits(train, cfg)
        logits.append(lc)
        labels.append(yc)
    if sum(len(v) for v in labels):
        t = fit_temperature(np.concatenate(logits), np.concatenate(labels))
        head = EmotionHead(encoder, head.mu0, head.var0, coef, bias, wi, bi, t, cfg.prior_turns)
    return head


def predict(head: EmotionHead, table: Table, mode: str, seed: int = 0) -> np.ndarray:
    """(N, 7) probabilities: `single` (each clip alone) or `session` (each speaker one session)."""
    base = head.baseline()
    if mode == "single":
        z = single_turn(table.pooled, base)
    elif mode == "session":
        z, _ = in_session(table.pooled, table.speaker, base, seed=seed)
    else:
        raise ValueError(f"mode must be 'single' or 'session', not {mode!r}")
    return head.probabilities(z)
