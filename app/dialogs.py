"""Small dialogs: recording consent, the store passphrase, the keyboard-shortcut list, export preview."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

CONSENT_TEXT = (
    "<p><b>This session will be recorded on this computer.</b></p>"
    "<p>For each turn CogAudio stores what was said (the transcript or typed text), the emotion it "
    "perceived in the voice, the reasoning behind each reply, the reply itself and any notes. "
    "No audio and nothing else leaves this computer. The record can be exported or deleted at any "
    "time from the sessions list.</p>"
    "<p>Emotions are machine estimates and can be wrong; they are not a diagnosis.</p>"
)


class ConsentDialog(QDialog):
    """The step before a recorded (therapist-mode) session starts: both people agree, explicitly."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Consent to record this session")
        text = QLabel(CONSENT_TEXT)
        text.setWordWrap(True)
        self.agree = QCheckBox("The person I am working with has been told this and agrees to the recording")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start recorded session")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.agree.toggled.connect(self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.agree)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)


class PassphraseDialog(QDialog):
    """Asks for the session store's passphrase; shows why the last try failed."""

    def __init__(self, message: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock your sessions")
        intro = QLabel("Your session history is encrypted. Enter its passphrase to open it.")
        intro.setWordWrap(True)
        self.error = QLabel(message)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#d9483b;")
        self.error.setVisible(bool(message))
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setPlaceholderText("Passphrase")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Continue without history")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (intro, self.error, self.edit, buttons):
            layout.addWidget(w)

    def passphrase(self) -> str:
        return self.edit.text()


SHORTCUTS_HELP = """
<table cellpadding='3'>
<tr><td><b>Space (hold)</b></td><td>Push to talk (when hands-free is off)</td></tr>
<tr><td><b>Ctrl+H</b></td><td>Hands-free on/off</td></tr>
<tr><td><b>Esc</b></td><td>Stop speaking and generating</td></tr>
<tr><td><b>Ctrl+L</b></td><td>Type a message</td></tr>
<tr><td><b>Enter</b></td><td>Send the typed message</td></tr>
<tr><td><b>Ctrl+N</b></td><td>New session</td></tr>
<tr><td><b>Ctrl+F</b></td><td>Search sessions</td></tr>
<tr><td><b>F2 / Delete</b></td><td>Rename / delete the selected session</td></tr>
<tr><td><b>Ctrl+T</b></td><td>Therapist mode</td></tr>
<tr><td><b>Ctrl+Shift+N</b></td><td>Session note</td></tr>
<tr><td><b>Ctrl+E / Ctrl+Shift+E</b></td><td>Export Markdown / PDF</td></tr>
<tr><td><b>Ctrl+Shift+P</b></td><td>Export preview</td></tr>
<tr><td><b>Ctrl+Shift+L</b></td><td>Protect history with a passphrase</td></tr>
<tr><td><b>Ctrl+, / Ctrl+M</b></td><td>Settings / Models</td></tr>
<tr><td><b>Ctrl+Shift+D</b></td><td>Check microphone and models</td></tr>
<tr><td><b>Ctrl++ / Ctrl+- / Ctrl+0</b></td><td>Larger / smaller / normal text</td></tr>
<tr><td><b>F1</b></td><td>This list</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>Quit</td></tr>
</table>
"""


class ExportPreview(QDialog):
    """Shows a session export rendered from its Markdown, as the PDF will lay it out."""

    def __init__(self, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export preview")
        self.browser = QTextBrowser()
        self.browser.setMarkdown(markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(720, 640)
