"""EIPS rendering and parsing: the format training writes is the format the engines read."""

from __future__ import annotations

from core.emotion.eips import EIPS, FALLBACK_RESPONSE, StreamParser, parse_reply, render_target, validate_eips

STEPS = EIPS(
    emotion="sad, high. The voice is low, slow and quiet while the words are neutral.",
    intent="To be heard.",
    psychology="Feeling alone with a heavy day.",
    strategy="Validate gently, then ask an open question.",
)


def test_explicit_round_trip():
    text = render_target("sad", "high", "That sounds heavy. What happened today?", STEPS)
    parsed = parse_reply(text)
    assert parsed.valid and parsed.label == "sad" and parsed.intensity == "high"
    assert parsed.eips == STEPS
    assert parsed.response == "That sounds heavy. What happened today?"


def test_direct_form_has_tag_and_no_steps():
    parsed = parse_reply(render_target("angry", "low", "I can hear this matters to you."))
    assert (parsed.label, parsed.intensity, parsed.eips) == ("angry", "low", None)
    assert parsed.response == "I can hear this matters to you."


def test_emotion_step_missing_label_gets_tag_prefixed():
    steps = EIPS("The voice is bright.", "share", "joy", "mirror")
    assert parse_reply(render_target("happy", "medium", "Lovely!", steps)).label == "happy"


def test_malformed_output_still_gives_reply():
    assert parse_reply("just some words").response == "just some words"
    assert parse_reply("").response == FALLBACK_RESPONSE
    parsed = parse_reply("Emotion: sad\nIntent: to vent\nStrategy: validate")
    assert parsed.response == "validate" and not parsed.valid


def test_validate_eips_requires_gold_label():
    assert validate_eips(STEPS, "sad") == []
    assert any("expected 'happy'" in p for p in validate_eips(STEPS, "happy"))
    assert validate_eips(None, "sad")


def _stream(text: str, step: int) -> list[tuple]:
    parser, events = StreamParser(), []
    for i in range(0, len(text), step):
        events += parser.feed(text[i : i + step])
    return events + list(parser.finish())


def test_stream_parser_matches_batch_parse_for_any_chunking():
    text = render_target("fearful", "medium", "You are safe here. Take a slow breath with me.", STEPS)
    for step in (1, 3, 7, 50, len(text)):
        events = _stream(text, step)
        steps = [(e[1], e[2]) for e in events if e[0] == "step"]
        reply = "".join(e[1] for e in events if e[0] == "reply")
        assert [s for s, _ in steps] == ["emotion", "intent", "psychology", "strategy"]
        assert steps[1][1] == "To be heard."
        assert reply.strip() == "You are safe here. Take a slow breath with me."


def test_stream_parser_plain_text_streams_as_reply():
    events = _stream("Hi! I'm glad you're here, how are you feeling?", 4)
    assert all(e[0] == "reply" for e in events)
    assert "".join(e[1] for e in events) == "Hi! I'm glad you're here, how are you feeling?"
