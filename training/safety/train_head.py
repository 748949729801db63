"""Train the crisis classifier head and report the detector on the held-out phrasings.

    python -m training.safety.train_head [--out assets/safety/crisis_head.npz] [--json]

Reads assets/safety/phrasings.tsv, splits it by template (core.safety.data), adds the
training-only rows of phrasings-extra.tsv, phrasings-breadth.tsv and the dev half of
phrasings-batch5.tsv to the training split, fits a
multinomial logistic regression (scikit-learn) on the hashed n-grams of the training split
(core.safety.features: the same function the app runs), and picks the decision threshold
from out-of-fold scores on the training split (folds grouped by template): the threshold at
which patterns + classifier reach the highest recall while false alarms stay at or under
MAX_FPR, so that the held-out split is never used to choose anything. Then it scores the held-out split with the full
detector and writes the weights (float16) with the figures into the .npz.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from core.safety.classifier import HEAD_PATH, CrisisClassifier
from core.safety.data import (
    BATCH5_PATH,
    BREADTH_PATH,
    EXTRA_PATH,
    FRESH2_PATH,
    FRESH_PATH,
    Phrasing,
    batch_halves,
    load_phrasings,
    split,
)
from core.safety.detector import CrisisDetector
from core.safety.features import CLASS_WEIGHT, DIM, featurize
from core.safety.patterns import CATEGORIES, find_patterns

# On out-of-fold training scores. 0.05 is the independent set's allowance: a false alarm costs one
# gentle message, a miss is worse. At 0.03 (the first session's choice) the threshold was 0.76; on
# the second session's phrasings 0.68 gave out-of-fold recall 0.862 vs 0.818 and held-out FPR
# 0.017 vs 0.008 (within the 3 % target). docs/safety.md has both.
MAX_FPR = 0.05
C_GRID = (3.0, 30.0)
OOF_NOISE = 0.01  # out-of-fold recall differences below this (about 8 of ~800 rows) are not a reason for a larger C


def matrix(texts: list[str], dim: int = DIM) -> csr_matrix:
    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        idx, val = featurize(t, dim)
        rows += [i] * len(idx)
        cols += idx.tolist()
        vals += val.tolist()
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), dim), dtype=np.float32)


def fit(X: csr_matrix, rows: list[Phrasing], C: float) -> tuple[LogisticRegression, LogisticRegression]:
    """(crisis vs none, category among the crisis rows)."""
    y = np.array([r.label for r in rows])
    crisis = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(X, y)
    pos = np.flatnonzero(y == 1)
    cats = np.array([CATEGORIES.index(rows[i].category) for i in pos])
    category = LogisticRegression(C=C, max_iter=3000).fit(X[pos], cats)
    return crisis, category


def as_classifier(heads: tuple[LogisticRegression, LogisticRegression], threshold: float,
                  info: dict) -> CrisisClassifier:
    crisis, category = heads
    info = {"features": "ngram+classes", **info}  # the features matrix() gave it (out-of-fold heads too)
    W = np.zeros((crisis.coef_.shape[1], 1 + len(CATEGORIES)), dtype=np.float32)
    b = np.full(1 + len(CATEGORIES), -30.0, dtype=np.float32)  # a category absent from training never wins
    W[:, 0], b[0] = crisis.coef_[0], crisis.intercept_[0]
    for j, k in enumerate(category.classes_):
        W[:, 1 + k], b[1 + k] = category.coef_[j], category.intercept_[j]
    return CrisisClassifier(W, b, CATEGORIES, threshold, "ngram-logreg", info)


def out_of_fold(rows: list[Phrasing], C: float, folds: int = 4) -> np.ndarray:
    """The detector's model score of every training row from a model that never saw its template."""
    X = matrix([r.text for r in rows])
    groups = [r.template for r in rows]
    scores = np.zeros(len(rows))
    for tr, te in GroupKFold(n_splits=folds).split(X, groups=groups):
        detector = CrisisDetector(as_classifier(fit(X[tr], [rows[i] for i in tr], C), 0.5, {}))
        scores[te] = [detector.model_score(rows[i].text) for i in te]
    return scores


