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

How many embeddings each chunk becomes (and which stack factors llama.cpp refuses) is
core.models.audio_tokens, shared with the run-time engine.

Written by hand with numpy because no library reproduces mtmd's padding and floor; the mel
filter bank itself comes from transformers' audio_utils (same Slaney formula as mtmd).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.audio.pcm import SAMPLE_RATE  # the one rate the app records, the model hears and training uses
from core.models.audio_tokens import CHUNK_SECONDS, FRAMES_PER_CHUNK, HOP, N_FFT

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
