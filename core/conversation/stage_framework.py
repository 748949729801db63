"""A small stage framework in the pipecat manner: typed frames, one stage interface, an interrupt lane.

- A `Stage` has one method, `process(frame, push)`: it reads one frame and pushes zero or
  more frames downstream (pushing the same frame object forwards it unchanged).
- `StageChain` runs each stage on its own worker thread with an inbox queue (data lane),
  in order. Every new frame a stage pushes is shown to the observers (GUI bridge, CLI,
  turn recorder) at once, from the worker thread.
- `interrupt(turn)` is the system lane: it does not queue behind data. It marks the turn
  cancelled, sets the turn's cancel Event (engines, TTS and sinks watch it), removes the
  turn's frames still waiting in every inbox, and calls each stage's `interrupt(turn)` hook.
  Frames of a cancelled turn are dropped wherever they are met afterwards.
- `run_stage(stage, frames)` is the test harness: one stage, synchronously, frames in ->
  frames out.

A stage that raises does not kill its thread: the exception becomes a `StageError` frame
that the observers see, and the pipeline goes on with the next frame.
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

NO_TURN = -1  # frames that belong to no turn (microphone events) are never cancelled


@dataclass(frozen=True)
class Frame:
    """Base of every frame: the turn it belongs to."""

    turn: int


@dataclass(frozen=True)
class StageError(Frame):
    """A stage raised; `message` is for the user, `detail` (the traceback) for the log."""

    stage: str
    message: str
    detail: str = ""


Push = Callable[[Frame], None]
Observer = Callable[[Frame], None]


def notify(observers: list[Observer], frame: Frame) -> None:
    """Hand `frame` to every observer; one observer's exception is logged, not raised."""
    for obs in list(observers):
        try:
            obs(frame)
        except Exception:  # an observer's bug must not stop the conversation
            log.exception("observer %r failed on %s", obs, type(frame).__name__)


class Stage:
    """One step of the pipeline. Subclasses override `process` and, if they hold per-turn state, `interrupt`."""

    name = "stage"

    def process(self, frame: Frame, push: Push) -> None:  # pragma: no cover - interface
        push(frame)

    def interrupt(self, turn: int) -> None:
        """Called on the interrupt lane (from the interrupting thread): drop state for `turn` quickly."""

    def close(self) -> None:
        """Release what the stage owns (models are owned by the caller, not the stage)."""


_STOP = object()


class _Runner:
    def __init__(self, stage: Stage, pipeline: StageChain, index: int) -> None:
        self.stage = stage
        self.index = index
        self.inbox: queue.Queue = queue.Queue()
        self._pipeline = pipeline
        self.busy_turn: int | None = None
        self.thread = threading.Thread(target=self._loop, name=f"stage-{stage.name}", daemon=True)

    def _loop(self) -> None:
        p = self._pipeline
        while True:
            frame = self.inbox.get()
            if frame is _STOP:
                return
            if p.is_cancelled(frame.turn):
                continue
            self.busy_turn = frame.turn
            try:
                self.stage.process(frame, lambda out, src=frame: p._emit(self.index, out, src))
            except Exception as exc:  # a stage failure is an event, never a dead thread
                log.exception("stage %s failed", self.stage.name)
                p._notify(StageError(frame.turn, self.stage.name, f"{self.stage.name} failed: {exc}",
                                     traceback.format_exc()))
            finally:
                self.busy_turn = None

    def drop_turn(self, turn: int) -> None:
        with self.inbox.mutex:
            self.inbox.queue = deque(f for f in self.inbox.queue if f is _STOP or f.turn != turn)


class StageChain:
    """Stages in order, one worker thread each, plus observers and the interrupt lane."""

    def __init__(self, stages: Iterable[Stage], observers: Iterable[Observer] = ()) -> None:
        self.stages = list(stages)
        self._observers: list[Observer] = list(observers)
        self._runners = [_Runner(s, self, i) for i, s in enumerate(self.stages)]
        self._cancelled: set[int] = set()
        self._cancel_events: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> StageChain:
        if not self._started:
            for r in self._runners:
                r.thread.start()
            self._started = True
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel everything in flight and join the worker threads."""
        with self._lock:
            live = [t for t in self._cancel_events if t not in self._cancelled]
        for turn in live:
            self.interrupt(turn)
        for r in self._runners:
            r.inbox.put(_STOP)
        for r in self._runners:
            if r.thread.is_alive():
                r.thread.join(timeout)
        self._started = False

    def __enter__(self) -> StageChain:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- observers ---------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> None:
        self._observers.append(observer)

    def _notify(self, frame: Frame) -> None:
        notify(self._observers, frame)

    def publish(self, frame: Frame) -> None:
        """Show a frame to the observers without sending it down the pipeline (also for cancelled turns)."""
        self._notify(frame)

    # -- data lane ---------------------------------------------------------------------
    def submit(self, frame: Frame) -> None:
        """Put a frame into the first stage (and show it to observers)."""
        self.cancel_event(frame.turn)
        self._notify(frame)
        self._runners[0].inbox.put(frame)

    def _emit(self, index: int, frame: Frame, source: Frame) -> None:
        if self.is_cancelled(frame.turn):
            return
        if frame is not source:
            self._notify(frame)
        if index + 1 < len(self._runners):
            self._runners[index + 1].inbox.put(frame)

    # -- interrupt lane ----------------------------------------------------------------
    def cancel_event(self, turn: int) -> threading.Event:
        """The Event that is set when `turn` is interrupted (engines, TTS and sinks watch it)."""
        with self._lock:
            ev = self._cancel_events.get(turn)
            if ev is None:
                ev = self._cancel_events[turn] = threading.Event()
                if turn in self._cancelled:
                    ev.set()
            return ev

    def is_cancelled(self, turn: int) -> bool:
        return turn != NO_TURN and turn in self._cancelled

    def interrupt(self, turn: int) -> bool:
        """Cancel `turn` now. Returns False if it was already cancelled."""
        if turn == NO_TURN:
            return False
        with self._lock:
            if turn in self._cancelled:
                return False
            self._cancelled.add(turn)
            ev = self._cancel_events.setdefault(turn, threading.Event())
        ev.set()
        for r in self._runners:
            r.drop_turn(turn)
        for s in self.stages:
            try:
                s.interrupt(turn)
            except Exception:
                log.exception("interrupt hook of %s failed", s.name)
        return True

    def forget(self, turn: int) -> None:
        """Release the cancel Event of a finished turn (the cancelled mark stays: late frames still drop)."""
        with self._lock:
            self._cancel_events.pop(turn, None)

    def idle(self) -> bool:
        return all(r.inbox.empty() and r.busy_turn is None for r in self._runners)


def run_stage(stage: Stage, frames: Iterable[Frame]) -> list[Frame]:
    """Test harness: feed `frames` to `stage` on this thread and return everything it pushed."""
    out: list[Frame] = []
    for f in frames:
        stage.process(f, out.append)
    return out
