"""Settings > Listening: how the ear hears the person (core.ear): against their own voice,
remembered between sessions or not, and a button that forgets it now."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QMessageBox, QPushButton, QVBoxLayout

from core.settings import EarSettings, Settings


class VoiceProfileBox(QGroupBox):
    forgotten = Signal()  # the voice baseline was deleted: the running ear should start afresh

    def __init__(self, settings: Settings) -> None:
        super().__init__("Your voice")
        self._path = settings.voice_profile_path()
        layout = QVBoxLayout(self)
        self.adapt_check = QCheckBox("Hear me against my own voice (learns how I usually sound)")
        self.adapt_check.setChecked(settings.ear.adapt_to_speaker)
        self.adapt_check.setToolTip("The same pitch is calm for one voice and tense for another: the companion keeps "
                                    "statistics of your voice over the turns (never audio) and reads each turn against them")
        self.remember_check = QCheckBox("Remember my voice between sessions")
        self.remember_check.setChecked(settings.ear.remember_voice)
        self.forget_button = QPushButton("Forget my voice")
        self.forget_button.setToolTip(f"Deletes the voice statistics kept in {self._path}")
        self.forget_button.clicked.connect(self.forget)
        for w in (self.adapt_check, self.remember_check, self.forget_button):
            layout.addWidget(w)

    def values(self, ear: EarSettings) -> dict:
        return {**ear.model_dump(mode="json"), "adapt_to_speaker": self.adapt_check.isChecked(),
                "remember_voice": self.remember_check.isChecked()}

    def forget(self) -> None:
        """Delete the voice baseline from the profile now (not only on Save) and say so."""
        try:
            self._path.unlink(missing_ok=True)
        except OSError as exc:
            QMessageBox.warning(self, "Forget my voice", f"Could not delete {self._path}: {exc}")
            return
        self.forgotten.emit()
        self.forget_button.setText("Voice forgotten")
        self.forget_button.setEnabled(False)
