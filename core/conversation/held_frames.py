"""What the observers outside the pipeline see of a held (early-started) turn: nothing until
its end is confirmed, then all of it in order; nothing ever of a retracted one.

The reply of a held turn is generated and synthesised at once, but its audio waits in the
playback stage (core.conversation.reply_stages.PlaybackStage.hold) and its frames wait here,
so that the GUI and the CLI never show a turn that the person had not finished.
"""

from __future__ import annotations

import threading

from core.conversation.stage_framework import Frame, Observer, notify


class HeldFrames:
    """An observer in front of the outside observers; internal bookkeeping sees everything at once."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # delivery happens under it, so frames keep their order
        self._held: dict[int, list[Frame]] = {}
        self._dropped: set[int] = set()
        self.observers: list[Observer] = []

    def hold(self, turn: int) -> None:
        with self._lock:
            self._held[turn] = []

    def release(self, turn: int) -> None:
        with self._lock:
            for frame in self._held.pop(turn, None) or []:
                self._deliver(frame)

    def drop(self, turn: int) -> None:
        with self._lock:
            self._held.pop(turn, None)
            self._dropped.add(turn)

    def __call__(self, frame: Frame) -> None:
        with self._lock:
            if frame.turn in self._dropped:
                return
            held = self._held.get(frame.turn)
            if held is not None:
                held.append(frame)
            else:
                self._deliver(frame)

    def _deliver(self, frame: Frame) -> None:
        notify(self.observers, frame)
