"""Audio-token geometry (core.models.audio_tokens) follows llama.cpp mtmd's rules (mtmd-audio.cpp,
clip.cpp); the engine, the manifest check and training all count with it."""

from __future__ import annotations

import pytest

from core.models.audio_tokens import (
    n_audio_tokens,
    n_chunks,
    speech_tokens,
    stack_factor_is_safe,
    tokens_per_chunk,
)

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
    assert n_audio_tokens(30 * SR, 10) == 300  # mtmd's padding makes exactly 30 s two chunks


@pytest.mark.parametrize("bad", [7, 8, 11, 13, 14, 0])
def test_stack_factors_that_make_llama_cpp_abort_are_refused(bad):
    assert not stack_factor_is_safe(bad)
    with pytest.raises(ValueError, match="use 10 or 12"):
        tokens_per_chunk(bad)


def test_stack_factors_match_what_llama_cpp_accepts():
    # measured: 2-6, 9, 10, 12, 15, 16 run; 7, 8, 11, 13, 14 abort in clip.cpp
    assert [s for s in range(2, 17) if stack_factor_is_safe(s)] == [2, 3, 4, 5, 6, 9, 10, 12, 15, 16]


@pytest.mark.parametrize(("n_samples", "stack", "tail", "expected"), [
    (1, 10, 0, 1), (3200, 10, 0, 1), (3201, 10, 0, 2),  # one embedding spans 0.2 s at stack 10
    (40_000, 10, 2, 15), (40_000, 12, 0, 11), (0, 10, 3, 4),
])
def test_speech_tokens_cover_the_speech_plus_the_tail(n_samples, stack, tail, expected):
    assert speech_tokens(n_samples, stack, tail) == expected
