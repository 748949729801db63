"""`cogaudio-train pipeline`: its config section, overrides, and the stages config still loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.pipeline import Pipeline, load_pipeline_config
from training.stages.config import load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["tiny-cpu.yaml", "gpu-7b.yaml"])
def test_configs_have_a_pipeline_and_still_load_as_stage_configs(name):
    path = REPO / "configs" / name
    cfg, raw = load_pipeline_config(path)
    assert cfg.run_dir and cfg.quantize
    assert load_config(path, stage=2).stage == 2  # the pipeline: section does not upset the stages


def test_overrides_reach_the_right_stage(tmp_path):
    path = REPO / "configs" / "tiny-cpu.yaml"
    cfg, raw = load_pipeline_config(path, [f"run_dir={tmp_path}", "eval_rows=21"])
    cfg.stage_set = ["stage1.encoder_warmup_steps=80", "stage2.max_steps=6", "eval.max_rows=21"]
    pipe = Pipeline(path, cfg, raw)
    assert pipe.stage_dirs[1] == tmp_path / "stage1"
    assert pipe._stage_overrides(1) == ["encoder_warmup_steps=80", "eval.max_rows=21"]
    assert pipe._stage_overrides(2) == ["max_steps=6", "eval.max_rows=21"]
    assert pipe.eval_cfg.max_rows == 21 and cfg.eval_rows == 21


def test_unknown_pipeline_field_is_refused(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("pipeline:\n  run_dri: x\n")
    with pytest.raises(ValueError, match="run_dri"):
        load_pipeline_config(bad)
