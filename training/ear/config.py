"""Configuration of the ear's training (`cogaudio-train ear ...`, `cogaudio-train eval`).

One dataclass, every field with help text, read from YAML with `key=value` overrides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from training.ear.head_train import HeadConfig


@dataclass
class EarConfig:
    encoder: str = field(default="bundled:asr", metadata={"help": (
        "CTranslate2 Whisper folder whose encoder the ear reads; 'bundled:asr' = faster-whisper tiny.en, the "
        "transcript's own model, so the app runs one encoder pass for both")})
    encoder_name: str = field(default="whisper-tiny.en", metadata={"help": "name written into the head file"})
    compute_type: str = field(default="int8", metadata={"help": "CTranslate2 compute type (the app's asr.compute_type)"})
    stem_layers: int = field(default=0, metadata={"help": (
        "0: the head reads the encoder's last layer (the transcript's frames); n >= 1: the output of the encoder's "
        "first n layers, which the ear runs itself (core/ear/encoder_stem.py; weights in the head file). Emotion "
        "is clearer in the middle layers (docs/ear.md)")})
    stem_with_last_layer: bool = field(default=False, metadata={"help": (
        "with stem_layers: the head reads the last layer's pooled features (free: the transcript's pass) "
        "followed by the stem's")})
    extra_stems: list[str] = field(default_factory=list, metadata={"help": (
        "with stem_layers: more stems from other installed Whisper models, 'MODEL:LAYERS' (e.g. 'base:2': the "
        "first 2 layers of Whisper base, run by the ear over the same mel frames); their pooled vectors follow "
        "the first stem's (docs/ear.md: the probe that chose them)")})
    threads: int = field(default=2, metadata={"help": "encoder threads"})
    cache_dir: str = field(default="data/ear-cache", metadata={"help": "per-clip feature cache"})
    table: str = field(default="data/ear/table.npz", metadata={"help": "the feature table (built by `ear features`)"})
    lime: str | None = field(default="data/lime-tiny", metadata={"help": "LIME dataset folder (synthetic rows)"})
    corpora_manifest: str | None = field(default="data/corpora/manifest.jsonl", metadata={"help": (
        "real-corpus manifest from `cogaudio-train corpora prepare`; null = synthetic data only")})
    corpora: list[str] | None = field(default=None, metadata={"help": "use only these corpora of the manifest"})
    max_per_cell: int | None = field(default=None, metadata={"help": (
        "at most this many clips per (corpus, speaker, label) cell, seeded: balances a corpus of 2 speakers x "
        "400 clips against one of 38 speakers x 10, and bounds the encoder time on a small machine")})
    augment_copies: int = field(default=1, metadata={"help": "augmented copies of each real training clip"})
    augment_seed: int = 0
    out_dir: str = field(default="runs/ear", metadata={"help": "head, reports and plots"})
    head: HeadConfig = field(default_factory=HeadConfig)


def load_ear_config(path: str | Path | None, overrides: list[str] | None = None) -> EarConfig:
    from training.config_files import apply_overrides, read_yaml

    data = read_yaml(path, example="configs/ear.yaml") if path is not None else {}
    data = apply_overrides(data, overrides, example="head.C=0.1")
    head = data.pop("head", None) or {}
    known = {f.name for f in dataclasses.fields(EarConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown ear config field(s) {unknown}; known: {', '.join(sorted(known))}")
    hknown = {f.name for f in dataclasses.fields(HeadConfig)}
    if set(head) - hknown:
        raise ValueError(f"unknown head field(s) {sorted(set(head) - hknown)}; known: {', '.join(sorted(hknown))}")
    return EarConfig(**data, head=HeadConfig(**head))
