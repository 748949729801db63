"""Mood timeline: the perceived emotion and its intensity across a session's turns.

Drawn with QPainter because QtCharts is not part of PySide6-Essentials (the wheel we depend
on). Rows are the seven labels; each turn is a dot in its emotion's row whose size grows with
intensity; a line links consecutive turns so changes of mood stand out.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.theme import EMOTION_COLORS
from core.emotion.labels import EMOTIONS

_RADIUS = {"low": 4.0, "medium": 6.5, "high": 9.0}


@dataclass(frozen=True)
class MoodPoint:
    label: str
    intensity: str | None
    interrupted: bool = False
    safety: bool = False


class MoodTimeline(QWidget):
    """Plots MoodPoints left to right; empty sessions show a hint instead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[MoodPoint] = []
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Mood timeline")

    def sizeHint(self) -> QSize:
        return QSize(320, 210)

    def set_points(self, points: list[MoodPoint]) -> None:
        self.points = [p for p in points if p.label in EMOTIONS]
        summary = ", ".join(f"{p.label} {p.intensity or ''}".strip() for p in self.points)
        self.setAccessibleDescription(summary or "no turns yet")
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = QFontMetrics(self.font())
        left = max(fm.horizontalAdvance(e) for e in EMOTIONS) + 8
        pad = _RADIUS["high"] + 4  # room for the largest dot at either end, clear of the row labels
        plot = QRectF(left + pad, 10, max(10.0, self.width() - left - 2 * pad - 4),
                      max(10.0, self.height() - 10 - fm.height() - 12))
        p.fillRect(self.rect(), pal.base())
        row_h = plot.height() / (len(EMOTIONS) - 1)
        grid = QPen(pal.mid().color(), 1, Qt.PenStyle.DotLine)
        for i, label in enumerate(EMOTIONS):
            y = plot.top() + i * row_h
            p.setPen(grid)
            p.drawLine(QPointF(plot.left() - pad, y), QPointF(plot.right() + pad, y))
            p.setPen(pal.text().color())
            p.drawText(QRectF(0, y - fm.height() / 2, left - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        if not self.points:
            p.setPen(pal.placeholderText().color())
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No turns yet")
            p.end()
            return
        n = len(self.points)
        step = plot.width() / max(1, n - 1) if n > 1 else 0.0
        xy = [QPointF(plot.left() + (i * step if n > 1 else plot.width() / 2),
                      plot.top() + EMOTIONS.index(pt.label) * row_h) for i, pt in enumerate(self.points)]
        p.setPen(QPen(pal.placeholderText().color(), 1.5))
        for a, b in zip(xy, xy[1:], strict=False):
            p.drawLine(a, b)
        label_every = max(1, n // 12)
        for i, (pt, c) in enumerate(zip(self.points, xy, strict=True)):
            r = _RADIUS.get(pt.intensity or "medium", 6.5)
            color = QColor(EMOTION_COLORS[pt.label])
            p.setPen(QPen(QColor("#d9483b"), 2.5) if pt.safety else QPen(pal.base().color(), 1.5))
            p.setBrush(color)
            p.drawEllipse(c, r, r)
            if i % label_every == 0:
                p.setPen(pal.text().color())
                p.drawText(QRectF(c.x() - 20, plot.bottom() + 4, 40, fm.height()), Qt.AlignmentFlag.AlignCenter,
                           str(i + 1))
        p.end()
