"""A broken embedded audio model never crashes the app: the factory falls back to the cascade
engine with a notice that says what is wrong (corrupt/truncated GGUF, projector width
mismatch, wrong checksum, a stack factor that would abort llama.cpp)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.engines.factory import create_engine
from core.models.manifest import sha256_file
from core.settings import Settings
from tests.helpers.tiny_mmproj import SPEC, encoder_and_projector, raw_mmproj
from training.export.mmproj import write_mmproj


def _manifest(folder: Path, mm: Path, sha: str | None = None) -> Path:
    data = {
        "name": "broken", "form": "adapter",
        "base_model": {"source": "bundled:llm", "file": None, "n_embd": 576},
        "projector": {"file": mm.name, "sha256": sha or sha256_file(mm), "stack_factor": 10, "projection_dim": 576},
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def _truncated(folder: Path) -> tuple[Path, str]:
    mm = write_mmproj(folder / "mm.gguf", *encoder_and_projector(10, 576), SPEC, 10, 576)
    mm.write_bytes(mm.read_bytes()[:-4096])
    return _manifest(folder, mm), "corrupt or truncated"


def _corrupt(folder: Path) -> tuple[Path, str]:
    mm = folder / "mm.gguf"
    mm.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    return _manifest(folder, mm), "not a readable GGUF"


def _width(folder: Path) -> tuple[Path, str]:
    return _manifest(folder, raw_mmproj(folder / "mm.gguf", 10, 512)), "n_embd 576"


def _stack(folder: Path) -> tuple[Path, str]:
    return _manifest(folder, raw_mmproj(folder / "mm.gguf", 13, 576)), "stack factor 13"


def _checksum(folder: Path) -> tuple[Path, str]:
    mm = write_mmproj(folder / "mm.gguf", *encoder_and_projector(10, 576), SPEC, 10, 576)
    return _manifest(folder, mm, sha="ab" * 32), "checksum mismatch"


@pytest.mark.parametrize("make", [_truncated, _corrupt, _width, _stack, _checksum],
                         ids=["truncated", "corrupt", "width", "stack", "checksum"])
def test_broken_embedded_model_falls_back_to_cascade(tmp_path, make):
    manifest, why = make(tmp_path)
    engine = create_engine(Settings(), "auto", manifest=manifest)
    try:
        assert engine.name == "cascade"
        assert engine.notice and why in engine.notice and "cascade" in engine.notice
    finally:
        engine.close()


def test_shipped_default_verifies():
    """The embedded default under assets/models is whole: checksums and metadata match."""
    from core.models.manifest import DEFAULT_MANIFEST, resolve_manifest

    if not DEFAULT_MANIFEST.is_file():
        pytest.fail("assets/models/manifest.json is missing; run `cogaudio-train pipeline --config configs/tiny-cpu.yaml`")
    files = resolve_manifest(DEFAULT_MANIFEST)
    assert files.projector.parent == DEFAULT_MANIFEST.parent
    total = sum(p.stat().st_size for p in DEFAULT_MANIFEST.parent.iterdir() if p.is_file())
    assert total <= 30 * 1024 * 1024
