"""The conversation window around the real pipeline and the real bundled models (offscreen)."""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import pytest

from app.theme import STATE_COLORS
from core.audio.pcm import load_audio
from core.audio.sources import QueueSource
from core.emotion.labels import EMOTIONS
from core.store.session_store import SessionStoreError, TurnRecord

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"

TURN_TIMEOUT_MS = 240_000  # generous: CI machines are slow and shared; speed is measured in bench/


def _words(text: str) -> str:
    return re.sub(r"[^a-z' ]", " ", text.lower()).strip()


def test_spoken_turn_shows_transcript_chip_streamed_reply_and_barge_in(qtbot, make_window):
    mic = QueueSource()  # a file-backed microphone: utterances are spoken into it in real time
    window = make_window(source=lambda s: mic, listen=True)
    states, deltas, done, cut = [], [], [], []
    window.bridge.state_changed.connect(states.append)
    window.bridge.reply_delta.connect(lambda turn, text: deltas.append(text))
    window.bridge.turn_complete.connect(lambda turn, record, row: done.append((record, row)))
    window.bridge.interrupted.connect(lambda turn, reason: cut.append(reason))

    mic.push(load_audio(SAMPLES / "tired.wav"))
    qtbot.waitUntil(lambda: window.state.state == "speaking", timeout=TURN_TIMEOUT_MS)
    [user] = window.conversation.users()
    expected = "I am so tired today, nothing seems to be going right at work."
    assert jiwer.wer(_words(expected), _words(user.text_label.text())) <= 0.35, user.text_label.text()
    assert user.chip is not None and user.chip.label in EMOTIONS
    assert user.chip.intensity in ("low", "medium", "high")
    assert "pitch" in user.chip.toolTip()  # the cues heard are shown with the chip
    assert len(deltas) > 1, "the reply should stream in pieces"
    assert window.conversation.replies()[0].text  # streamed text is on screen while it is spoken

    mic.push(load_audio(SAMPLES / "worried.wav"))  # the person speaks over the reply: barge-in
    qtbot.waitUntil(lambda: len(done) == 2, timeout=TURN_TIMEOUT_MS)
    (first, row1), (second, row2) = done
    assert [r for r in cut if r != "retracted"] == ["barge-in"] and first.interrupted and not second.interrupted
    first_reply, second_reply = window.conversation.replies()
    assert first_reply.status_label.text() == "interrupted"
    assert first_reply.text == first.reply and second_reply.text == second.reply and second.reply.strip()
    assert "worrying" in window.conversation.users()[1].text_label.text().lower()
    if second.eips:  # the EIPS steps sit behind the disclosure, closed until asked for
        assert second_reply.why_button.isVisible() and not second_reply.why_panel.isVisible()
        second_reply.why_button.click()
        assert second_reply.why_panel.isVisible() and "Strategy:" in second_reply.why_panel.text()
    assert {"listening", "hearing", "thinking", "speaking"} <= set(states) <= set(STATE_COLORS)
    assert window.state.state == "listening"
    stored = window.store.turns(window.session_id)
    assert [t.id for t in stored] == [row1, row2] and [t.interrupted for t in stored] == [True, False]
    assert stored[0].transcript == user.text_label.text()


def test_typed_message_then_stop_interrupts_the_reply(qtbot, make_window):
    window = make_window(listen=False)
    done, speaking = [], []
    window.bridge.turn_complete.connect(lambda turn, record, row: done.append(record))
    window.bridge.state_changed.connect(lambda s: speaking.append(s) if s == "speaking" else None)

    qtbot.keyClicks(window.input, "I finally finished my thesis today!")
    qtbot.keyClick(window.input, "\r")
    assert window.input.text() == ""
    qtbot.waitUntil(lambda: bool(done), timeout=TURN_TIMEOUT_MS)
    first = done[0]
    assert first.user_text == "I finally finished my thesis today!" and not first.interrupted
    assert window.conversation.users()[0].text_label.text() == first.user_text

    window.input.setText("Tell me a long story about the sea, please.")
    window.send_button.click()
    qtbot.waitUntil(lambda: bool(speaking), timeout=TURN_TIMEOUT_MS)  # the reply is being spoken
    window.stop_button.click()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=30_000)
    assert done[1].interrupted
    assert window.conversation.replies()[1].status_label.text() == "stopped"
    assert window.state.state == "idle"  # typed-only window: nothing to listen to
    assert [t.interrupted for t in window.store.turns(window.session_id)] == [False, True]


