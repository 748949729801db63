"""The engine interface shared by the cascade baseline and the audio language model."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from core.audio.pcm import SAMPLE_RATE  # every engine takes 16 kHz mono float32 PCM in [-1, 1]
from core.engines.events import Event
from core.engines.options import EngineOptions

if TYPE_CHECKING:  # annotations only: importing them here would load faster-whisper for every engine user
    from core.ear.listener import EarListener
    from core.speech.asr import SpeechRecognizer

__all__ = ["SAMPLE_RATE", "Engine", "HistoryTurn", "fit_history"]

R = TypeVar("R")


@dataclass(frozen=True)
class HistoryTurn:
    """A past exchange as the model sees it (text only; audio is not re-fed)."""

    user: str
    assistant: str


def fit_history(history: list[HistoryTurn], render: Callable[[list[HistoryTurn]], R], fits: Callable[[R], bool]) -> R:
    """`render` with as many of the newest turns as `fits` allows: the one trimming rule.

    The oldest exchange goes first, until the rendering fits (or no history is left, which is
    rendered whatever its size): recent turns matter most to an empathetic reply, and the
    history stays contiguous (a turn is never skipped to fit an older one). The conversation
    window (core.conversation.history) applies it with estimated token costs, the engines
    with their own tokenizer over the whole prompt."""
    turns = list(history)
    while True:
        rendered = render(turns)
        if not turns or fits(rendered):
            return rendered
        turns.pop(0)


class Engine(Protocol):
    """What the conversation needs of an engine (CascadeEngine, AudioLLMEngine, test engines)."""

    name: str  # "cascade" | "audio-llm"
    model: str  # human-readable model identity (file names)
    notice: str | None  # one sentence for the user, e.g. why the cascade runs instead of the audio model
    options: EngineOptions  # what it runs with (the effective values, core.engines.options)
    asr: SpeechRecognizer | None  # the transcript's recogniser (its encoder pass also feeds the ear)
    ear: EarListener | None  # the calibrated ear (core.ear), attached by the factory; None: the model's own guess

    def respond(
        self,
        audio: np.ndarray | None,
        history: list[HistoryTurn],
        text: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        """Stream the events of one turn. `audio` is 16 kHz mono float32; `text` is a typed
        message (used when there is no audio). Setting `cancel` stops generation promptly and
        the stream ends with Done(interrupted=True). Errors are yielded as Error, never raised."""
        ...

    def prefetch(self, audio: np.ndarray) -> Future | None:
        """The user may have just finished speaking `audio`: engines that transcribe start
        their recogniser now, so the transcript is ready sooner if the turn is then answered
        with this audio; the others do nothing. The Future (of a Transcript) gives the words
        so far to the end-of-turn decision (core.conversation.turn_taking); None without one."""
        ...

    def close(self) -> None: ...
