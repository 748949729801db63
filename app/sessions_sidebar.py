"""History sidebar: the sessions in the store, with search, rename and delete (after confirmation)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.store.session_store import SessionInfo, SessionStore, SessionStoreError


class SessionsSidebar(QWidget):
    """Lists sessions newest first; emits `session_selected(id)` and `new_requested()`."""

    session_selected = Signal(int)
    session_deleted = Signal(int)
    new_requested = Signal()
    failed = Signal(str)

    def __init__(self, store: SessionStore | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search sessions…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.list.setAccessibleName("Sessions")
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemDoubleClicked.connect(lambda _item: self.rename_current())
        self.new_button = QPushButton("New")
        self.new_button.setToolTip("Start a new session (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button = QPushButton("Rename")
        self.rename_button.setToolTip("Rename the selected session (F2)")
        self.rename_button.clicked.connect(self.rename_current)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the selected session (Del)")
        self.delete_button.clicked.connect(self.delete_current)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._suppress = False
        self.refresh()

    def refresh(self) -> None:
        current = self.current_id()
        self._suppress = True
        self.list.clear()
        infos: list[SessionInfo] = []
        if self.store is not None:
            try:
                infos = self.store.sessions(self.search.text().strip() or None)
            except SessionStoreError as exc:
                self.failed.emit(str(exc))
        for info in infos:
            when = time.strftime("%d %b %H:%M", time.localtime(info.created_at))
            flag = "  ●" if info.consent else ""
            turns = f"{info.turn_count} turn" + ("" if info.turn_count == 1 else "s")
            item = QListWidgetItem(f"{info.title}{flag}\n{when} · {turns}")
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip("Recorded with consent (therapist mode)" if info.consent else info.title)
            self.list.addItem(item)
            if info.id == current:
                self.list.setCurrentItem(item)
        self._suppress = False

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def select(self, session_id: int) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == session_id:
                self._suppress = True
                self.list.setCurrentRow(i)
                self._suppress = False
                return

    def rename_current(self) -> None:
        sid = self.current_id()
        if sid is None or self.store is None:
            return
        old = self.store.session(sid).title
        title, ok = QInputDialog.getText(self, "Rename session", "New name:", text=old)
        if ok and title.strip():
            try:
                self.store.rename_session(sid, title)
            except (SessionStoreError, ValueError) as exc:
                self.failed.emit(str(exc))
            self.refresh()

    def delete_current(self, confirm: bool = True) -> None:
        sid = self.current_id()
        if sid is None or self.store is None:
            return
        title = self.store.session(sid).title
        if confirm:
            answer = QMessageBox.question(
                self, "Delete session", f"Delete “{title}” and all its turns and notes? This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            self.store.delete_session(sid)
        except SessionStoreError as exc:
            self.failed.emit(str(exc))
            return
        self.refresh()
        self.session_deleted.emit(sid)

    def _on_current(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None and not self._suppress:
            self.session_selected.emit(int(current.data(Qt.ItemDataRole.UserRole)))
