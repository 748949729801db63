"""Fit the end-of-turn model on LIME rows and choose its cut points.

Points: every first silent window (SpeechQuieted) of the real VAD on the train and validation
rows, each row as spoken and with a 300-900 ms pause inserted at an inner word boundary
(core.cli.turn_bench.make_cases). A point is positive when the speaker said their last word
before it, negative when they went on after at least `MIN_PAUSE_S` (shorter gaps never reach
the shortest wait, so they cannot cut anyone off). Its features are those the stage sees at
run time: the real recogniser's transcript of the utterance so far and the final prosody.

Two logistic regressions (scikit-learn, L2, balanced classes): words and voice, and the voice
alone (for engines without a transcript). The cut points are then chosen by replaying the
policy on the same points with the transcript's measured compute time: the lowest median
end-of-turn delay on complete rows with at most `max_cut_off` of the paused rows cut off.
The test split is never read here: `cogaudio bench latency` and `cogaudio-train turn tradeoff`
(training/turn/tradeoff.py) report on it.

With `--lm`, a third regression adds `lm_end`, the bundled SmolLM2's probability of the turn
ending after the point's transcript (core.conversation.lm_completion), with its own cut points:
the file's `with_lm` section, used when `turn.lm_completion` is on and the model loads. Points
keep their transcript for it (`text`); files measured before that have none and are refused.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.cli.turn_bench import Case, TurnBenchError, load_rows, make_cases
from core.conversation.end_of_turn import VOICE_FEATURES, voice_features, word_features
from core.settings import TurnSettings
from core.speech.final_prosody import measure_final_prosody
from core.speech.vad import WINDOW, SileroVad, SpeechQuieted, SpeechResumed, StreamingVad

MIN_PAUSE_S = 0.15
# Fitted word features. The sentence length (log_words, few_words) is left out: every LIME text
# is one sentence of 6-12 words, so length alone separates its ends from its inner pauses and a
# fit leans on it, which would not hold for "Thanks." in a conversation. LIME has no questions:
# a question mark counts through terminal_punctuation, which includes it.
FIT_WORDS = ("no_words", "continuation_word", "filler_word", "terminal_punctuation", "trailing_comma")
LM_FEATURES = ("lm_end",)  # core.conversation.lm_completion, with `--lm`
WINDOW_S = WINDOW / 16000


@dataclass
class Point:
    case: int
    complete_case: bool
    features: dict[str, float]
    label: int  # 1: the speaker had finished
    pause_s: float  # negatives: how long the pause lasted
    asr_s: float  # the transcript's compute time
    text: str = ""  # the transcript (the language-model feature is computed from it; older files lack it)


def case_points(case: Case, idx: int, complete_case: bool, silero: SileroVad, transcribe, settings) -> list[Point]:
    vad = StreamingVad(settings.vad, silero, min_silence_ms=10_000)
    vad.model.reset()
    quiets: list[tuple[SpeechQuieted, float | None]] = []
    for i in range(0, len(case.audio) - WINDOW + 1, WINDOW):
        for ev in vad.feed(case.audio[i:i + WINDOW]):
            if isinstance(ev, SpeechQuieted):
                quiets.append((ev, None))
            elif isinstance(ev, SpeechResumed) and quiets:
                quiets[-1] = (quiets[-1][0], ev.silence_s)
    points = []
    for k, (q, resumed) in enumerate(quiets):
        final = resumed is None and k == len(quiets) - 1
        if not final and (resumed is None or resumed < MIN_PAUSE_S):
            continue
        t0 = time.perf_counter()
        text = getattr(transcribe(q.audio), "text", "")
        asr_s = time.perf_counter() - t0
        feats = {**word_features(text), **voice_features(measure_final_prosody(q.audio))}
        points.append(Point(idx, complete_case, feats, int(final), resumed or 0.0, asr_s, text))
    return points


def measure_points(rows: list[dict], seed: int, silero: SileroVad, transcribe, settings, progress=print) -> list[Point]:
    """Every point of `rows`, each as spoken and with an inserted pause (the slow part: the recogniser)."""
    complete, paused = make_cases(rows, seed, silero)
    points: list[Point] = []
    t0 = time.perf_counter()
    cases = [(c, True) for c in complete] + [(c, False) for c in paused]
    for i, (case, is_complete) in enumerate(cases):
        points += case_points(case, i, is_complete, silero, transcribe, settings)
        if progress and (i + 1) % 50 == 0:
            progress(f"  {i + 1}/{len(cases)} cases, {len(points)} points, {time.perf_counter() - t0:.0f} s")
    return points


def load_points(path: Path) -> list[Point]:
    return [Point(**p) for p in json.loads(Path(path).read_text())]


def save_points(points: list[Point], path: Path) -> None:
    Path(path).write_text(json.dumps([p.__dict__ for p in points]))


def points_for(rows_dir: Path, file: Path | None, splits: tuple[str, ...], limit: int | None, seed: int,
               settings, progress=print) -> list[Point]:
    """The points of these splits, from `file` when it exists (else measured, and kept there)."""
    if file is not None and file.exists():
        return load_points(file)
    from core.speech.asr import SpeechRecognizer

    rows = [r for split in splits for r in load_rows(rows_dir, split, limit)]
    silero, asr = SileroVad(), SpeechRecognizer(settings.asr)
    try:
        points = measure_points(rows, seed, silero, asr.transcribe, settings, progress)
    finally:
        asr.close()
    if file is not None:
        save_points(points, file)
    return points


def add_bundled_lm_feature(*point_sets: list[Point]) -> None:
    """`add_lm_feature` on each set, with one reader of the bundled SmolLM2 for all."""
    from core.conversation.lm_completion import LmCompletion

    reader = LmCompletion.bundled()
    try:
        for points in point_sets:
            add_lm_feature(points, reader)
    finally:
        reader.close()


def add_lm_feature(points: list[Point], reader) -> None:
    """features["lm_end"] from each point's transcript (core.conversation.lm_completion)."""
    if points and not any(p.text for p in points):
        raise TurnBenchError("these points were measured before transcripts were kept, so the language-model "
                             "feature cannot be computed: measure them again (delete the --points file)")
    for p in points:
        p.features["lm_end"] = reader.feature(p.text)


