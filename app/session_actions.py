"""The main window's session side: the live session, the history shown, therapist mode with its
consent step and notes, export, and the store's passphrase.

A mixin of MainWindow (it uses the window's widgets and store); kept apart so that the window
module holds the layout and the conversation, and this one what is recorded about it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit

from app.conversation_view import ReplyTurnWidget
from app.dialogs import ConsentDialog, ExportPreview
from app.export import session_markdown, write_markdown, write_pdf
from core.store.session_store import SessionInfo, SessionStoreError


class SessionActions:
    """Session, therapist-mode and export actions of the main window."""

    def _create_session(self, consent: bool, title: str | None = None) -> int | None:
        if self.store is None:
            return None
        try:
            return self.store.new_session(title, consent=consent)
        except SessionStoreError as exc:
            self.show_error(str(exc))
            return None

    def new_session(self) -> None:
        consent = False
        if self.therapist_mode:
            dialog = ConsentDialog(self)
            if dialog.exec() != ConsentDialog.DialogCode.Accepted:
                self.show_notice("No new session: consent is needed before a recorded session starts.")
                return
            consent = True
        self.bridge.stop()
        self._drop_if_empty(self.session_id)
        self.session_id = self._create_session(consent)
        self.bridge.set_session(self.session_id)
        self.crisis_panel.hide()
        self._show_live_view()

    def _show_live_view(self) -> None:
        """An empty conversation view on the live session, selected in the sidebar."""
        self.viewing_id = self.session_id
        self.conversation.clear()
        self._user_widgets.clear()  # their widgets went with the view
        self._reply_widgets.clear()
        self.sidebar.refresh()
        if self.session_id is not None:
            self.sidebar.select(self.session_id)
        self._refresh_therapist()

    # -- sessions ----------------------------------------------------------------------------

    def show_session(self, session_id: int | None) -> None:
        """Show a stored session's turns (the live one keeps recording in the background)."""
        if self.store is None or session_id is None:
            return
        try:
            turns = self.store.turns(session_id)
        except (SessionStoreError, KeyError) as exc:
            self.show_error(str(exc))
            return
        self.viewing_id = session_id
        self.conversation.clear()
        self._user_widgets.clear()
        self._reply_widgets.clear()
        for t in turns:
            user = self.conversation.add_user(t.said or "(no transcript)")
            user.turn_id = t.id
            if t.label:
                user.set_emotion(t.label, t.intensity, t.confidence, t.cues)
                user.set_correction(t.corrected_label)
            user.set_mismatch(t.words_vs_voice)
            user.correction_requested.connect(lambda label, w=user: self.correct_emotion(w, label))
            reply = self.conversation.add_reply()
            reply.set_reply(t.reply)
            reply.turn_id = t.id
            reply.set_note(t.note)
            for step, text in (t.eips or {}).items():
                reply.add_step(step, text)
            if t.interrupted:
                reply.set_status("interrupted")
        self.sidebar.select(session_id)
        self._refresh_therapist()

    def _session_deleted(self, session_id: int) -> None:
        if session_id == self.session_id:
            self.session_id = self._create_session(consent=self.therapist_mode)
            self.bridge.set_session(self.session_id)
        self._show_live_view()

    def _drop_if_empty(self, session_id: int | None) -> None:
        if self.store is None or session_id is None:
            return
        try:
            info = self.store.session(session_id)
            if info.turn_count == 0 and not info.note:
                self.store.delete_session(session_id)
        except (KeyError, SessionStoreError):
            pass

    def set_therapist_mode(self, on: bool) -> None:
        if on == self.therapist_mode:
            return
        if on:
            info = self._viewed_info()
            if info is None or not info.consent:
                if ConsentDialog(self).exec() != ConsentDialog.DialogCode.Accepted:
                    self.therapist_action.setChecked(False)
                    self.show_notice("Therapist mode needs consent before a recorded session starts.")
                    return
                self.therapist_mode = True
                if info is not None and info.turn_count == 0 and self.store is not None:
                    self.store.set_consent(info.id, True)  # the empty live session becomes the recorded one
                else:
                    self._start_fresh(consent=True)
        self.therapist_mode = on
        self.therapist_panel.setVisible(on)
        if on:  # give the panel room for its chart and buttons, take it from the conversation
            side = max(self.therapist_panel.sizeHint().width(), 320)
            self.splitter.setSizes([220, max(400, self.width() - 220 - side), side])
        self.conversation.set_therapist_mode(on)
        self.sidebar.refresh()
        self._refresh_therapist()

    def _start_fresh(self, consent: bool) -> None:
        self.bridge.stop()
        self._drop_if_empty(self.session_id)
        self.session_id = self._create_session(consent)
        self.bridge.set_session(self.session_id)
        self.show_session(self.session_id)

    def _viewed_info(self) -> SessionInfo | None:
        if self.store is None or self.viewing_id is None:
            return None
        try:
            return self.store.session(self.viewing_id)
        except KeyError:
            return None

    def _refresh_therapist(self) -> None:
        info = self._viewed_info()
        if info is None or self.store is None:
            return
        self.therapist_panel.show_session(info.title, info.consent, info.note, self.store.turns(info.id))

    def _save_session_note(self, text: str) -> None:
        if self.store is None or self.viewing_id is None:
            return
        try:
            self.store.set_session_note(self.viewing_id, text)
        except (SessionStoreError, KeyError) as exc:
            self.show_error(str(exc))

    def _edit_turn_note(self, reply: ReplyTurnWidget) -> None:
        if self.store is None or reply.turn_id is None:
            self.show_notice("This turn is not saved yet; add the note when it has finished.")
            return
        current = reply.note_label.text().removeprefix("Note: ")
        note, ok = QInputDialog.getMultiLineText(self, "Note on this turn", "Note:", current)
        if ok:
            self.set_turn_note(reply, note)

    def correct_emotion(self, user, label: str) -> None:
        """The person says they felt `label`: kept in the session record (and its export) beside what was heard."""
        user.set_correction(label)
        if user.turn_id is None:
            user.pending_correction = label  # stored when the turn completes
            return
        user.pending_correction = None
        if self.store is not None:
            try:
                self.store.set_turn_correction(user.turn_id, label)
            except (SessionStoreError, KeyError, ValueError) as exc:
                self.show_error(f"The correction was not saved: {exc}")
                return
        self._refresh_therapist()

    def set_turn_note(self, reply: ReplyTurnWidget, note: str) -> None:
        try:
            self.store.set_turn_note(reply.turn_id, note.strip() or None)
            reply.set_note(note.strip() or None)
        except (SessionStoreError, KeyError) as exc:
            self.show_error(str(exc))

    def _focus_note(self) -> None:
        if not self.therapist_mode:
            self.therapist_action.setChecked(True)
        if self.therapist_mode:
            self.therapist_panel.note.setFocus()

    # -- export ------------------------------------------------------------------------------

    def session_export_markdown(self, session_id: int | None = None) -> str | None:
        sid = session_id if session_id is not None else self.viewing_id
        if self.store is None or sid is None:
            self.show_notice("There is no session to export.")
            return None
        self.therapist_panel.flush_note()
        return session_markdown(self.store.session(sid), self.store.turns(sid))

    def export_session(self, kind: str, path: Path | None = None) -> Path | None:
        markdown = self.session_export_markdown()
        if markdown is None:
            return None
        if path is None:
            suffix = "Markdown (*.md)" if kind == "md" else "PDF (*.pdf)"
            name, _ = QFileDialog.getSaveFileName(self, "Export session", f"session.{kind}", suffix)
            if not name:
                return None
            path = Path(name)
        try:
            out = write_markdown(path, markdown) if kind == "md" else write_pdf(path, markdown)
        except OSError as exc:
            self.show_error(f"Export failed: {exc}")
            return None
        self.show_notice(f"Exported to {out}")
        return out

    def preview_export(self) -> ExportPreview | None:
        markdown = self.session_export_markdown()
        if markdown is None:
            return None
        dialog = ExportPreview(markdown, self)
        dialog.show()
        return dialog

    def change_passphrase(self) -> None:
        """Encrypt the session history (or change / remove its passphrase); asks twice."""
        if self.store is None:
            self.show_error("The session history is not open, so it cannot be encrypted.")
            return
        first, ok = QInputDialog.getText(self, "Protect history", "New passphrase (empty = no encryption):",
                                         QLineEdit.EchoMode.Password)
        if not ok:
            return
        second, ok = QInputDialog.getText(self, "Protect history", "The same passphrase again:",
                                          QLineEdit.EchoMode.Password)
        if not ok:
            return
        self.set_passphrase(first, second)

    def set_passphrase(self, first: str, second: str) -> bool:
        if first != second:
            self.show_error("The two passphrases differ; nothing was changed.")
            return False
        try:
            self.store.set_passphrase(first or None)
        except SessionStoreError as exc:
            self.show_error(str(exc))
            return False
        self.show_notice("Session history encrypted. You will be asked for the passphrase when CogAudio starts."
                         if first else "Session history is no longer encrypted.")
        return True
