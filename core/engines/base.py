"""The engine interface shared by the cascade baseline and the audio language model."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.audio.pcm import SAMPLE_RATE  # every engine takes 16 kHz mono float32 PCM in [-1, 1]
from core.engines.events import Event

__all__ = ["SAMPLE_RATE", "Engine", "HistoryTurn", "prefetch"]


@dataclass(frozen=True)
class HistoryTurn:
    """A past exchange as the model sees it (text only; audio is not re-fed)."""

    user: str
    assistant: str


class Engine(Protocol):
    name: str  # "cascade" | "audio-llm"
    model: str  # human-readable model identity (file names)

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

    def close(self) -> None: ...


def prefetch(engine: Engine, audio: np.ndarray) -> None:
    """Tell `engine` that the user may have just finished speaking `audio`.

    Optional for engines (`prefetch(audio)`): those that transcribe start their recogniser
    now, so the transcript is ready sooner if the turn is then answered with this audio."""
    hook = getattr(engine, "prefetch", None)
    if hook is not None:
        hook(audio)
