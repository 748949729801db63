"""Model manager (placeholder until core.registry lands)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from core.settings import Settings


def installed_models(settings: Settings) -> list[tuple[str, Path, Path | None]]:
    return []


class ModelManagerDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        QVBoxLayout(self).addWidget(QLabel("Model registry not available yet"))
