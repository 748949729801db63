"""The crisis-resources panel: shown, clearly, next to the caring reply when core's safety check fires.

The resources come from core.safety (assets/safety/resources.json, region from settings), so
the screen and the spoken reply always name the same helplines.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.safety import RESOURCES_PATH, SafetyCheck, SafetyError
from core.settings import SafetySettings


def region_names() -> dict[str, str]:
    """Region key -> display name, from the resources file (empty when it cannot be read)."""
    try:
        regions = json.loads(RESOURCES_PATH.read_text(encoding="utf-8"))["regions"]
    except (OSError, ValueError, KeyError):
        return {}
    return {key: entry.get("name", key) for key, entry in regions.items()}


class CrisisPanel(QFrame):
    """A bordered, high-contrast box with the help resources; hidden until `show_resources()`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crisisPanel")
        self.setStyleSheet(
            "QFrame#crisisPanel { background:#fff4e5; border:2px solid #d9483b; border-radius:10px; }"
            "QFrame#crisisPanel QLabel { color:#3a1a14; }")
        self.setAccessibleName("Help resources")
        title = QLabel("You don't have to go through this alone")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        title.setWordWrap(True)
        self.body = QLabel("")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QPushButton("Hide")
        self.close_button.setToolTip("Hide this panel (the resources stay in the session record)")
        self.close_button.clicked.connect(self.hide)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.addLayout(top)
        layout.addWidget(self.body)
        self.hide()

    def show_resources(self, settings: SafetySettings) -> None:
        try:
            check = SafetyCheck(settings)
            rows = "".join(
                f"<li><b>{r.name}</b>: {r.contact}" + (f" <i>({r.hours})</i>" if r.hours else "") + "</li>"
                for r in check.resources())
            emergency = check.emergency_number()
        except SafetyError as exc:
            rows, emergency = f"<li>{exc}</li>", "your local emergency number"
        self.body.setText(f"<ul style='margin:0'>{rows}</ul>"
                          f"<p>If you are in danger right now, call <b>{emergency}</b>.</p>")
        self.show()
