"""Choosing and building the engine: `create_engine(settings, kind)`.

kind "auto" picks the audio language model when a projector is configured
(settings.engine.mmproj_path) or an embedded default is shipped under assets/models/
(manifest.json, written by `cogaudio-train export`), else the cascade. When the audio model
cannot be loaded, the factory falls back to the cascade and says why in `engine.notice`,
which the app and the CLI show; the cascade itself failing is an error (EngineLoadError).

The embedded manifest (assets/models/manifest.json), paths relative to that folder:

    {"format_version": 1,
     "base_model": {"file": null | "x.gguf", "source": "bundled:llm", "sha256": "..."},
     "projector":  {"file": "mmproj.gguf", "sha256": "..."},
     "adapter":    null | {"file": "adapter.gguf", "sha256": "...", "scale": 1.0},
     "labels": [...], "prompt_format_version": 1}

A `base_model` with no file means the bundled SmolLM2 GGUF. Checksums are verified before load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from core.bundled import ASSETS, require_bundled
from core.engines.base import Engine
from core.settings import Settings

EMBEDDED_DIR = ASSETS / "models"
MANIFEST_NAME = "manifest.json"


class EngineLoadError(RuntimeError):
    """No engine could be built; the message says how to fix it."""


@dataclass(frozen=True)
class AudioModelFiles:
    """The files an AudioLLMEngine loads, and where they were found."""

    llm: Path
    mmproj: Path
    lora: Path | None
    lora_scale: float = 1.0
    source: str = "settings"  # "settings" | "embedded"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path = EMBEDDED_DIR) -> AudioModelFiles | None:
    """The embedded audio model described by `folder`/manifest.json, or None when there is none.

    Raises EngineLoadError when the manifest exists but is unreadable or a checksum differs.
    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        projector = spec["projector"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EngineLoadError(f"cannot read {path}: {exc}; re-run `cogaudio-train export` or delete the folder") from exc
    base = spec.get("base_model") or {}
    llm = folder / base["file"] if base.get("file") else require_bundled("llm")
    adapter = spec.get("adapter") or None
    files = AudioModelFiles(
        llm=llm,
        mmproj=folder / projector["file"],
        lora=folder / adapter["file"] if adapter else None,
        lora_scale=float(adapter.get("scale", 1.0)) if adapter else 1.0,
        source="embedded",
    )
    for entry, file in ((base, llm), (projector, files.mmproj), (adapter or {}, files.lora)):
        expected = entry.get("sha256") if entry else None
        if file is None or not expected:
            continue
        if not file.is_file():
            raise EngineLoadError(f"{file} named in {path} is missing; re-run `cogaudio-train export`")
        actual = sha256_file(file)
        if actual != expected:
            raise EngineLoadError(
                f"checksum mismatch for {file} (manifest {expected[:12]}..., file {actual[:12]}...); "
                "the file is damaged or was replaced: re-run `cogaudio-train export`"
            )
    return files


def audio_model_files(settings: Settings, embedded_dir: Path = EMBEDDED_DIR) -> AudioModelFiles | None:
    """Projector configured in settings first, else the embedded default, else None."""
    eng = settings.engine
    if eng.mmproj_path is not None:
        llm = Path(eng.llm_path) if eng.llm_path else require_bundled("llm")
        return AudioModelFiles(llm, Path(eng.mmproj_path), Path(eng.lora_path) if eng.lora_path else None)
    files = read_manifest(embedded_dir)
    if files is not None and (eng.llm_path or eng.lora_path):
        # explicit settings override the manifest's base model / adapter
        files = AudioModelFiles(
            Path(eng.llm_path) if eng.llm_path else files.llm,
            files.mmproj,
            Path(eng.lora_path) if eng.lora_path else files.lora,
            files.lora_scale,
            files.source,
        )
    return files


def create_engine(settings: Settings, kind: str | None = None, embedded_dir: Path = EMBEDDED_DIR) -> Engine:
    """Build the engine `kind` ("auto", "cascade", "audio-llm"; default settings.engine.kind).

    The returned engine has `.notice`: None, or one sentence on why the cascade runs instead
    of the audio model that was asked for or expected.
    """
    kind = kind or settings.engine.kind
    if kind not in ("auto", "cascade", "audio-llm"):
        raise EngineLoadError(f"unknown engine {kind!r}; use auto, cascade or audio-llm")
    notice: str | None = None
    if kind != "cascade":
        try:
            files = audio_model_files(settings, embedded_dir)
            if files is None:
                if kind == "audio-llm":
                    notice = (
                        "no audio projector is configured or embedded (set engine.mmproj_path or run "
                        "`cogaudio-train export`); using the cascade engine instead"
                    )
            else:
                from core.engines.audio_llm import AudioLLMEngine

                return AudioLLMEngine(settings, files.llm, files.mmproj, files.lora, files.lora_scale)
        except Exception as exc:  # any load failure: the cascade keeps the app usable
            notice = f"the audio model could not be loaded ({exc}); using the cascade engine instead"
    from core.engines.cascade import CascadeEngine

    try:
        engine = CascadeEngine(settings)
    except Exception as exc:
        raise EngineLoadError(f"the cascade engine could not be loaded: {exc}") from exc
    engine.notice = notice
    return engine
