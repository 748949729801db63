"""The short "mm" / "I'm here" a patient listener says while the person pauses.

`BackchannelVoice` owns one thread (started with the listener, joined by `close()`): it
synthesises the few backchannel phrases once, in the quiet before they are needed, and plays
one when the turn-taking stage asks (core.conversation.turn_taking). Playing happens on that
thread because a sink's `play()` blocks for the length of the sound, and the listener thread
must keep feeding the VAD meanwhile. A backchannel is never played over a reply.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

from core.conversation.stage_framework import NO_TURN
from core.speech.tts import Prosody, Speaker

log = logging.getLogger(__name__)

SOFT = Prosody("gentle", length=1.1, noise=0.7, noise_w=0.8, volume=0.7)
_STOP = object()


class BackchannelVoice:
    def __init__(self, speaker: Speaker, sink, busy: Callable[[], bool], phrases: tuple[str, ...]) -> None:
        self.speaker = speaker
        self.sink = sink
        self._busy = busy
        self._phrases = phrases
        self._clips: dict[str, np.ndarray] = {}
        self._inbox: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self.said: list[str] = []  # what was said, in order (tests, the benchmark)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="backchannel", daemon=True)
            self._thread.start()

    def say(self, text: str) -> None:
        self._inbox.put(text)

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._inbox.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def _clip(self, text: str) -> np.ndarray:
        clip = self._clips.get(text)
        if clip is None:
            chunks = list(self.speaker.synthesize(text, SOFT))
            clip = self._clips[text] = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return clip

    def _run(self) -> None:
        try:
            for text in self._phrases:  # ready before the first long pause
                self._clip(text)
        except Exception:
            log.exception("backchannel phrases could not be synthesised")
        while True:
            text = self._inbox.get()
            if text is _STOP:
                return
            if self._busy():
                continue  # never over a reply
            try:
                self.sink.play(self._clip(text), self.speaker.sample_rate, None, turn=NO_TURN)
                self.said.append(text)
            except Exception:
                log.exception("backchannel %r failed", text)
