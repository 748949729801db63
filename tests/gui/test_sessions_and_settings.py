"""Settings, sessions, therapist mode, export and the encrypted store, in real widgets (offscreen)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from app.dialogs import ConsentDialog, PassphraseDialog
from app.gui_main import open_store
from app.settings_dialog import SettingsDialog
from core.settings import load_settings
from core.store.session_store import SessionStore, TurnRecord, WrongPassphraseError

TURNS = [
    TurnRecord(transcript="I am so tired today, nothing is going right.", label="sad", intensity="high",
               confidence=0.62, cues={"f0_mean_hz": 108.0, "rate_sps": 2.9},
               eips={"emotion": "sad, high. Low, slow voice.", "intent": "To be heard.",
                     "psychology": "Worn out.", "strategy": "Validate gently."},
               reply="That sounds like a heavy day. I'm here with you.", engine="cascade", model="m"),
    TurnRecord(user_text="Thanks, that helps a bit.", label="neutral", intensity="low", confidence=0.4,
               reply="I'm glad. What would help most right now?", engine="cascade", model="m"),
    TurnRecord(transcript="I got the job!", label="happy", intensity="high", confidence=0.8,
               reply="Congratulations!", interrupted=True, engine="cascade", model="m"),
]


@pytest.fixture
def filled_store(tmp_path):
    store = SessionStore(tmp_path / "sessions.sqlite3")
    sid = store.new_session("Tuesday session", consent=True)
    ids = [store.add_turn(sid, t) for t in TURNS]
    yield store, sid, ids
    store.close()


def test_setting_change_is_validated_and_persisted(qtbot, make_window, tmp_path):
    window = make_window(start=False)
    path = tmp_path / "settings.json"
    dialog = window.open_settings()
    assert isinstance(dialog, SettingsDialog)

    dialog.font_spin.setValue(3.0)  # outside 0.75..2.0: refused, with the field named
    assert not dialog.apply()
    assert dialog.isVisible() and "font_scale" in dialog.error_label.text()
    assert not path.exists()

    dialog.font_spin.setValue(1.25)
    dialog.source_combo.setCurrentIndex(dialog.source_combo.count() - 1)  # local GGUF files
    dialog.llm_edit.setText(str(tmp_path / "missing.gguf"))
    assert not dialog.apply()
    assert "does not exist" in dialog.error_label.text()

    dialog.source_combo.setCurrentIndex(0)  # back to the bundled model
    dialog.rate_spin.setValue(1.2)
    dialog.silence_spin.setValue(800)
    dialog.persona_edit.setPlainText("You are a calm, patient listener.")
    assert dialog.apply()
    saved = load_settings(path)
    assert saved.tts.speaking_rate == 1.2 and saved.vad.min_silence_ms == 800
    assert saved.font_scale == 1.25 and saved.engine.persona == "You are a calm, patient listener."
    assert saved.engine.llm_path is None
    assert window.settings == saved  # the window uses what was saved


def test_font_scaling_shortcut_is_bounded_and_saved(qtbot, make_window, tmp_path):
    window = make_window(start=False)
    for _ in range(20):
        window.scale_font(0.1)
    assert window.settings.font_scale == 2.0
    assert load_settings(tmp_path / "settings.json").font_scale == 2.0
    window.scale_font(None)
    assert window.settings.font_scale == 1.0


def test_export_markdown_parses_back_and_pdf_is_written(qtbot, make_window, filled_store, tmp_path):
    store, sid, ids = filled_store
    window = make_window(store=store, start=False)
    window.show_session(sid)
    assert len(window.conversation.replies()) == 3
    store.set_session_note(sid, "Client arrived late; calmer by the end.")
    window.set_turn_note(window.conversation.replies()[0], "Noticeably flat voice.")

    md_path = window.export_session("md", tmp_path / "out.md")
    text = md_path.read_text(encoding="utf-8")
    turns = re.split(r"^## Turn \d+ ", text, flags=re.M)[1:]
    assert len(turns) == 3
    said = [re.search(r"^\*\*Person \((\w+)\):\*\* (.*)$", t, re.M).groups() for t in turns]
    assert said == [("spoken", TURNS[0].transcript), ("typed", TURNS[1].user_text), ("spoken", TURNS[2].transcript)]
    emotions = [re.search(r"^\*\*Perceived emotion:\*\* (\w+) \((\w+), (\d+)%\)", t, re.M).groups() for t in turns]
    assert emotions == [("sad", "high", "62"), ("neutral", "low", "40"), ("happy", "high", "80")]
    replies = [re.search(r"^\*\*Reply:\*\* (.*)$", t, re.M).group(1) for t in turns]
    assert replies == [t.reply for t in TURNS]
    steps = dict(re.findall(r"^- (Emotion|Intent|Psychology|Strategy): (.*)$", turns[0], re.M))
    assert steps == {k.capitalize(): v for k, v in TURNS[0].eips.items()}
    assert re.search(r"^\*\*Therapist note:\*\* Noticeably flat voice\.$", turns[0], re.M)
    assert "**Flags:** interrupted" in turns[2]
    assert "Client arrived late; calmer by the end." in text.split("## Turn 1")[0]
    assert "**Consent to record:** yes" in text

    pdf = window.export_session("pdf", tmp_path / "out.pdf")
    head = pdf.read_bytes()[:5]
    assert head == b"%PDF-" and pdf.stat().st_size > 2000
    preview = window.preview_export()
    assert "Tuesday session" in preview.browser.toPlainText()
    preview.close()


def test_sidebar_search_rename_and_delete_with_confirmation(qtbot, make_window, filled_store, monkeypatch):
    store, sid, _ = filled_store
    other = store.new_session("Work worries")
    window = make_window(store=store, start=False)
    bar = window.sidebar
    bar.refresh()
    assert bar.list.count() == 2
    bar.search.setText("job")  # matches a transcript inside the Tuesday session
    assert bar.list.count() == 1 and "Tuesday" in bar.list.item(0).text()
    bar.search.clear()

    bar.select(other)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Work, week 2", True))
    bar.rename_current()
    assert store.session(other).title == "Work, week 2"

    bar.select(other)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    bar.delete_current()
    assert len(store.sessions()) == 2  # answered No: nothing deleted
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    bar.delete_current()
    assert [s.id for s in store.sessions()] == [sid]


def test_therapist_mode_needs_consent_and_shows_the_mood_timeline(qtbot, make_window, filled_store, monkeypatch):
    store, sid, _ = filled_store
    window = make_window(store=store, start=False)
    window.session_id = store.new_session("live")
    window.viewing_id = window.session_id
    monkeypatch.setattr(ConsentDialog, "exec", lambda self: ConsentDialog.DialogCode.Rejected)
    window.therapist_action.setChecked(True)
    assert not window.therapist_mode and not window.therapist_panel.isVisible()
    assert "consent" in window.message_bar.text()

    monkeypatch.setattr(ConsentDialog, "exec", lambda self: ConsentDialog.DialogCode.Accepted)
    window.therapist_action.setChecked(True)
    assert window.therapist_mode and window.therapist_panel.isVisible()
    assert store.session(window.session_id).consent  # the empty live session became the recorded one
    window.show_session(sid)
    chart = window.therapist_panel.chart
    assert [(p.label, p.intensity) for p in chart.points] == [("sad", "high"), ("neutral", "low"), ("happy", "high")]
    qtbot.waitUntil(lambda: all(r.note_button.isVisible() for r in window.conversation.replies()))
    window.therapist_panel.note.setPlainText("Follow up on sleep.")
    window.therapist_panel.note.document().setModified(True)
    window.therapist_panel.flush_note()
    assert store.session(sid).note == "Follow up on sleep."


def test_encrypted_store_wrong_then_right_passphrase(qtbot, tmp_path, gui_settings, make_window):
    settings = gui_settings.model_copy(update={"data_dir": tmp_path / "data"})
    path = settings.resolved_data_dir() / "sessions.sqlite3"
    with SessionStore(path, passphrase="blue heron") as store:
        sid = store.new_session("Private")
        store.add_turn(sid, TURNS[0])

    tries, shown = iter(["grey heron", "blue heron"]), []

    def ask(message: str) -> str | None:  # what the real dialog returns when the user types and presses OK
        dialog = PassphraseDialog(message)
        qtbot.addWidget(dialog)
        shown.append(dialog.error.text() if not dialog.error.isHidden() else "")
        qtbot.keyClicks(dialog.edit, next(tries))
        return dialog.passphrase()

    store, message = open_store(settings, ask)
    assert store is not None and message == ""
    assert shown[0] == "" and "wrong passphrase" in shown[1]
    window = make_window(store=store, start=False)
    window.sidebar.refresh()
    assert window.sidebar.list.count() == 1 and "Private" in window.sidebar.list.item(0).text()
    window.show_session(sid)
    assert window.conversation.users()[0].text_label.text() == TURNS[0].transcript
    store.close()
    with SessionStore(path, passphrase="blue heron") as again:  # nothing was lost or rewritten
        assert again.turns(sid)[0].reply == TURNS[0].reply

    locked, message = open_store(settings, lambda m: None)  # the user gives up: no store, a plain message
    assert locked is None and "locked" in message


def test_history_can_be_encrypted_from_the_window(qtbot, make_window, tmp_path):
    window = make_window(start=False)
    store = window.store
    sid = store.new_session("Mine")
    store.add_turn(sid, TURNS[1])
    assert not window.set_passphrase("one", "two") and "differ" in window.message_bar.text()
    assert window.set_passphrase("river stone", "river stone") and store.encrypted
    store.close()
    with pytest.raises(WrongPassphraseError):
        SessionStore(store.path)
    with SessionStore(store.path, "river stone") as reopened:
        assert reopened.turns(sid)[0].user_text == TURNS[1].user_text

