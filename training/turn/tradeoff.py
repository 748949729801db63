"""Held-out trade-off of the end-of-turn model: cut-offs against delay, with and without a feature set.

The cut points are chosen on the calibration points (train + validation) at each cut-off
budget, exactly as `turn calibrate` chooses them, and then replayed on the held-out points
(the LIME test split: texts never used to calibrate, a held-out voice) with the same policy
replay (`calibrate.evaluate`). Every feature set is fitted and judged on the same points, so
the table compares evidence, not luck of the draw. The fixed silence (`vad.min_silence_ms`)
is the baseline row.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from core.settings import Settings
from training.turn.calibrate import (
    FIT_WORDS,
    LM_FEATURES,
    WINDOW_S,
    Point,
    _p,
    add_bundled_lm_feature,
    choose_cut_points,
    cv_auc,
    evaluate,
    fit,
)

FEATURE_SETS = {
    "words+voice": FIT_WORDS + ("fall", "rise", "final_level", "level_drop", "lengthening", "unvoiced"),
    "words+voice+lm": FIT_WORDS + LM_FEATURES + ("fall", "rise", "final_level", "level_drop", "lengthening", "unvoiced"),
}


@dataclass(frozen=True)
class TradeoffRow:
    features: str
    budget: float
    incomplete_at: float
    complete_at: float
    cal_cut_off: float | None
    cal_delay_ms: float | None
    test_cut_off: float
    test_delay_ms: float


def held_out_auc(train: list[Point], test: list[Point], names: tuple[str, ...]) -> float:
    from sklearn.metrics import roc_auc_score

    scorer = fit(train, names)
    return float(roc_auc_score([p.label for p in test], [_p(scorer, p.features) for p in test]))


def fixed_window(test: list[Point], fixed_ms: float) -> tuple[float, float]:
    """(cut-off rate, median delay) of the fixed silence on the same points (the baseline)."""
    need = math.ceil(fixed_ms / 1000.0 / WINDOW_S) * WINDOW_S
    paused = {p.case for p in test if not p.complete_case}
    cut = {c for c in paused if any(p.case == c and p.label == 0 and need < p.pause_s for p in test)}
    delays = [need * 1000.0 for p in test if p.complete_case and p.label == 1]
    return (len(cut) / len(paused) if paused else 0.0), (statistics.median(delays) if delays else float("nan"))


def tradeoff(cal: list[Point], test: list[Point], budgets: list[float], feature_sets: dict[str, tuple[str, ...]],
             settings: Settings) -> list[TradeoffRow]:
    rows = []
    for name, names in feature_sets.items():
        scorer = fit(cal, names)
        for budget in budgets:
            c = choose_cut_points(cal, scorer, settings.turn, budget)
            rate, delay = evaluate(test, scorer, c["incomplete_at"], c["complete_at"], settings.turn)
            rows.append(TradeoffRow(name, budget, c["incomplete_at"], c["complete_at"], c["cut_off_rate"],
                                    c["delay_median_ms"], rate, delay))
    return rows


def report(cal: list[Point], test: list[Point], budgets: list[float], settings: Settings) -> str:
    """The table `cogaudio-train turn tradeoff` prints (the language-model feature added to both point sets)."""
    add_bundled_lm_feature(cal, test)
    n_cases = len({p.case for p in test})
    lines = [f"calibration: {len(cal)} points ({sum(p.label for p in cal)} turn ends); held out: {len(test)} points "
             f"of {n_cases} cases ({sum(not p.complete_case for p in {p.case: p for p in test}.values())} with a pause)",
             "", f"{'features':<16} {'AUC cv (cal)':>12} {'AUC held out':>12}"]
    for name, names in FEATURE_SETS.items():
        lines.append(f"{name:<16} {cv_auc(cal, names):>12.3f} {held_out_auc(cal, test, names):>12.3f}")
    sep_cal, sep_test = lm_separation(cal), lm_separation(test)
    lines.append(f"lm_end median, turn ends vs pauses: calibration {sep_cal['turn_ends']:.2f} vs {sep_cal['pauses']:.2f}, "
                 f"held out {sep_test['turn_ends']:.2f} vs {sep_test['pauses']:.2f}")
    lines += ["", f"{'features':<16} {'budget':>6} {'cut points':>11} | {'cal cut-offs':>12} {'cal delay':>9} | "
              f"{'held-out cut-offs':>17} {'held-out delay':>14}"]
    for r in tradeoff(cal, test, budgets, FEATURE_SETS, settings):
        cal_cut = "-" if r.cal_cut_off is None else f"{100 * r.cal_cut_off:.1f} %"
        cal_delay = "-" if r.cal_delay_ms is None else f"{r.cal_delay_ms:.0f} ms"
        lines.append(f"{r.features:<16} {100 * r.budget:>5.0f}% {r.incomplete_at:>5.2f},{r.complete_at:<5.2f} | "
                     f"{cal_cut:>12} {cal_delay:>9} | {100 * r.test_cut_off:>15.1f} % {r.test_delay_ms:>11.0f} ms")
    rate, delay = fixed_window(test, settings.vad.min_silence_ms)
    lines.append(f"{'fixed silence':<16} {'':>6} {settings.vad.min_silence_ms:>8} ms | {'':>12} {'':>9} | "
                 f"{100 * rate:>15.1f} % {delay:>11.0f} ms")
    return "\n".join(lines)


def lm_separation(points: list[Point]) -> dict[str, float]:
    """Median lm_end at turn ends and at pauses (a quick look at what the feature adds)."""
    ends = [p.features["lm_end"] for p in points if p.label == 1]
    pauses = [p.features["lm_end"] for p in points if p.label == 0]
    return {"turn_ends": float(np.median(ends)) if ends else float("nan"),
            "pauses": float(np.median(pauses)) if pauses else float("nan")}
