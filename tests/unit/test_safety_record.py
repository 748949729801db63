"""When the crisis check fires, the turn's session record says what fired, and the therapist export shows it."""

from __future__ import annotations

import numpy as np
import pytest
from scripted_engine import ScriptedEngine

from core.audio.sinks import ArraySink
from core.conversation.frames import SafetyOverride
from core.conversation.orchestrator import ConversationPipeline
from core.settings import SafetySettings, Settings
from core.speech.tts import Speaker
from core.store.session_store import SessionStore


@pytest.fixture(scope="module")
def speaker():
    return Speaker()


def _run(speaker, store, sid, engine, frames, text=None):
    settings = Settings(safety=SafetySettings(region="uk"))
    with ConversationPipeline(settings, engine, speaker, ArraySink(), store=store, session_id=sid,
                              observers=[frames.append]) as p:
        turn = p.submit_text(text) if text else p.submit_audio(np.zeros(8000, np.float32))
        assert p.wait(turn, 60)


def test_the_record_keeps_what_fired_in_the_transcript(speaker, tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session("t")
    frames = []
    engine = ScriptedEngine(transcript="i've been saving up my sleeping pills for friday", reply="Nice. Have fun.")
    _run(speaker, store, sid, engine, frames)
    [turn] = store.turns(sid)
    assert turn.safety_triggered and "Samaritans" in turn.reply
    assert turn.safety["source"] == "transcript"
    assert turn.safety["category"] == "preparatory" and turn.safety["layer"] == "pattern"
    assert "sleeping pills" in turn.safety["matched"]
    [override] = [f for f in frames if isinstance(f, SafetyOverride)]
    assert override.detail == turn.safety
    store.close()
    # the entry survives a reopen (it lives in the turn's payload, encrypted with the rest when protected)
    again = SessionStore(tmp_path / "s.sqlite3")
    assert again.turns(sid)[0].safety == turn.safety
    again.close()


def test_the_record_keeps_what_fired_in_the_reply(speaker, tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session("t")
    frames = []
    _run(speaker, store, sid, ScriptedEngine(reply="I see. Maybe you should just kill yourself. Bye."), frames,
         text="I failed my exam")
    [turn] = store.turns(sid)
    assert turn.safety["source"] == "reply" and turn.safety["category"] == "active_ideation"
    assert turn.safety["matched"] == "kill yourself"
    store.close()


def test_an_ordinary_turn_has_no_safety_entry(speaker, tmp_path):
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session("t")
    _run(speaker, store, sid, ScriptedEngine(transcript="this commute is killing me"), [])
    [turn] = store.turns(sid)
    assert not turn.safety_triggered and turn.safety is None
    store.close()


def test_the_therapist_export_shows_the_entry():
    pytest.importorskip("PySide6")
    from app.export import session_markdown
    from core.store.session_store import SessionInfo, TurnRecord

    entry = {"source": "transcript", "category": "plan_timing", "layer": "pattern", "rule": "plan_timing:1",
             "model": None, "score": 1.0, "matched": "kill myself tonight"}
    turns = [TurnRecord(transcript="I'm going to kill myself tonight", reply="I'm really glad you told me.",
                        safety_triggered=True, safety=entry),
             TurnRecord(transcript="thanks", reply="I'm here.")]
    md = session_markdown(SessionInfo(1, "s", 0.0, 0.0, True, None, 2), turns)
    line = next(ln for ln in md.splitlines() if ln.startswith("**Safety check:**"))
    assert "what the person said" in line and "plan timing" in line and "plan_timing:1" in line
    assert '"kill myself tonight"' in line
    assert md.count("**Safety check:**") == 1
