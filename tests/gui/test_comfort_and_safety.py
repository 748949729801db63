"""Safety panel, push-to-talk, shortcuts, small windows and the first-run checks."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu

from app.bridge import GatedSource
from app.first_run import FirstRunDialog, run_checks
from core.audio.sources import FileSource

TURN_TIMEOUT_MS = 240_000


def test_crisis_language_shows_the_help_panel_next_to_the_caring_reply(qtbot, make_window, gui_settings):
    settings = gui_settings.model_copy(update={"safety": gui_settings.safety.model_copy(update={"region": "uk"})})
    window = make_window(settings=settings, listen=False, realtime_sink=False)
    done = []
    window.bridge.turn_complete.connect(lambda turn, record, row: done.append(record))
    assert window.crisis_panel.isHidden()
    window.input.setText("Some days I just want to end it all.")
    window.send_button.click()
    qtbot.waitUntil(lambda: bool(done), timeout=TURN_TIMEOUT_MS)
    assert done[0].safety_triggered
    assert window.crisis_panel.isVisible()
    assert "Samaritans" in window.crisis_panel.body.text() and "999" in window.crisis_panel.body.text()
    assert window.conversation.replies()[0].text == done[0].reply and "alone" in done[0].reply


def test_push_to_talk_passes_audio_only_while_space_is_held(qtbot, make_window):
    window = make_window(start=False)
    source = GatedSource(FileSource(audio=np.full(16000, 0.1, np.float32), speed=0, tail_silence_s=0), lambda r: None)
    window.bridge.source = source
    window.hands_free_button.setChecked(False)
    assert not source.hands_free and "Space" in window.ptt_label.text()
    frames = source.frames()
    assert not next(frames).any()  # key up: the VAD hears silence
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.conversation.setFocus()
    qtbot.keyPress(window.conversation, Qt.Key.Key_Space)
    assert source.talking and next(frames).any()
    qtbot.keyRelease(window.conversation, Qt.Key.Key_Space)
    assert not source.talking and not next(frames).any()
    window.input.setFocus()  # in the text box Space is just a space
    qtbot.keyClick(window.input, Qt.Key.Key_Space)
    assert window.input.text() == " " and not source.talking
    source.close()


def test_every_menu_action_has_its_own_shortcut(qtbot, make_window):
    window = make_window(start=False)
    actions = [a for m in window.menuBar().findChildren(QMenu) for a in m.actions()
               if not a.isSeparator() and a.menu() is None]  # submenu entries are not actions
    assert [a.text() for a in actions if a.shortcut().isEmpty()] == []
    keys = [a.shortcut().toString() for a in actions]
    assert len(keys) == len(set(keys)), "two actions share a shortcut"
    for needed in ("Esc", "Ctrl+N", "Ctrl+T", "Ctrl+E", "Ctrl+,", "Ctrl+M", "F1", "Ctrl+Q"):
        assert QKeySequence(needed).toString() in keys


def test_window_fits_1024_by_640(qtbot, make_window):
    window = make_window(start=False)
    window.resize(1024, 640)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640
    qtbot.waitUntil(lambda: window.width() == 1024)
    assert window.input.isVisible() and window.stop_button.isVisible() and window.sidebar.isVisible()
    assert window.conversation.width() >= 400


def test_first_run_checks_say_what_to_fix(qtbot, gui_settings, tmp_path):
    settings = gui_settings.model_copy(
        update={"tts": gui_settings.tts.model_copy(update={"voice_path": tmp_path / "gone.onnx"})})
    checks = {c.name: c for c in run_checks(settings)}
    assert checks["Language model (SmolLM2-135M)"].ok
    voice = checks["Voice (Piper en_US joe)"]
    assert not voice.ok and "gone.onnx" in voice.fix
    mic = checks["Microphone"]
    assert mic.ok or "Connect a microphone" in mic.fix
    dialog = FirstRunDialog(settings)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: bool(dialog.checks), timeout=30_000)
    assert "thing(s) to fix" in dialog.summary.text() and "gone.onnx" in dialog.results.text()
    dialog.accept()
