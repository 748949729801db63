"""core.models.manifest: bad audio-model files give a clear ModelAssetError before llama.cpp sees them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.models.bundled import require_bundled
from core.models.manifest import (
    ModelAssetError,
    check_model_files,
    load_manifest,
    resolve_manifest,
    sha256_file,
)
from tests.helpers.tiny_mmproj import SPEC, encoder_and_projector, raw_mmproj
from training.export.exporter import write_manifest
from training.export.mmproj import write_mmproj


@pytest.fixture(scope="module")
def good_pair(tmp_path_factory) -> Path:
    """A valid adapter-less manifest folder: bundled SmolLM2 + a tiny random ultravox projector."""
    folder = tmp_path_factory.mktemp("pair")
    enc, proj = encoder_and_projector(10, 576)
    mm = write_mmproj(folder / "mmproj.gguf", enc, proj, SPEC, 10, 576)
    manifest = {
        "name": "test", "form": "adapter",
        "base_model": {"source": "bundled:llm", "file": None, "sha256": None, "n_embd": 576},
        "projector": {"file": mm.name, "sha256": sha256_file(mm), "stack_factor": 10, "projection_dim": 576},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_good_pair_resolves(good_pair):
    files = resolve_manifest(good_pair / "manifest.json")
    assert files.llm == require_bundled("llm")
    assert files.projector.name == "mmproj.gguf" and files.adapter is None
    assert load_manifest(good_pair / "manifest.json").labels[0] == "neutral"


def test_wrong_checksum_is_refused(good_pair, tmp_path):
    folder = _copy(good_pair, tmp_path / "p")
    raw = json.loads((folder / "manifest.json").read_text())
    raw["projector"]["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelAssetError, match="checksum mismatch"):
        resolve_manifest(folder / "manifest.json")


def test_truncated_projector_is_refused(good_pair, tmp_path):
    mm = _copy(good_pair, tmp_path / "p") / "mmproj.gguf"
    mm.write_bytes(mm.read_bytes()[: mm.stat().st_size // 2])
    with pytest.raises(ModelAssetError, match="corrupt or truncated"):
        check_model_files(require_bundled("llm"), mm)


def test_corrupt_projector_is_refused(tmp_path):
    mm = tmp_path / "mmproj.gguf"
    mm.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ModelAssetError, match="not a readable GGUF"):
        check_model_files(require_bundled("llm"), mm)


def test_width_mismatch_is_refused(tmp_path):
    mm = raw_mmproj(tmp_path / "mm.gguf", 10, 512)
    with pytest.raises(ModelAssetError, match="width 512 but the language model has n_embd 576"):
        check_model_files(require_bundled("llm"), mm)


def test_unsafe_stack_factor_is_refused_before_mtmd(tmp_path):
    mm = raw_mmproj(tmp_path / "mm.gguf", 7, 576)
    with pytest.raises(ModelAssetError, match="stack factor 7"):
        check_model_files(require_bundled("llm"), mm)
    with pytest.raises(ValueError, match="stack factor 7"):
        write_mmproj(tmp_path / "x.gguf", *encoder_and_projector(7, 576), SPEC, 7, 576)


def test_f16_bias_is_refused(tmp_path):
    # ggml aborts on f32 + f16 adds mid-encode; the check catches it at load time
    mm = raw_mmproj(tmp_path / "mm.gguf", 10, 576, f16_bias=True)
    with pytest.raises(ModelAssetError, match="non-F32"):
        check_model_files(require_bundled("llm"), mm)


def test_manifest_for_another_prompt_format_is_refused(good_pair, tmp_path):
    folder = _copy(good_pair, tmp_path / "p")
    m = load_manifest(folder / "manifest.json")
    m.prompt_format_version = 999
    write_manifest(m, folder / "manifest.json")
    with pytest.raises(ModelAssetError, match="prompt format 999"):
        resolve_manifest(folder / "manifest.json")
