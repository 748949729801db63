"""The audio-model manifest: what `cogaudio-train export` writes and what the app checks before loading.

A manifest (JSON) names the files of one audio model pair and their sha256 checksums:
the language model (the bundled base GGUF plus a LoRA adapter GGUF, or one merged GGUF),
the audio projector (an mmproj GGUF of type `ultravox`), the labels and the prompt format
version the model was trained with. Everything here reads metadata only (gguf's reader
memory-maps the file) so it is cheap, never imports torch, and turns every problem into a
`ModelAssetError` whose message says how to fix it. The engine factory catches that error
and falls back to the cascade engine with a visible notice.

Why validate here and not let llama.cpp fail: some bad projectors do not fail cleanly. An
`ultravox` projector whose stack factor does not divide the 30 s chunk evenly aborts the
whole process inside clip.cpp ("Invalid number of output tokens"), so the stack factor and
the projection width are checked before the file is handed to mtmd.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.emotion.eips import PROMPT_FORMAT_VERSION
from core.emotion.labels import EMOTIONS
from core.models.audio_tokens import stack_factor_is_safe
from core.models.bundled import ASSETS, bundled_path, install_hint

MANIFEST_FORMAT = "cogaudio-model-manifest"
MANIFEST_VERSION = 1
DEFAULT_MANIFEST = ASSETS / "models" / "manifest.json"
BUNDLED_LLM = "bundled:llm"  # base-model source that resolves through core.models.bundled

SUPPORTED_PROJECTORS = ("ultravox",)


class ModelAssetError(RuntimeError):
    """A model file or manifest that cannot be used; the message says what to do."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")

    file: str | None = Field(description="path relative to the manifest's folder")
    sha256: str | None = Field(None, description="hex digest; None skips the check (not for shipped files)")


class BaseModelEntry(_Entry):
    file: str | None = Field(None, description="None with source `bundled:llm` = the packaged SmolLM2 GGUF")
    source: str = Field(BUNDLED_LLM, description="`bundled:llm` or `file`")
    name: str = "SmolLM2-135M-Instruct"
    architecture: str = "llama"
    n_embd: int = Field(gt=0)


class AdapterEntry(_Entry):
    scale: float = Field(1.0, description="LoRA scale passed to llama.cpp (alpha/rank is in the file)")
    rank: int | None = None
    alpha: float | None = None


class ProjectorEntry(_Entry):
    projector_type: Literal["ultravox"] = "ultravox"
    stack_factor: int = Field(gt=0)
    projection_dim: int = Field(gt=0)
    quantization: str = "F16"


class LlmEntry(_Entry):
    quantization: str = "F16"


class EarEntry(_Entry):
    encoder: str = Field("whisper-tiny.en", description="the speech encoder whose frames the head reads")


class ModelManifest(BaseModel):
    """The JSON manifest of one audio model pair (see docs/export.md)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["cogaudio-model-manifest"] = MANIFEST_FORMAT
    format_version: int = MANIFEST_VERSION
    name: str
    form: Literal["adapter", "merged"]
    base_model: BaseModelEntry
    adapter: AdapterEntry | None = None
    llm: LlmEntry | None = Field(None, description="the merged LLM (merged form only)")
    projector: ProjectorEntry
    ear: EarEntry | None = Field(None, description="the calibrated emotion head (core/ear), checked like the rest")
    labels: list[str] = Field(default_factory=lambda: list(EMOTIONS))
    prompt_format_version: int = PROMPT_FORMAT_VERSION
    explicit_reasoning: bool = Field(False, description="trained to write the four EIPS steps first")
    training: dict = Field(default_factory=dict, description="free-form provenance (config, steps, eval)")


@dataclass(frozen=True)
class ManifestFiles:
    """Checked, absolute paths of one audio model pair, ready for AudioLLMEngine."""

    llm: Path
    projector: Path
    adapter: Path | None
    adapter_scale: float
    manifest: ModelManifest
    manifest_path: Path | None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file. Remembered per (path, size, mtime) for the process: the manifest
    check and the merged-adapter cache key (core.models.adapter_merge) both need the 98 MB base's."""
    return _sha256_cached(*_file_key(Path(path)))


