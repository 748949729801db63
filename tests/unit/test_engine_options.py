"""EngineOptions: one resolution of settings + manifest, with the precedence docs/engines.md states."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.engines.options import AudioModelFiles, engine_inputs, expected_reasoning, resolve_options
from core.models.manifest import DEFAULT_MANIFEST
from core.settings import Settings, load_settings


def _trained(explicit: bool | None) -> AudioModelFiles:
    return AudioModelFiles(Path("llm.gguf"), Path("mmproj.gguf"), None, 1.0, explicit, "embedded")


@pytest.mark.parametrize(("setting", "trained", "expected"), [
    (None, None, (False, "default")),  # nothing said: a direct reply
    (None, True, (True, "manifest")),  # unset: the audio model's training decides
    (None, False, (False, "manifest")),
    (True, False, (True, "settings")),  # the user's choice wins over the manifest (the old bug)
    (False, True, (False, "settings")),
])
def test_reasoning_precedence(setting, trained, expected):
    s = Settings()
    s.engine.explicit_reasoning = setting
    opts = resolve_options(s, _trained(trained))
    assert (opts.explicit_reasoning, opts.reasoning_source) == expected
    assert opts.engine.explicit_reasoning is expected[0]  # the engines see a plain bool
    assert s.engine.explicit_reasoning is setting  # the settings themselves are not changed


def test_the_cascade_does_not_take_the_audio_models_training():
    assert (resolve_options(Settings()).explicit_reasoning, resolve_options(Settings()).reasoning_source) == (False, "default")


def test_expected_reasoning_reads_the_embedded_manifest_without_loading(tmp_path):
    trained = json.loads(DEFAULT_MANIFEST.read_text())["explicit_reasoning"]
    assert expected_reasoning(Settings()) == (trained, "manifest")
    cascade = Settings()
    cascade.engine.kind = "cascade"
    assert expected_reasoning(cascade) == (False, "default")
    configured = Settings()
    configured.engine.mmproj_path = tmp_path / "mine.gguf"  # a configured projector has no manifest
    assert expected_reasoning(configured) == (False, "default")
    chosen = Settings()
    chosen.engine.explicit_reasoning = not trained
    assert expected_reasoning(chosen) == (not trained, "settings")
    broken = tmp_path / "manifest.json"
    broken.write_text("{not json")
    assert expected_reasoning(Settings(), broken) == (False, "default")


def test_engine_inputs_ignore_listening_sound_and_voice():
    base = Settings()
    other = base.model_copy(deep=True)
    other.vad.min_silence_ms = 800
    other.vad.threshold = 0.6
    other.audio.output_device = "USB headset"
    other.tts.speaking_rate = 1.3
    other.theme = "dark"
    assert engine_inputs(other) == engine_inputs(base)
    for change in (lambda s: setattr(s.engine, "temperature", 0.9), lambda s: setattr(s.asr, "short_context", False)):
        changed = base.model_copy(deep=True)
        change(changed)
        assert engine_inputs(changed) != engine_inputs(base)


def test_saved_settings_with_a_boolean_still_load(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "engine": {"explicit_reasoning": False}}))
    assert load_settings(path).engine.explicit_reasoning is False
    path.write_text(json.dumps({"schema_version": 1}))
    assert load_settings(path).engine.explicit_reasoning is None
