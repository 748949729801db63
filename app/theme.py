"""Light and dark themes that follow the system, font scaling, and the emotion colours.

The Fusion style with an explicit palette looks the same on every platform and respects the
system colour scheme through Qt's style hints (Qt >= 6.5).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# One colour per label, readable on both light and dark backgrounds.
EMOTION_COLORS: dict[str, str] = {
    "neutral": "#8a8f98",
    "happy": "#e0a100",
    "sad": "#3d7fd9",
    "angry": "#d9483b",
    "fearful": "#8e5bd6",
    "surprised": "#1aa3a3",
    "disgusted": "#5c9e31",
}

STATE_COLORS: dict[str, str] = {
    "idle": "#8a8f98",
    "listening": "#2e9d5b",
    "hearing": "#e07b00",
    "thinking": "#8e5bd6",
    "speaking": "#3d7fd9",
}


def system_is_dark(app: QGuiApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str = "system", font_scale: float = 1.0, base_point_size: float = 10.0) -> bool:
    """Apply `theme` ("system", "light", "dark") and scale the application font; returns True when dark."""
    app.setStyle("Fusion")
    dark = system_is_dark(app) if theme == "system" else theme == "dark"
    app.setPalette(_dark_palette() if dark else _light_palette())
    font = QFont(app.font())
    font.setPointSizeF(base_point_size * font_scale)
    app.setFont(font)
    app.setProperty("cogaudio_dark", dark)
    return dark


def _light_palette() -> QPalette:
    p = QPalette()
    for role, color in {
        QPalette.ColorRole.Window: "#f4f5f7", QPalette.ColorRole.WindowText: "#1d2025",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#eef0f3",
        QPalette.ColorRole.Text: "#1d2025", QPalette.ColorRole.Button: "#e9ebef",
        QPalette.ColorRole.ButtonText: "#1d2025", QPalette.ColorRole.Highlight: "#3d7fd9",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1d2025", QPalette.ColorRole.PlaceholderText: "#8a8f98",
        QPalette.ColorRole.Link: "#2b63b5", QPalette.ColorRole.Mid: "#c9cdd4",
    }.items():
        p.setColor(role, QColor(color))
    return p


def _dark_palette() -> QPalette:
    p = QPalette()
    for role, color in {
        QPalette.ColorRole.Window: "#1f2227", QPalette.ColorRole.WindowText: "#e6e8eb",
        QPalette.ColorRole.Base: "#17191d", QPalette.ColorRole.AlternateBase: "#262a30",
        QPalette.ColorRole.Text: "#e6e8eb", QPalette.ColorRole.Button: "#2c3037",
        QPalette.ColorRole.ButtonText: "#e6e8eb", QPalette.ColorRole.Highlight: "#4d8fe6",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2c3037",
        QPalette.ColorRole.ToolTipText: "#e6e8eb", QPalette.ColorRole.PlaceholderText: "#7d838c",
        QPalette.ColorRole.Link: "#7fb0f0", QPalette.ColorRole.Mid: "#3a3f47",
    }.items():
        p.setColor(role, QColor(color))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b7079"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b7079"))
    return p


def bubble_colors(dark: bool) -> tuple[str, str]:
    """Background colours of (user bubble, reply bubble)."""
    return ("#2a3b52", "#2a2e35") if dark else ("#dde9fb", "#ffffff")
