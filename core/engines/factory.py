"""Choosing and building the engine: `create_engine(settings, kind)`.

kind "auto" picks the audio language model when a projector is configured
(settings.engine.mmproj_path) or an embedded default is shipped under assets/models/
(manifest.json, written by `cogaudio-train export`), else the cascade. When the audio model
cannot be loaded, the factory falls back to the cascade and says why in `engine.notice`,
which the app and the CLI show; the cascade itself failing is an error (EngineLoadError).

The embedded manifest (assets/models/manifest.json) is defined, read and checked (files,
sha256, projector width and stack factor, adapter architecture) by core.models.manifest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from core.models.bundled import require_bundled
from core.engines.base import Engine
from core.models.manifest import DEFAULT_MANIFEST, resolve_manifest
from core.settings import Settings

log = logging.getLogger(__name__)


class EngineLoadError(RuntimeError):
    """No engine could be built; the message says how to fix it."""


@dataclass(frozen=True)
class AudioModelFiles:
    """The files an AudioLLMEngine loads, and where they were found."""

    llm: Path
    mmproj: Path
    lora: Path | None
    lora_scale: float = 1.0
    explicit_reasoning: bool | None = None  # None: settings.engine.explicit_reasoning
    source: str = "settings"  # "settings" | "embedded"


def audio_model_files(settings: Settings, manifest: Path = DEFAULT_MANIFEST) -> AudioModelFiles | None:
    """Projector configured in settings first, else the embedded default, else None.

    Raises ModelAssetError when the embedded manifest exists but is broken (bad checksum...).
    """
    eng = settings.engine
    if eng.mmproj_path is not None:
        llm = Path(eng.llm_path) if eng.llm_path else require_bundled("llm")
        return AudioModelFiles(llm, Path(eng.mmproj_path), Path(eng.lora_path) if eng.lora_path else None)
    if not Path(manifest).is_file():
        return None
    found = resolve_manifest(manifest)
    return AudioModelFiles(
        Path(eng.llm_path) if eng.llm_path else found.llm,  # explicit settings override the manifest
        found.projector,
        Path(eng.lora_path) if eng.lora_path else found.adapter,
        found.adapter_scale,
        found.manifest.explicit_reasoning,
        "embedded",
    )


def _merged_engine(settings: Settings, files: AudioModelFiles, asr) -> Engine | None:
    """The audio engine on a cached copy of the base model with the adapter folded in
    (core.models.adapter_merge: ~35 % less time to the first sentence than the adapter on top), or
    None when there is no adapter, merging is off, or the merge cannot be made or loaded;
    the adapter is then applied on top, which gives the same replies, only slower."""
    if files.lora is None or not settings.engine.merge_adapter:
        return None
    from core.models.adapter_merge import merged_model
    from core.engines.audio_llm import AudioLLMEngine
    from core.models.manifest import ModelAssetError, trust_llm

    try:
        merged = merged_model(files.llm, files.lora, settings.resolved_cache_dir() / "merged", files.lora_scale)
    except Exception as exc:  # bad adapter, read-only cache, full disk: the adapter on top still works
        log.warning("could not merge %s into %s (%s); applying it on top instead", files.lora.name, files.llm.name, exc)
        return None
    trust_llm(merged.path, merged.arch, merged.n_embd)
    if merged.built:
        log.info("merged %s into %s in %.1f s: %s", files.lora.name, files.llm.name, merged.seconds, merged.path)
    try:
        engine = AudioLLMEngine(settings, merged.path, files.mmproj, None, 1.0, files.explicit_reasoning, asr)
    except ModelAssetError as exc:  # the cached file went bad after it was written: drop it
        log.warning("the merged model %s could not be loaded (%s); removing it", merged.path, exc)
        merged.path.unlink(missing_ok=True)
        return None
    engine.model = f"{files.llm.name} + {files.lora.name} (merged) + {files.mmproj.name}"
    return engine


def create_engine(settings: Settings, kind: str | None = None, manifest: Path = DEFAULT_MANIFEST) -> Engine:
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
            files = audio_model_files(settings, manifest)
            if files is None:
                if kind == "audio-llm":
                    notice = (
                        "no audio projector is configured or embedded (set engine.mmproj_path or run "
                        "`cogaudio-train export`); using the cascade engine instead"
                    )
            else:
                from core.speech.asr import SpeechRecognizer
                from core.engines.audio_llm import AudioLLMEngine

                asr = SpeechRecognizer(settings.asr, settings.engine.n_threads) if settings.engine.transcribe else None
                merged = _merged_engine(settings, files, asr)
                if merged is not None:
                    return merged
                return AudioLLMEngine(
                    settings, files.llm, files.mmproj, files.lora, files.lora_scale, files.explicit_reasoning, asr
                )
        except Exception as exc:  # any load failure: the cascade keeps the app usable
            notice = f"the audio model could not be loaded ({exc}); using the cascade engine instead"
    from core.engines.cascade import CascadeEngine

    try:
        engine = CascadeEngine(settings)
    except Exception as exc:
        raise EngineLoadError(f"the cascade engine could not be loaded: {exc}") from exc
    engine.notice = notice
    return engine
