"""How `python -m training.safety.train_head` chooses C and the threshold (issue 14).

One split of the training rows into folds used to decide between C = 3 and C = 30 on one or two
rows; the rule now averages repeated out-of-fold runs and takes the smallest C within OOF_NOISE
of the best mean recall, and the threshold that gave it (mean FPR <= MAX_FPR).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from core.safety.data import Phrasing
from core.safety.detector import CrisisDetector
from training.safety.train_head import (
    MAX_FPR,
    OOF_NOISE,
    THRESHOLDS,
    as_classifier,
    choose_c,
    matrix,
    out_of_fold,
    pick_threshold,
)


def trial(C: float, recall: float) -> dict:
    return {"C": C, "threshold": 0.7, "oof_recall": recall, "oof_fpr": 0.04}


def test_a_larger_c_that_wins_by_less_than_the_noise_is_not_chosen():
    trials = [trial(3.0, 0.820), trial(10.0, 0.826), trial(30.0, 0.829)]  # 0.009 apart: one split's luck
    assert choose_c(trials)["C"] == 3.0
    # the order the trials come in does not matter
    assert choose_c(trials[::-1])["C"] == 3.0


def test_a_larger_c_that_wins_by_more_than_the_noise_is_chosen_and_the_smallest_such():
    trials = [trial(3.0, 0.800), trial(10.0, 0.830), trial(30.0, 0.835)]
    assert 0.835 - 0.800 > OOF_NOISE and 0.835 - 0.830 < OOF_NOISE
    assert choose_c(trials)["C"] == 10.0
    assert choose_c(trials, noise=0.0)["C"] == 30.0


def test_the_threshold_is_the_best_mean_recall_within_the_mean_false_alarm_cap():
    labels = np.array([1] * 10 + [0] * 20)
    patterns = np.zeros(30, bool)
    patterns[0] = True  # a pattern hit counts whatever the score
    pos = np.array([0.50, 0.55, 0.62, 0.66, 0.70, 0.75, 0.80, 0.85, 0.93, 0.97])
    # one negative per run scores high: 0.90 in the first run, 0.60 in the second
    neg1 = np.r_[0.90, np.full(19, 0.1)]
    neg2 = np.r_[0.60, np.full(19, 0.1)]
    runs = [np.r_[pos, neg1], np.r_[pos, neg2]]
    got = pick_threshold(labels, patterns, runs, max_fpr=0.03)
    # at a mean FPR of 0.025 (a false alarm in one of the two runs) the threshold may go down to 0.61, where
    # 0.62 reads the same rows (ties go up); at 0.60 both runs raise their alarm (0.05): not allowed
    assert got["threshold"] == 0.62 and got["oof_fpr"] == 0.025
    assert got["oof_recall"] == 0.9 and got["oof_recall_runs"] == [0.9, 0.9]  # the pattern's row and 8 scores
    # one run alone would have chosen differently: the average is what decides
    alone = pick_threshold(labels, patterns, runs[:1], max_fpr=0.03)
    assert alone["threshold"] == 0.93 and alone["oof_recall"] == 0.3


def test_ties_go_to_the_higher_threshold_and_an_impossible_cap_gives_the_highest():
    labels = np.array([1, 1, 0, 0])
    scores = np.array([0.95, 0.95, 0.2, 0.2])
    got = pick_threshold(labels, np.zeros(4, bool), [scores])
    assert got["threshold"] == 0.95 and got["oof_recall"] == 1.0  # 0.94 ... 0.30 tie at recall 1
    always = np.array([0.95, 0.95, 0.99, 0.99])
    assert pick_threshold(labels, np.zeros(4, bool), [always])["threshold"] == THRESHOLDS[0]
    assert MAX_FPR == 0.05  # the independent set's allowance (docs/safety.md)


def test_out_of_fold_scores_come_from_heads_that_never_saw_the_template():
    # made-up words mark the four rows of one crisis template and no other row
    rows = [Phrasing("z", 1, "active_ideation", f"zorblax quibbon frandle {i}") for i in range(4)]
    rows += [Phrasing(f"p{t}", 1, "passive_ideation", f"i wish i could sleep forever and not wake up {t}") for t in range(12)]
    rows += [Phrasing(f"n{t}", 0, "everyday", f"we went to the shop and bought bread number {t}") for t in range(14)]
    X = matrix([r.text for r in rows])
    y = np.array([r.label for r in rows])
    seen = CrisisDetector(as_classifier((LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced").fit(X, y), None),
                                        0.5, {}))
    seen_z = np.mean([seen.model_score(r.text) for r in rows[:4]])
    for seed in (0, 1):
        scores = out_of_fold(rows, X, 3.0, seed)
        assert scores.shape == (len(rows),) and np.all((scores >= 0) & (scores <= 1))
        # a head that had seen the template would know its words; the out-of-fold one never did
        assert seen_z > 0.6 and scores[:4].max() < seen_z - 0.2, (seen_z, scores[:4])
        assert scores[4:16].mean() > scores[16:].mean()  # and it learned the rest
