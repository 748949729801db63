"""Words against voice in the window: the turn is marked, and a click on the emotion chip lets the
person correct what was heard; the correction is kept in the session record and its export.

Real window, real SQLite store, real Piper voice; the language model is the scripted engine
(it perceives "sad" at 80 % whatever is said), so the disagreement is certain.
"""

from __future__ import annotations

import re

import pytest

from tests.unit.scripted_engine import ScriptedEngine

SAID = "Honestly it went great, everything is wonderful and I'm really happy about it."


@pytest.fixture
def window(qtbot, tmp_path):
    from app.bridge import PipelineParts
    from app.main_window import MainWindow
    from core.audio.sinks import ArraySink
    from core.settings import Settings
    from core.store.session_store import SessionStore

    store = SessionStore(tmp_path / "sessions.sqlite3")
    parts = PipelineParts(sink=lambda s: ArraySink(realtime=False), engine=ScriptedEngine(label="sad"), listen=False)
    w = MainWindow(Settings(), store, tmp_path / "settings.json", parts)
    qtbot.addWidget(w)
    w.show()
    w.start()
    qtbot.waitUntil(lambda: not w.bridge.loading, timeout=120_000)
    yield w, store
    w.close()
    store.close()


def test_a_disagreeing_turn_is_marked_and_the_person_corrects_the_chip(qtbot, window, tmp_path):
    from PySide6.QtCore import Qt

    w, store = window
    w.input.setText(SAID)
    w.send_typed()
    qtbot.waitUntil(lambda: len(store.turns(w.session_id)) == 1, timeout=60_000)
    turn = store.turns(w.session_id)[0]
    assert turn.label == "sad" and turn.words_vs_voice == "words sound positive, voice sounds sad"
    user = w.conversation.findChildren(type(w._user_widgets[next(iter(w._user_widgets))]))[0]
    qtbot.waitUntil(lambda: user.mismatch_label is not None and user.turn_id == turn.id, timeout=10_000)
    assert user.mismatch_label.text() == "words ≠ voice" and "voice sounds sad" in user.mismatch_label.toolTip()

    qtbot.mouseClick(user.chip, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: user.menu is not None and user.menu.isVisible(), timeout=5_000)
    actions = {a.text(): a for a in user.menu.actions() if a.isCheckable()}
    assert len(actions) == 7 and actions["sad"].isChecked()
    actions["happy"].trigger()
    assert store.turns(w.session_id)[0].corrected_label == "happy"
    assert user.chip.text() == "happy (you) · heard sad"
    user.menu.close()

    md = w.export_session("md", tmp_path / "out.md").read_text(encoding="utf-8")
    assert re.search(r"^\*\*Perceived emotion:\*\* sad \(medium, 80%\)", md, re.M)
    assert re.search(r"^\*\*Corrected by the person:\*\* happy \(heard sad\)$", md, re.M)
    assert re.search(r"^\*\*Words vs voice:\*\* words sound positive, voice sounds sad$", md, re.M)

    w.show_session(w.session_id)  # the stored session, drawn again from the record
    again = w.conversation.findChildren(type(user))[0]
    assert again.chip.text() == "happy (you) · heard sad" and again.mismatch_label is not None


def test_a_bad_label_is_refused_by_the_store_and_nothing_changes(window):
    w, store = window
    sid = store.new_session("x")
    from core.store.session_store import TurnRecord

    tid = store.add_turn(sid, TurnRecord(transcript="hi", label="sad"))
    with pytest.raises(ValueError, match="unknown emotion label"):
        store.set_turn_correction(tid, "grumpy")
    assert store.turns(sid)[0].corrected_label is None
    store.set_turn_correction(tid, "neutral")
    store.set_turn_correction(tid, None)
    assert store.turns(sid)[0].corrected_label is None
