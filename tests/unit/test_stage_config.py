"""SFT configs from YAML (stage sections, overrides, help text) and deterministic batch plans."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from training.stages.config import SFTConfig, load_config
from training.stages.data import BatchPlan, RowMeta

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["tiny-cpu.yaml", "gpu-1.yaml", "gpu-multi.yaml"])
def test_shipped_configs_parse_for_both_stages(name):
    for stage in (1, 2):
        cfg = load_config(REPO / "configs" / name, stage=stage)
        assert cfg.stage == stage and cfg.max_steps > 0
    assert load_config(REPO / "configs" / "gpu-1.yaml").model.llm == "Qwen/Qwen2.5-7B-Instruct"


def test_stage_sections_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("max_steps: 10\nmodel: {lora_r: 4, stack_factor: 10}\n"
                 "stage2: {max_steps: 20, explicit_share_start: 0.8, explicit_share_end: 0.1, model: {lora_r: 2}}\n")
    s1 = load_config(p, stage=1)
    s2 = load_config(p, ["model.stack_factor=12", "seed=3"], stage=2)
    assert (s1.max_steps, s1.model.lora_r, s1.explicit_share(5)) == (10, 4, 1.0)
    assert (s2.max_steps, s2.model.lora_r, s2.model.stack_factor, s2.seed) == (20, 2, 12, 3)
    assert s2.explicit_share(0) == pytest.approx(0.8) and s2.explicit_share(19) == pytest.approx(0.1)
    assert s2.explicit_share(10) < s2.explicit_share(5)


def test_config_errors_say_what_to_fix(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("max_stepz: 10\n")
    with pytest.raises(ValueError, match="unknown config field"):
        load_config(p)
    with pytest.raises(ValueError, match="use 10 or 12"):
        load_config(None, ["model.stack_factor=8"])
    with pytest.raises(FileNotFoundError, match="tiny-cpu"):
        load_config(tmp_path / "missing.yaml")


def test_every_config_field_has_help_text():
    from training.model.config import ModelConfig
    from training.stages.config import EvalConfig

    for cls in (SFTConfig, ModelConfig, EvalConfig):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"


def _rows():
    emotions = ["neutral", "happy", "sad", "angry"]
    return [RowMeta(i, f"g{i // 4}", emotions[i % 4], "single") for i in range(16)]


def test_batch_plan_is_a_function_of_seed_and_step():
    a, b = BatchPlan(_rows(), 4, False, seed=1), BatchPlan(_rows(), 4, False, seed=1)
    steps = [a.batch(s) for s in range(9)]
    assert [b.batch(s) for s in reversed(range(9))] == list(reversed(steps))
    assert sorted(sum(steps[:4], [])) == list(range(16))  # one epoch covers every row once
    assert BatchPlan(_rows(), 4, False, seed=2).batch(0) != steps[0] or BatchPlan(_rows(), 4, False, 2).batch(1) != steps[1]


def test_contrastive_batches_hold_one_text_in_different_emotions():
    plan = BatchPlan(_rows(), 4, True, seed=0)
    rows = {r.index: r for r in _rows()}
    for s in range(4):
        batch = [rows[i] for i in plan.batch(s)]
        assert len({r.group for r in batch}) == 1
        assert len({r.emotion for r in batch}) == len(batch)
