"""The per-turn heap trim (core.conversation.heap): freed native memory really goes back to the system."""

from __future__ import annotations

import ctypes
import sys

import psutil
import pytest

from core.conversation.heap import HeapTrimmer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")


def test_memory_freed_below_a_live_block_is_handed_back():
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    trimmer = HeapTrimmer()
    assert trimmer.available
    proc = psutil.Process()
    # 20 000 small blocks (80 MB, touched) then one that stays: freeing the others leaves a hole
    # under it that glibc keeps, as a turn's buffers freed on a worker thread are kept.
    blocks = [libc.malloc(4096) for _ in range(20_000)]
    for b in blocks:
        ctypes.memset(b, 1, 4096)
    keep = libc.malloc(4096)
    for b in blocks:
        libc.free(b)
    held = proc.memory_info().rss
    trimmer.trim()
    released = held - proc.memory_info().rss
    libc.free(keep)
    assert released > 40 * 2**20, f"only {released / 2**20:.1f} MB went back"


def test_the_voice_gives_back_what_a_long_sentence_took():
    """Piper's onnxruntime arena is shrunk after each sentence (core.speech.tts._ShrinkingSession):
    without it, two 80-word sentences after a short one left ~550 MB more resident."""
    from core.speech.tts import Speaker

    speaker, trimmer, proc = Speaker(), HeapTrimmer(), psutil.Process()
    short = "That sounds really hard and I am here with you."
    for _ in speaker.synthesize(short):
        pass
    trimmer.trim()
    before = proc.memory_info().rss
    long = ", ".join(["That sounds really hard and I am here with you"] * 8) + "."
    for _ in range(2):
        for _ in speaker.synthesize(long):
            pass
    for _ in speaker.synthesize(short):
        pass
    trimmer.trim()
    grown = proc.memory_info().rss - before
    assert grown < 150 * 2**20, f"the voice kept {grown / 2**20:.0f} MB"
