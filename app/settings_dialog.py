"""Settings dialog: edits a copy of core.settings.Settings, validates it, and only then saves.

Invalid values are refused with a message naming the field (pydantic's validation plus the
checks only the GUI can make, such as "this model file does not exist"); nothing is silently
replaced. Saving goes through core.settings.save_settings (platformdirs, schema version).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.audio_devices import LevelProbe, list_audio_devices
from app.crisis_panel import region_names
from app.indicators import LevelMeter
from app.turn_settings_box import TurnSettingsBox
from app.voice_profile_box import VoiceProfileBox
from core.emotion.eips import DEFAULT_PERSONA
from core.engines.options import EngineOptions, expected_reasoning
from core.settings import Settings, SettingsError, _explain, save_settings

# (display name, llm path, projector path) of models the registry has downloaded.
InstalledModels = Callable[[], list[tuple[str, Path, Path | None]]]

# Under the reasoning box: where its value comes from (core.engines.options.Source).
_REASONING_SOURCE = {
    "settings": "Your choice.",
    "manifest": "As the audio model was trained (its manifest); tick or untick to choose yourself.",
    "default": "Off by default: replies start sooner.",
}


class SettingsDialog(QDialog):
    """Tabs: Audio, Model, Voice, Listening, Persona, Data & appearance."""

    saved = Signal(object)  # the new Settings
    voice_forgotten = Signal()  # the voice baseline was deleted: the running ear should start afresh

    def __init__(self, settings: Settings, settings_path: Path | None = None,
                 installed_models: InstalledModels | None = None, parent: QWidget | None = None,
                 engine_options: EngineOptions | None = None) -> None:
        super().__init__(parent)
        # the reasoning box shows what the engine runs with (precedence: core.engines.options)
        self.reasoning_effective, self.reasoning_source = (
            (engine_options.explicit_reasoning, engine_options.reasoning_source) if engine_options is not None
            else expected_reasoning(settings))
        self.setWindowTitle("Settings")
        self.setMinimumSize(560, 460)
        self.original = settings
        self.settings_path = settings_path
        self.result_settings: Settings | None = None
        self._installed = installed_models or (lambda: [])
        self.tabs = QTabWidget()
        self.tabs.addTab(self._audio_tab(settings), "Audio")
        self.tabs.addTab(self._model_tab(settings), "Model")
        self.tabs.addTab(self._voice_tab(settings), "Voice")
        self.tabs.addTab(self._listening_tab(settings), "Listening")
        self.tabs.addTab(self._persona_tab(settings), "Persona")
        self.tabs.addTab(self._data_tab(settings), "Data && appearance")
        self.error_label = QLabel("")
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color:#d9483b; font-weight:600;")
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    # -- tabs --------------------------------------------------------------------------------

    def _audio_tab(self, s: Settings) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.input_combo, in_err = self._device_combo("input", s.audio.input_device)
        self.output_combo, out_err = self._device_combo("output", s.audio.output_device)
        form.addRow("Microphone:", self.input_combo)
        form.addRow("Speaker:", self.output_combo)
        self.level_meter = LevelMeter()
        self.test_button = QPushButton("Test microphone")
        self.test_button.setCheckable(True)
        self.probe = LevelProbe(self)
        self.probe.level.connect(self.level_meter.set_rms)
        self.test_button.toggled.connect(self._toggle_test)
        self.probe.failed.connect(self._probe_failed)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.level_meter, 1)
        form.addRow("Level:", row)
        self.device_note = QLabel(in_err or out_err or "")
        self.device_note.setWordWrap(True)
        form.addRow(self.device_note)
        return w

    def _device_combo(self, kind: str, current: str | int | None) -> tuple[QComboBox, str | None]:
        combo = QComboBox()
        combo.addItem("System default", None)
        devices, err = list_audio_devices(kind)
        for name, index in devices:
            combo.addItem(f"{index}: {name}", index)
        if current is not None:
            i = combo.findData(current)
            if i < 0:
                combo.addItem(f"{current} (not connected)", current)
                i = combo.count() - 1
            combo.setCurrentIndex(i)
        return combo, err

    def _model_tab(self, s: Settings) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.engine_combo = QComboBox()
        for kind, text in (("auto", "Automatic (audio model if installed)"), ("cascade", "Cascade (speech-to-text + LLM)"),
                           ("audio-llm", "Audio language model")):
            self.engine_combo.addItem(text, kind)
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(s.engine.kind))
        form.addRow("Engine:", self.engine_combo)
        self.source_combo = QComboBox()
        self.source_combo.addItem("Bundled default (SmolLM2-135M)", ("bundled", None, None))
        for name, llm, proj in self._installed():
            self.source_combo.addItem(f"Downloaded: {name}", ("downloaded", str(llm), str(proj) if proj else None))
        self.source_combo.addItem("Local GGUF files…", ("local", None, None))
        form.addRow("Model:", self.source_combo)
        self.llm_edit = self._path_row(form, "Language model (GGUF):", s.engine.llm_path, "GGUF files (*.gguf)")
        self.mmproj_edit = self._path_row(form, "Audio projector (GGUF):", s.engine.mmproj_path, "GGUF files (*.gguf)")
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        if s.engine.llm_path is None and s.engine.mmproj_path is None:
            self.source_combo.setCurrentIndex(0)
        else:
            idx = next((i for i in range(self.source_combo.count())
                        if self.source_combo.itemData(i)[1] == str(s.engine.llm_path)), self.source_combo.count() - 1)
            self.source_combo.setCurrentIndex(idx)
        self._source_changed()
        self.gpu_combo = QComboBox()
        self.gpu_combo.addItem("Automatic (use the GPU when there is one)", "auto")
        self.gpu_combo.addItem("CPU only", "cpu")
        self.gpu_combo.setCurrentIndex(self.gpu_combo.findData(s.engine.gpu_offload))
        form.addRow("GPU offload:", self.gpu_combo)
        self.reasoning_check = QCheckBox("Reason in four EIPS steps before replying (shows the reasoning; ~1 s slower)")
        self.reasoning_check.setChecked(self.reasoning_effective)
        form.addRow(self.reasoning_check)
        self.reasoning_note = QLabel(_REASONING_SOURCE[self.reasoning_source])
        self.reasoning_note.setObjectName("reasoningSource")
        self.reasoning_note.setWordWrap(True)
        form.addRow(self.reasoning_note)
        return w

    def _path_row(self, form: QFormLayout, label: str, value: Path | None, pattern: str,
                  directory: bool = False) -> QLineEdit:
        edit = QLineEdit(str(value) if value else "")
        browse = QPushButton("Browse…")

        def pick() -> None:
            path = (QFileDialog.getExistingDirectory(self, label) if directory
                    else QFileDialog.getOpenFileName(self, label, edit.text(), pattern)[0])
            if path:
                edit.setText(path)

        browse.clicked.connect(pick)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(browse)
        form.addRow(label, row)
        edit.browse_button = browse  # type: ignore[attr-defined]
        return edit

    def _source_changed(self) -> None:
        kind, llm, proj = self.source_combo.currentData()
        local = kind == "local"
        for edit in (self.llm_edit, self.mmproj_edit):
            edit.setEnabled(local)
            edit.browse_button.setEnabled(local)
        if kind == "bundled":
            self.llm_edit.setText("")
            self.mmproj_edit.setText("")
            self.llm_edit.setPlaceholderText("bundled SmolLM2-135M-Instruct")
            self.mmproj_edit.setPlaceholderText("embedded default projector")
        elif kind == "downloaded":
            self.llm_edit.setText(llm or "")
            self.mmproj_edit.setText(proj or "")

    def _voice_tab(self, s: Settings) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.voice_edit = self._path_row(form, "Piper voice (.onnx):", s.tts.voice_path, "Piper voices (*.onnx)")
        self.voice_edit.setPlaceholderText("bundled en_US joe (medium)")
        self.rate_spin = QDoubleSpinBox()
        self.rate_spin.setRange(0.5, 2.0)
        self.rate_spin.setSingleStep(0.05)
        self.rate_spin.setValue(s.tts.speaking_rate)
        self.rate_spin.setSuffix(" ×")
        form.addRow("Speaking rate:", self.rate_spin)
        return w

    def _listening_tab(self, s: Settings) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.vad_spin = QDoubleSpinBox()
        self.vad_spin.setRange(0.05, 0.95)
        self.vad_spin.setSingleStep(0.05)
        self.vad_spin.setValue(s.vad.threshold)
        self.vad_spin.setToolTip("Speech probability that counts as speech: lower hears quieter voices, "
                                 "higher ignores more background noise")
        form.addRow("Speech threshold (lower = more sensitive):", self.vad_spin)
        self.turn_box = TurnSettingsBox(s)  # when to answer, how patiently, what to let pass (turn.*)
        self.silence_spin = self.turn_box.silence_spin
        form.addRow(self.turn_box)
        # the ear: heard against the person's own voice (core.ear); a calm sentence is enrolled through
        # the ear in use, which the main window's bridge holds
        self.voice_box = VoiceProfileBox(s, lambda: getattr(getattr(self.parent(), "bridge", None), "engine", None))
        self.voice_box.forgotten.connect(self.voice_forgotten)
        form.addRow(self.voice_box)
        return w

    def _persona_tab(self, s: Settings) -> QWidget:
        w = QWidget()
        layout = QVBoxLayout(w)
        layout.addWidget(QLabel("How the companion should be (its system prompt). Leave empty for the default."))
        self.persona_edit = QPlainTextEdit(s.engine.persona or "")
        self.persona_edit.setPlaceholderText(DEFAULT_PERSONA)
        layout.addWidget(self.persona_edit, 1)
        return w

    def _data_tab(self, s: Settings) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.data_edit = self._path_row(form, "Data folder:", s.data_dir, "", directory=True)
        self.data_edit.setPlaceholderText(str(s.resolved_data_dir()))
        self.region_combo = QComboBox()
        for key, name in sorted(region_names().items(), key=lambda kv: kv[0] != "international"):
            self.region_combo.addItem(name, key)
        i = self.region_combo.findData(s.safety.region)
        if i < 0:
            self.region_combo.addItem(s.safety.region, s.safety.region)
            i = self.region_combo.count() - 1
        self.region_combo.setCurrentIndex(i)
        form.addRow("Help resources for:", self.region_combo)
        self.theme_combo = QComboBox()
        for key, text in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme_combo.addItem(text, key)
        self.theme_combo.setCurrentIndex(self.theme_combo.findData(s.theme))
        form.addRow("Theme:", self.theme_combo)
        self.font_spin = QDoubleSpinBox()
        self.font_spin.setRange(0.5, 3.0)  # wider than allowed on purpose: the model refuses, with a message
        self.font_spin.setSingleStep(0.1)
        self.font_spin.setValue(s.font_scale)
        self.font_spin.setSuffix(" ×")
        form.addRow("Text size:", self.font_spin)
        return w

    # -- validation and saving ---------------------------------------------------------------

    def _path_or_none(self, edit: QLineEdit) -> str | None:
        text = edit.text().strip()
        return os.path.expanduser(text) if text else None

    def collect(self) -> Settings:
        """The settings as edited; raises SettingsError naming the first problem."""
        data = self.original.model_dump(mode="json")
        data["audio"].update(input_device=self.input_combo.currentData(), output_device=self.output_combo.currentData())
        data["engine"].update(kind=self.engine_combo.currentData(), gpu_offload=self.gpu_combo.currentData(),
                              llm_path=self._path_or_none(self.llm_edit), mmproj_path=self._path_or_none(self.mmproj_edit),
                              explicit_reasoning=self._reasoning_setting(),
                              persona=self.persona_edit.toPlainText().strip() or None)
        data["tts"].update(voice_path=self._path_or_none(self.voice_edit), speaking_rate=round(self.rate_spin.value(), 2))
        data["vad"].update(threshold=round(self.vad_spin.value(), 2), min_silence_ms=self.silence_spin.value())
        data["safety"].update(region=self.region_combo.currentData())
        data["ear"] = self.voice_box.values(self.original.ear)
        data["turn"] = self.turn_box.values(self.original.turn)
        data.update(data_dir=self._path_or_none(self.data_edit), theme=self.theme_combo.currentData(),
                    font_scale=round(self.font_spin.value(), 2))
        try:
            settings = Settings.model_validate(data)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from exc
        self._check_files(settings)
        return settings

    def _reasoning_setting(self) -> bool | None:
        """The box as a setting: left as it was shown and never set, it stays unset (so the
        model's manifest keeps deciding); otherwise the user's choice is stored."""
        checked = self.reasoning_check.isChecked()
        if self.original.engine.explicit_reasoning is None and checked == self.reasoning_effective:
            return None
        return checked

    def _check_files(self, s: Settings) -> None:
        kind = self.source_combo.currentData()[0]
        if kind == "local" and s.engine.llm_path is None:
            raise SettingsError("Model: choose the language model GGUF file, or pick the bundled default.")
        for label, path, suffix in (("language model", s.engine.llm_path, ".gguf"),
                                    ("audio projector", s.engine.mmproj_path, ".gguf"),
                                    ("voice", s.tts.voice_path, ".onnx")):
            if path is None:
                continue
            if not path.is_file():
                raise SettingsError(f"The {label} file {path} does not exist. Choose an existing file.")
            if path.suffix.lower() != suffix:
                raise SettingsError(f"The {label} must be a {suffix} file, not {path.name}.")
        if s.data_dir is not None:
            if s.data_dir.exists() and not s.data_dir.is_dir():
                raise SettingsError(f"Data folder {s.data_dir} is a file; choose a folder.")
            probe = s.data_dir if s.data_dir.exists() else s.data_dir.parent
            if not os.access(probe, os.W_OK):
                raise SettingsError(f"Data folder {s.data_dir} is not writable; choose a folder you can write to.")

    def apply(self) -> bool:
        """Validate and save; on a problem show it and keep the dialog open."""
        try:
            settings = self.collect()
            save_settings(settings, self.settings_path)
        except (SettingsError, OSError) as exc:
            self.error_label.setText(f"Not saved: {exc}")
            self.error_label.show()
            return False
        self.result_settings = settings
        self.error_label.hide()
        self.saved.emit(settings)
        self.accept()
        return True

    def _toggle_test(self, on: bool) -> None:
        if on:
            self.device_note.setText("Speak: the bar should move.")
            self.probe.start(self.input_combo.currentData())
        else:
            self.probe.stop()

    def _probe_failed(self, message: str) -> None:
        self.device_note.setText(message)
        self.test_button.setChecked(False)

    def done(self, result: int) -> None:  # closing by any route stops the level test
        self.probe.stop()
        super().done(result)

