"""First-run screen: checks the microphone, the speakers and each model, and says what to fix.

The checks are plain functions returning `Check` rows (testable without a window); the dialog
runs them on a worker thread because listing audio devices can block on some systems.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.audio_devices import list_audio_devices
from app.workers import Task
from core.models.bundled import bundled_path, install_hint
from core.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


_MODEL_NAMES = {"llm": "Language model (SmolLM2-135M)", "asr": "Speech recognition (faster-whisper tiny.en)",
                "tts": "Voice (Piper en_US joe)", "vad": "Voice activity detection (Silero)"}


def run_checks(settings: Settings) -> list[Check]:
    checks = []
    inputs, err = list_audio_devices("input")
    checks.append(Check("Microphone", bool(inputs), inputs[0][0] if inputs else (err or "none found"),
                        "" if inputs else "Connect a microphone and pick it in Settings > Audio. "
                                          "You can type your messages meanwhile."))
    outputs, err = list_audio_devices("output")
    checks.append(Check("Speakers", bool(outputs), outputs[0][0] if outputs else (err or "none found"),
                        "" if outputs else "Connect speakers or headphones; replies are shown as text meanwhile."))
    custom = {"llm": settings.engine.llm_path, "asr": settings.asr.model_dir, "tts": settings.tts.voice_path}
    for kind, title in _MODEL_NAMES.items():
        path = custom.get(kind) or bundled_path(kind)
        if path is not None and path.exists():
            checks.append(Check(title, True, path.name))
        else:
            fix = (f"The file {custom[kind]} is missing: choose another in Settings."
                   if custom.get(kind) else f"Install it: {install_hint(kind)}")
            checks.append(Check(title, False, "not found", fix))
    if settings.engine.mmproj_path is not None:
        ok = settings.engine.mmproj_path.exists()
        checks.append(Check("Audio projector", ok, str(settings.engine.mmproj_path),
                            "" if ok else "Choose an existing projector GGUF in Settings > Model."))
    return checks


def render_checks(checks: list[Check]) -> str:
    rows = []
    for c in checks:
        mark = "<span style='color:#2e9d5b'>✔</span>" if c.ok else "<span style='color:#d9483b'>✘</span>"
        fix = f"<br><i>{c.fix}</i>" if c.fix else ""
        rows.append(f"<tr><td valign='top'>{mark}</td><td><b>{c.name}</b>: {c.detail}{fix}</td></tr>")
    return "<table cellpadding='4'>" + "".join(rows) + "</table>"


class FirstRunDialog(QDialog):
    """"Before we start": what works, what is missing and how to fix it."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to CogAudio Companion")
        self.setMinimumWidth(560)
        intro = QLabel("<h2>Before we start</h2><p>CogAudio listens to how you speak and answers out loud. "
                       "Everything runs on this computer; nothing you say leaves it.</p>")
        intro.setWordWrap(True)
        self.results = QLabel("Checking your microphone and models…")
        self.results.setWordWrap(True)
        self.results.setTextFormat(Qt.TextFormat.RichText)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start talking")
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        for w in (intro, self.results, self.summary):
            layout.addWidget(w)
        layout.addWidget(buttons)
        self.checks: list[Check] = []
        self.task = Task("first-run-checks", run_checks, settings, parent=self)
        self.task.result.connect(self._show)
        self.task.error.connect(lambda msg: self.results.setText(f"The checks failed: {msg}"))
        self.task.start()

    def _show(self, checks: list[Check]) -> None:
        self.checks = checks
        self.results.setText(render_checks(checks))
        problems = [c for c in checks if not c.ok]
        self.summary.setText("Everything is ready." if not problems else
                             f"{len(problems)} thing(s) to fix; the app still works for what is ready.")
        self.adjustSize()  # the results are taller than the "Checking…" line they replace

    def done(self, result: int) -> None:
        self.task.wait(5)
        super().done(result)
