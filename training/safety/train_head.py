"""Train the crisis classifier head and report the detector on the held-out phrasings.

    python -m training.safety.train_head [--out assets/safety/crisis_head.npz] [--json]

Reads assets/safety/phrasings.tsv, splits it by template (core.safety.data), adds the
training-only rows of phrasings-extra.tsv, phrasings-breadth.tsv and the dev half of
phrasings-batch5.tsv to the training split, fits a
multinomial logistic regression (scikit-learn) on the hashed n-grams of the training split
(core.safety.features: the same function the app runs), and picks C and the decision threshold
from out-of-fold scores on the training split, so that the held-out split is never used to
choose anything:

- the out-of-fold scores are repeated over SEEDS: folds grouped by template (no template on both
  sides) and stratified by label, shuffled by each seed; a row's score comes from a head that
  never saw its template;
- for each C, the recall and false-alarm rate of patterns + classifier at each threshold are
  averaged over the seeds; the C's figure is the best mean recall at a mean FPR <= MAX_FPR;
- the chosen C is the smallest whose figure is within OOF_NOISE of the best (one split's folds
  flipped the choice between C = 3 and C = 30 on one or two rows), and its threshold is the one
  that gave it that figure.

Then it scores the held-out split with the full detector and writes the weights (float16) with
the figures into the .npz, only if the held-out split meets the targets (recall >= 0.97, FPR <=
0.03; a gate, never a choice: `--force` writes a head that misses them).
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
from sklearn.model_selection import StratifiedGroupKFold

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
C_GRID = (3.0, 10.0, 30.0)
SEEDS = (0, 1, 2)  # repeated out-of-fold runs: one split's folds decided C by one or two rows
FOLDS = 4
OOF_NOISE = 0.01  # mean out-of-fold recall differences below this (~9 of ~900 positives) do not buy a larger C
TARGET_RECALL, TARGET_FPR = 0.97, 0.03  # the targets on the own held-out split: the gate for writing


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


def as_classifier(heads: tuple[LogisticRegression, LogisticRegression | None], threshold: float,
                  info: dict) -> CrisisClassifier:
    crisis, category = heads
    info = {"features": "ngram+classes", **info}  # the features matrix() gave it (out-of-fold heads too)
    W = np.zeros((crisis.coef_.shape[1], 1 + len(CATEGORIES)), dtype=np.float32)
    b = np.full(1 + len(CATEGORIES), -30.0, dtype=np.float32)  # a category absent from training never wins
    W[:, 0], b[0] = crisis.coef_[0], crisis.intercept_[0]
    for j, k in enumerate(category.classes_ if category is not None else ()):
        W[:, 1 + k], b[1 + k] = category.coef_[j], category.intercept_[j]
    return CrisisClassifier(W, b, CATEGORIES, threshold, "ngram-logreg", info)


def out_of_fold(rows: list[Phrasing], X: csr_matrix, C: float, seed: int, folds: int = FOLDS) -> np.ndarray:
    """The detector's model score of every training row from a head that never saw its template
    (only the crisis head is fitted: the score does not read the category head)."""
    y = np.array([r.label for r in rows])
    groups = [r.template for r in rows]
    scores = np.zeros(len(rows))
    for tr, te in StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y, groups):
        crisis = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(X[tr], y[tr])
        detector = CrisisDetector(as_classifier((crisis, None), 0.5, {}))
        scores[te] = [detector.model_score(rows[i].text) for i in te]
    return scores


THRESHOLDS = np.round(np.arange(0.99, 0.29, -0.01), 2)


def rates(labels: np.ndarray, pattern_hit: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recall and FPR of patterns + classifier at every threshold of THRESHOLDS, on one set of scores."""
    fired = pattern_hit[None, :] | (scores[None, :] >= THRESHOLDS[:, None])
    return fired[:, labels == 1].mean(axis=1), fired[:, labels == 0].mean(axis=1)


