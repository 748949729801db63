"""Stage 1 across processes: 2 CPU processes (accelerate, gloo) train what one process trains.

The same global batch both ways: 2 processes x 2 examples, against 1 process x 2 examples x
2 accumulated micro-batches. The trainer hands out batches by slot
((step x accumulation + micro) x processes + rank), so rank r of the 2-process run gets the
very batch that micro-batch r of the single process gets, and DDP's mean of the two gradients
is the accumulated mean. What may differ is floating-point summation order, hence allclose.
The run starts with one encoder warm-up step (the LLM's LoRA gets no gradient there, which
DDP must be told about) and then two explicit EIPS steps; dropout is off so that the random
streams of the processes do not matter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from safetensors.torch import load_file  # noqa: E402

from tests.helpers.synthetic_lime import build  # noqa: E402
from training.cli import main as train_cli  # noqa: E402

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# the smallest model config of tests/integration/test_sft_tiny.py, with LoRA dropout off
TINY_MODEL = {"llm": "tiny-random", "encoder_layers": 1, "encoder_d_model": 32, "encoder_heads": 2,
              "encoder_ffn_dim": 64, "projector_hidden": 64, "lora_r": 4, "lora_dropout": 0.0, "aux_classifier": True}
STEPS = 3


@pytest.fixture(scope="module")
def annotated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lime")
    build(root / "raw", texts=2)
    assert train_cli(["eips", "annotate", "--data", str(root / "raw"), "--out", str(root / "eips"),
                      "--teacher", "template"]) == 0
    return root / "eips"


def _config(tmp: Path, data: Path) -> Path:
    import yaml

    cfg = {"data": str(data), "batch_size": 2, "warmup_batch_size": 2, "max_steps": STEPS, "encoder_warmup_steps": 1,
           "aux_weight": 0.5, "logging_steps": 1, "save_steps": 1, "save_total_limit": STEPS,
           "warmup_steps": 0, "lr_scheduler": "constant_with_warmup", "learning_rate": 1e-2,
           "audio_learning_rate": 1e-2, "model": TINY_MODEL, "eval": {"max_rows": -1}}
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


def _weights(run: Path, step: int) -> dict[str, torch.Tensor]:
    return load_file(str(run / "checkpoints" / f"step-{step}" / "trainable.safetensors"))


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_two_cpu_processes_train_what_one_process_trains_with_the_same_global_batch(annotated, tmp_path):
    cfg = _config(tmp_path, annotated)
    two, one = tmp_path / "two", tmp_path / "one"
    _run([sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(REPO / "configs" / "accelerate-cpu-2.yaml"),
          "-m", "training.cli", "sft", "--config", str(cfg), "--output-dir", str(two)])
    _run([sys.executable, "-m", "training.cli", "sft", "--config", str(cfg), "--output-dir", str(one),
          "--set", "gradient_accumulation_steps=2"])

    r2, r1 = (json.loads((run / "result.json").read_text()) for run in (two, one))
    assert (r2["processes"], r1["processes"]) == (2, 1)
    assert r2["distributed_type"] == "MULTI_CPU" and r1["distributed_type"] == "NO"

    start, end2, end1 = _weights(two, 1), _weights(two, STEPS), _weights(one, STEPS)
    assert set(end2) == set(end1) and any(".lora_" in n for n in end2)
    moved = [n for n in end2 if not torch.allclose(start[n], end2[n], atol=1e-6)]
    assert any(".lora_" in n for n in moved), "the LLM steps did not move the LoRA weights"
    assert any(n.startswith("projector.") for n in moved)
    for name in end2:
        assert torch.allclose(end2[name], end1[name], rtol=1e-4, atol=1e-5), (
            f"{name}: max |diff| {float((end2[name] - end1[name]).abs().max()):.3g}")

    # the logged losses are the mean over both processes, as one process logs the mean over its micro-batches
    m2, m1 = _metrics(two), _metrics(one)
    assert [m["step"] for m in m2] == [m["step"] for m in m1] == list(range(1, STEPS + 1))
    for a, b in zip(m2, m1, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4), (a, b)
    assert m2[-1]["lm_loss"] > 0 and m2[0]["phase_warmup"] == 1.0 and m2[-1]["phase_warmup"] == 0.0
