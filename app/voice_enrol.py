"""Read a calm sentence: the optional voice enrolment of the app (issue 11, core.ear.enrolment).

The dialog shows a short sentence, records about five seconds through the conversation's own
capture (core.audio.sources.MicrophoneSource, the chosen input device) on a worker thread, and
takes the clip into the voice profile. It enrols through the running engine's ear when there
is one, so the ear in use learns the voice at once (a separately loaded ear would be
overwritten by the running one at its next turn); otherwise through an ear loaded for it.
Without a microphone, or with a clip too short or silent, it says what to do and nothing
already in the profile is touched.

`offer_enrolment` is the one-time first-run offer: a non-modal box shown when the ear is on,
it remembers the voice and no profile exists yet; `ear.enrol_offered` is saved at once, so it
never asks again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.workers import TaskRunner
from core.audio.pcm import SAMPLE_RATE
from core.audio.sources import MicrophoneSource
from core.ear.enrolment import CALM_SENTENCE, RECORD_SECONDS, EnrolResult
from core.settings import Settings, save_settings

EngineGetter = Callable[[], Any]  # the engine in use now, or None


def record_clip(seconds: float, device: str | int | None) -> np.ndarray:
    """`seconds` of 16 kHz mono audio from the input device; AudioDeviceError (with what to do)
    when there is no usable microphone. A device lost mid-recording ends it early."""
    source = MicrophoneSource(device=device)
    stop = threading.Timer(seconds + 3.0, source.close)  # a vanished device yields nothing: do not wait forever
    stop.start()
    frames = source.frames()
    got: list[np.ndarray] = []
    try:
        for frame in frames:
            got.append(frame)
            if sum(map(len, got)) >= seconds * SAMPLE_RATE:
                break
    finally:
        stop.cancel()
        source.close()
        frames.close()  # stops and closes the stream now, not when the generator is collected
    return np.concatenate(got) if got else np.zeros(0, np.float32)


def enrol_clip(settings: Settings, engine: Any, pcm: np.ndarray) -> EnrolResult:
    """Enrol `pcm` through the running engine's ear, else through one loaded here from `settings`."""
    ear, asr = getattr(engine, "ear", None), getattr(engine, "asr", None)
    if ear is not None and asr is not None:
        return ear.enrol(asr, pcm)
    if not settings.ear.remember_voice:
        raise ValueError("'Remember my voice between sessions' is off, so the sentence would be forgotten "
                         "at once; turn it on and save the settings first")
    from core.ear.listener import EarListener
    from core.speech.asr import SpeechRecognizer

    asr = SpeechRecognizer(settings.asr)
    try:
        listener = EarListener.load(settings.ear.head_path, asr.encoder_name, settings.voice_profile_path(),
                                    settings.ear.adapt_to_speaker)
        return listener.enrol(asr, pcm)
    finally:
        asr.close()


def describe(result: EnrolResult) -> str:
    turns = "sentence" if result.enrolled == 1 else "sentences"
    where = f"kept in {result.profile}" if result.profile else "kept for this session only"
    return (f"Thank you. {result.voice_s:.1f} s of your calm voice were taken in: your voice profile holds "
            f"{result.enrolled} calm {turns} ({result.turns} {'turn' if result.turns == 1 else 'turns'} in all; "
            f"statistics only, no audio, {where}).")


class CalmSentenceDialog(QDialog):
    """Shows the sentence, records it on a worker thread, enrols it; `enrolled` carries the result."""

    enrolled = Signal(object)  # EnrolResult

    def __init__(self, settings: Settings, engine: EngineGetter, parent: QWidget | None = None,
                 seconds: float = RECORD_SECONDS) -> None:
        super().__init__(parent)
        self.setWindowTitle("Read a calm sentence")
        self._settings, self._engine, self._seconds = settings, engine, seconds
        self._runner = TaskRunner(self)
        layout = QVBoxLayout(self)
        intro = QLabel(f"Press Record and read this sentence calmly, in your usual voice ({seconds:.0f} seconds). "
                       "The companion then hears your later turns against how you sound when you are calm.")
        intro.setWordWrap(True)
        self.sentence = QLabel(f"“{CALM_SENTENCE}”")
        self.sentence.setWordWrap(True)
        font = self.sentence.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.sentence.setFont(font)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("Nothing is recorded until you press Record; no audio is kept.")
        self.status.setWordWrap(True)
        self.record_button = QPushButton("Record")
        self.record_button.clicked.connect(self.record)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for w in (intro, self.sentence, self.record_button, self.status, buttons):
            layout.addWidget(w)

    def record(self) -> None:
        self.record_button.setEnabled(False)
        self.status.setText(f"Recording for {self._seconds:.0f} seconds: please read the sentence now…")
        device = self._settings.audio.input_device
        self._runner.run("voice-enrol", self._record_and_enrol, device, on_result=self._done, on_error=self._failed)

    def _record_and_enrol(self, device) -> EnrolResult:  # worker thread
        pcm = record_clip(self._seconds, device)
        return enrol_clip(self._settings, self._engine(), pcm)

    def _done(self, result: EnrolResult) -> None:
        self.status.setText(describe(result))
        self.record_button.setText("Record again")
        self.record_button.setEnabled(True)
        self.enrolled.emit(result)

    def _failed(self, message: str) -> None:
        self.status.setText(f"Not enrolled: {message}")
        self.record_button.setText("Try again")
        self.record_button.setEnabled(True)

    def done(self, result: int) -> None:
        self._runner.shutdown()  # a recording in flight ends within its length; no thread outlives the dialog
        super().done(result)


def offer_enrolment(parent: QWidget, settings: Settings, settings_path: Path | None,
                    engine: EngineGetter) -> tuple[Settings, QMessageBox | None]:
    """Offer once to read a calm sentence (non-modal). Returns the settings, with `ear.enrol_offered`
    set and saved when the offer was made, and the box shown (None when no offer was due)."""
    ear = settings.ear
    due = ear.enabled and ear.adapt_to_speaker and ear.remember_voice and not ear.enrol_offered
    if not due or settings.voice_profile_path().exists():
        return settings, None
    settings = settings.model_copy(update={"ear": ear.model_copy(update={"enrol_offered": True})})
    try:
        save_settings(settings, settings_path)
    except OSError:  # not saved: the offer may come again next time, which is better than never showing it
        pass
    box = QMessageBox(QMessageBox.Icon.Question, "Get to know your voice",
                      "Would you read one short sentence calmly? The companion then hears how you feel against "
                      "your own calm voice from the first turn (optional; only statistics are kept, never "
                      "audio; Settings > Listening can do it later or forget it).", parent=parent)
    read = box.addButton("Read a sentence…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setWindowModality(Qt.WindowModality.NonModal)

    def read_now() -> None:
        box.calm_dialog = CalmSentenceDialog(settings, engine, parent)  # kept: the box's clicks open it
        box.calm_dialog.open()

    read.clicked.connect(read_now)
    box.show()
    return settings, box
