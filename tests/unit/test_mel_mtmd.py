"""Log-mel chunks and audio-token counts follow llama.cpp mtmd's rules (mtmd-audio.cpp, clip.cpp)."""

from __future__ import annotations

import numpy as np
import pytest

from training.model.mel import FRAMES_PER_CHUNK, log_mel_chunks, n_audio_tokens, n_chunks, tokens_per_chunk

SR = 16000


@pytest.mark.parametrize(("n_samples", "chunks"), [
    (1, 1), (SR, 1), (29 * SR, 1), (479_839, 1),  # n_len = (n + 480000) // 160 + 1 < 6000
    (479_840, 2), (30 * SR, 2), (59 * SR, 2), (60 * SR, 3),  # the incomplete tail chunk is dropped
])
def test_chunk_count_follows_mtmd_padding(n_samples, chunks):
    assert n_chunks(n_samples) == chunks


def test_tokens_per_chunk_for_the_stack_factors_llama_cpp_accepts():
    assert tokens_per_chunk(10) == 150  # 1500 encoder frames / 10
    assert tokens_per_chunk(12) == 125
    assert n_audio_tokens(4 * SR, 10) == 150
    assert n_audio_tokens(45 * SR, 10) == 300


@pytest.mark.parametrize("bad", [7, 8, 11, 13, 14])
def test_stack_factors_that_make_llama_cpp_abort_are_refused(bad):
    with pytest.raises(ValueError, match="use 10 or 12"):
        tokens_per_chunk(bad)


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
