"""One typed settings object, loaded once and passed down; each stage takes only its section.

Settings persist as JSON under the user's config directory (platformdirs). Invalid values
are refused with a message naming the field, never silently replaced.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

APP_NAME = "cogaudio"
SCHEMA_VERSION = 1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class AudioSettings(_Section):
    input_device: str | int | None = Field(None, description="sounddevice input device (name or index); None = default")
    output_device: str | int | None = Field(None, description="sounddevice output device; None = default")
    frame_ms: int = Field(32, ge=10, le=100, description="capture block length")


class VadSettings(_Section):
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Silero speech probability that starts speech")
    min_silence_ms: int = Field(
        500, ge=100, le=3000, description="the fixed silence that ends a turn when turn.smart_end is off (the baseline)")
    pre_roll_ms: int = Field(300, ge=0, le=2000, description="audio kept from before speech start")
    min_speech_ms: int = Field(250, ge=50, le=2000, description="shorter bursts are ignored")
    max_turn_s: float = Field(
        30.0, gt=1.0, le=120.0, description="of a longer turn (a monologue) only its last max_turn_s are answered")
    # 100 ms (three 32 ms VAD windows): measured with `cogaudio bench latency`, 150 -> 100 ms
    # takes ~60 ms off the reply; a pause inside a sentence that resumes only costs a retraction.
    early_start_ms: int = Field(
        100, ge=0, le=3000,
        description="start answering after this much silence, before the turn end is certain (0 = off); "
        "the reply is only played once min_silence_ms confirms the end, and is dropped if speech resumes",
    )


class TurnSettings(_Section):
    """When the person's turn is over (core.conversation.end_of_turn) and when they interrupt."""

    smart_end: bool = Field(
        True, description="end a turn from the words so far, the voice of the last words and the silence "
        "(off: a fixed silence, vad.min_silence_ms)")
    # off by default: on held-out LIME rows it gave 8.3 % cut-offs at 320 ms median delay against 11.7 % at
    # 736 ms without it, but in the app its second llama.cpp context cost +300 MB peak memory and +140 ms median
    # to first audio on this 2-core CPU (`cogaudio bench latency`, quiet, back to back; docs/turn-taking)
    lm_completion: bool = Field(
        False, description="the words also count through the bundled language model's probability of the "
        "turn ending after them (core.conversation.lm_completion); falls back to the words alone without it")
    # 300 ms: people pause 250-300 ms between two sentences of one turn ("Hello there. I just...")
    min_wait_ms: int = Field(300, ge=100, le=2000, description="silence after a turn that sounds finished")
    max_wait_ms: int = Field(1200, ge=300, le=5000, description="silence after which a turn ends whatever its words")
    patience: float = Field(
        1.6, ge=1.0, le=3.0, description="waits are this many times longer when the person sounds sad, fearful "
        "or hesitant")
    agitated_patience: float = Field(
        1.4, ge=1.0, le=3.0, description="waits are this many times longer when the person sounds agitated "
        "(so that we do not talk over them)")
    backchannel: bool = Field(
        True, description="when a sad, fearful or hesitant person pauses long, say 'mm' and keep listening "
        "instead of taking the turn")
    backchannel_max_ms: int = Field(
        1000, ge=0, le=3000, description="during a reply, a sound of the person's shorter than this whose words "
        "are a backchannel ('mm-hm', 'yeah') or none (a cough) does not stop it (0: any speech stops it)")

    @model_validator(mode="after")
    def _waits_in_order(self) -> TurnSettings:
        # the policy waits min_wait_ms for a finished turn and max_wait_ms for an unfinished one;
        # the other way round it would answer unfinished turns sooner than finished ones
        if self.min_wait_ms > self.max_wait_ms:
            raise ValueError(f"min_wait_ms ({self.min_wait_ms}) must not be longer than max_wait_ms "
                             f"({self.max_wait_ms}); shorten the first or lengthen the second")
        return self


class DecodingSettings(_Section):
    """How the language model picks each token (core.engines.decoding: both engines and training's
    torch evaluation). The defaults were chosen on the shipped pair (docs/training.md section 9)."""

    repeat_penalty: float = Field(1.1, ge=1.0, le=2.0, description="divide the odds of a token already in the "
                                  "last repeat_last_n tokens by this (1.0 = off)")
    repeat_last_n: int = Field(64, ge=0, le=4096, description="how many recent tokens the penalties look at (0 = off)")
    frequency_penalty: float = Field(0.0, ge=0.0, le=2.0, description="lower a token's logit by this per earlier use")
    presence_penalty: float = Field(0.0, ge=0.0, le=2.0, description="lower a used token's logit by this once")
    # DRY on with llama.cpp's recommended values: a looping model stops looping (tests/integration/
    # test_decoding.py); on the shipped pair, whose replies do not loop, it changed none of 35 greedy replies
    dry_multiplier: float = Field(0.8, ge=0.0, le=100.0, description="DRY: penalise a token that would repeat a "
                                  "sequence of the recent text (0 = off; the torch path bans such n-grams instead)")
    dry_base: float = Field(1.75, ge=1.0, le=4.0, description="DRY: the penalty grows by this factor per repeated token")
    dry_allowed_length: int = Field(2, ge=1, le=16, description="DRY: repeats up to this many tokens are free")
    top_k: int = Field(40, ge=1, le=1000, description="when sampling (temperature > 0): the k likeliest tokens only")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="when sampling: the smallest set with this probability")
    seed: int = Field(0xC06A, ge=0, le=2**32 - 1, description="when sampling: the seed of each turn (same turn, same reply)")


