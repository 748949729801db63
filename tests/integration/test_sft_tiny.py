"""Stage 1/2 SFT on tiny configs: parameters that must change do, loss falls, kill + resume, saved layout.

The LLM is `tiny-random` (a 2-layer Llama with the bundled SmolLM2 tokenizer) so each step
takes well under a second; the data is a synthetic LIME-shaped set whose emotions live only
in prosody (tests/helpers/synthetic_lime.py), annotated by the real template annotator.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.helpers.synthetic_lime import build  # noqa: E402
from training.cli import main as train_cli  # noqa: E402
from training.model.config import ModelConfig  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL = {"llm": "tiny-random", "encoder_layers": 1, "encoder_d_model": 32, "encoder_heads": 2,
              "encoder_ffn_dim": 64, "projector_hidden": 64, "lora_r": 4, "aux_classifier": True}


@pytest.fixture(scope="module")
def annotated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lime")
    build(root / "raw", texts=2)
    assert train_cli(["eips", "annotate", "--data", str(root / "raw"), "--out", str(root / "eips"),
                      "--teacher", "template"]) == 0
    return root / "eips"


def _config(tmp: Path, data: Path, **fields) -> Path:
    import yaml

    cfg = {"data": str(data), "output_dir": str(tmp / "run"), "batch_size": 2, "logging_steps": 1,
           "warmup_steps": 0, "lr_scheduler": "constant_with_warmup", "model": TINY_MODEL,
           "eval": {"max_rows": 4, "format_rows": 1, "format_tokens": 8, "tag_tokens": 4}, **fields}
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_two_sft_steps_change_every_trainable_parameter_and_no_frozen_one(annotated):
    from training.lime.dataset import load_lime
    from training.model.cogaudio import CogAudioModel
    from training.stages.data import ExampleBuilder

    torch.manual_seed(0)
    model = CogAudioModel.build(ModelConfig(**TINY_MODEL))
    rows = [load_lime(annotated)["train"][i] for i in (0, 3)]
    builder = ExampleBuilder(model.tokenizer, model.cfg.n_mels)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for explicit in (True, False):
        out = model([builder.train_example(r, explicit) for r in rows], builder.emotion_ids(rows), aux_weight=0.5)
        out["loss"].backward()
        opt.step()
        opt.zero_grad()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert any(".lora_" in n for n in trainable) and any(n.startswith("projector.") for n in trainable)
    assert any(n.startswith("encoder.") for n in trainable)
    assert trainable - changed == set(), f"trainable but unchanged: {sorted(trainable - changed)[:5]}"
    frozen = set(before) - trainable
    assert frozen and changed & frozen == set(), f"frozen but changed: {sorted(changed & frozen)[:5]}"
    assert "encoder.embed_positions.weight" in frozen


def test_loss_falls_over_a_short_run_and_the_saved_model_reloads(annotated, tmp_path):
    cfg = _config(tmp_path, annotated, max_steps=14, save_steps=100, learning_rate=1e-2,
                  audio_learning_rate=1e-2, explicit_share_start=0.0, explicit_share_end=0.0, stage=2)
    assert train_cli(["sft", "--stage", "2", "--config", str(cfg)]) == 0
    run = tmp_path / "run"
    losses = [m["lm_loss"] for m in _metrics(run)]
    assert len(losses) == 14
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses
    result = json.loads((run / "result.json").read_text())
    assert result["eval"]["n_rows"] == 4 and "text_only" in result["eval"]

    from training.model.cogaudio import Segmented
    from training.model.export_layout import load_model
    from training.stages.data import ExampleBuilder

    model = load_model(run / "model")
    assert (run / "model" / "adapter" / "adapter_model.safetensors").exists()
    audio_cfg = json.loads((run / "model" / "audio" / "config.json").read_text())
    assert audio_cfg["stack_factor"] == 10 and audio_cfg["llm_hidden_size"] == 64
    from training.lime.dataset import load_lime

    row = load_lime(annotated)["test"][0]
    b = ExampleBuilder(model.tokenizer, 80)
    p = b.prompts[False]
    ex = Segmented(p.before, b.mel(row), p.after, [])
    again = load_model(run / "model")
    assert torch.allclose(model.next_token_logits(ex), again.next_token_logits(ex))


def test_kill_and_resume_continues_from_the_checkpoint_with_the_same_step_count(annotated, tmp_path):
    cfg = _config(tmp_path, annotated, max_steps=8, save_steps=2, encoder_warmup_steps=2, aux_weight=0.5,
                  eval={"max_rows": -1})
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "training.cli", "sft", "--config", str(cfg)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (run / "checkpoints" / "step-2" / "state.json").exists():
            assert proc.poll() is None, "training exited before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_at = max(m["step"] for m in _metrics(run))
    assert killed_at < 8, "the run finished before it could be killed"
    ckpt = max(int(p.name.split("-")[1]) for p in (run / "checkpoints").glob("step-*") if not p.name.endswith(".tmp"))

    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"at step {ckpt}" in out.stdout + out.stderr
    steps = [m["step"] for m in _metrics(run)]
    resumed = steps[steps.index(killed_at) + 1:] if killed_at in steps else steps
    assert resumed == list(range(ckpt + 1, 9)), steps
    assert json.loads((run / "checkpoints" / "step-8" / "state.json").read_text())["step"] == 8
    assert json.loads((run / "result.json").read_text())["resumed_from"] == ckpt
