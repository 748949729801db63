"""The LIME build configuration: one pydantic model parsed once from YAML.

Every field has help text (the `description`) so the YAML files under configs/ read as
documentation of the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from core.audio.pcm import SAMPLE_RATE
from core.emotion.labels import EMOTIONS, INTENSITIES
from training.config_files import read_yaml, resolve_from

DATA_DIR = Path(__file__).resolve().parent / "data"


class VoiceConfig(BaseModel):
    """One voice: a base TTS engine plus an optional timbre shift (a synthetic variant)."""

    name: str = Field(description="Unique voice id stored in every row.")
    engine: Literal["piper", "espeak", "parler"] = Field(description="Base TTS engine for the neutral rendering.")
    model: str = Field("bundled", description="Piper .onnx path ('bundled' = core.models.bundled 'tts'), espeak-ng voice (e.g. 'en-us+f3') or Parler speaker name.")
    formant_shift: float = Field(1.0, description="Praat 'Change gender' formant-shift ratio (1.0 = none).")
    pitch_shift: float = Field(1.0, description="Median-pitch ratio applied with the formant shift (1.0 = none).")
    length_scale: float = Field(1.0, description="Base speaking-rate of the neutral rendering (Piper length_scale, espeak words/min derived).")
    test_only: bool = Field(False, description="Held out: renders test-split texts only and appears in no other split.")

    @property
    def synthetic_variant(self) -> bool:
        return self.formant_shift != 1.0 or self.pitch_shift != 1.0


class FilterConfig(BaseModel):
    """The semantic-decoupling filter: texts whose words carry emotion are dropped."""

    vader_threshold: float = Field(0.05, description="Drop a text when |VADER compound| exceeds this.")
    nrc_max_emotion_words: int = Field(0, description="Drop a text with more NRC emotion words than this (anger, fear, joy, sadness, disgust, surprise; NRC's broad 'trust', 'anticipation', 'positive', 'negative' are not counted).")
    nrc_ignore: list[str] = Field(default_factory=list, description="Words the NRC lexicon tags but that carry no emotion in everyday use.")


class CorpusConfig(BaseModel):
    kind: Literal["esd", "crema-d", "ravdess"]
    path: Path = Field(description="Root folder of the corpus as distributed.")
    language: str = Field("en", description="ESD: keep only speakers of this language ('en' = 0011-0020, 'zh' = 0001-0010, 'all').")
    limit: int | None = Field(None, description="Ingest at most this many files (after sorting), for tiny builds.")


class LimeConfig(BaseModel):
    seed: int = Field(0, description="Seed for every random choice; the same seed gives the same dataset.")
    backend: Literal["piper+prosody", "parler"] = Field("piper+prosody", description="Rendering backend (see training/lime/backends.py).")
    sample_rate: int = Field(SAMPLE_RATE, description="Rate of the stored audio.")
    text_pool: Path = Field(DATA_DIR / "pool.txt", description="One sentence per line; '#' starts a comment.")
    conflict_texts: Path = Field(DATA_DIR / "conflict.txt", description="'emotion<TAB>sentence' lines with emotional words for conflict rows.")
    max_texts: int | None = Field(None, description="Keep at most this many texts after filtering (sorted by seed hash).")
    max_conflict_texts: int | None = Field(None, description="Use at most this many conflict texts (sorted by seed hash).")
    emotions: list[str] = Field(default_factory=lambda: list(EMOTIONS))
    intensities: list[str] = Field(default_factory=lambda: list(INTENSITIES))
    voices: list[VoiceConfig] = Field(default_factory=list, description="Synthetic voices; none = corpora only.")
    switch_rows_per_text: int = Field(2, description="Rows per (text, voice) whose emotion changes mid-utterance.")
    conflict_rows_per_text: int = Field(2, description="Rows per (conflict text, voice) with the voice in another emotion.")
    split_ratios: dict[str, float] = Field(default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1})
    workers: int = Field(1, description="Worker processes (multiprocessing pool).")
    align: Literal["whisper", "even"] = Field("whisper", description="Word timestamps: faster-whisper (bundled tiny.en) on the neutral rendering, or even spacing (tests only).")
    asr_model: str = Field("bundled", description="faster-whisper model path or name ('bundled' = core.models.bundled 'asr').")
    filter: FilterConfig = Field(default_factory=FilterConfig)
    corpora: list[CorpusConfig] = Field(default_factory=list)
    parler_model: str = Field("parler-tts/parler-tts-mini-v1", description="Hugging Face id of the Parler-TTS model (backend 'parler').")
    device: str = Field("cpu", description="Torch device for GPU backends.")

    @field_validator("emotions")
    @classmethod
    def _known_emotions(cls, value: list[str]) -> list[str]:
        bad = [e for e in value if e not in EMOTIONS]
        if bad:
            raise ValueError(f"unknown emotions {bad}; use names from core.emotion.labels.EMOTIONS")
        return value

    @field_validator("voices")
    @classmethod
    def _voices_unique(cls, value: list[VoiceConfig]) -> list[VoiceConfig]:
        names = [v.name for v in value]
        if len(set(names)) != len(names):
            raise ValueError(f"voice names must be unique: {names}")
        return value


def load_config(path: Path) -> LimeConfig:
    """Parse a YAML config; relative paths resolve against the config file's folder."""
    raw = read_yaml(path, "configs/lime-tiny.yaml")
    cfg = LimeConfig.model_validate(raw)
    base = Path(path).resolve().parent
    for attr in ("text_pool", "conflict_texts"):
        if attr in raw:
            setattr(cfg, attr, resolve_from(base, getattr(cfg, attr)))
    for corpus in cfg.corpora:
        corpus.path = resolve_from(base, corpus.path)
    return cfg
