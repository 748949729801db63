"""`cogaudio-train turn calibrate --lm` / `turn tradeoff`: the language-model feature is computed from
each point's transcript with the real llama.cpp and bundled SmolLM2, and fitted where it helps."""

from __future__ import annotations

import pytest

from core.cli.turn_bench import TurnBenchError
from core.conversation.end_of_turn import voice_features, word_features
from core.settings import Settings
from training.turn.calibrate import Point, add_bundled_lm_feature, add_lm_feature, fit
from training.turn.tradeoff import fixed_window, tradeoff

pytest.importorskip("llama_cpp")
pytest.importorskip("sklearn")

# (the whole turn, where the speaker paused inside it): the recogniser writes a full stop after both
TURNS = [
    ("I went to the store and bought some bread.", "I went to the store and."),
    ("Kids are talking by the door.", "Kids are talking by the."),
    ("My sister called and we talked for an hour.", "My sister called and."),
    ("The weather has been cold and rainy all week.", "The weather has been cold and."),
    ("Can you help me with the homework?", "Can you help me with the."),
    ("I feel tired and I want to sleep.", "I feel tired and."),
    ("We cooked dinner together and watched a film.", "We cooked dinner together and."),
    ("The dog keeps barking at the neighbours.", "The dog keeps barking at the."),
    ("I lost my keys somewhere in the garden.", "I lost my keys somewhere in the."),
    ("She told me the results would come on Friday.", "She told me the."),
]
# words the recogniser punctuated the same way, and the same flat voice: only the language model can tell
WORDS_ONLY = ("terminal_punctuation",)


def _points(turns, first_case: int) -> list[Point]:
    points = []
    for k, (whole, paused_at) in enumerate(turns):
        complete, paused = first_case + 2 * k, first_case + 2 * k + 1
        for case, is_complete in ((complete, True), (paused, False)):
            if not is_complete:  # a 600 ms pause after `paused_at`, then the rest of the sentence
                points.append(Point(case, False, {**word_features(paused_at), **voice_features(None)}, 0, 0.6, 0.1,
                                    paused_at))
            points.append(Point(case, is_complete, {**word_features(whole), **voice_features(None)}, 1, 0.0, 0.1, whole))
    return points


@pytest.fixture(scope="module")
def points():
    cal, test = _points(TURNS[:6], 0), _points(TURNS[6:], 100)
    add_bundled_lm_feature(cal, test)
    return cal, test


def test_the_fit_puts_weight_on_the_language_model_where_the_words_alone_cannot_tell(points):
    cal, _ = points
    scorer = fit(cal, WORDS_ONLY + ("lm_end",))
    assert scorer["weights"]["lm_end"] > 1.0
    assert abs(scorer["weights"]["terminal_punctuation"]) < 0.01  # the same for every point: no evidence


def test_held_out_the_language_model_cuts_fewer_people_off_at_no_longer_delay(points):
    cal, test = points
    rows = tradeoff(cal, test, [0.0], {"words": WORDS_ONLY, "words+lm": WORDS_ONLY + ("lm_end",)}, Settings())
    without, with_lm = rows
    assert (without.features, with_lm.features) == ("words", "words+lm")
    assert with_lm.test_cut_off == 0.0  # no paused turn of the held-out four is cut off
    assert with_lm.test_delay_ms < without.test_delay_ms  # and finished ones are answered sooner
    # the fixed 500 ms silence cuts every one of them (the pauses are 600 ms)
    assert fixed_window(test, 500)[0] == 1.0


def test_points_measured_before_transcripts_were_kept_are_refused_with_the_fix():
    old = [Point(0, True, {**word_features("Hello."), **voice_features(None)}, 1, 0.0, 0.1)]
    with pytest.raises(TurnBenchError, match="measure them again"):
        add_lm_feature(old, reader=None)
