"""A crisis turn in `bench latency` keeps a complete timeline (issue 14).

The crisis check replaces the model's reply with the caring one. Its turn used to end with a
Done of its own that carried none of the engine's measurements, so the record lacked `asr_ms`
(and, when the check fired before the model wrote a word, `first_token_ms`), and the latency
bench's streaming turn had no `asr` mark whenever a bundled sample's transcript, or the reply
to it, happened to score near the classifier's threshold. Here the crisis is forced: the
scripted engine hears a crisis statement; the VAD, the turn taking, Piper and the bench are real.
"""

from __future__ import annotations

import pytest
from scripted_engine import ScriptedEngine

from core.audio.pcm import load_audio
from core.cli.latency_bench import STAGES, run_mode
from core.models.bundled import ASSETS
from core.settings import SafetySettings, Settings
from core.speech.tts import Speaker
from core.speech.vad import SileroVad

CRISIS = "I have the pills saved up and I'm going to take them all tonight."


@pytest.fixture(scope="module")
def speaker():
    return Speaker()


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("said, reply", [(CRISIS, "Sounds lovely, enjoy it."),  # the check fires on what was heard
                                         ("I had a rough day.", "I see. Maybe you should kill yourself. Bye.")])  # ...said
def test_a_crisis_turn_has_every_stage_mark(speaker, streaming, said, reply):
    # the engine measured its transcript (as the cascade does) before the check fired
    engine = ScriptedEngine(transcript=said, reply=reply, timings={"asr_ms": 42.0})
    clip = load_audio(ASSETS / "samples" / "hello.wav")
    settings = Settings(safety=SafetySettings(region="uk"))
    turns = run_mode(settings, engine, speaker, [("hello", clip)], streaming, SileroVad())
    assert len(turns) == 1
    turn = turns[0]
    assert turn.safety_triggered and "Samaritans" in turn.reply and "lovely" not in turn.reply and "kill" not in turn.reply
    assert set(STAGES) <= turn.stages_ms.keys(), turn.stages_ms
    s = turn.stages_ms
    assert s["first_token"] <= s["first_sentence"] <= s["tts_first_chunk"] <= s["first_audio"] + 1
    assert engine.cancelled.is_set()  # the model was stopped, and its Done (with the timings) awaited


def test_an_ordinary_turn_is_marked_as_not_a_crisis(speaker):
    engine = ScriptedEngine(transcript="Hello there, I just wanted to talk.", timings={"asr_ms": 42.0})
    clip = load_audio(ASSETS / "samples" / "hello.wav")
    turns = run_mode(Settings(), engine, speaker, [("hello", clip)], True, SileroVad())
    assert len(turns) == 1 and not turns[0].safety_triggered
    assert turns[0].reply == engine.reply and set(STAGES) <= turns[0].stages_ms.keys()
    assert turns[0].latency_ms > 0
