"""Small status widgets: the conversation state indicator, the live microphone level meter and the
message bar for errors and notices."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from app.theme import STATE_COLORS

STATE_TEXT = {
    "idle": "Paused",
    "listening": "Listening",
    "hearing": "Hearing you",
    "thinking": "Thinking",
    "speaking": "Speaking",
}


class StateIndicator(QWidget):
    """A coloured dot and a word: listening / hearing you / thinking / speaking."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dot = QLabel()
        self._dot.setFixedSize(14, 14)
        self._text = QLabel()
        self._text.setObjectName("stateText")
        font = self._text.font()
        font.setBold(True)
        self._text.setFont(font)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._dot)
        layout.addWidget(self._text)
        self.state = ""
        self.set_state("idle")

    def set_state(self, state: str) -> None:
        self.state = state
        color = STATE_COLORS.get(state, STATE_COLORS["idle"])
        self._dot.setStyleSheet(f"background:{color}; border-radius:7px;")
        self._text.setText(STATE_TEXT.get(state, state.capitalize()))
        self.setAccessibleName(f"State: {self._text.text()}")

    def text(self) -> str:
        return self._text.text()


class LevelMeter(QWidget):
    """Horizontal microphone level bar in dBFS (-60..0), with a slowly falling peak marker."""

    FLOOR_DB = -60.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(80)
        self.setAccessibleName("Microphone level")
        self._level = 0.0  # 0..1 on the dB scale
        self._peak = 0.0
        self._decay = QTimer(self)
        self._decay.setInterval(50)
        self._decay.timeout.connect(self._fall)
        self._decay.start()

    def sizeHint(self) -> QSize:
        return QSize(160, 12)

    @property
    def level(self) -> float:
        return self._level

    def set_rms(self, rms: float) -> None:
        """Show a block's RMS amplitude (linear, 0..1)."""
        db = 20 * math.log10(max(rms, 1e-6))
        self._level = min(1.0, max(0.0, (db - self.FLOOR_DB) / -self.FLOOR_DB))
        self._peak = max(self._peak, self._level)
        self.update()

    def _fall(self) -> None:
        if self._peak > self._level or self._level > 0:
            self._peak = max(self._level, self._peak - 0.02)
            self._level = max(0.0, self._level - 0.03)  # decays when no blocks arrive (mic stopped)
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.palette().mid())
        p.drawRoundedRect(r, 4, 4)
        color = QColor("#2e9d5b") if self._level < 0.75 else QColor("#e0a100") if self._level < 0.92 else QColor("#d9483b")
        p.setBrush(color)
        p.drawRoundedRect(QRectF(r.x(), r.y(), r.width() * self._level, r.height()), 4, 4)
        p.setBrush(self.palette().text())
        x = r.x() + r.width() * self._peak
        p.drawRect(QRectF(max(r.x(), x - 2), r.y(), 2, r.height()))
        p.end()


class MessageBar(QWidget):
    """A dismissable line at the top of the conversation for errors and notices."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.history: list[str] = []
        self.hide()

    def show_message(self, text: str, error: bool = True) -> None:
        self.history.append(text)
        bg, fg = ("#fde7e5", "#7a1d14") if error else ("#e6f0fd", "#183c6b")
        self.setStyleSheet(f"QWidget#messageBar {{ background:{bg}; border-radius:8px; }} QLabel {{ color:{fg}; }}")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
