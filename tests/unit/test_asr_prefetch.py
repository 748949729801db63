"""TranscriptPrefetch: when a background transcript may stand in for a new request."""

from __future__ import annotations

import threading

import numpy as np

from core.speech.asr_prefetch import TranscriptPrefetch


class _Counting:
    """Records what it was asked to transcribe; `gate` holds a call until set."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, audio: np.ndarray) -> str:
        self.entered.set()
        self.gate.wait(5)
        self.calls.append(audio.size)
        return f"{audio.size} samples"


def _speech(n: int = 16000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, n).astype(np.float32)


def test_the_same_audio_plus_a_short_silence_takes_the_prefetched_result_once():
    fn = _Counting()
    pre = TranscriptPrefetch(fn, max_extra_s=0.5)
    audio = _speech()
    pre.start(audio)
    later = np.concatenate([audio, np.zeros(1024, np.float32)])
    fut = pre.take(later)
    assert fut is not None and fut.result(5) == "16000 samples"
    assert pre.take(later) is None  # used up: a second turn with this audio transcribes again
    assert fn.calls == [16000] and pre.hits == 1 and pre.started == 1


def test_other_audio_or_a_long_tail_does_not_match():
    fn = _Counting()
    pre = TranscriptPrefetch(fn, max_extra_s=0.5)
    audio = _speech()
    pre.start(audio)
    assert pre.take(_speech(seed=1)) is None  # other words
    assert pre.take(audio[:-100]) is None  # shorter than what was transcribed
    assert pre.take(np.concatenate([audio, _speech(16000, 2)])) is None  # a second of more speech
    assert pre.take(audio) is not None
    pre.close()


def test_the_latest_pause_wins_and_a_queued_stale_one_is_dropped():
    fn = _Counting()
    fn.gate.clear()  # the first job blocks, so the second queues behind it
    pre = TranscriptPrefetch(fn)
    first, second, third = _speech(8000), _speech(12000, 1), _speech(16000, 2)
    pre.start(first)
    assert fn.entered.wait(5)  # the first is running
    pre.start(second)  # queued
    pre.start(third)  # the queued second is cancelled
    fn.gate.set()
    assert pre.take(first) is None and pre.take(second) is None
    assert pre.take(third).result(5) == "16000 samples"
    assert fn.calls == [8000, 16000]
    pre.close()


def test_the_worker_thread_lives_only_while_there_is_work():
    fn = _Counting()
    pre = TranscriptPrefetch(fn)
    pre.start(_speech())
    assert pre.take(_speech()).result(5)
    for _ in range(200):
        if not any(t.name == "asr-prefetch" for t in threading.enumerate()):
            break
        threading.Event().wait(0.01)
    assert not any(t.name == "asr-prefetch" for t in threading.enumerate())