def pick_threshold(rows: list[Phrasing], scores: np.ndarray, pattern_hit: np.ndarray) -> tuple[float, float, float]:
    """(threshold, recall, fpr) on out-of-fold scores: the best recall with FPR <= MAX_FPR."""
    labels = np.array([r.label for r in rows])
    best = (0.99, 0.0, 0.0)
    for t in np.arange(0.99, 0.29, -0.01):
        fired = pattern_hit | (scores >= t)
        recall, fpr = float(fired[labels == 1].mean()), float(fired[labels == 0].mean())
        if fpr <= MAX_FPR and recall > best[1]:
            best = (float(round(t, 2)), recall, fpr)
    return best


def evaluate(detector: CrisisDetector, rows: list[Phrasing]) -> dict:
    """Recall, false-positive rate and per-category figures of the full detector on `rows`."""
    fired = [detector.check(r.text) for r in rows]
    pos = [(r, d) for r, d in zip(rows, fired, strict=True) if r.label == 1]
    neg = [(r, d) for r, d in zip(rows, fired, strict=True) if r.label == 0]
    per_cat = {}
    for cat in sorted({r.category for r in rows}):
        items = [(r, d) for r, d in zip(rows, fired, strict=True) if r.category == cat]
        per_cat[cat] = {"n": len(items), "fired": sum(d.triggered for _, d in items)}
    return {
        "positives": len(pos), "negatives": len(neg),
        "recall": sum(d.triggered for _, d in pos) / max(1, len(pos)),
        "fpr": sum(d.triggered for _, d in neg) / max(1, len(neg)),
        "by_pattern": sum(d.layer == "pattern" for _, d in pos),
        "by_model": sum(d.layer == "model" for _, d in pos),
        "category_correct": sum(d.category == r.category for r, d in pos if d.triggered),
        "per_category": per_cat,
        "misses": [r.text for r, d in pos if not d.triggered],
        "false_alarms": [f"{r.text} -> {d.layer} {d.rule or d.category} {d.score:.2f}" for r, d in neg if d.triggered],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = load_phrasings()
    train, held = split(rows)
    extra = [r for path in (EXTRA_PATH, BREADTH_PATH) if path.exists() for r in load_phrasings(path)]
    b5_dev, b5_test = batch_halves(load_phrasings(BATCH5_PATH))
    extra += b5_dev
    train = train + extra  # training only: never held out (see core/safety/data.py)
    pattern_hit = np.array([bool(find_patterns(r.text)) for r in train])
    # C and the threshold both come from out-of-fold scores on the training split
    trials = []
    for C in C_GRID:
        scores = out_of_fold(train, C)
        t, recall, fpr = pick_threshold(train, scores, pattern_hit)
        trials.append({"C": C, "threshold": t, "oof_recall": recall, "oof_fpr": fpr})
    # the most regularised C whose out-of-fold recall is within OOF_NOISE of the best: a larger C won ties
    # by 0.001 (1 row in 800) and gave over-confident scores (0.99 on "drinking more than I should")
    best_recall = max(d["oof_recall"] for d in trials)
    chosen = min((d for d in trials if d["oof_recall"] >= best_recall - OOF_NOISE), key=lambda d: d["C"])
    model = fit(matrix([r.text for r in train]), train, chosen["C"])
    info = {"name": "ngram-logreg", "features": "ngram+classes", "class_weight": CLASS_WEIGHT, "dim": DIM, "C": chosen["C"], "categories": list(CATEGORIES),
            "train_rows": len(train), "held_out_rows": len(held), "trials": trials,
            "trained": time.strftime("%Y-%m-%d")}
    clf = as_classifier(model, chosen["threshold"], info)
    detector = CrisisDetector(clf)
    fresh, fresh2 = load_phrasings(FRESH_PATH), load_phrasings(FRESH2_PATH)
    report = {"held_out": evaluate(detector, held), "held_out_patterns_only": evaluate(CrisisDetector(None), held),
              "fresh": evaluate(detector, fresh), "fresh_patterns_only": evaluate(CrisisDetector(None), fresh),
              "fresh2": evaluate(detector, fresh2), "fresh2_patterns_only": evaluate(CrisisDetector(None), fresh2),
              "batch5_test": evaluate(detector, b5_test), "batch5_test_patterns_only": evaluate(CrisisDetector(None), b5_test),
              "train": evaluate(detector, train), **info, "threshold": chosen["threshold"],
              "seconds": round(time.perf_counter() - t0, 1)}
    info["held_out"] = {k: report["held_out"][k] for k in ("positives", "negatives", "recall", "fpr")}
    info["fresh"] = {k: report["fresh"][k] for k in ("positives", "negatives", "recall", "fpr")}
    info["fresh2"] = {k: report["fresh2"][k] for k in ("positives", "negatives", "recall", "fpr")}
    info["batch5_test"] = {k: report["batch5_test"][k] for k in ("positives", "negatives", "recall", "fpr")}
    for key in ("fresh2", "batch5_test", "fresh2_patterns_only", "batch5_test_patterns_only"):
        # sets that are only ever scored: their rows are never printed, not even in --json
        report[key] = {k: v for k, v in report[key].items() if k not in ("misses", "false_alarms")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, weights=clf.weights.astype(np.float16), bias=clf.bias, categories=np.array(CATEGORIES),
                        threshold=np.float32(clf.threshold), info=np.array(json.dumps(info)))
    if args.json:
        print(json.dumps(report))
        return 0
    h, p = report["held_out"], report["held_out_patterns_only"]
    print(f"phrasings: {len(rows)} + {len(extra)} training-only (incl. {len(b5_dev)} of batch 5's dev half) ({len(train)} train, {len(held)} held out, split by template)")
    for tr in trials:
        print(f"  C={tr['C']:<5} threshold {tr['threshold']:.2f}  out-of-fold recall {tr['oof_recall']:.3f} fpr {tr['oof_fpr']:.3f}")
    print(f"chosen C={chosen['C']} threshold {chosen['threshold']:.2f}")
    print("held out                 recall   FPR     (positives / negatives)")
    print(f"  patterns only          {p['recall']:.3f}   {p['fpr']:.3f}   ({p['positives']} / {p['negatives']})")
    print(f"  patterns + classifier  {h['recall']:.3f}   {h['fpr']:.3f}   (pattern {h['by_pattern']}, model {h['by_model']})")
    for text in h["misses"]:
        print(f"  missed: {text}")
    for text in h["false_alarms"]:
        print(f"  false alarm: {text}")
    f, fp = report["fresh"], report["fresh_patterns_only"]
    print(f"fresh set (written after tuning)  patterns only {fp['recall']:.3f} / {fp['fpr']:.3f}, "
          f"patterns + classifier {f['recall']:.3f} / {f['fpr']:.3f}  ({f['positives']} / {f['negatives']})")
    for text in f["misses"]:
        print(f"  fresh missed: {text}")
    for text in f["false_alarms"]:
        print(f"  fresh false alarm: {text}")
    f, fp = report["fresh2"], report["fresh2_patterns_only"]
    print(f"third batch, untouched half  patterns only {fp['recall']:.3f} / {fp['fpr']:.3f}, "
          f"patterns + classifier {f['recall']:.3f} / {f['fpr']:.3f}  ({f['positives']} / {f['negatives']})")
    f, fp = report["batch5_test"], report["batch5_test_patterns_only"]
    print(f"fifth batch, test half  patterns only {fp['recall']:.3f} / {fp['fpr']:.3f}, "
          f"patterns + classifier {f['recall']:.3f} / {f['fpr']:.3f}  ({f['positives']} / {f['negatives']})")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
