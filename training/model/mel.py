"""Whisper log-mel features and audio-token counts exactly as llama.cpp's mtmd computes them.

The run-time engine feeds audio to the model through mtmd (tools/mtmd/mtmd-audio.cpp,
`mtmd_audio_preprocessor_whisper`), so training must see the same numbers:

* padding: 200 samples of reflection at the start, then the audio, then 30 s + 200 samples
  of zeros (not the "center" padding of torch.stft or of transformers' extractor);
* frames: periodic Hann window of 400, hop 160, power spectrum, Slaney mel filters with
  Slaney area norm, log10(max(mel, 2**-24)) (mtmd's floor, not whisper's 1e-10);
* normalisation over the whole padded spectrogram: clamp at max - 8, then (x + 4) / 4;
* chunking: 3000-frame chunks, and the last incomplete chunk is dropped (it is always
  padding), so a 4 s clip gives one chunk and a 30 s clip gives two.

Every chunk then becomes 1500 encoder frames and, for the ultravox projector, ceil(1500 /
stack) embeddings. mtmd counts tokens by its own rule (clip_n_output_tokens); where the two
disagree (stack 7, 8, 11, 13, 14) llama.cpp aborts, so those stack factors are refused here.

Written by hand with numpy because no library reproduces mtmd's padding and floor; the mel
filter bank itself comes from transformers' audio_utils (same Slaney formula as mtmd).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400
HOP = 160
CHUNK_SECONDS = 30
FRAMES_PER_CHUNK = 3000  # mel frames per 30 s chunk
ENCODER_FRAMES_PER_CHUNK = 1500  # after the stride-2 conv of the Whisper encoder
MEL_FLOOR = 5.960464477539063e-08  # mtmd filter_params.mel_floor (2**-24)
AUDIO_MARKER = "<__media__>"  # mtmd_default_marker(): where the audio embeddings go


@lru_cache(maxsize=4)
def mel_filters(n_mels: int) -> np.ndarray:
    """(n_mels, 201) Slaney mel filter bank with Slaney area norm, as mtmd fills it."""
    from transformers.audio_utils import mel_filter_bank

    fb = mel_filter_bank(
        num_frequency_bins=N_FFT // 2 + 1, num_mel_filters=n_mels, min_frequency=0.0,
        max_frequency=SAMPLE_RATE / 2, sampling_rate=SAMPLE_RATE, norm="slaney", mel_scale="slaney",
    )
    return fb.T.astype(np.float32)


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    i = np.arange(N_FFT)
    return (0.5 * (1.0 - np.cos(2.0 * np.pi * i / N_FFT))).astype(np.float32)  # periodic


def n_mel_frames(n_samples: int) -> int:
    """Length of mtmd's full (padded) spectrogram for `n_samples` of audio."""
    n = max(n_samples, N_FFT // 2 + 1)
    return (n + SAMPLE_RATE * CHUNK_SECONDS) // HOP + 1


def n_chunks(n_samples: int) -> int:
    """How many 30 s chunks mtmd makes from `n_samples` (the incomplete tail is dropped)."""
    return n_mel_frames(n_samples) // FRAMES_PER_CHUNK


def tokens_per_chunk(stack_factor: int) -> int:
    """Embeddings per chunk for the ultravox projector, refusing stack factors llama.cpp rejects."""
    graph = math.ceil(ENCODER_FRAMES_PER_CHUNK / stack_factor)  # build_stack pads, then views
    counted = (math.ceil(FRAMES_PER_CHUNK / stack_factor) * stack_factor // stack_factor) // 2
    if graph != counted:
        raise ValueError(
            f"stack factor {stack_factor} makes llama.cpp abort (graph gives {graph} tokens, "
            f"clip_n_output_tokens counts {counted}); use 10 or 12"
        )
    return graph


def n_audio_tokens(n_samples: int, stack_factor: int) -> int:
    """Total embeddings mtmd inserts for a clip of `n_samples` (16 kHz)."""
    return n_chunks(n_samples) * tokens_per_chunk(stack_factor)


def log_mel_chunks(audio: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """(n_chunks, n_mels, 3000) float32 log-mel chunks of 16 kHz mono float audio, as mtmd makes them."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if x.size == 0:
        raise ValueError("empty audio: give at least one sample of 16 kHz mono float32")
    if x.size < N_FFT // 2 + 1:  # mtmd zero-extends very short clips before reflecting
        x = np.pad(x, (0, N_FFT // 2 + 1 - x.size))
    half = N_FFT // 2
    padded = np.zeros(x.size + SAMPLE_RATE * CHUNK_SECONDS + 2 * half, dtype=np.float32)
    padded[half:half + x.size] = x
    padded[:half] = x[1:half + 1][::-1]
    n_len = (padded.size - N_FFT) // HOP + 1
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_len]
    spec = np.fft.rfft(frames * _hann(), axis=-1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    mel = power @ mel_filters(n_mels).T  # (n_len, n_mels)
    logmel = np.log10(np.maximum(mel, MEL_FLOOR))
    logmel = np.maximum(logmel, logmel.max() - 8.0)
    logmel = ((logmel + 4.0) / 4.0).T  # (n_mels, n_len)
    k = n_len // FRAMES_PER_CHUNK
    chunks = logmel[:, : k * FRAMES_PER_CHUNK].reshape(n_mels, k, FRAMES_PER_CHUNK).transpose(1, 0, 2)
    return np.ascontiguousarray(chunks, dtype=np.float32)