def pick_threshold(labels: np.ndarray, pattern_hit: np.ndarray, runs: list[np.ndarray],
                   max_fpr: float = MAX_FPR) -> dict:
    """The threshold with the best recall at FPR <= max_fpr, both averaged over the runs' scores
    (ties go to the higher threshold); with the spread of the runs' recall there."""
    per_run = [rates(labels, pattern_hit, s) for s in runs]
    recall = np.mean([r for r, _ in per_run], axis=0)
    fpr = np.mean([f for _, f in per_run], axis=0)
    ok = np.flatnonzero(fpr <= max_fpr + 1e-12)
    if ok.size == 0:
        i = 0  # nothing keeps the false alarms down: the highest threshold
    else:
        i = int(ok[np.argmax(recall[ok])])  # THRESHOLDS run downwards: argmax takes the first (highest) of ties
    spread = [float(r[i]) for r, _ in per_run]
    return {"threshold": float(THRESHOLDS[i]), "oof_recall": float(recall[i]), "oof_fpr": float(fpr[i]),
            "oof_recall_runs": spread}


def choose_c(trials: list[dict], noise: float = OOF_NOISE) -> dict:
    """The most regularised C whose mean out-of-fold recall is within `noise` of the best. A larger C
    has to earn its over-confident scores (C = 30 put "drinking more than I should" at 0.99)."""
    best = max(d["oof_recall"] for d in trials)
    return min((d for d in trials if d["oof_recall"] >= best - noise), key=lambda d: d["C"])


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
    parser.add_argument("--force", action="store_true",
                        help=f"write the head even if the held-out split misses recall >= {TARGET_RECALL} / FPR <= {TARGET_FPR}")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = load_phrasings()
    train, held = split(rows)
    extra = [r for path in (EXTRA_PATH, BREADTH_PATH) if path.exists() for r in load_phrasings(path)]
    b5_dev, b5_test = batch_halves(load_phrasings(BATCH5_PATH))
    extra += b5_dev
    train = train + extra  # training only: never held out (see core/safety/data.py)
    pattern_hit = np.array([bool(find_patterns(r.text)) for r in train])
    labels = np.array([r.label for r in train])
    X = matrix([r.text for r in train])
    # C and the threshold both come from out-of-fold scores on the training split, repeated over SEEDS
    trials = [{"C": C, **pick_threshold(labels, pattern_hit, [out_of_fold(train, X, C, seed) for seed in SEEDS])}
              for C in C_GRID]
    chosen = choose_c(trials)
    model = fit(X, train, chosen["C"])
    info = {"name": "ngram-logreg", "features": "ngram+classes", "class_weight": CLASS_WEIGHT, "dim": DIM, "C": chosen["C"], "categories": list(CATEGORIES),
            "train_rows": len(train), "held_out_rows": len(held), "trials": trials, "seeds": list(SEEDS),
            "max_fpr": MAX_FPR, "oof_noise": OOF_NOISE, "trained": time.strftime("%Y-%m-%d")}
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
    held_ok = report["held_out"]["recall"] >= TARGET_RECALL and report["held_out"]["fpr"] <= TARGET_FPR
    report["written"] = held_ok or args.force
    if report["written"]:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, weights=clf.weights.astype(np.float16), bias=clf.bias, categories=np.array(CATEGORIES),
                            threshold=np.float32(clf.threshold), info=np.array(json.dumps(info)))
    if args.json:
        print(json.dumps(report))
        return 0 if report["written"] else 1
    h, p = report["held_out"], report["held_out_patterns_only"]
    print(f"phrasings: {len(rows)} + {len(extra)} training-only (incl. {len(b5_dev)} of batch 5's dev half) ({len(train)} train, {len(held)} held out, split by template)")
    print(f"out-of-fold, mean of {len(SEEDS)} runs of {FOLDS} folds (grouped by template, stratified), FPR <= {MAX_FPR}:")
    for tr in trials:
        runs = " ".join(f"{r:.3f}" for r in tr["oof_recall_runs"])
        print(f"  C={tr['C']:<5} threshold {tr['threshold']:.2f}  recall {tr['oof_recall']:.3f} (runs {runs}) fpr {tr['oof_fpr']:.3f}")
    print(f"chosen C={chosen['C']} threshold {chosen['threshold']:.2f} (the smallest C within {OOF_NOISE} of the best mean recall)")
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
    if not report["written"]:
        print(f"held out misses the targets (recall >= {TARGET_RECALL}, FPR <= {TARGET_FPR}): {args.out} NOT written "
              "(--force writes it anyway)")
        return 1
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
