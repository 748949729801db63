"""Model manager: core's model registry as a list, with download (progress, cancel), verify and remove.

Every registry call that touches the network or hashes a file runs in a worker Task; the
registry's own exceptions are turned into plain sentences here (offline, disk full, checksum
mismatch, cancelled) because that is what a person needs to read.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.workers import Task
from core.settings import Settings

_STATUS_TEXT = {"ok": "verified", "unchecked": "installed", "unpinned": "installed (no checksum)",
                "mismatch": "damaged: checksum mismatch", "missing": "not downloaded"}


def _registry(settings: Settings):
    from core.models.registry import ModelRegistry

    return ModelRegistry(settings.resolved_data_dir())


def installed_models(settings: Settings, registry=None) -> list[tuple[str, Path, Path | None]]:
    """(id, language model, projector) of every downloaded model that has a language model file."""
    try:
        states = (registry or _registry(settings)).list()
    except Exception:  # no catalogue: the settings dialog just offers bundled and local files
        return []
    found = []
    for st in states:
        if not st.present or st.source == "bundled":
            continue
        paths = {f.role: Path(f.path) for f in st.files if f.path}
        if "llm" in paths:
            found.append((st.id, paths["llm"], paths.get("mmproj")))
    return found


def plain_error(exc: BaseException) -> str:
    """The registry's exception as one sentence a person can act on."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left" in text or "Errno 28" in text:
        return "The disk is full: free some space (or choose another data folder in Settings), then download again."
    if name == "OfflineError":
        return "You appear to be offline. Connect to the internet and try again; models already here keep working."
    if name == "ChecksumError":
        return f"The download was damaged (checksum mismatch) and has been deleted. Download it again. ({text})"
    if name == "PullCancelled":
        return "Download cancelled. Downloading again resumes where it stopped."
    return text or name


def _guarded(fn: Callable, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise RuntimeError(plain_error(exc)) from exc


class ModelManagerDialog(QDialog):
    """The registry's models, their state, and the actions on the selected one."""

    COLUMNS = ("Model", "Kind", "Source", "Size", "State", "Description")

    def __init__(self, settings: Settings, parent: QWidget | None = None, registry=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(860, 440)
        self.settings = settings
        self.registry = registry
        self.task: Task | None = None
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.download_button = QPushButton("&Download")
        self.cancel_button = QPushButton("&Cancel download")
        self.verify_button = QPushButton("&Verify")
        self.remove_button = QPushButton("&Remove")
        close = QPushButton("Close")
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel)
        self.verify_button.clicked.connect(self.verify)
        self.remove_button.clicked.connect(lambda: self.remove())
        close.clicked.connect(self.reject)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for b in (self.download_button, self.cancel_button, self.verify_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.states: list = []
        self._checked: dict[str, object] = {}  # id -> state from the last pull/verify (hashing is slow)
        self.refresh()

    # -- list --------------------------------------------------------------------------------

    def refresh(self, states: list | None = None) -> None:
        try:
            if self.registry is None:
                self.registry = _registry(self.settings)
            listed = states if states is not None else self.registry.list()
            self.states = [self._checked.get(st.id, st) if st.checksum == "unchecked" else st for st in listed]
        except Exception as exc:
            self.status.setText(f"Cannot read the model list: {plain_error(exc)}")
            self.states = []
        selected = self.selected_id()
        self.table.setRowCount(len(self.states))
        for row, st in enumerate(self.states):
            size = sum(f.size or 0 for f in st.files)
            values = (st.id, st.kind, st.source, _human(size) if size else "—",
                      _STATUS_TEXT.get(st.checksum, st.checksum), st.description)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == 4 and st.checksum == "mismatch":
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(row, col, item)
            if st.id == selected:
                self.table.selectRow(row)
        self._update_buttons()

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def select(self, model_id: str) -> None:
        for row, st in enumerate(self.states):
            if st.id == model_id:
                self.table.selectRow(row)

    def _selected_state(self):
        mid = self.selected_id()
        return next((s for s in self.states if s.id == mid), None)

    def _update_buttons(self) -> None:
        st = self._selected_state()
        busy = self.task is not None and self.task.running
        self.download_button.setEnabled(bool(st) and not busy and st.source == "hub" and st.checksum != "ok")
        self.cancel_button.setEnabled(busy)
        self.verify_button.setEnabled(bool(st) and not busy and st.present)
        self.remove_button.setEnabled(bool(st) and not busy and st.source == "hub" and st.present)

    # -- actions (worker threads) --------------------------------------------------------------

    def _run(self, name: str, fn: Callable, *args, on_result: Callable, wants_progress: bool = False) -> Task:
        self.task = Task(name, fn, *args, wants_progress=wants_progress, parent=self)
        self.task.result.connect(on_result)
        self.task.error.connect(self._failed)
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._update_buttons)
        self.task.start()
        self._update_buttons()
        return self.task

    def download(self) -> Task | None:
        mid = self.selected_id()
        if mid is None:
            return None
        registry = self.registry
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(f"Downloading {mid}…")

        def pull(progress, cancel: threading.Event):
            def report(filename: str, done: int, total: int | None) -> None:
                progress(done / total if total else 0.0, f"{filename}: {_human(done)}"
                         + (f" of {_human(total)}" if total else ""))

            return _guarded(registry.pull, mid, progress=report, cancel=cancel)

        def pulled(state) -> None:
            self._checked[state.id] = state
            self._done(f"{mid} downloaded and verified.")

        return self._run(f"pull-{mid}", pull, on_result=pulled, wants_progress=True)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling…")

    def verify(self) -> Task | None:
        mid = self.selected_id()
        if mid is None:
            return None
        self.status.setText(f"Verifying {mid} (hashing the files)…")
        registry = self.registry

        def check():
            return _guarded(registry.verify, mid)

        def show(states: list) -> None:
            self._checked.update({st.id: st for st in states})
            bad = [f.filename for st in states for f in st.files if f.checksum == "mismatch"]
            self._done(f"{mid}: " + ("checksum mismatch in " + ", ".join(bad) + ". Download it again."
                                     if bad else "all files match their checksums."))

        return self._run(f"verify-{mid}", check, on_result=show)

    def remove(self, confirm: bool = True) -> Task | None:
        mid = self.selected_id()
        if mid is None:
            return None
        if confirm and QMessageBox.question(self, "Remove model", f"Delete the downloaded files of {mid}?") \
                != QMessageBox.StandardButton.Yes:
            return None
        registry = self.registry
        self._checked.pop(mid, None)
        return self._run(f"remove-{mid}", lambda: _guarded(registry.remove, mid),
                         on_result=lambda paths: self._done(f"{mid} removed ({len(paths)} files)."))

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _done(self, message: str) -> None:
        self.progress.hide()
        self.status.setText(message)
        self.refresh()

    def _failed(self, message: str) -> None:
        self.progress.hide()
        self.status.setText(message)
        self.status.setStyleSheet("color:#d9483b;")
        self.refresh()

    def done(self, result: int) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.wait(10)
        super().done(result)


def _human(n: int | None) -> str:
    if not n:
        return "0 B"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
