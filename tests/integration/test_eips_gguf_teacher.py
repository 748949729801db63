"""`eips annotate` with the bundled SmolLM2 GGUF as the teacher, through llama-cpp-python.

The 135M model is a weak teacher: whatever it writes is validated, retried, and either
accepted (annotator `gguf:...`) or replaced by the template and marked as such. A second run
hits the cache and makes no teacher call.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("llama_cpp")

from core.emotion.eips import EIPS, validate_eips  # noqa: E402
from tests.helpers.synthetic_lime import build  # noqa: E402
from training.cli import main as train_cli  # noqa: E402


def test_gguf_teacher_annotates_validates_and_caches(tmp_path):
    from datasets import load_from_disk

    build(tmp_path / "raw", texts=1)
    args = ["eips", "annotate", "--data", str(tmp_path / "raw"), "--out", str(tmp_path / "eips"),
            "--teacher", "gguf", "--retries", "1", "--fallback", "template", "--limit", "1",
            "--max-tokens", "120", "--threads", "2", "--cache", str(tmp_path / "cache")]
    assert train_cli(args) == 0
    report = json.loads((tmp_path / "eips" / "eips_report.json").read_text())
    # 1 row in each of 2 splits; the test row repeats the train prompt (same text and label), so
    # it comes from the cache: the key is the content, not the row
    assert report["rows"] == 2 and report["teacher_calls"] >= 1 and report["cache_hits"] >= 1
    ds = load_from_disk(str(tmp_path / "eips"))
    for split in ds.values():
        for row in split:
            assert row["annotation_ok"]
            assert row["annotator"].startswith(("gguf:SmolLM2", "template-v1 (fallback: gguf:SmolLM2"))
            eips = EIPS(row["eips_emotion"], row["eips_intent"], row["eips_psychology"], row["eips_strategy"])
            assert validate_eips(eips, row["emotion"]) == [] and row["response"]

    assert train_cli(args[:5] + [str(tmp_path / "again")] + args[6:]) == 0
    again = json.loads((tmp_path / "again" / "eips_report.json").read_text())
    assert again["teacher_calls"] == 0 and again["cache_hits"] == report["teacher_calls"] + report["cache_hits"]
    assert again["accepted_by"] == report["accepted_by"]
