"""The FSDP and DeepSpeed launch configs: checked with `cogaudio-train dist-check` the way
`accelerate launch` reads them, and a sharded config that cannot run here is refused by the
trainer with a clear message instead of silently training with plain DDP."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from tests.helpers.synthetic_lime import build  # noqa: E402
from training.cli import main as train_cli  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = {"llm": "tiny-random", "encoder_layers": 1, "encoder_d_model": 32, "encoder_heads": 2,
              "encoder_ffn_dim": 64, "projector_hidden": 64, "lora_r": 4, "aux_classifier": True}


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> Path:
    import yaml

    root = tmp_path_factory.mktemp("dist")
    build(root / "raw", texts=1)
    assert train_cli(["eips", "annotate", "--data", str(root / "raw"), "--out", str(root / "eips"),
                      "--teacher", "template"]) == 0
    path = root / "cfg.yaml"
    path.write_text(yaml.safe_dump({"data": str(root / "eips"), "batch_size": 2, "max_steps": 1, "model": TINY_MODEL,
                                    "eval": {"max_rows": -1}, "output_dir": str(root / "run")}))
    return path


def _check(capsys, *args: str) -> tuple[int, dict, str]:
    code = train_cli(["dist-check", *args])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def test_fsdp_config_is_valid_and_shards_the_llm_and_encoder_layers(capsys, tiny_config):
    code, report, _ = _check(capsys, "--accelerate-config", str(REPO / "configs" / "accelerate-fsdp.yaml"),
                             "--config", str(tiny_config))
    assert code == 0 and report["ok"] and report["distributed_type"] == "FSDP" and report["processes"] == 8
    shards = next(c for c in report["checks"] if c.startswith("FSDP shards"))
    # tiny-random has 2 Llama decoder layers and the encoder 1 Whisper layer: 3 units, not the whole model
    assert "3 layers" in shards and "LlamaDecoderLayer" in shards and "WhisperEncoderLayer" in shards
    if not torch.cuda.is_available():
        assert report["step"].startswith("not run: accelerate runs FSDP on GPUs only")
        assert "--set max_steps=1" in report["step"]


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is not None, reason="DeepSpeed is installed here")
def test_deepspeed_config_without_deepspeed_says_so(capsys, tiny_config):
    code, report, err = _check(capsys, "--accelerate-config", str(REPO / "configs" / "accelerate-deepspeed.yaml"),
                               "--config", str(tiny_config))
    assert code == 3 and not report["ok"] and report["distributed_type"] == "DEEPSPEED"
    assert "DeepSpeed is not installed here" in err and "pip install deepspeed" in err


def test_a_config_accelerate_would_refuse_is_refused(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (REPO / "configs" / "accelerate-fsdp.yaml").read_text().replace("num_processes: 8", "num_procs: 8")
    bad.write_text(text)
    code, report, err = _check(capsys, "--accelerate-config", str(bad))
    assert code == 1 and not report["ok"] and "num_procs" in err


def test_the_trainer_refuses_to_fall_back_from_fsdp_to_ddp(tiny_config):
    # what `accelerate launch --config_file configs/accelerate-fsdp.yaml` sets in each process
    env = {**os.environ, "ACCELERATE_USE_FSDP": "true", "FSDP_VERSION": "2", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "training.cli", "sft", "--config", str(tiny_config)], cwd=REPO,
                         capture_output=True, text=True, timeout=600, env=env)
    if torch.cuda.is_available():
        pytest.skip("a GPU machine: FSDP would really run")
    assert out.returncode != 0
    assert "asks for FSDP, which accelerate runs on GPUs only" in out.stderr
    assert not (Path(yaml_output_dir(tiny_config)) / "metrics.jsonl").exists()


def yaml_output_dir(config: Path) -> str:
    import yaml

    return yaml.safe_load(config.read_text())["output_dir"]
