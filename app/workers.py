"""Background tasks for the GUI: a function run on a worker thread whose result, progress and
error come back to the GUI thread as Qt signals, so a worker never dies silently.

Workers are plain Python threads (named ``cogaudio-*``) rather than QThreads: core already
uses Python threads, one concurrency model is easier to reason about, and a test fixture can
see every live worker through ``threading.enumerate()``. Signals emitted from a Python thread
to a QObject living on the GUI thread are delivered queued, i.e. on the GUI thread.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

ProgressFn = Callable[[float, str], None]


class Task(QObject):
    """One call of `fn(*args, progress=..., cancel=...)` on a worker thread.

    `fn` receives keyword arguments `progress(fraction, message)` and `cancel`
    (a threading.Event it should poll) only when it declares them (``wants_progress``).
    """

    result = Signal(object)
    error = Signal(str)
    progress = Signal(float, str)
    finished = Signal()
    # Crossing threads, a value travels inside a list and `_unbox` re-emits it on the GUI thread:
    # a bare None never rides a queued `object` signal, whose reference counting has been
    # fragile in PySide6 (6.12.0 on Python 3.11 drops references to None; see docs/app.md).
    _boxed = Signal(object)

    def __init__(self, name: str, fn: Callable[..., Any], *args: Any, wants_progress: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.cancel_event = threading.Event()
        self._over = False
        self._fn, self._args, self._wants_progress = fn, args, wants_progress
        self._thread = threading.Thread(target=self._run, name=f"cogaudio-{name}", daemon=True)
        self._boxed.connect(self._unbox)

    def start(self) -> Task:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        # False as soon as the work is over: `finished` handlers run while the thread may still be exiting
        return self._thread.is_alive() and not self._over

    def _run(self) -> None:
        try:
            if self._wants_progress:
                value = self._fn(*self._args, progress=self.progress.emit, cancel=self.cancel_event)
            else:
                value = self._fn(*self._args)
        except Exception as exc:  # any failure becomes a message in the window, never a dead thread
            traceback.print_exc()
            self.error.emit(str(exc) or type(exc).__name__)
        else:
            self._boxed.emit([value])
        finally:
            self._over = True
            self.finished.emit()

    def _unbox(self, box: list) -> None:
        self.result.emit(box[0])


class TaskRunner(QObject):
    """Owns the tasks a window starts: keeps them alive until they finish, and joins them on close."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[Task] = set()

    def run(self, name: str, fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None] | None = None,
            on_error: Callable[[str], None] | None = None, on_progress: ProgressFn | None = None,
            wants_progress: bool = False) -> Task:
        task = Task(name, fn, *args, wants_progress=wants_progress, parent=self)
        if on_result:
            task.result.connect(on_result)
        if on_error:
            task.error.connect(on_error)
        if on_progress:
            task.progress.connect(on_progress)
        self._tasks.add(task)
        task.finished.connect(lambda: self._tasks.discard(task))
        return task.start()

    @property
    def active(self) -> list[Task]:
        return [t for t in self._tasks if t.running]

    def shutdown(self, timeout: float = 10.0) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            task.wait(timeout)
