"""core.model_manifest: bad audio-model files give a clear ModelAssetError before llama.cpp sees them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gguf
import numpy as np
import pytest

from core.bundled import require_bundled
from core.model_manifest import (
    ModelAssetError,
    check_model_files,
    load_manifest,
    resolve_manifest,
    sha256_file,
    stack_factor_is_safe,
)
from training.export.exporter import write_manifest
from training.export.mmproj import EncoderSpec, mmproj_tensors, write_mmproj

D, FFN, MEL, HID = 32, 64, 80, 64
SPEC = EncoderSpec(D, FFN, 1, 2, MEL)


def _encoder_and_projector(stack: int, n_embd: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    r = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.05  # noqa: E731
    enc = {"conv1.weight": r(D, MEL, 3), "conv1.bias": r(D), "conv2.weight": r(D, D, 3), "conv2.bias": r(D),
           "embed_positions.weight": r(1500, D), "layer_norm.weight": r(D) + 1, "layer_norm.bias": r(D)}
    blk = "layers.0."
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        enc[f"{blk}self_attn.{name}.weight"] = r(D, D)
        if name != "k_proj":
            enc[f"{blk}self_attn.{name}.bias"] = r(D)
    for norm in ("self_attn_layer_norm", "final_layer_norm"):
        enc[f"{blk}{norm}.weight"], enc[f"{blk}{norm}.bias"] = r(D) + 1, r(D)
    enc.update({f"{blk}fc1.weight": r(FFN, D), f"{blk}fc1.bias": r(FFN), f"{blk}fc2.weight": r(D, FFN), f"{blk}fc2.bias": r(D)})
    proj = {"ln_pre.weight": r(D * stack) + 1, "linear_1.weight": r(HID, D * stack),
            "ln_mid.weight": r(HID // 2) + 1, "linear_2.weight": r(n_embd, HID // 2)}
    return enc, proj


def _raw_mmproj(path: Path, stack: int, n_embd: int, f16_bias: bool = False) -> Path:
    """An mmproj written without write_mmproj's own guards, to build the bad cases."""
    enc, proj = _encoder_and_projector(10, n_embd)
    w = gguf.GGUFWriter(str(path), arch="clip")
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_clip_has_audio_encoder(True)
    w.add_clip_projector_type(gguf.VisionProjectorType.ULTRAVOX)
    w.add_audio_projection_dim(n_embd)
    w.add_audio_stack_factor(stack)
    for name, data in mmproj_tensors(enc, proj, 1, "f16"):
        w.add_tensor(name, data.astype(np.float16) if f16_bias and name.endswith("conv1d.1.bias") else data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="module")
def good_pair(tmp_path_factory) -> Path:
    """A valid adapter-less manifest folder: bundled SmolLM2 + a tiny random ultravox projector."""
    folder = tmp_path_factory.mktemp("pair")
    enc, proj = _encoder_and_projector(10, 576)
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


def test_stack_factors_match_what_llama_cpp_accepts():
    # measured: 2-6, 9, 10, 12, 15, 16 run; 7, 8, 11, 13, 14 abort in clip.cpp
    assert [s for s in range(2, 17) if stack_factor_is_safe(s)] == [2, 3, 4, 5, 6, 9, 10, 12, 15, 16]


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
    mm = _raw_mmproj(tmp_path / "mm.gguf", 10, 512)
    with pytest.raises(ModelAssetError, match="width 512 but the language model has n_embd 576"):
        check_model_files(require_bundled("llm"), mm)


def test_unsafe_stack_factor_is_refused_before_mtmd(tmp_path):
    mm = _raw_mmproj(tmp_path / "mm.gguf", 7, 576)
    with pytest.raises(ModelAssetError, match="stack factor 7"):
        check_model_files(require_bundled("llm"), mm)
    with pytest.raises(ValueError, match="stack factor 7"):
        write_mmproj(tmp_path / "x.gguf", *_encoder_and_projector(7, 576), SPEC, 7, 576)


def test_f16_bias_is_refused(tmp_path):
    # ggml aborts on f32 + f16 adds mid-encode; the check catches it at load time
    mm = _raw_mmproj(tmp_path / "mm.gguf", 10, 576, f16_bias=True)
    with pytest.raises(ModelAssetError, match="non-F32"):
        check_model_files(require_bundled("llm"), mm)


def test_manifest_for_another_prompt_format_is_refused(good_pair, tmp_path):
    folder = _copy(good_pair, tmp_path / "p")
    m = load_manifest(folder / "manifest.json")
    m.prompt_format_version = 999
    write_manifest(m, folder / "manifest.json")
    with pytest.raises(ModelAssetError, match="prompt format 999"):
        resolve_manifest(folder / "manifest.json")
