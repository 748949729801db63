"""Audio-token geometry: how many embeddings llama.cpp's mtmd gives the language model for a clip.

One definition for the run-time engine, the manifest checks and training (which imports this
module), so that the model is trained on exactly the positions it is fed at run time. The
numbers follow llama.cpp's tools/mtmd/mtmd-audio.cpp (`mtmd_audio_preprocessor_whisper`) and
clip.cpp's ultravox projector:

* padding: the clip (at least N_FFT/2 + 1 samples) gets 30 s of zeros and N_FFT/2 samples of
  reflection on each side, so the log-mel spectrogram has (n + 30 s) / HOP + 1 frames;
* chunking: 3000-frame chunks; the last incomplete chunk is dropped (it is always padding),
  so a 4 s clip gives one chunk and a clip of 29.99 s or longer gives two;
* per chunk: the Whisper encoder's stride-2 convolution halves 3000 frames to 1500, and the
  projector stacks `stack_factor` of them into one embedding: ceil(1500 / stack) embeddings.
  mtmd *counts* them as ceil(3000 / stack) // 2 (clip_n_output_tokens); where the two rules
  disagree (stack 7, 8, 11, 13, 14, ...) llama.cpp aborts, so those factors are refused;
* trimmed audio: one embedding spans 2 * HOP * stack samples (0.2 s at stack 10), so the
  speech of a turn is covered by the first ceil(n / span) embeddings (`speech_tokens`).
"""

from __future__ import annotations

import math

from core.audio.pcm import SAMPLE_RATE

N_FFT = 400
HOP = 160  # Whisper mel hop (samples)
CHUNK_SECONDS = 30
FRAMES_PER_CHUNK = 3000  # mel frames per 30 s chunk
ENCODER_FRAMES_PER_CHUNK = FRAMES_PER_CHUNK // 2  # after the stride-2 conv of the Whisper encoder


def n_mel_frames(n_samples: int) -> int:
    """Length of mtmd's full (padded) spectrogram for `n_samples` of audio."""
    n = max(int(n_samples), N_FFT // 2 + 1)
    return (n + SAMPLE_RATE * CHUNK_SECONDS) // HOP + 1


def n_chunks(n_samples: int) -> int:
    """How many 30 s chunks mtmd makes from `n_samples` (the incomplete tail is dropped)."""
    return n_mel_frames(n_samples) // FRAMES_PER_CHUNK


def stack_factor_is_safe(stack_factor: int) -> bool:
    """True when mtmd's two token counts agree for an ultravox projector with this stack factor."""
    if stack_factor < 1:
        return False
    graph = math.ceil(ENCODER_FRAMES_PER_CHUNK / stack_factor)  # build_stack pads, then views
    counted = math.ceil(FRAMES_PER_CHUNK / stack_factor) // 2  # clip_n_output_tokens
    return graph == counted


def tokens_per_chunk(stack_factor: int) -> int:
    """Embeddings per 30 s chunk (150 at stack factor 10); refuses factors llama.cpp aborts on."""
    if not stack_factor_is_safe(stack_factor):
        raise ValueError(
            f"stack factor {stack_factor} makes llama.cpp abort (the graph gives "
            f"{math.ceil(ENCODER_FRAMES_PER_CHUNK / max(stack_factor, 1))} tokens, clip_n_output_tokens "
            f"counts {math.ceil(FRAMES_PER_CHUNK / max(stack_factor, 1)) // 2}); use 10 or 12"
        )
    return math.ceil(ENCODER_FRAMES_PER_CHUNK / stack_factor)


def n_audio_tokens(n_samples: int, stack_factor: int) -> int:
    """Every embedding mtmd makes for a clip of `n_samples` (16 kHz), padding included."""
    return n_chunks(n_samples) * tokens_per_chunk(stack_factor)


def speech_tokens(n_samples: int, stack_factor: int, tail: int) -> int:
    """Audio embeddings that cover `n_samples` of 16 kHz audio, plus `tail` more.

    One embedding spans 2 * HOP * stack_factor samples (the encoder's stride-2 convolution
    over hop-160 frames, then the projector's frame stacking): 0.2 s at stack factor 10."""
    per_token = 2 * HOP * stack_factor
    return max(1, -(-int(n_samples) // per_token)) + max(0, int(tail))
