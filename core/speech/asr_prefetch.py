"""Transcribing a turn from its first silent moment, before anyone knows it is over.

The transcript is on the reply's critical path: the crisis check reads the user's words
before anything is spoken, and the cascade's LLM needs them to start. The VAD sees the first
silent window ~32 ms after the last word, but the turn is only answered (early start) after
~100 ms and confirmed after 500 ms. `TranscriptPrefetch` starts faster-whisper at that first
silent window, on one worker; when the turn is then answered with the same audio plus the
silence after it, the prefetched transcript is used instead of starting again. A pause that
turns out to be inside a sentence costs one discarded transcription while the user speaks,
when the CPU is otherwise idle.

A prefetch matches a later request when its audio is an exact prefix of the request's and the
rest is at most `max_extra_s` long: the endpointer only answers after windows it judged not
to be speech, so the transcript of the prefix is the transcript of the whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from core.audio.pcm import SAMPLE_RATE

T = TypeVar("T")


@dataclass
class _Job(Generic[T]):
    audio: np.ndarray
    future: Future


class TranscriptPrefetch(Generic[T]):
    """`start(audio)` transcribes in the background (the latest request wins); `take(audio)`
    gives the Future of a matching prefetch, or None."""

    def __init__(self, transcribe: Callable[[np.ndarray], T], max_extra_s: float = 1.0, sample_rate: int = SAMPLE_RATE) -> None:
        self._transcribe = transcribe
        self._max_extra = int(max_extra_s * sample_rate)
        self._lock = threading.Lock()
        self._latest: _Job[T] | None = None  # the newest request (running, waiting or done)
        self._waiting: _Job[T] | None = None  # the one request not yet started
        self._worker: threading.Thread | None = None  # exists only while there is work
        self.started = 0  # counters, for tests and the benchmark
        self.hits = 0

    def start(self, audio: np.ndarray) -> Future:
        """Transcribe `audio` in the background; the Future also serves whoever wants the words
        now (the end-of-turn decision reads them)."""
        audio = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
        job: _Job[T] = _Job(audio, Future())
        with self._lock:
            if self._waiting is not None:
                self._waiting.future.cancel()  # never started: a stale pause is not worth the CPU
            self._latest = self._waiting = job
            self.started += 1
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="asr-prefetch", daemon=True)
                self._worker.start()
        return job.future

    def _work(self) -> None:
        """Run waiting requests one at a time; the thread ends when none is left."""
        while True:
            with self._lock:
                job, self._waiting = self._waiting, None
                if job is None:
                    self._worker = None
                    return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(self._transcribe(job.audio))
            except BaseException as exc:  # handed to whoever takes the result
                job.future.set_exception(exc)

    def take(self, audio: np.ndarray) -> Future | None:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        with self._lock:
            job = self._latest
            if job is None or job.future.cancelled():
                return None
            n = job.audio.size
            if not (n <= audio.size <= n + self._max_extra and np.array_equal(audio[:n], job.audio)):
                return None
            self._latest = None  # one turn, one use
            self.hits += 1
            return job.future

    def close(self, timeout: float | None = 10.0) -> None:
        """Drop what has not started and join the worker (a running transcription finishes first)."""
        with self._lock:
            if self._waiting is not None:
                self._waiting.future.cancel()
            self._waiting = self._latest = None
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
