"""Shared reply checks: English, dismissive phrasing, EPITOME cues, echo, and the acceptance rules."""

from __future__ import annotations

from training.eval.reply_text import echo_ratio, epitome, is_english, reply_problems


def test_english_check_accepts_short_and_plain_replies_and_refuses_other_languages_and_code():
    assert is_english("That sounds really hard. I'm here with you.")
    assert is_english("Congratulations!")
    assert not is_english("Je suis vraiment désolé pour toi, mon ami.")
    assert not is_english("Das ist wirklich schwer für dich heute.")
    assert not is_english("これは大変ですね")
    assert not is_english("}}; return x[0] == y->z;")


def test_epitome_levels_follow_the_three_mechanisms():
    e = epitome("I'm so sorry. It sounds like you feel let down. What happened?")
    assert (e.reaction, e.interpretation, e.exploration) == (1.0, 1.0, 1.0)
    e = epitome("Okay. The bus leaves at nine.")
    assert (e.reaction, e.interpretation, e.exploration) == (0.0, 0.0, 0.0)
    assert epitome("That is tough, right?").exploration == 0.5


def test_echo_ratio_sees_parroting_but_not_engagement():
    said = "my sister is moving to Canada next month"
    assert echo_ratio("My sister is moving to Canada next month.", said) == 1.0
    assert echo_ratio("Canada is far away; you will miss her. How do you feel?", said) < 0.3


def test_reply_problems_name_each_rule():
    said = "I lost my keys again this morning."
    assert reply_problems("That's so frustrating. Where did you last see them?", said) == []
    assert reply_problems("", said) == ["empty reply"]
    assert any(p.startswith("sentences") for p in reply_problems("One. Two. Three. Four. Five.", said))
    assert "not English" in reply_problems("Oh non, c'est vraiment dommage pour toi.", said)
    assert any(p.startswith("dismissive") for p in reply_problems("Calm down, it's just keys.", said))
    assert "echoes the transcript" in reply_problems("I lost my keys again this morning.", said)
    assert "format header inside the reply" in reply_problems("Response: ok sure thing then.", said)
    assert "copies the prompt's example" in reply_problems("I hear you.", said, forbidden=("I hear you!",))
    # what SmolLM2-135M wrote before these rules: prompt text, template markup, a bare acknowledgement
    assert "prompt text or markup in the reply" in reply_problems(
        "The speaker's voice carries: sad, low intensity. Acoustic cues heard: low pitch.", said)
    assert "prompt text or markup in the reply" in reply_problems("[INST] <<SYS>> You are CogAudio.", said)
    assert "no empathy: no reaction, interpretation or question" in reply_problems("I'll do it.", said)
    assert reply_problems("I'll do it.", said, require_empathy=False) == []
