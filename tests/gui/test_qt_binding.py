"""The Qt binding itself must not drop references: PySide6 6.12.0 on Python 3.11 decrements
None/True on every signal emit, slot call and paint, and the app dies with "Fatal Python error:
none_dealloc" after a few minutes of conversation. pyproject pins PySide6 below 6.12; this
test catches a broken binding in seconds instead of a crash in a session."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from app.indicators import LevelMeter


class _Emitter(QObject):
    level = Signal(float)


def test_signals_slots_and_painting_keep_none_and_true_alive(qtbot):
    emitter, seen = _Emitter(), []
    emitter.level.connect(lambda v: None)
    emitter.level.connect(seen.append)
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.show()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        emitter.level.emit(0.25)
    for _ in range(200):
        meter.set_rms(0.1)
        meter.repaint()
    seen.clear()
    assert sys.getrefcount(True) >= true_before - 50, "signal emit drops references to True"
    assert sys.getrefcount(None) >= none_before - 50, "slots/paint events drop references to None"
