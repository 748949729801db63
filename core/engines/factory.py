"""Choosing and building the engine: `create_engine(settings, kind)`.

kind "auto" picks the audio language model when a projector is configured
(settings.engine.mmproj_path) or an embedded default is shipped under assets/models/
(manifest.json, written by `cogaudio-train export`), else the cascade. When the audio model
cannot be loaded, the factory falls back to the cascade and says why in `engine.notice`,
which the app and the CLI show; the cascade itself failing is an error (EngineLoadError).

Each engine gets one `EngineOptions` (core.engines.options), resolved here from the
settings and the manifest with the precedence written there and in docs/engines.md; the
embedded manifest itself is defined, read and checked by core.models.manifest.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.engines.base import Engine
from core.engines.options import AudioModelFiles, EngineOptions, audio_model_files, resolve_options
from core.models.manifest import DEFAULT_MANIFEST
from core.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["AudioModelFiles", "EngineLoadError", "audio_model_files", "create_engine"]


class EngineLoadError(RuntimeError):
    """No engine could be built; the message says how to fix it."""


def _merged_engine(options: EngineOptions, files: AudioModelFiles, asr) -> Engine | None:
    """The audio engine on a cached copy of the base model with the adapter folded in
    (core.models.adapter_merge: ~35 % less time to the first sentence than the adapter on top), or
    None when there is no adapter, merging is off, or the merge cannot be made or loaded;
    the adapter is then applied on top, which gives the same replies, only slower."""
    if files.lora is None or not options.engine.merge_adapter:
        return None
    from core.engines.audio_llm import AudioLLMEngine
    from core.models.adapter_merge import merged_model
    from core.models.manifest import ModelAssetError, trust_llm

    try:
        merged = merged_model(files.llm, files.lora, options.cache_dir / "merged", files.lora_scale)
    except Exception as exc:  # bad adapter, read-only cache, full disk: the adapter on top still works
        log.warning("could not merge %s into %s (%s); applying it on top instead", files.lora.name, files.llm.name, exc)
        return None
    trust_llm(merged.path, merged.arch, merged.n_embd)
    if merged.built:
        log.info("merged %s into %s in %.1f s: %s", files.lora.name, files.llm.name, merged.seconds, merged.path)
    try:
        engine = AudioLLMEngine(options, merged.path, files.mmproj, None, 1.0, asr)
    except ModelAssetError as exc:  # the cached file went bad after it was written: drop it
        log.warning("the merged model %s could not be loaded (%s); removing it", merged.path, exc)
        merged.path.unlink(missing_ok=True)
        return None
    engine.model = f"{files.llm.name} + {files.lora.name} (merged) + {files.mmproj.name}"
    return engine


def create_engine(settings: Settings, kind: str | None = None, manifest: Path = DEFAULT_MANIFEST) -> Engine:
    """Build the engine `kind` (see `_create_engine`) and give it the calibrated ear."""
    engine = _create_engine(settings, kind, manifest)
    attach_ear(engine, settings)
    return engine


def attach_ear(engine: Engine, settings: Settings) -> None:
    """The ear (core.ear) reads the frames of the engine's speech recogniser; it is attached when
    settings.ear asks for it and its head was trained on that recogniser's encoder. Otherwise the
    engine perceives as before and `engine.ear_notice` says why."""
    from core.ear.head import HeadError
    from core.ear.listener import EarListener

    engine.ear, engine.ear_notice = None, None
    ear = settings.ear
    if not ear.enabled or engine.asr is None:
        return
    try:
        engine.ear = EarListener.load(ear.head_path, engine.asr.encoder_name,
                                      settings.voice_profile_path() if ear.remember_voice else None, ear.adapt_to_speaker)
    except HeadError as exc:
        log.warning("no calibrated ear: %s", exc)
        engine.ear_notice = str(exc)


def _create_engine(settings: Settings, kind: str | None = None, manifest: Path = DEFAULT_MANIFEST) -> Engine:
    """Build the engine `kind` ("auto", "cascade", "audio-llm"; default settings.engine.kind).

    The returned engine has `.notice`: None, or one sentence on why the cascade runs instead
    of the audio model that was asked for or expected; and `.options`, what it runs with.
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
                from core.engines.audio_llm import AudioLLMEngine
                from core.speech.asr import SpeechRecognizer

                options = resolve_options(settings, files)
                asr = SpeechRecognizer(options.asr, options.engine.n_threads) if options.engine.transcribe else None
                merged = _merged_engine(options, files, asr)
                if merged is not None:
                    return merged
                return AudioLLMEngine(options, files.llm, files.mmproj, files.lora, files.lora_scale, asr)
        except Exception as exc:  # any load failure: the cascade keeps the app usable
            notice = f"the audio model could not be loaded ({exc}); using the cascade engine instead"
    from core.engines.cascade import CascadeEngine

    try:
        engine = CascadeEngine(resolve_options(settings))
    except Exception as exc:
        raise EngineLoadError(f"the cascade engine could not be loaded: {exc}") from exc
    engine.notice = notice
    return engine
