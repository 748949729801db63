"""Therapist mode side panel: session note, mood timeline and export, for the selected session."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.mood_chart import MoodPoint, MoodTimeline
from core.store.session_store import TurnRecord


class TherapistPanel(QWidget):
    """Emits `note_changed(text)` (debounced) and the export requests; the window does the I/O."""

    note_changed = Signal(str)
    export_markdown = Signal()
    export_pdf = Signal()
    preview = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(280)
        self.title = QLabel("No session")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.consent_label = QLabel("")
        self.consent_label.setWordWrap(True)
        self.chart = MoodTimeline()
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Session note (saved automatically)")
        self.note.setAccessibleName("Session note")
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(600)
        self._save_timer.timeout.connect(self.flush_note)
        self.note.textChanged.connect(self._save_timer.start)
        self._loading = False
        md = QPushButton("Markdown…")
        md.setToolTip("Export this session as Markdown (Ctrl+E)")
        md.clicked.connect(self.export_markdown)
        pdf = QPushButton("PDF…")
        pdf.setToolTip("Export this session as PDF (Ctrl+Shift+E)")
        pdf.clicked.connect(self.export_pdf)
        prev = QPushButton("Preview")
        prev.setToolTip("Preview the export (Ctrl+Shift+P)")
        prev.clicked.connect(self.preview)
        buttons = QHBoxLayout()
        for b in (prev, md, pdf):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.consent_label)
        layout.addWidget(QLabel("Mood timeline"))
        layout.addWidget(self.chart)
        layout.addWidget(QLabel("Session note"))
        layout.addWidget(self.note, 1)
        layout.addLayout(buttons)

    def show_session(self, title: str, consent: bool, note: str | None, turns: list[TurnRecord]) -> None:
        self.flush_note()
        self.title.setText(title)
        self.consent_label.setText("Recorded with consent." if consent else "Not a consented recording.")
        self._loading = True
        self.note.setPlainText(note or "")
        self._loading = False
        self._save_timer.stop()
        self.set_turns(turns)

    def set_turns(self, turns: list[TurnRecord]) -> None:
        self.chart.set_points([MoodPoint(t.label, t.intensity, t.interrupted, t.safety_triggered)
                               for t in turns if t.label])

    def flush_note(self) -> None:
        if self._save_timer.isActive():
            self._save_timer.stop()
        if not self._loading and self.note.document().isModified():
            self.note.document().setModified(False)
            self.note_changed.emit(self.note.toPlainText())
