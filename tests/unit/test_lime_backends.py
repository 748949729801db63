"""Backends: the GPU adapter says clearly when its engine is missing; configs parse and validate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from training.cli import main as train_main
from training.lime.backends import check_backend
from training.lime.config import LimeConfig, VoiceConfig, load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(importlib.util.find_spec("parler_tts") is not None, reason="Parler-TTS is installed here")
def test_parler_backend_names_the_install_command_when_missing(capsys, tmp_path):
    cfg = LimeConfig(backend="parler", voices=[VoiceConfig(name="p", engine="parler", model="Jon")])
    with pytest.raises(RuntimeError, match="pip install git\\+https://github.com/huggingface/parler-tts"):
        check_backend(cfg)
    assert train_main(["lime", "build", "--config", str(REPO / "configs/lime-full.yaml"), "--out", str(tmp_path)]) == 2
    assert "parler-tts" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())  # stopped before any work


def test_shipped_configs_parse_with_a_held_out_voice():
    for name, at_least in (("lime-tiny.yaml", 4), ("lime-full.yaml", 4)):
        cfg = load_config(REPO / "configs" / name)
        assert len(cfg.voices) >= at_least and any(v.test_only for v in cfg.voices)
        assert any(not v.test_only for v in cfg.voices)


def test_config_rejects_unknown_emotions_and_duplicate_voices():
    with pytest.raises(ValueError, match="unknown emotions"):
        LimeConfig(emotions=["joyful"])
    with pytest.raises(ValueError, match="unique"):
        LimeConfig(voices=[VoiceConfig(name="a", engine="piper"), VoiceConfig(name="a", engine="espeak")])
