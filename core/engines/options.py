"""What an engine runs with: `EngineOptions`, resolved once from the settings and the manifest.

The engines never read `Settings` themselves: the factory (core.engines.factory) resolves one
`EngineOptions` per engine it builds and hands it over, so every value has one source and the
precedence below is applied in one place (docs/engines.md repeats it for users):

1. an explicit setting (settings.json, the app's Settings dialog, or a command-line flag that
   sets it, such as `--reasoning`);
2. for the audio language model, what its manifest says it was trained for
   (assets/models/manifest.json: `explicit_reasoning`, the adapter `scale`);
3. the built-in default (a direct reply, no EIPS steps).

Model files follow the same order: `engine.mmproj_path` set in the settings names the audio
model (with `engine.llm_path` / `engine.lora_path`, or the bundled LLM); otherwise the
embedded manifest names all three, and `engine.llm_path` / `engine.lora_path` still override
its base model and adapter.

`engine_inputs(settings)` is the part of the settings an engine is built from: a change to
anything else (VAD, turn-taking, audio devices, the voice, safety, theme) does not reload it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.models.bundled import require_bundled
from core.models.manifest import DEFAULT_MANIFEST, ModelAssetError, load_manifest, resolve_manifest
from core.settings import AsrSettings, EngineSettings, Settings

Source = Literal["settings", "manifest", "default"]


@dataclass(frozen=True)
class AudioModelFiles:
    """The files an AudioLLMEngine loads, and where they were found."""

    llm: Path
    mmproj: Path
    lora: Path | None
    lora_scale: float = 1.0
    explicit_reasoning: bool | None = None  # what the model was trained for (manifest); None: unknown
    source: Literal["settings", "embedded"] = "settings"


@dataclass(frozen=True)
class EngineOptions:
    """The effective engine configuration: `engine.explicit_reasoning` is always a bool here."""

    engine: EngineSettings
    asr: AsrSettings
    cache_dir: Path
    reasoning_source: Source = "default"

    @property
    def explicit_reasoning(self) -> bool:
        return bool(self.engine.explicit_reasoning)


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


def resolve_options(settings: Settings, audio_model: AudioModelFiles | None = None) -> EngineOptions:
    """The options of one engine: the cascade (`audio_model` None) or the audio model of those files."""
    reasoning, source = _reasoning(settings.engine.explicit_reasoning, audio_model.explicit_reasoning if audio_model else None)
    return EngineOptions(
        engine=settings.engine.model_copy(update={"explicit_reasoning": reasoning}),
        asr=settings.asr,
        cache_dir=settings.resolved_cache_dir(),
        reasoning_source=source,
    )


def expected_reasoning(settings: Settings, manifest: Path = DEFAULT_MANIFEST) -> tuple[bool, Source]:
    """The reasoning value the engine `settings` ask for would run with, without loading it
    (for the Settings dialog before a model is loaded): the manifest is read, its files are
    not checked. When the audio model then fails to load, the cascade runs with the default."""
    trained = None
    if settings.engine.kind != "cascade" and settings.engine.mmproj_path is None and Path(manifest).is_file():
        try:
            trained = load_manifest(Path(manifest)).explicit_reasoning
        except ModelAssetError:
            trained = None
    return _reasoning(settings.engine.explicit_reasoning, trained)


def engine_inputs(settings: Settings) -> tuple[EngineSettings, AsrSettings, Path]:
    """What an engine is built from; equal inputs mean the loaded engine can be kept."""
    return settings.engine, settings.asr, settings.resolved_cache_dir()


def _reasoning(setting: bool | None, trained: bool | None) -> tuple[bool, Source]:
    if setting is not None:
        return setting, "settings"
    if trained is not None:
        return trained, "manifest"
    return False, "default"
