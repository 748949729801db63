"""ConversationPipeline with a scripted engine and the real Piper voice, VAD and session store."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from scripted_engine import ScriptedEngine

from core.audio.sinks import ArraySink
from core.conversation.frames import (
    EngineEvent,
    Interrupted,
    PlaybackStarted,
    SafetyOverride,
    Sentence,
    SpeechAudio,
    TurnComplete,
)
from core.conversation.orchestrator import ConversationPipeline
from core.settings import SafetySettings, Settings
from core.speech.tts import Speaker
from core.store.session_store import SessionStore


@pytest.fixture(scope="module")
def speaker():
    return Speaker()


def make(speaker, engine, sink=None, **kw):
    settings = Settings(safety=SafetySettings(region="uk"))
    return ConversationPipeline(settings, engine, speaker, sink or ArraySink(), **kw)


def test_a_turn_is_spoken_sentence_by_sentence_and_stored(speaker, tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session("t")
    frames = []
    engine = ScriptedEngine()
    sink = ArraySink()
    with make(speaker, engine, sink, store=store, session_id=sid, observers=[frames.append]) as p:
        turn = p.submit_audio(np.zeros(16000, np.float32))
        assert p.wait(turn, 30)
        second = p.submit_text("and then it rained")
        assert p.wait(second, 30)
    sentences = [f.text for f in frames if isinstance(f, Sentence) and f.turn == turn]
    assert sentences == ["I hear you.", "That sounds hard.", "What happened today?"]
    assert all(f.prosody.name == "gentle" for f in frames if isinstance(f, Sentence))  # sad user -> gentle voice
    audio, rate = sink.audio(turn)
    assert rate == speaker.sample_rate and len(audio) > rate  # three sentences take more than a second
    turns = store.turns(sid)
    assert [t.reply for t in turns] == [engine.reply, engine.reply]
    assert turns[0].transcript == "I had a rough day." and turns[0].label == "sad" and not turns[0].interrupted
    assert turns[0].eips["strategy"].startswith("Validate")
    assert turns[1].user_text == "and then it rained"
    for key in ("first_sentence_ms", "tts_first_chunk_ms", "first_audio_ms", "engine_ms", "endpoint_ms"):
        assert key in turns[0].timings_ms
    # the second turn saw the first one as history
    assert engine.calls[1]["history"][0].assistant == engine.reply
    store.close()


def test_stop_button_cuts_playback_and_stores_the_turn_as_interrupted(speaker, tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session()
    engine = ScriptedEngine(reply=" ".join(["This is a long reply that keeps going."] * 8), word_delay_s=0.01)
    sink = ArraySink(realtime=True)
    playing = threading.Event()
    frames = []

    def observe(f):
        frames.append(f)
        if isinstance(f, PlaybackStarted):
            playing.set()

    with make(speaker, engine, sink, store=store, session_id=sid, observers=[observe]) as p:
        turn = p.submit_text("tell me a story")
        assert playing.wait(30)
        assert p.stop_speaking() == [turn]
        assert p.wait(turn, 5)
        assert p.active_turns == []
    record = store.turns(sid)[0]
    assert record.interrupted
    assert [f.reason for f in frames if isinstance(f, Interrupted)] == ["stop"]
    played, rate = sink.audio(turn)
    assert len(played) / rate < 3.0  # eight sentences would take ~20 s
    assert len([f for f in frames if isinstance(f, TurnComplete)]) == 1
    store.close()


def test_crisis_in_the_transcript_replaces_the_reply(speaker):
    frames = []
    engine = ScriptedEngine(transcript="Honestly I just want to end my life.", reply="Sounds great. Have fun.")
    with make(speaker, engine, observers=[frames.append]) as p:
        turn = p.submit_audio(np.zeros(8000, np.float32))
        assert p.wait(turn, 30)
        record = p.recorder.records[-1]
    assert record.safety_triggered and "Samaritans" in record.reply
    spoken = " ".join(f.text for f in frames if isinstance(f, Sentence))
    assert "Sounds great" not in spoken and "Samaritans" in spoken
    assert not any(isinstance(f, EngineEvent) and getattr(f.event, "text", "") == " great." for f in frames)
    assert [f.source for f in frames if isinstance(f, SafetyOverride)] == ["transcript"]


def test_crisis_in_the_reply_is_caught_before_it_is_spoken(speaker):
    frames = []
    engine = ScriptedEngine(reply="I see. Maybe you should kill yourself. Bye.")
    with make(speaker, engine, observers=[frames.append]) as p:
        turn = p.submit_text("I failed my exam")
        assert p.wait(turn, 30)
    spoken = [f.text for f in frames if isinstance(f, Sentence)]
    assert spoken[0] == "I see."
    assert not any("kill" in s for s in spoken)
    assert p.recorder.records[-1].safety_triggered


def test_sequential_mode_speaks_the_whole_reply_in_one_piece(speaker):
    frames = []
    with make(speaker, ScriptedEngine(), streaming=False, observers=[frames.append]) as p:
        assert p.wait(p.submit_text("hi"), 30)
    assert [f.text for f in frames if isinstance(f, Sentence)] == [ScriptedEngine().reply]


def test_an_early_started_turn_is_silent_until_released_and_retraction_stores_nothing(speaker, tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session()
    shown, internal = [], []
    sink = ArraySink()
    with make(speaker, ScriptedEngine(), sink, store=store, session_id=sid, observers=[shown.append]) as p:
        p.stages.subscribe(internal.append)  # the pipeline's own view: everything, at once
        held = p.submit_audio(np.zeros(8000, np.float32), hold=True)
        # the reply is generated and synthesised, but nothing is played (or shown) while held
        deadline = time.monotonic() + 30
        while not any(isinstance(f, SpeechAudio) and f.turn == held for f in internal):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert sink.audio(held)[0].size == 0 and not p.wait(held, 0.3)
        assert [f for f in shown if f.turn == held] == []
        p.release(held)
        assert p.wait(held, 30)
        assert sink.audio(held)[0].size > 0
        kinds = [type(f).__name__ for f in shown if f.turn == held]
        assert kinds[0] == "UserTurn" and "TurnComplete" in kinds  # all of it, in order, once released
        dropped = p.submit_audio(np.zeros(8000, np.float32), hold=True)
        time.sleep(0.2)
        p.retract(dropped)
        assert p.wait(dropped, 5) and p.active_turns == []
    assert sink.audio(dropped)[0].size == 0
    assert [f for f in shown if f.turn == dropped] == []  # observers never saw the retracted turn
    assert len(store.turns(sid)) == 1  # and it left no record
    assert len(p.conversation) == 1
    store.close()


class _Broken(ScriptedEngine):
    def respond(self, audio, history, text=None, cancel=None):
        yield from list(super().respond(audio, history, text, cancel))[:6]  # Perceived, 4 steps, one word
        raise RuntimeError("native crash")


def test_an_engine_that_raises_still_ends_its_turn_with_an_error(speaker):
    with make(speaker, _Broken()) as p:
        turn = p.submit_text("hello")
        assert p.wait(turn, 30)
        assert "native crash" in p.recorder.errors[turn][0]
        assert p.recorder.records[-1].reply == "I"