@lru_cache(maxsize=16)
def _sha256_cached(path_str: str, size: int, mtime_ns: int, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path_str, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_gguf_metadata(path: Path, what: str) -> dict[str, object]:
    """Scalar/string metadata of a GGUF file, after checking the file is whole.

    Raises ModelAssetError for a missing, corrupt or truncated file: GGUF's header lists every
    tensor's offset and size, so a file shorter than its last tensor's end was cut off.
    """
    import numpy as np
    from gguf import GGUFReader

    if not path.is_file():
        raise ModelAssetError(f"{what} not found at {path}; re-run `cogaudio-train export` or fix the manifest")
    try:
        reader = GGUFReader(path)
        size = path.stat().st_size
        for t in reader.tensors:
            if t.data_offset + t.n_bytes > size or t.data.nbytes != t.n_bytes:
                raise ValueError(f"tensor {t.name} runs past the end of the file")
    except ModelAssetError:
        raise
    except Exception as exc:  # gguf raises ValueError/IndexError/struct errors on bad bytes
        raise ModelAssetError(
            f"{what} at {path} is not a readable GGUF file (corrupt or truncated: {exc}); "
            "re-export it with `cogaudio-train export` or download it again"
        ) from exc
    meta: dict[str, object] = {}
    for key, field in reader.fields.items():
        if key.startswith("tokenizer.ggml.") and key not in ("tokenizer.ggml.model", "tokenizer.ggml.pre"):
            continue  # big vocab arrays are not needed for validation
        try:
            value = field.contents()
        except Exception:
            continue
        if isinstance(value, np.generic):
            value = value.item()
        meta[key] = value
    meta["__tensors__"] = {t.name: t.tensor_type.name for t in reader.tensors}
    return meta


def check_llm(path: Path) -> tuple[str, int]:
    """(architecture, n_embd) of a language-model GGUF; raises ModelAssetError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise ModelAssetError(f"language model not found at {path}; fix engine.llm_path or re-export")
    return _check_llm_cached(*_file_key(path))


def trust_llm(path: Path, arch: str, n_embd: int) -> None:
    """Record (arch, n_embd) of a language model this process wrote itself (a merged adapter),
    so that check_llm does not parse its vocabulary again (~1-2 s). llama.cpp still refuses a
    damaged file cleanly at load."""
    _TRUSTED[_file_key(Path(path))] = (arch, int(n_embd))


def _file_key(path: Path) -> tuple[str, int, int]:
    # size and mtime in the key: a replaced file is read again
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


_TRUSTED: dict[tuple[str, int, int], tuple[str, int]] = {}


def _check_llm_cached(path_str: str, size: int, mtime_ns: int) -> tuple[str, int]:
    if (path_str, size, mtime_ns) in _TRUSTED:
        return _TRUSTED[(path_str, size, mtime_ns)]
    return _check_llm_parsed(path_str, size, mtime_ns)


@lru_cache(maxsize=8)
def _check_llm_parsed(path_str: str, size: int, mtime_ns: int) -> tuple[str, int]:
    # parsing a GGUF's 49k-token vocabulary takes seconds in Python
    path = Path(path_str)
    meta = read_gguf_metadata(path, "language model")
    arch = str(meta.get("general.architecture", ""))
    n_embd = meta.get(f"{arch}.embedding_length")
    if not arch or arch == "clip" or not isinstance(n_embd, int):
        raise ModelAssetError(f"{path} is not a language-model GGUF (architecture {arch!r}); point llm at the LLM file")
    return arch, n_embd


AUDIO_TAIL_KEY = "cogaudio.audio_tail_tokens"  # our own mmproj key; clip.cpp ignores keys it does not know


def audio_tail_tokens(meta: dict[str, object]) -> int | None:
    """The trimmed-audio setting a projector was trained with (None: all of mtmd's embeddings)."""
    value = meta.get(AUDIO_TAIL_KEY)
    return int(value) if isinstance(value, int) and value >= 0 else None


def check_projector(path: Path, n_embd: int) -> dict[str, object]:
    """Validate an audio mmproj GGUF against the LLM width before mtmd ever sees it."""
    meta = read_gguf_metadata(path, "audio projector")
    if meta.get("general.architecture") != "clip" or not meta.get("clip.has_audio_encoder"):
        raise ModelAssetError(f"{path} is not an audio projector (mmproj) GGUF; export one with `cogaudio-train export`")
    ptype = meta.get("clip.projector_type", meta.get("clip.audio.projector_type"))
    if ptype not in SUPPORTED_PROJECTORS:
        raise ModelAssetError(f"projector type {ptype!r} in {path} is not supported here (expected one of {SUPPORTED_PROJECTORS})")
    stack = meta.get("clip.audio.projector.stack_factor")
    if not isinstance(stack, int) or not stack_factor_is_safe(stack):
        raise ModelAssetError(
            f"projector {path} has stack factor {stack!r}, which llama.cpp cannot run (it would abort); "
            "re-train with stack factor 10 or 12"
        )
    # ggml's CPU add has no f32 + f16 kernel, so an F16 bias or position table aborts mid-encode
    bad = [n for n, kind in meta["__tensors__"].items()
           if kind != "F32" and (n.endswith(".bias") or "position_embd" in n or "norm" in n or ".ln" in n)]
    if bad:
        raise ModelAssetError(f"projector {path} stores {bad[0]} as non-F32, which llama.cpp cannot add; re-export it")
    width = meta.get("clip.audio.projection_dim")
    if width != n_embd:
        raise ModelAssetError(
            f"projector {path} outputs width {width} but the language model has n_embd {n_embd}; "
            "use the projector exported for this LLM"
        )
    return meta


def check_adapter(path: Path, arch: str) -> None:
    meta = read_gguf_metadata(path, "LoRA adapter")
    if meta.get("general.type") != "adapter" or meta.get("adapter.type") != "lora":
        raise ModelAssetError(f"{path} is not a LoRA adapter GGUF; export one with `cogaudio-train export --form adapter`")
    if meta.get("general.architecture") != arch:
        raise ModelAssetError(
            f"LoRA adapter {path} is for {meta.get('general.architecture')!r} but the LLM is {arch!r}; "
            "use the adapter exported for this base model"
        )


def load_manifest(path: Path) -> ModelManifest:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelAssetError(f"no audio model manifest at {path}; run `cogaudio-train pipeline` or `export`") from exc
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not UTF-8
        raise ModelAssetError(f"audio model manifest {path} is unreadable ({exc}); re-export it") from exc
    try:
        manifest = ModelManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ModelAssetError(
            f"audio model manifest {path} is invalid at {'.'.join(map(str, first['loc']))}: {first['msg']}; re-export it"
        ) from exc
    if manifest.prompt_format_version != PROMPT_FORMAT_VERSION:
        raise ModelAssetError(
            f"the model in {path} was trained for prompt format {manifest.prompt_format_version}, this app "
            f"speaks format {PROMPT_FORMAT_VERSION}; re-export it with this version of cogaudio-train"
        )
    return manifest


def _resolve(entry: _Entry, folder: Path, what: str, verify: bool) -> Path:
    if entry.file is None or entry.file == BUNDLED_LLM:
        if not isinstance(entry, BaseModelEntry) or entry.source != BUNDLED_LLM:
            raise ModelAssetError(f"the manifest's {what} entry names no file; re-export it")
        path = bundled_path("llm")
        if path is None:
            raise ModelAssetError(f"the bundled base model is not installed; run: {install_hint('llm')}")
    else:
        path = (folder / entry.file).resolve()
        if not path.is_file():
            raise ModelAssetError(f"{what} {path} named in the manifest is missing; re-run `cogaudio-train export`")
    if verify and entry.sha256:
        digest = sha256_file(path)
        if digest != entry.sha256.lower():
            raise ModelAssetError(
                f"checksum mismatch for {what} {path} (sha256 {digest[:12]}..., manifest says "
                f"{entry.sha256[:12]}...); the file changed or is damaged: re-export or re-download it"
            )
    return path


def check_file(entry: _Entry, folder: Path, what: str) -> Path:
    """The file of one manifest entry, present and matching its sha256 (ModelAssetError otherwise)."""
    return _resolve(entry, folder, what, verify=True)


def resolve_manifest(path: Path = DEFAULT_MANIFEST, verify_checksums: bool = True) -> ManifestFiles:
    """Load a manifest and check every file it names; raise ModelAssetError on any problem."""
    path = Path(path)
    manifest = load_manifest(path)
    folder = path.parent
    if manifest.form == "merged":
        # the merged LLM replaces the base; the base entry is provenance only
        if manifest.llm is None:
            raise ModelAssetError(f"merged-form manifest {path} has no `llm` entry; re-export it")
        llm = _resolve(manifest.llm, folder, "merged LLM", verify_checksums)
    else:
        llm = _resolve(manifest.base_model, folder, "base model", verify_checksums)
    adapter = None
    if manifest.form == "adapter" and manifest.adapter is not None:
        adapter = _resolve(manifest.adapter, folder, "LoRA adapter", verify_checksums)
    projector = _resolve(manifest.projector, folder, "audio projector", verify_checksums)
    arch, n_embd = check_llm(llm)
    check_projector(projector, n_embd)
    if adapter is not None:
        check_adapter(adapter, arch)
    scale = manifest.adapter.scale if manifest.adapter is not None else 1.0
    return ManifestFiles(llm, projector, adapter, scale, manifest, path)


def check_model_files(llm: Path, projector: Path, adapter: Path | None = None) -> None:
    """Validate a hand-picked pair (settings paths, no manifest) the same way."""
    arch, n_embd = check_llm(Path(llm))
    check_projector(Path(projector), n_embd)
    if adapter is not None:
        check_adapter(Path(adapter), arch)