class EngineSettings(_Section):
    kind: Literal["auto", "cascade", "audio-llm"] = "auto"
    llm_path: Path | None = Field(None, description="GGUF language model; None = bundled SmolLM2")
    mmproj_path: Path | None = Field(None, description="audio projector GGUF; None = the embedded default")
    lora_path: Path | None = Field(None, description="LoRA adapter GGUF applied on top of the LLM")
    gpu_offload: Literal["auto", "cpu"] = "auto"
    n_threads: int | None = Field(None, ge=1, le=256, description="generation threads; None = all cores but one")
    n_threads_batch: int | None = Field(None, ge=1, le=256, description="prompt-evaluation threads; None = all cores")
    n_ctx: int = Field(2048, ge=512, le=131072)
    max_tokens: int = Field(256, ge=16, le=4096)
    temperature: float = Field(0.3, ge=0.0, le=2.0)
    decoding: DecodingSettings = DecodingSettings()
    # Unset by default: the audio model's manifest says what it was trained for, else off (a
    # spoken reply should start fast; the four steps cost the first sentence ~1 s on a 2-core
    # CPU; the embedded audio model has internalised them). Precedence: core.engines.options.
    explicit_reasoning: bool | None = Field(
        None, description="ask the model for the four EIPS steps before replying (shown with the reply; slower); "
        "None = what the audio model was trained for, else off"
    )
    persona: str | None = Field(None, description="system prompt persona; None = the default")
    # On by default: llama.cpp runs an adapter as extra ops per layer, which on a 2-core CPU
    # cost ~35 % of the time to the first sentence (core.models.adapter_merge has the numbers).
    merge_adapter: bool = Field(
        True, description="fold the LoRA adapter into a cached copy of the language model once (~5 s, ~145 MB "
        "in the cache dir) instead of applying it on top at every step; the replies are the same"
    )
    transcribe: bool = Field(
        True, description="audio-llm engine: also transcribe with faster-whisper (session record, safety check)"
    )


class AsrSettings(_Section):
    model_dir: Path | None = Field(None, description="faster-whisper model folder; None = bundled tiny.en")
    compute_type: str = "int8"
    language: str | None = "en"
    short_context: bool = Field(
        True,
        description="encode a short turn with a short audio window instead of Whisper's padded 30 s "
        "(about 4x less encoder work; word timestamps are then not computed)",
    )


    # On by default: measured with `cogaudio bench latency`, see core.speech.asr_prefetch.
    prefetch: bool = Field(
        True, description="start transcribing at the first silent moment after speech, before the turn is "
        "known to be over (costs a discarded transcription for pauses inside a sentence)"
    )


class EarSettings(_Section):
    """How the voice's emotion is heard (core.ear): the head and the speaker's baseline."""

    enabled: bool = Field(True, description="read the emotion with the calibrated ear (off: the model's own guess)")
    head_path: Path | None = Field(None, description="emotion-head.gguf; None = the embedded one")
    adapt_to_speaker: bool = Field(
        True, description="hear each turn against the statistics of your own voice so far (never audio)")
    remember_voice: bool = Field(
        True, description="keep those statistics in your profile between sessions (Settings can reset them)")
    enrol_offered: bool = Field(
        False, description="the app has offered, once, to read a calm sentence for the voice profile")


class TtsSettings(_Section):
    voice_path: Path | None = Field(None, description="Piper .onnx voice; None = bundled en_US joe")
    speaking_rate: float = Field(1.0, ge=0.5, le=2.0, description="1.0 = the voice's own pace")


class SafetySettings(_Section):
    region: str = Field("international", description="key into assets/safety/resources.json")


class Settings(_Section):
    schema_version: int = SCHEMA_VERSION
    audio: AudioSettings = AudioSettings()
    vad: VadSettings = VadSettings()
    turn: TurnSettings = TurnSettings()
    engine: EngineSettings = EngineSettings()
    asr: AsrSettings = AsrSettings()
    ear: EarSettings = EarSettings()
    tts: TtsSettings = TtsSettings()
    safety: SafetySettings = SafetySettings()
    data_dir: Path | None = Field(None, description="sessions and downloaded models; None = platform data dir")
    cache_dir: Path | None = Field(None, description="derived files that can be rebuilt (merged models); None = platform cache dir")
    theme: Literal["system", "light", "dark"] = "system"
    font_scale: float = Field(1.0, ge=0.75, le=2.0)

    def resolved_data_dir(self) -> Path:
        return self.data_dir or Path(platformdirs.user_data_dir(APP_NAME))

    def voice_profile_path(self) -> Path:
        return self.resolved_data_dir() / "profile" / "voice-baseline.json"

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or Path(platformdirs.user_cache_dir(APP_NAME))


class SettingsError(ValueError):
    """Settings could not be loaded or were invalid; the message names the field and the fix."""


def default_settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings from `path` (default: the user config file); defaults when it does not exist."""
    path = path or default_settings_path()
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bytes that are not UTF-8
        raise SettingsError(f"cannot read settings file {path}: {exc}. Fix or delete it to use defaults.") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"settings file {path} holds a JSON {type(data).__name__}, not an object of "
                            "settings. Fix or delete it to use defaults.")
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise SettingsError(f"invalid settings in {path}: schema_version must be a whole number, not {version!r}.")
    if version > SCHEMA_VERSION:
        raise SettingsError(f"{path} was written by a newer CogAudio (schema {version}); please update the app.")
    data["schema_version"] = SCHEMA_VERSION  # older schemas migrate forward here
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(f"invalid settings in {path}: {_explain(exc)}") from exc


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves a half-written file."""
    path = path or default_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(settings.model_dump_json(indent=2))
    os.replace(tmp, path)
    return path


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
