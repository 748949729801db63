"""The conversation transcript: one bubble per user turn (text + emotion chip) and per reply
(streamed text + the four EIPS steps behind a "why this reply" disclosure).

Widgets are thin views over core data (events and TurnRecords); they hold no state of their own
beyond what they display.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.theme import EMOTION_COLORS, bubble_colors
from core.emotion.eips import STEPS
from core.emotion.labels import EMOTIONS

# The cues worth a glance, in reading order; every cue core measured is in the chip's tooltip.
CUE_NAMES = {
    "f0_mean_hz": ("pitch", "{:.0f} Hz"),
    "f0_range_st": ("pitch range", "{:.1f} st"),
    "rate_sps": ("rate", "{:.1f} syll/s"),
    "loudness_dbfs": ("loudness", "{:.0f} dBFS"),
    "loudness_db": ("loudness", "{:.0f} dB"),
}


def describe_cues(cues: dict[str, float], every: bool = False) -> str:
    """"pitch 112 Hz, pitch range 3.5 st, ..." for the main cues (or all of them with `every`)."""
    keys = list(cues) if every else [k for k in CUE_NAMES if k in cues]
    parts = []
    for key in keys:
        value = cues[key]
        name, fmt = CUE_NAMES.get(key, (key.replace("_", " "), "{:.2f}"))
        try:
            parts.append(f"{name} {fmt.format(value)}")
        except (TypeError, ValueError):
            parts.append(f"{name} {value}")
    return ", ".join(parts)


class EmotionChip(QLabel):
    """A rounded coloured label: "sad · medium · 71%" with the cues as tooltip and accessible text.

    A click on it (or Enter/Space when focused) asks to correct what was heard; once corrected it
    reads "happy (you) · heard sad" in the corrected emotion's colour."""

    clicked = Signal()

    def __init__(self, label: str, intensity: str | None, confidence: float | None,
                 cues: dict[str, float] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emotionChip")
        self.label, self.intensity, self.confidence, self.cues = label, intensity, confidence, dict(cues or {})
        self.corrected: str | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self._render()

    def set_corrected(self, label: str | None) -> None:
        self.corrected = label if label != self.label else None
        self._render()

    def _render(self) -> None:
        parts = [self.label]
        if self.intensity:
            parts.append(self.intensity)
        if self.confidence is not None:
            parts.append(f"{self.confidence:.0%}")
        shown = self.corrected or self.label
        text = " · ".join(parts) if self.corrected is None else f"{self.corrected} (you) · heard {self.label}"
        self.setText(text)
        color = EMOTION_COLORS.get(shown, EMOTION_COLORS["neutral"])
        self.setStyleSheet(f"QLabel#emotionChip {{ background:{color}; color:white; border-radius:9px;"
                           " padding:2px 8px; font-weight:600; }")
        cue_text = describe_cues(self.cues)
        heard = f"Heard: {describe_cues(self.cues, every=True)}" if self.cues else "No acoustic cues"
        self.setToolTip(f"{heard}\nClick to correct what was heard.")
        self.setAccessibleName(f"Perceived emotion {text}. {cue_text}. Press to correct it.")

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


class _Bubble(QFrame):
    def __init__(self, role: str, dark: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{role}Bubble")
        user_bg, reply_bg = bubble_colors(dark)
        bg = user_bg if role == "user" else reply_bg
        self.setStyleSheet(f"QFrame#{role}Bubble {{ background:{bg}; border-radius:10px; }}")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(12, 8, 12, 8)
        self.body.setSpacing(4)


class UserTurnWidget(_Bubble):
    """What the person said (transcript or typed text) and how they sounded.

    `correction_requested(label)`: the person picked another emotion from the chip's menu; the
    window stores it (the session record keeps what was heard and the correction side by side)."""

    correction_requested = Signal(str)

    def __init__(self, text: str, dark: bool, parent: QWidget | None = None) -> None:
        super().__init__("user", dark, parent)
        self.turn_id: int | None = None  # the stored turn, once the session record has it
        self.pending_correction: str | None = None  # picked before the turn was stored
        self.menu: QMenu | None = None
        self.mismatch_label: QLabel | None = None
        self.text_label = QLabel(text or "…")
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.text_label)
        self.chip_row = QHBoxLayout()
        self.chip_row.setContentsMargins(0, 0, 0, 0)
        self.body.addLayout(self.chip_row)
        self.chip: EmotionChip | None = None
        self.cue_label: QLabel | None = None

    def set_text(self, text: str) -> None:
        self.text_label.setText(text)

    def set_emotion(self, label: str, intensity: str | None, confidence: float | None,
                    cues: dict[str, float]) -> None:
        if self.chip is not None:
            self.chip.deleteLater()
        self.chip = EmotionChip(label, intensity, confidence, cues)
        self.chip.clicked.connect(self.open_correction_menu)
        self.chip_row.addWidget(self.chip)
        cue_text = describe_cues(cues)
        if cue_text:
            self.cue_label = QLabel(cue_text)
            self.cue_label.setObjectName("cueText")
            self.cue_label.setStyleSheet("color: palette(placeholder-text);")
            self.cue_label.setWordWrap(True)
            self.chip_row.addWidget(self.cue_label, 1)
        else:
            self.chip_row.addStretch(1)

    def open_correction_menu(self) -> QMenu:
        """The seven emotions, the heard one checked: picking one emits correction_requested."""
        self.menu = QMenu(self)
        self.menu.setObjectName("correctionMenu")
        self.menu.addSection("What did you feel?")
        group = QActionGroup(self.menu)
        current = self.chip.corrected or self.chip.label if self.chip else None
        for e in EMOTIONS:
            action = QAction(e, self.menu, checkable=True, checked=e == current)
            action.triggered.connect(lambda _=False, e=e: self.correction_requested.emit(e))
            group.addAction(action)
            self.menu.addAction(action)
        if self.chip is not None:
            self.menu.popup(self.chip.mapToGlobal(self.chip.rect().bottomLeft()))
        return self.menu

    def set_correction(self, label: str | None) -> None:
        if self.chip is not None:
            self.chip.set_corrected(label)

    def set_mismatch(self, note: str | None) -> None:
        """Mark a turn whose words and voice disagree (core.emotion.words_vs_voice)."""
        if not note:
            return
        if self.mismatch_label is None:
            self.mismatch_label = QLabel("words ≠ voice")
            self.mismatch_label.setObjectName("wordsVsVoice")
            self.mismatch_label.setStyleSheet("color: palette(placeholder-text); font-style: italic;")
            self.body.addWidget(self.mismatch_label)
        self.mismatch_label.setToolTip(note.capitalize() + ".")
        self.mismatch_label.setAccessibleName(f"Words and voice disagree: {note}")


class ReplyTurnWidget(_Bubble):
    """The reply as it streams in, with the EIPS steps behind a disclosure button."""

    note_requested = Signal()

    def __init__(self, dark: bool, parent: QWidget | None = None) -> None:
        super().__init__("reply", dark, parent)
        self.text_label = QLabel("")
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.text_label)
        row = QHBoxLayout()
        self.why_button = QToolButton()
        self.why_button.setText("Why this reply")
        self.why_button.setCheckable(True)
        self.why_button.setArrowType(Qt.ArrowType.RightArrow)
        self.why_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.why_button.setAutoRaise(True)
        self.why_button.setVisible(False)
        self.why_button.toggled.connect(self._toggle_why)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet("color: palette(placeholder-text);")
        self.note_button = QPushButton("Note…")
        self.note_button.setFlat(True)
        self.note_button.setVisible(False)
        self.note_button.clicked.connect(self.note_requested)
        row.addWidget(self.why_button)
        row.addStretch(1)
        row.addWidget(self.status_label)
        row.addWidget(self.note_button)
        self.body.addLayout(row)
        self.why_panel = QLabel("")
        self.why_panel.setObjectName("whyPanel")
        self.why_panel.setWordWrap(True)
        self.why_panel.setTextFormat(Qt.TextFormat.RichText)
        self.why_panel.setVisible(False)
        self.body.addWidget(self.why_panel)
        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("font-style: italic;")
        self.note_label.setVisible(False)
        self.body.addWidget(self.note_label)
        self.steps: dict[str, str] = {}
        self.turn_id: int | None = None

    @property
    def text(self) -> str:
        return self.text_label.text()

    def append(self, delta: str) -> None:
        self.text_label.setText(self.text_label.text() + delta)

    def set_reply(self, text: str) -> None:
        self.text_label.setText(text)

    def add_step(self, step: str, text: str) -> None:
        self.steps[step] = text
        rows = "".join(f"<p><b>{s.capitalize()}:</b> {_escape(self.steps[s])}</p>" for s in STEPS if s in self.steps)
        self.why_panel.setText(rows)
        self.why_button.setVisible(True)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_note(self, note: str | None) -> None:
        self.note_label.setText(f"Note: {note}" if note else "")
        self.note_label.setVisible(bool(note))

    def _toggle_why(self, on: bool) -> None:
        self.why_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.why_panel.setVisible(on)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ConversationView(QScrollArea):
    """A scrolling column of turn bubbles; keeps the newest in view while a reply streams."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._inner = QWidget()
        self._column = QVBoxLayout(self._inner)
        self._column.setContentsMargins(12, 12, 12, 12)
        self._column.setSpacing(10)
        self._column.addStretch(1)
        self.setWidget(self._inner)
        self.dark = False
        self.therapist_mode = False
        self.on_note: Callable[[ReplyTurnWidget], None] | None = None
        self.placeholder = QLabel("Say something, or type below. I'm listening.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: palette(placeholder-text); font-size: 13pt;")
        self._column.insertWidget(0, self.placeholder)

    def clear(self) -> None:
        while self._column.count() > 1:
            item = self._column.takeAt(0)
            w = item.widget()
            if w is not None and w is not self.placeholder:
                w.hide()
                w.setParent(None)  # out of findChildren() now, not at the next event loop turn
                w.deleteLater()
        self._column.insertWidget(0, self.placeholder)
        self.placeholder.show()

    def _add(self, widget: QWidget, align: Qt.AlignmentFlag) -> None:
        self.placeholder.hide()
        row = QHBoxLayout()
        if align == Qt.AlignmentFlag.AlignRight:
            row.addStretch(1)
            row.addWidget(widget, 5)
        else:
            row.addWidget(widget, 5)
            row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self._column.insertWidget(self._column.count() - 1, holder)
        QTimer.singleShot(0, self._scroll_to_end)

    def remove(self, widget: QWidget) -> None:
        """Take a bubble out (a turn core retracted because the person went on speaking)."""
        holder = widget.parentWidget()
        if holder is not None and holder is not self._inner:
            holder.hide()
            holder.setParent(None)
            holder.deleteLater()
        if not self.users():
            self.placeholder.show()

    def add_user(self, text: str) -> UserTurnWidget:
        w = UserTurnWidget(text, self.dark)
        self._add(w, Qt.AlignmentFlag.AlignRight)
        return w

    def add_reply(self) -> ReplyTurnWidget:
        w = ReplyTurnWidget(self.dark)
        w.note_button.setVisible(self.therapist_mode)
        w.note_requested.connect(lambda: self.on_note and self.on_note(w))
        self._add(w, Qt.AlignmentFlag.AlignLeft)
        return w

    def replies(self) -> list[ReplyTurnWidget]:
        return self._inner.findChildren(ReplyTurnWidget)

    def users(self) -> list[UserTurnWidget]:
        return self._inner.findChildren(UserTurnWidget)

    def set_therapist_mode(self, on: bool) -> None:
        self.therapist_mode = on
        for w in self.replies():
            w.note_button.setVisible(on)

    def scroll_to_end(self) -> None:
        QTimer.singleShot(0, self._scroll_to_end)

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
