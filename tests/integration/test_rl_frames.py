"""Stage 3 on a model that hears cached encoder frames (configs/ear-cpu.yaml's audio path): the
policy gradient is taken on the very prompt the rollouts were sampled from, frames included.

The LLM is `tiny-random`; the frames are real (the app's Whisper tiny.en pass over the
synthetic LIME-shaped clips), so one step is a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.helpers.synthetic_lime import build  # noqa: E402
from training.rl.rewards import RewardModel, RewardResult, Sample  # noqa: E402


class LengthReward(RewardModel):
    """Varies with the completion, so every group has a nonzero advantage."""

    def score(self, s: Sample) -> RewardResult:
        return RewardResult((len(s.completion) * 7 % 11) / 10, {})


def test_the_rl_update_sees_the_frames_the_rollouts_were_sampled_from(tmp_path: Path, monkeypatch):
    from training.rl import trainer
    from training.rl.config import load_rl_config

    data = build(tmp_path / "lime", texts=1)
    cfg = load_rl_config(None, [f"data={data}", "seed=1", f"output_dir={tmp_path / 'run'}", "max_steps=1",
                                "prompts_per_step=2", "group_size=2", "max_new_tokens=6", "direct_max_new_tokens=4",
                                "eval_prompts=0", "eval.max_rows=-1", "relevance=lexical", "model.llm=tiny-random",
                                "model.encoder_init=ct2:tiny.en", "model.audio_input=asr-encoder-frames",
                                f"model.frames_cache={tmp_path / 'cache'}", "model.train_encoder=false",
                                "model.projector_hidden=32", "model.lora_r=4"])
    seen: list = []
    real = trainer.token_logprobs

    def recording(model, examples):
        seen.extend(examples)
        return real(model, examples)

    monkeypatch.setattr(trainer, "token_logprobs", recording)
    trainer.train_rl(cfg, rewards=LengthReward(), log=lambda *_: None)
    # 2 prompts x 2 samples on each of the 2 routes, each with its completion as the target
    assert len(seen) == 8 and all(e.target for e in seen)
    assert all(e.frames is not None and e.frames.ndim == 2 and e.frames.shape[0] > 0 for e in seen)
    # the same clip's frames for a prompt's group, and different clips for the two prompts
    by_prompt = {(e.frames.shape[0], float(e.frames.sum())) for e in seen}
    assert len(by_prompt) == 2


def test_a_saved_frames_model_loads_with_its_encoder_named_and_hears_frames_again(tmp_path: Path):
    """Stage 2 and stage 3 start from a saved stage-1 folder: the loaded model must still find the
    frozen encoder pass its frames come from, and pass its name on when saved again (the exporter
    reads it)."""
    import json

    from training.model.cogaudio import CogAudioModel
    from training.model.config import ModelConfig
    from training.model.export_layout import load_model, save_model
    from training.stages.data import ExampleBuilder

    data = build(tmp_path / "lime", texts=1)
    from datasets import load_from_disk

    row = load_from_disk(str(data))["train"][0]
    cfg = ModelConfig(llm="tiny-random", encoder_init="ct2:tiny.en", audio_input="asr-encoder-frames",
                      frames_cache=str(tmp_path / "cache"), train_encoder=False, projector_hidden=32, lora_r=4)
    save_model(CogAudioModel.build(cfg), tmp_path / "stage1")
    loaded = load_model(tmp_path / "stage1")
    assert loaded.cfg.encoder_init == "ct2:tiny.en"
    builder = ExampleBuilder.for_model(loaded)  # raised FileNotFoundError for 'scratch' before
    ex = builder.prompt_example(row, builder.prompts[False])
    assert ex.frames is not None and ex.frames.shape[0] > 0 and ex.mel is None
    save_model(loaded, tmp_path / "stage2")
    assert json.loads((tmp_path / "stage2" / "audio" / "config.json").read_text())["encoder_init"] == "ct2:tiny.en"
