"""Log-mel chunks follow llama.cpp mtmd's rules (mtmd-audio.cpp); token counts: test_audio_tokens.py."""

from __future__ import annotations

import numpy as np
import pytest

from core.models.audio_tokens import FRAMES_PER_CHUNK
from training.model.mel import log_mel_chunks

SR = 16000


def test_log_mel_chunks_shape_range_and_padding():
    t = np.arange(int(1.5 * SR)) / SR
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    mel = log_mel_chunks(x, n_mels=80)
    assert mel.shape == (1, 80, FRAMES_PER_CHUNK)
    top = mel.max()
    # whisper normalisation: clamp at max - 8 (log10), then (x + 4) / 4 -> a range of exactly 2
    assert mel.min() == pytest.approx(top - 2.0, abs=1e-5)
    tail = mel[0, :, 200:]  # after 1.5 s (150 frames) only the 30 s zero padding is left
    assert np.allclose(tail, top - 2.0, atol=1e-5)
    loud = mel[0, :, 10:140].mean(axis=1)
    peak_bin = int(loud.argmax())
    assert 5 <= peak_bin <= 15, "a 220 Hz tone lands in a low mel bin"


def test_log_mel_chunks_of_a_long_clip_split_into_30s_chunks():
    x = np.random.default_rng(0).normal(0, 0.05, size=31 * SR).astype(np.float32)
    assert log_mel_chunks(x, n_mels=80).shape == (2, 80, FRAMES_PER_CHUNK)


def test_loudness_survives_the_whisper_normalisation():
    t = np.arange(SR) / SR
    x = (0.05 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    quiet, loud = log_mel_chunks(x)[0], log_mel_chunks(4 * x)[0]
    # only the floor is relative to the clip's max: the tone's own bins rise by log10(16) / 4
    peak = int(quiet[:, 20:80].mean(axis=1).argmax())
    diff = loud[peak, 20:80].mean() - quiet[peak, 20:80].mean()
    assert diff == pytest.approx(np.log10(16) / 4, abs=0.01)
