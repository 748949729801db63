"""Settings > Listening > "Read a calm sentence…" (issue 11): the recording is replaced by a clip
from a file (the sound card is the only stand-in), the real tiny.en encoder and shipped head
enrol it, and the profile holds it; without a microphone nothing is lost; the first-run offer
comes once."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QMessageBox

from core.audio.sources import FileSource
from core.ear.enrolment import enrolment_path
from core.settings import EarSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CALM = ROOT / "assets" / "samples" / "hello.wav"
HEAD = ROOT / "assets" / "models" / "emotion-head.gguf"
pytestmark = pytest.mark.skipif(not HEAD.exists(), reason="no embedded emotion head (cogaudio-train ear train)")


@pytest.fixture
def microphone_reads_calm_clip(monkeypatch):
    """The sound card: the microphone hands out the calm sentence from a file, unpaced."""
    import app.voice_enrol as voice_enrol

    opened = []

    def microphone(device=None):
        opened.append(device)
        return FileSource(CALM, speed=0, tail_silence_s=1.0)

    monkeypatch.setattr(voice_enrol, "MicrophoneSource", microphone)
    return opened


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")


def _record(qtbot, box):
    dialog = box.read_calm_sentence()  # a child of the box: closed with it
    assert "The weather today is mild" in dialog.sentence.text()
    dialog.record_button.click()
    assert not dialog.record_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.record_button.isEnabled(), timeout=120_000)
    return dialog


def test_calm_sentence_button_enrols_a_recording_into_the_profile(qtbot, settings, microphone_reads_calm_clip):
    from app.voice_profile_box import VoiceProfileBox

    box = VoiceProfileBox(settings)  # no engine running: the dialog loads its own ear
    qtbot.addWidget(box)
    box.forget_button.setEnabled(False)  # as after "Forget my voice"
    dialog = _record(qtbot, box)
    assert microphone_reads_calm_clip == [settings.audio.input_device]
    assert "holds 1 calm sentence" in dialog.status.text(), dialog.status.text()
    profile = settings.voice_profile_path()
    assert str(profile) in dialog.status.text()
    assert json.loads(profile.read_text())["n"] == 1
    assert json.loads(enrolment_path(profile).read_text())["enrolled"] == 1
    assert box.forget_button.isEnabled()
    dialog.record_button.click()  # "Record again" adds a second calm turn
    qtbot.waitUntil(lambda: "holds 2 calm sentences" in dialog.status.text(), timeout=120_000)
    assert json.loads(profile.read_text())["n"] == 2
    dialog.reject()
    with qtbot.waitSignal(box.forgotten, timeout=1000):
        box.forget_button.click()
    assert not profile.exists() and not enrolment_path(profile).exists()


def test_calm_sentence_goes_to_the_running_ear(qtbot, tmp_path, settings, microphone_reads_calm_clip):
    from PySide6.QtWidgets import QWidget

    from app.settings_dialog import SettingsDialog
    from core.ear.listener import EarListener
    from core.speech.asr import SpeechRecognizer

    asr = SpeechRecognizer(n_threads=2)
    try:
        ear = EarListener.load(None, asr.encoder_name, settings.voice_profile_path())
        window = QWidget()  # the main window's part the settings reach: its bridge's engine
        window.bridge = SimpleNamespace(engine=SimpleNamespace(ear=ear, asr=asr))
        qtbot.addWidget(window)
        settings_dialog = SettingsDialog(settings, tmp_path / "settings.json", parent=window)
        box = settings_dialog.voice_box
        dialog = _record(qtbot, box)
        assert "holds 1 calm sentence" in dialog.status.text(), dialog.status.text()
        assert (ear.baseline.n, ear.enrolled) == (1, 1)  # the ear in use learnt the voice, not a copy
        dialog.reject()
    finally:
        asr.close()


def test_without_a_microphone_it_says_so_and_keeps_the_profile(qtbot, settings, monkeypatch):
    import sounddevice

    from app.voice_profile_box import VoiceProfileBox

    def no_device(**_kw):
        raise sounddevice.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sounddevice, "check_input_settings", no_device)
    profile = settings.voice_profile_path()
    profile.parent.mkdir(parents=True)
    profile.write_text('{"kept": true}')
    box = VoiceProfileBox(settings)
    qtbot.addWidget(box)
    dialog = _record(qtbot, box)
    assert "Not enrolled: no usable microphone" in dialog.status.text()
    assert dialog.record_button.text() == "Try again"
    assert profile.read_text() == '{"kept": true}'
    dialog.reject()


def test_first_run_offer_comes_once(qtbot, tmp_path, settings):
    from PySide6.QtWidgets import QWidget

    from app.voice_enrol import CalmSentenceDialog, offer_enrolment

    parent = QWidget()
    qtbot.addWidget(parent)
    path = tmp_path / "settings.json"
    offered, box = offer_enrolment(parent, settings, path, lambda: None)
    assert box is not None and box.isVisible() and not box.isModal()
    assert offered.ear.enrol_offered and load_settings(path).ear.enrol_offered
    read = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    read.click()
    assert isinstance(box.calm_dialog, CalmSentenceDialog) and box.calm_dialog.isVisible()
    box.calm_dialog.reject()
    assert offer_enrolment(parent, load_settings(path), path, lambda: None)[1] is None  # never again
    # not offered when the ear is off, or when a voice profile already exists
    assert offer_enrolment(parent, Settings(data_dir=tmp_path / "d2", ear=EarSettings(enabled=False)),
                           tmp_path / "s2.json", lambda: None)[1] is None
    settings.voice_profile_path().parent.mkdir(parents=True, exist_ok=True)
    settings.voice_profile_path().write_text("{}")
    assert offer_enrolment(parent, settings, tmp_path / "s3.json", lambda: None)[1] is None
