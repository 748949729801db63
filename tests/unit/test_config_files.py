"""One way to read training configs (training.config_files): YAML plus `key=value` overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config_files import apply_overrides, read_yaml, resolve_from


def test_yaml_with_dotted_typed_overrides(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_steps: 10\nmodel:\n  lora_r: 8\n")
    data = apply_overrides(read_yaml(cfg), ["model.lora_r=4", "lr=0.0002", "tags=[a, b]", "stage2.eval.split=test", "off=false"])
    assert data == {"max_steps": 10, "model": {"lora_r": 4}, "lr": 0.0002, "tags": ["a", "b"],
                    "stage2": {"eval": {"split": "test"}}, "off": False}


@pytest.mark.parametrize(("text", "match"), [("- a\n- b\n", "expected a mapping"), ("a: [1,\n", "not valid YAML")])
def test_a_bad_file_is_named(tmp_path, text, match):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_yaml(cfg)


def test_a_missing_file_points_at_an_example(tmp_path):
    with pytest.raises(FileNotFoundError, match="configs/lime-tiny.yaml"):
        read_yaml(tmp_path / "nope.yaml", "configs/lime-tiny.yaml")


@pytest.mark.parametrize("item", ["max_steps", "=3", "max_steps.x=1"])
def test_a_malformed_override_is_refused_with_an_example(item):
    with pytest.raises(ValueError, match="key=value|not a section"):
        apply_overrides({"max_steps": 10}, [item], "max_steps=4")


def test_relative_paths_are_from_the_config_folder(tmp_path):
    assert resolve_from(tmp_path, Path("data/x")) == (tmp_path / "data" / "x").resolve()
    assert resolve_from(tmp_path, Path("/abs/y")) == Path("/abs/y")


def test_every_training_config_reader_uses_it(tmp_path):
    from training.pipeline import load_pipeline_config
    from training.stages.config import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_steps: 7\npipeline:\n  eval_rows: 5\n")
    assert load_config(cfg, ["max_steps=3"]).max_steps == 3
    assert load_pipeline_config(cfg, ["eval_rows=9"])[0].eval_rows == 9
    for load in (load_config, load_pipeline_config):
        with pytest.raises(ValueError, match="key=value"):
            load(cfg, ["oops"])
