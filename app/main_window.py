"""The main window: composes the sessions sidebar, the conversation, the therapist panel and the
dialogs, and routes the bridge's signals to them. It owns no audio, inference or storage logic.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.bridge import ConversationBridge, PipelineParts
from app.conversation_view import ConversationView, ReplyTurnWidget, UserTurnWidget
from app.crisis_panel import CrisisPanel
from app.dialogs import SHORTCUTS_HELP
from app.indicators import LevelMeter, MessageBar, StateIndicator
from app.session_actions import SessionActions
from app.sessions_sidebar import SessionsSidebar
from app.settings_dialog import SettingsDialog
from app.theme import apply_theme
from app.therapist_panel import TherapistPanel
from app.workers import TaskRunner
from core.engines.events import Perceived
from core.settings import Settings
from core.store.session_store import SessionStore, TurnRecord


class MainWindow(SessionActions, QMainWindow):
    """CogAudio's window. `parts` says where audio comes from and goes to (tests pass files)."""

    def __init__(self, settings: Settings, store: SessionStore | None, settings_path: Path | None = None,
                 parts: PipelineParts | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.settings_path = settings_path
        self.store = store
        self.session_id: int | None = None
        self.viewing_id: int | None = None  # the session shown; may be an older one from the sidebar
        self.therapist_mode = False
        self._closed = False
        self.runner = TaskRunner(self)
        self.setWindowTitle("CogAudio Companion")
        self.setMinimumSize(1024, 640)
        self.resize(1280, 800)

        self.bridge = ConversationBridge(settings, store, parts or PipelineParts(), parent=self)
        self._user_widgets: dict[int, UserTurnWidget] = {}
        self._reply_widgets: dict[int, ReplyTurnWidget] = {}
        self._build()
        self._wire_bridge()
        self._build_actions()
        QApplication.instance().installEventFilter(self)
        QApplication.instance().styleHints().colorSchemeChanged.connect(self._system_scheme_changed)

    def _system_scheme_changed(self, _scheme) -> None:
        if self.settings.theme == "system":  # follow the system while it changes, e.g. at sunset
            apply_theme(QApplication.instance(), "system", self.settings.font_scale)
            self.conversation.dark = bool(QApplication.instance().property("cogaudio_dark"))

    # -- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.sidebar = SessionsSidebar(self.store)
        self.state = StateIndicator()
        self.level_meter = LevelMeter()
        self.hands_free_button = QPushButton("Hands-free")
        self.hands_free_button.setCheckable(True)
        self.hands_free_button.setChecked(True)
        self.hands_free_button.setToolTip("On: speak any time. Off: hold Space to talk (Ctrl+H)")
        self.ptt_label = QLabel("")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop speaking and generating now (Esc)")
        self.stop_button.setObjectName("stopButton")
        self.model_label = QLabel("")
        self.model_label.setStyleSheet("color: palette(placeholder-text);")
        top = QHBoxLayout()
        top.addWidget(self.state)
        top.addSpacing(12)
        top.addWidget(QLabel("Mic"))
        top.addWidget(self.level_meter, 1)
        top.addSpacing(12)
        top.addWidget(self.hands_free_button)
        top.addWidget(self.ptt_label)
        top.addWidget(self.stop_button)

        self.message_bar = MessageBar()
        self.conversation = ConversationView()
        self.conversation.dark = bool(QApplication.instance().property("cogaudio_dark"))
        self.conversation.on_note = self._edit_turn_note
        self.crisis_panel = CrisisPanel()
        self.input = QLineEdit()
        self.input.setPlaceholderText("Type a message and press Enter (Ctrl+L)")
        self.input.setAccessibleName("Message")
        self.send_button = QPushButton("Send")
        bottom = QHBoxLayout()
        bottom.addWidget(self.input, 1)
        bottom.addWidget(self.send_button)

        center = QWidget()
        col = QVBoxLayout(center)
        col.setContentsMargins(10, 10, 10, 10)
        col.addLayout(top)
        col.addWidget(self.message_bar)
        col.addWidget(self.conversation, 1)
        col.addWidget(self.crisis_panel)
        col.addLayout(bottom)
        col.addWidget(self.model_label)

        self.therapist_panel = TherapistPanel()
        self.therapist_panel.hide()
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.therapist_panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 760, 290])
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

        self.sidebar.session_selected.connect(self.show_session)
        self.sidebar.session_deleted.connect(self._session_deleted)
        self.sidebar.new_requested.connect(self.new_session)
        self.sidebar.failed.connect(self.show_error)
        self.therapist_panel.note_changed.connect(self._save_session_note)
        self.therapist_panel.export_markdown.connect(lambda: self.export_session("md"))
        self.therapist_panel.export_pdf.connect(lambda: self.export_session("pdf"))
        self.therapist_panel.preview.connect(self.preview_export)
        self.send_button.clicked.connect(self.send_typed)
        self.input.returnPressed.connect(self.send_typed)
        self.stop_button.clicked.connect(self.stop)
        self.hands_free_button.toggled.connect(self.set_hands_free)

    def _update_placeholder(self, state: str) -> None:
        self.conversation.placeholder.setText(
            "Type a message below to start." if state == "idle" and not self.bridge.listening
            else "Say something, or type below. I'm listening.")

    def _wire_bridge(self) -> None:
        b = self.bridge
        b.state_changed.connect(self.state.set_state)
        b.state_changed.connect(self._update_placeholder)
        b.level.connect(self.level_meter.set_rms)
        b.user_turn.connect(self._on_user_turn)
        b.perceived.connect(self._on_perceived)
        b.reasoning.connect(self._on_reasoning)
        b.reply_delta.connect(self._on_delta)
        b.safety.connect(self._on_safety)
        b.interrupted.connect(self._on_interrupted)
        b.turn_complete.connect(self._on_turn_complete)
        b.error.connect(self.show_error)
        b.ready.connect(lambda engine, model: self.model_label.setText(f"Engine: {engine} · model: {model}"))

    def _build_actions(self) -> None:
        bar = self.menuBar()

        def act(menu, text: str, keys, slot, checkable: bool = False) -> QAction:
            a = QAction(text, self)
            if keys:
                a.setShortcuts([QKeySequence(k) for k in (keys if isinstance(keys, list) else [keys])])
            a.setCheckable(checkable)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            (a.toggled if checkable else a.triggered).connect(slot)
            menu.addAction(a)
            self.addAction(a)
            return a

        f = bar.addMenu("&Session")
        act(f, "&New session", "Ctrl+N", self.new_session)
        act(f, "&Search sessions", "Ctrl+F", lambda: self.sidebar.search.setFocus())
        act(f, "&Rename session", "F2", self.sidebar.rename_current)
        act(f, "&Delete session", "Delete", lambda: self.sidebar.delete_current())
        f.addSeparator()
        act(f, "Session &note", "Ctrl+Shift+N", self._focus_note)
        act(f, "&Export Markdown…", "Ctrl+E", lambda: self.export_session("md"))
        act(f, "Export &PDF…", "Ctrl+Shift+E", lambda: self.export_session("pdf"))
        act(f, "Export pre&view", "Ctrl+Shift+P", self.preview_export)
        act(f, "Protect history with a &passphrase…", "Ctrl+Shift+L", self.change_passphrase)
        f.addSeparator()
        act(f, "&Quit", "Ctrl+Q", self.close)
        c = bar.addMenu("&Conversation")
        act(c, "&Stop", "Esc", self.stop)
        self.hands_free_action = act(c, "&Hands-free", "Ctrl+H", self.hands_free_button.setChecked, checkable=True)
        self.hands_free_action.setChecked(True)
        self.hands_free_button.toggled.connect(self.hands_free_action.setChecked)
        act(c, "&Type a message", "Ctrl+L", lambda: self.input.setFocus())
        self.therapist_action = act(c, "&Therapist mode", "Ctrl+T", self.set_therapist_mode, checkable=True)
        v = bar.addMenu("&View")
        act(v, "&Larger text", ["Ctrl++", "Ctrl+="], lambda: self.scale_font(0.1))
        act(v, "&Smaller text", "Ctrl+-", lambda: self.scale_font(-0.1))
        act(v, "&Normal text", "Ctrl+0", lambda: self.scale_font(None))
        t = bar.addMenu("&Tools")
        act(t, "&Settings…", "Ctrl+,", self.open_settings)
        act(t, "&Models…", "Ctrl+M", self.open_models)
        act(t, "&Check microphone and models…", "Ctrl+Shift+D", self.open_first_run)
        h = bar.addMenu("&Help")
        act(h, "&Keyboard shortcuts", "F1", self.show_shortcuts)

    # -- conversation ------------------------------------------------------------------------

    def start(self) -> None:
        """Open (or create) the live session and start listening; models load on a worker thread."""
        if self.session_id is None:
            self.session_id = self._create_session(consent=self.therapist_mode)
        self.viewing_id = self.session_id
        self.bridge.start(self.session_id)
        self.sidebar.refresh()
        if self.session_id is not None:
            self.sidebar.select(self.session_id)

    def send_typed(self) -> None:
        text = self.input.text().strip()
        if not text:
            return
        if self.viewing_id != self.session_id:
            self.show_session(self.session_id) if self.session_id is not None else None
        self.input.clear()
        self.bridge.send_text(text)

    def stop(self) -> None:
        self.bridge.stop()

    def set_hands_free(self, on: bool) -> None:
        self.bridge.set_hands_free(on)
        self.ptt_label.setText("" if on else "Hold Space to talk")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        """Push-to-talk: holding Space (outside text fields) opens the microphone."""
        if (event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
                and event.key() == Qt.Key.Key_Space and not self.hands_free_button.isChecked()
                and self.isActiveWindow() and not isinstance(QApplication.focusWidget(), QLineEdit | QPlainTextEdit)):
            if not event.isAutoRepeat():
                self.bridge.set_talking(event.type() == QEvent.Type.KeyPress)
                self.ptt_label.setText("Talking…" if event.type() == QEvent.Type.KeyPress else "Hold Space to talk")
            return True
        return super().eventFilter(obj, event)

    def _live(self) -> bool:
        return self.viewing_id == self.session_id

    def _on_user_turn(self, turn: int, text: str) -> None:
        if not self._live():
            self.show_session(self.session_id)
        self._user_widgets[turn] = self.conversation.add_user(text or "…")
        self._user_widgets[turn].correction_requested.connect(
            lambda label, w=self._user_widgets[turn]: self.correct_emotion(w, label))
        self._reply_widgets[turn] = self.conversation.add_reply()
        self._reply_widgets[turn].set_status("thinking…")

    def _on_perceived(self, turn: int, p: Perceived) -> None:
        user = self._user_widgets.get(turn)
        if user is None:
            return
        if p.transcript:
            user.set_text(p.transcript)
        user.set_emotion(p.label, p.intensity, p.confidence, p.cues)

    def _on_reasoning(self, turn: int, step: str, text: str) -> None:
        if turn in self._reply_widgets:
            self._reply_widgets[turn].add_step(step, text)

    def _on_delta(self, turn: int, text: str) -> None:
        if turn in self._reply_widgets:
            self._reply_widgets[turn].append(text)
            self._reply_widgets[turn].set_status("")

    def _on_safety(self, turn: int, text: str) -> None:
        if turn in self._reply_widgets:
            self._reply_widgets[turn].set_reply(text)
        self.crisis_panel.show_resources(self.settings.safety)

    def _on_interrupted(self, turn: int, reason: str) -> None:
        if reason == "retracted":  # core started early, then the person went on speaking: not a turn
            for widgets in (self._user_widgets, self._reply_widgets):
                if turn in widgets:
                    self.conversation.remove(widgets.pop(turn))
            return
        if turn in self._reply_widgets:
            self._reply_widgets[turn].set_status("interrupted" if reason == "barge-in" else "stopped")

    def _on_turn_complete(self, turn: int, record: TurnRecord, turn_id: int) -> None:
        user = self._user_widgets.get(turn)
        if user is not None:
            user.turn_id = turn_id if turn_id >= 0 else None
            user.set_mismatch(record.words_vs_voice)
            if user.pending_correction:  # picked while the turn was still running
                self.correct_emotion(user, user.pending_correction)
        reply = self._reply_widgets.get(turn)
        if reply is not None:
            reply.set_reply(record.reply)
            reply.turn_id = turn_id if turn_id >= 0 else None
            if record.interrupted:
                reply.set_status("interrupted")
            if record.eips and not reply.steps:
                for step, text in record.eips.items():
                    reply.add_step(step, text)
        if record.safety_triggered and not self.crisis_panel.isVisible():
            self.crisis_panel.show_resources(self.settings.safety)
        self.sidebar.refresh()
        self._refresh_therapist()

    # -- tools -------------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        from app.model_manager import installed_models

        engine = self.bridge.engine  # the engine in use shows what it really runs with
        dialog = SettingsDialog(self.settings, self.settings_path, lambda: installed_models(self.settings),
                                parent=self, engine_options=engine.options if engine is not None else None)
        dialog.saved.connect(self.apply_settings)
        dialog.voice_forgotten.connect(self.forget_voice)
        dialog.open()
        return dialog

    def forget_voice(self) -> None:
        ear = getattr(self.bridge.engine, "ear", None)  # test engines have no ear
        if ear is not None:
            ear.reset()
        self.show_notice("Your voice statistics were deleted; the companion starts learning your voice afresh.")

    def apply_settings(self, settings: Settings) -> None:
        old = self.settings
        self.settings = settings
        apply_theme(QApplication.instance(), settings.theme, settings.font_scale)
        self.conversation.dark = bool(QApplication.instance().property("cogaudio_dark"))
        if old.resolved_data_dir() != settings.resolved_data_dir():
            self.show_notice(f"Sessions and models will be kept in {settings.resolved_data_dir()} "
                             "from the next start; this session stays where it is.")
        if (old.engine, old.asr, old.tts, old.vad, old.audio) != (settings.engine, settings.asr, settings.tts,
                                                                 settings.vad, settings.audio):
            self.show_notice("Settings saved. Reloading the conversation with the new settings…")
            self.bridge.restart(settings)
        else:
            self.bridge.settings = settings
            if old.ear != settings.ear and self.bridge.engine is not None and hasattr(self.bridge.engine, "ear"):
                from core.engines.factory import attach_ear

                attach_ear(self.bridge.engine, settings)  # the ear is a small file: no model reload
            self.show_notice("Settings saved.")

    def open_models(self):
        from app.model_manager import ModelManagerDialog

        dialog = ModelManagerDialog(self.settings, parent=self)
        dialog.open()
        return dialog

    def open_first_run(self):
        from app.first_run import FirstRunDialog

        dialog = FirstRunDialog(self.settings, parent=self)
        dialog.open()
        return dialog

    def show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", SHORTCUTS_HELP)

    def scale_font(self, delta: float | None) -> None:
        scale = 1.0 if delta is None else min(2.0, max(0.75, round(self.settings.font_scale + delta, 2)))
        self.settings = self.settings.model_copy(update={"font_scale": scale})
        apply_theme(QApplication.instance(), self.settings.theme, scale)
        try:
            from core.settings import save_settings

            save_settings(self.settings, self.settings_path)
        except OSError as exc:
            self.show_error(f"Could not save the text size: {exc}")

    def show_error(self, message: str) -> None:
        self.message_bar.show_message(message, error=True)
        self.statusBar().showMessage(message, 10000)

    def show_notice(self, message: str) -> None:
        self.message_bar.show_message(message, error=False)
        self.statusBar().showMessage(message, 6000)

    def closeEvent(self, event) -> None:  # noqa: N802
        if self._closed:
            super().closeEvent(event)
            return
        self._closed = True
        QApplication.instance().removeEventFilter(self)
        self.therapist_panel.flush_note()
        self.bridge.shutdown()
        self.runner.shutdown()
        self._drop_if_empty(self.session_id)
        super().closeEvent(event)