def test_bad_model_file_is_a_message_and_the_window_keeps_working(qtbot, make_window, tmp_path, gui_settings):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)  # a header and nothing else: llama.cpp cannot load it
    settings = gui_settings.model_copy(update={"engine": gui_settings.engine.model_copy(update={"llm_path": bad})})
    window = make_window(settings=settings, use_models=False)
    qtbot.waitUntil(lambda: "Could not start" in window.message_bar.text(), timeout=60_000)
    assert "Settings" in window.message_bar.text()  # it says where to fix it
    window.input.setText("hello?")
    window.send_button.click()
    assert "not running" in window.message_bar.text()
    dialog = window.open_settings()  # the app still answers
    assert dialog.isVisible()
    dialog.reject()


def test_missing_microphone_is_a_message_and_typing_still_works(qtbot, make_window, gui_settings):
    settings = gui_settings.model_copy(
        update={"audio": gui_settings.audio.model_copy(update={"input_device": "no-such-microphone-42"})})
    window = make_window(settings=settings, source=None, listen=True)  # the real MicrophoneSource
    qtbot.waitUntil(lambda: "microphone" in window.message_bar.text().lower(), timeout=60_000)
    assert "type" in window.message_bar.text().lower()
    assert window.state.state == "idle"
    done = []
    window.bridge.turn_complete.connect(lambda turn, record, row: done.append(row))
    window.input.setText("Can you hear me?")
    window.send_button.click()
    qtbot.waitUntil(lambda: bool(done), timeout=TURN_TIMEOUT_MS)
    assert done[0] > 0 and window.conversation.replies()[0].text


def test_full_disk_is_a_message_and_the_next_turn_is_saved(qtbot, make_window):
    window = make_window(listen=False, realtime_sink=False)
    store, db = window.store, window.store._db
    filler = store.new_session("filler")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own SQLITE_FULL ("database or disk is full"), raised at the store's write as on a full disk:
    # cap the file at its size, then use up the free room left inside its pages.
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(SessionStoreError, match="full"):
        for _ in range(100):
            store.add_turn(filler, TurnRecord(reply="x" * 300))
    done = []
    window.bridge.turn_complete.connect(lambda turn, record, row: done.append(row))
    window.input.setText("Please remember this.")
    window.send_button.click()
    qtbot.waitUntil(lambda: bool(done), timeout=TURN_TIMEOUT_MS)
    assert done[0] == -1  # not stored
    assert "not saved" in window.message_bar.text() and "full" in window.message_bar.text()
    assert window.conversation.replies()[0].text  # the conversation itself went on

    db.execute("PRAGMA max_page_count = 1073741823")  # space freed
    window.input.setText("And now?")
    window.send_button.click()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=TURN_TIMEOUT_MS)
    assert done[1] > 0 and len(window.store.turns(window.session_id)) == 1


def test_changed_settings_reload_the_conversation_off_the_gui_thread(qtbot, make_window, gui_settings):
    window = make_window(listen=False)
    old = window.bridge.pipeline
    assert old is not None
    new_settings = gui_settings.model_copy(update={"vad": gui_settings.vad.model_copy(update={"min_silence_ms": 900})})
    window.apply_settings(new_settings)
    assert "Reloading" in window.message_bar.text()
    qtbot.waitUntil(lambda: window.bridge.pipeline is not None and window.bridge.pipeline is not old
                    and not window.bridge.loading, timeout=60_000)
    assert window.bridge.pipeline.settings.vad.min_silence_ms == 900
