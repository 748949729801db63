"""TurnStream: model text -> the engine event sequence, including malformed output."""

from __future__ import annotations

import time

from core.engines.events import Done, Perceived, Reasoning, ReplyDelta
from core.engines.turn_stream import NUDGE, TurnStream, cut_reply


def _run(pieces: list[str], nudge_if_silent: bool = False):
    stream = TurnStream(lambda label, intensity: Perceived(label or "neutral", intensity or "medium", 0.5), time.perf_counter(), {})
    events = []
    for p in pieces:
        events += list(stream.feed(p))
        if stream.complete:
            break
    if nudge_if_silent and not stream.replied:
        events += list(stream.feed(NUDGE))
        events += list(stream.feed(" Take a slow breath with me."))
    events += list(stream.finish(interrupted=False))
    return events


def _split(text: str, n: int = 3) -> list[str]:
    return [text[i:i + n] for i in range(0, len(text), n)]


def test_well_formed_output_gives_perceived_four_steps_and_reply():
    text = ("Emotion: sad, high. Low and slow voice.\nIntent: To be heard.\nPsychology: Grief.\n"
            "Strategy: Validate gently.\nResponse: I'm so sorry. That sounds hard.\nEmotion: happy")
    events = _run(_split(text))
    assert isinstance(events[0], Perceived) and events[0].label == "sad" and events[0].intensity == "high"
    assert [e.step for e in events if isinstance(e, Reasoning)] == ["emotion", "intent", "psychology", "strategy"]
    done = events[-1]
    assert isinstance(done, Done) and done.reply == "I'm so sorry. That sounds hard."
    assert done.eips is not None and done.eips.intent == "To be heard."
    assert "".join(e.text for e in events if isinstance(e, ReplyDelta)).strip() == done.reply


def test_plain_text_without_headers_still_speaks_one_paragraph():
    events = _run(_split("Oh no, I'm sorry to hear that.\nThe above is a reply in four steps."))
    done = events[-1]
    assert isinstance(events[0], Perceived) and events[0].label == "neutral"
    assert done.reply == "Oh no, I'm sorry to hear that." and done.eips is None
    assert not [e for e in events if isinstance(e, Reasoning)]


def test_steps_without_response_get_nudged_into_a_reply():
    events = _run(_split("Emotion: fearful, medium.\nIntent: Reassurance."), nudge_if_silent=True)
    assert events[0].label == "fearful"
    assert events[-1].reply == "Take a slow breath with me."
    assert not [e for e in events if isinstance(e, Reasoning)]  # only two steps: none are emitted


def test_empty_output_falls_back_to_a_kind_sentence():
    events = _run([])
    assert isinstance(events[-1], Done) and events[-1].reply


def test_reply_is_held_to_three_sentences():
    events = _run(_split("Emotion: happy, low.\nResponse: One. Two! Three? Four. Five."))
    assert events[-1].reply == "One. Two! Three?"


def test_the_cut_is_clean_when_the_third_end_comes_inside_a_piece():
    # pieces as a tokenizer cuts them: the end of the third sentence and the start of a fourth in one
    for pieces, reply in (
        (["Emotion: sad, high.\nResponse:", " One.", " Two.", " Three. Four", " more."], "One. Two. Three."),
        (["Emotion: sad, high.\nResponse:", " He said \"no.", "\" Two.", " Three.)", " Four."], 'He said "no." Two. Three.)'),
        (["Emotion: sad, high.\nResponse:", " It takes 3", ".", "5 hours", ".", " Two!", " Three?", " Four"],
         "It takes 3.5 hours. Two! Three?"),
    ):
        events = _run(pieces)
        streamed = "".join(e.text for e in events if isinstance(e, ReplyDelta)).strip()
        assert events[-1].reply == streamed == reply


def test_cut_reply_keeps_the_first_paragraph_and_three_sentences():
    assert cut_reply(" I'm glad. I'm glad, too. I'm glad, too. I'm glad, too. I'm") == "I'm glad. I'm glad, too. I'm glad, too."
    assert cut_reply("A 3.5 hour trip! Fine.\nEmotion: sad") == "A 3.5 hour trip! Fine."
    assert cut_reply("No end yet") == "No end yet"


def test_the_response_head_is_awaited_only_right_after_a_finished_emotion_line():
    def awaits(text: str) -> bool:
        stream = TurnStream(lambda label, intensity: Perceived(label or "neutral", intensity or "medium", 0.5),
                            time.perf_counter(), {})
        list(stream.feed(text))
        return stream.awaits_response_head()

    assert awaits("Emotion: sad, high.\n")
    assert awaits(" Emotion:  happy \n")
    assert not awaits("Emotion: sad, high.")  # the line is not finished
    assert not awaits("Emotion:\n")  # no label yet
    assert not awaits("Emotion: sad.\nResponse:")
    assert not awaits("Emotion: sad.\nIntent: comfort\n")
    assert not awaits("I am here for you.\n")


def test_a_forced_response_head_streams_like_a_sampled_one():
    forced = _run(["Emotion:", " sad, high.\n", "Response:", " That sounds hard. I'm here."])
    sampled = _run(_split("Emotion: sad, high.\nResponse: That sounds hard. I'm here."))
    assert [type(e) for e in forced if not isinstance(e, ReplyDelta)] == [type(e) for e in sampled if not isinstance(e, ReplyDelta)]
    assert forced[-1].reply == sampled[-1].reply == "That sounds hard. I'm here."
    assert forced[0].label == sampled[0].label == "sad"
