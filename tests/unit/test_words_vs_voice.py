"""Words against voice: the disagreement is found only when both sides are clear (real VADER)."""

from __future__ import annotations

from core.emotion.words_vs_voice import detect


def test_positive_words_in_a_confidently_sad_voice_are_named_gently():
    m = detect("It went great, honestly everything is fine and I'm happy.", "sad", 0.8)
    assert m is not None and m.words == "positive" and m.voice == "sad" and m.compound >= 0.35
    assert m.note == "words sound positive, voice sounds sad"
    assert "gently" in m.hint and "low and heavy" in m.hint


def test_negative_words_in_a_happy_voice_count_too():
    m = detect("This is terrible, I hate how awful it all went.", "happy", 0.7)
    assert m is not None and m.words == "negative"


def test_no_mark_when_either_side_is_unclear_or_they_agree():
    assert detect("It went great, I'm so happy.", "sad", 0.3) is None  # voice not confident
    assert detect("The bus comes at nine.", "sad", 0.9) is None  # words carry no sentiment
    assert detect("It went great, I'm so happy.", "happy", 0.9) is None  # they agree
    assert detect("It went great, I'm so happy.", "surprised", 0.9) is None  # surprise has no valence
    assert detect("", "sad", 0.9) is None and detect(None, "sad", 0.9) is None
    assert detect("Great!", None, None) is None