def cv_auc(points: list[Point], names: tuple[str, ...], folds: int = 5) -> float:
    """Cross-validated ROC AUC of the regression on these points (grouped by case, so the pauses and
    the end of one row never fall on both sides of a fold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    x = np.array([[p.features[n] for n in names] for p in points])
    y = np.array([p.label for p in points])
    model = LogisticRegression(class_weight="balanced", max_iter=2000)
    groups = [p.case for p in points]
    return float(cross_val_score(model, x, y, groups=groups, cv=GroupKFold(folds), scoring="roc_auc").mean())


def fit(points: list[Point], names: tuple[str, ...], c: float = 1.0) -> dict:
    from sklearn.linear_model import LogisticRegression

    x = np.array([[p.features[n] for n in names] for p in points])
    y = np.array([p.label for p in points])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x, y)
    return {"intercept": round(float(model.intercept_[0]), 4),
            "weights": {n: round(float(w), 4) for n, w in zip(names, model.coef_[0], strict=True)}}


def _p(scorer: dict, feats: dict[str, float]) -> float:
    z = scorer["intercept"] + sum(w * feats.get(n, 0.0) for n, w in scorer["weights"].items())
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _wait_s(p: float, lo: float, hi: float, turn: TurnSettings) -> float:
    done = min(1.0, max(0.0, (p - lo) / max(hi - lo, 1e-6)))
    return (turn.max_wait_ms - (turn.max_wait_ms - turn.min_wait_ms) * done) / 1000.0


def evaluate(points: list[Point], scorer: dict, lo: float, hi: float, turn: TurnSettings) -> tuple[float, float]:
    """(cut-off rate of the paused cases, median delay in ms of the complete cases) under the policy.

    The transcript's compute time is left out on purpose: it is the machine's (and its load's),
    not the model's, and late words only make cut-offs rarer; the bench reports real timings."""
    cut: dict[int, bool] = {}
    delays = []
    for pt in points:
        need = math.ceil(_wait_s(_p(scorer, pt.features), lo, hi, turn) / WINDOW_S) * WINDOW_S
        if pt.label == 0:
            cut[pt.case] = cut.get(pt.case, False) or need < pt.pause_s
        elif pt.complete_case:
            delays.append(need * 1000.0)
        cut.setdefault(pt.case, cut.get(pt.case, False))
    paused = [v for k, v in cut.items() if not any(p.complete_case for p in points if p.case == k)]
    return (sum(paused) / len(paused) if paused else 0.0), (statistics.median(delays) if delays else float("nan"))


def choose_cut_points(points: list[Point], scorer: dict, turn: TurnSettings, max_cut_off: float) -> dict:
    best = None
    grid = [round(v, 2) for v in np.arange(0.05, 1.0, 0.05)]
    for lo in grid:
        for hi in grid:
            if hi <= lo:
                continue
            rate, delay = evaluate(points, scorer, lo, hi, turn)
            if rate <= max_cut_off and (best is None or delay < best[0] - 1e-9):
                best = (delay, rate, lo, hi)
    if best is None:
        return {"incomplete_at": 0.95, "complete_at": 0.99, "cut_off_rate": None, "delay_median_ms": None}
    return {"incomplete_at": best[2], "complete_at": best[3], "cut_off_rate": round(best[1], 4),
            "delay_median_ms": round(best[0], 1)}


def calibrate(rows_dir: Path, out: Path, max_rows: int | None = None, max_cut_off: float = 0.02, seed: int = 0,
              progress=print, points_file: Path | None = None, lm: bool = False) -> dict:
    """Fit, choose the cut points and write the model; with `lm`, also its `with_lm` variant."""
    from core.settings import Settings

    settings = Settings()
    points = points_for(rows_dir, points_file, ("train", "validation"), max_rows, seed, settings, progress)
    both = fit(points, FIT_WORDS + VOICE_FEATURES)
    voice = fit(points, VOICE_FEATURES)
    cuts = choose_cut_points(points, both, settings.turn, max_cut_off)
    n_rows = len({p.case for p in points if p.complete_case})  # each row is spoken once as it is (make_cases)
    what = (f"{n_rows} LIME rows ({rows_dir.name}, train+validation), {len(points)} points "
            f"({sum(p.label for p in points)} turn ends), pauses 300-900 ms inserted, cut-offs <= {max_cut_off:.0%} "
            f"on these rows, seed {seed}")
    spec = {
        "source": f"cogaudio-train turn calibrate: {what}",
        "complete_at": cuts["complete_at"], "incomplete_at": cuts["incomplete_at"],
        "calibration": {"cut_off_rate": cuts["cut_off_rate"], "delay_median_ms": cuts["delay_median_ms"],
                        "min_wait_ms": settings.turn.min_wait_ms, "max_wait_ms": settings.turn.max_wait_ms,
                        "asr_median_ms": round(1000 * statistics.median(p.asr_s for p in points), 1)},
        "words_and_voice": both, "voice_only": voice,
    }
    if lm:
        add_bundled_lm_feature(points)
        with_lm = fit(points, FIT_WORDS + LM_FEATURES + VOICE_FEATURES)
        lm_cuts = choose_cut_points(points, with_lm, settings.turn, max_cut_off)
        spec["with_lm"] = {
            "source": f"cogaudio-train turn calibrate --lm: {what}; lm_end from the bundled SmolLM2",
            "complete_at": lm_cuts["complete_at"], "incomplete_at": lm_cuts["incomplete_at"],
            "calibration": {"cut_off_rate": lm_cuts["cut_off_rate"], "delay_median_ms": lm_cuts["delay_median_ms"]},
            "words_voice_lm": with_lm,
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    return spec
