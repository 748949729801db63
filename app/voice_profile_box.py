"""Settings > Listening: how the ear hears the person (core.ear): against their own voice,
remembered between sessions or not, a calm sentence to read (app/voice_enrol.py), and a button
that forgets the voice now."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QMessageBox, QPushButton, QVBoxLayout

from app.voice_enrol import CalmSentenceDialog, EngineGetter
from core.ear.enrolment import enrolment_path
from core.settings import EarSettings, Settings


class VoiceProfileBox(QGroupBox):
    forgotten = Signal()  # the voice baseline was deleted: the running ear should start afresh

    def __init__(self, settings: Settings, engine: EngineGetter = lambda: None) -> None:
        super().__init__("Your voice")
        self._settings, self._engine = settings, engine
        self.calm_dialog: CalmSentenceDialog | None = None
        self._path = settings.voice_profile_path()
        layout = QVBoxLayout(self)
        self.adapt_check = QCheckBox("Hear me against my own voice (learns how I usually sound)")
        self.adapt_check.setChecked(settings.ear.adapt_to_speaker)
        self.adapt_check.setToolTip("The same pitch is calm for one voice and tense for another: the companion keeps "
                                    "statistics of your voice over the turns (never audio) and reads each turn against them")
        self.remember_check = QCheckBox("Remember my voice between sessions")
        self.remember_check.setChecked(settings.ear.remember_voice)
        self.enrol_button = QPushButton("Read a calm sentence…")
        self.enrol_button.setToolTip("Optional: read one sentence calmly (5 s) so that the companion hears you "
                                     "against your calm voice from the first turn")
        self.enrol_button.clicked.connect(self.read_calm_sentence)
        self.forget_button = QPushButton("Forget my voice")
        self.forget_button.setToolTip(f"Deletes the voice statistics kept in {self._path}")
        self.forget_button.clicked.connect(self.forget)
        for w in (self.adapt_check, self.remember_check, self.enrol_button, self.forget_button):
            layout.addWidget(w)

    def values(self, ear: EarSettings) -> dict:
        return {**ear.model_dump(mode="json"), "adapt_to_speaker": self.adapt_check.isChecked(),
                "remember_voice": self.remember_check.isChecked()}

    def forget(self) -> None:
        """Delete the voice baseline from the profile now (not only on Save) and say so."""
        try:
            self._path.unlink(missing_ok=True)
            enrolment_path(self._path).unlink(missing_ok=True)  # the calm sentences' count goes with it
        except OSError as exc:
            QMessageBox.warning(self, "Forget my voice", f"Could not delete {self._path}: {exc}")
            return
        self.forgotten.emit()
        self.forget_button.setText("Voice forgotten")
        self.forget_button.setEnabled(False)

    def read_calm_sentence(self) -> CalmSentenceDialog:
        """Open the calm-sentence dialog (non-modal to the rest of the app, modal to Settings)."""
        self.calm_dialog = CalmSentenceDialog(self._settings, self._engine, self)
        self.calm_dialog.enrolled.connect(self._enrolled)
        self.calm_dialog.open()
        return self.calm_dialog

    def _enrolled(self, _result) -> None:
        self.forget_button.setText("Forget my voice")  # there is a voice to forget again
        self.forget_button.setEnabled(True)
