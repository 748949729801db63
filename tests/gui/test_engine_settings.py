"""The Settings dialog shows the reasoning value the engine really runs with, the choice reaches
every engine, and a change of listening or sound-output settings keeps the language model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.emotion.eips import EXPLICIT_INSTRUCTION
from core.engines.options import AudioModelFiles, resolve_options
from core.models.manifest import DEFAULT_MANIFEST
from core.settings import EngineSettings, Settings


def _dialog(qtbot, tmp_path, settings, **kw):
    from app.settings_dialog import SettingsDialog

    dialog = SettingsDialog(settings, tmp_path / "settings.json", **kw)
    qtbot.addWidget(dialog)
    return dialog


def test_the_box_shows_the_engines_value_and_keeps_it_unset_until_changed(qtbot, tmp_path):
    trained = AudioModelFiles(Path("llm.gguf"), Path("mmproj.gguf"), None, 1.0, True, "embedded")
    dialog = _dialog(qtbot, tmp_path, Settings(), engine_options=resolve_options(Settings(), trained))
    assert dialog.reasoning_check.isChecked()  # the manifest's value, not the unset setting
    assert "trained" in dialog.reasoning_note.text()
    assert dialog.collect().engine.explicit_reasoning is None  # untouched: the manifest keeps deciding
    qtbot.mouseClick(dialog.reasoning_check, Qt.MouseButton.LeftButton)
    assert dialog.collect().engine.explicit_reasoning is False  # a choice is stored


@pytest.mark.parametrize(("kind", "built"), [("cascade", "cascade"), ("auto", "audio-llm")])
def test_ticking_the_box_reaches_every_engine(qtbot, tmp_path, kind, built):
    from core.engines.factory import create_engine

    assert json.loads(DEFAULT_MANIFEST.read_text())["explicit_reasoning"] is False  # the embedded model
    settings = Settings(engine=EngineSettings(kind=kind, n_threads=2, max_tokens=32, merge_adapter=False,
                                              transcribe=False), cache_dir=tmp_path / "cache")
    dialog = _dialog(qtbot, tmp_path, settings)  # no engine loaded: what these settings would give
    assert not dialog.reasoning_check.isChecked()
    qtbot.mouseClick(dialog.reasoning_check, Qt.MouseButton.LeftButton)
    assert dialog.apply()
    saved = dialog.result_settings
    assert saved.engine.explicit_reasoning is True
    engine = create_engine(saved, kind)
    try:
        assert engine.name == built and engine.notice is None
        assert engine.options.explicit_reasoning and engine.options.reasoning_source == "settings"
        prompt = engine._prompt([], "Hello.", None)[0] if built == "cascade" else engine._prompt([], 0, "Hello.")
        assert EXPLICIT_INSTRUCTION in prompt  # the model is asked for the four steps
    finally:
        engine.close()


class _Kept:
    """The session's real engine, handed to one window; closing it is only counted."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.closed = 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def close(self) -> None:
        self.closed += 1


def test_listening_and_sound_output_changes_keep_the_language_model(make_window, models, gui_settings, qtbot, monkeypatch):
    built: list[_Kept] = []

    def factory(settings):
        built.append(_Kept(models[0]))
        return built[-1]

    monkeypatch.setattr("app.bridge._create_engine", factory)
    window = make_window(use_models=False)  # the bridge loads (and owns) the engine and the voice
    assert len(built) == 1

    def restarted(settings):
        old = window.bridge.pipeline
        window.apply_settings(settings)
        qtbot.waitUntil(lambda: window.bridge.pipeline is not None and window.bridge.pipeline is not old
                        and not window.bridge.loading, timeout=120_000)

    quieter = gui_settings.model_copy(deep=True)
    quieter.vad.min_silence_ms = 800
    quieter.audio.output_device = "USB headset"
    restarted(quieter)
    assert len(built) == 1 and built[0].closed == 0  # same engine, not reloaded
    assert window.bridge.pipeline.settings.vad.min_silence_ms == 800  # the new listening settings apply

    warmer = quieter.model_copy(deep=True)
    warmer.engine.temperature = 0.7
    restarted(warmer)
    assert len(built) == 2 and built[0].closed == 1  # an engine setting does reload it
