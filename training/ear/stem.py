"""The encoder stem the ear reads (core/ear/encoder_stem.py), built from a CTranslate2 Whisper model.

The weights are rounded to float16 here, as the head file stores them, so the features that
training caches are the ones the app computes from the shipped file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.ear.encoder_stem import LAYER_KEYS, STEM_KEYS, EncoderStem


def load_stem(model_dir: Path | str, n_layers: int, source: str = "") -> EncoderStem:
    """The first `n_layers` encoder layers of the CTranslate2 Whisper model in `model_dir` (or an
    installed one: 'ct2:base'); `source` names it in the head ("" = the transcript's encoder)."""
    from training.model.whisper_ct2 import encoder_state_from_ct2, locate_ct2_whisper, read_ct2_encoder

    config, sd = encoder_state_from_ct2(read_ct2_encoder(locate_ct2_whisper(str(model_dir))))
    if not 1 <= n_layers <= config["encoder_layers"]:
        raise ValueError(f"stem_layers must be 1..{config['encoder_layers']} for {model_dir}, not {n_layers}")
    keep = list(STEM_KEYS) + [f"layers.{i}.{k}" for i in range(n_layers) for k in LAYER_KEYS]
    tensors = {k: np.asarray(sd[k], dtype=np.float16).astype(np.float32) for k in keep}
    stem = EncoderStem(tensors, n_layers, int(config["encoder_attention_heads"]), source)
    stem.validate()
    return stem


def stem_fingerprint(n_layers: int, source: str = "") -> str:
    return f"stem-{source + '-' if source else ''}layer{n_layers}-f16-speech-window"
