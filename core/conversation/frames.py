"""The frames that travel through the conversation pipeline (and that observers receive).

Order of one turn, as an observer sees it:
  UserSpeechStarted, UserSpeechEnded (listener, turn NO_TURN / the new turn)
  UserTurn -> EngineEvent(Perceived) -> EngineEvent(Reasoning)* -> EngineEvent(ReplyDelta)+
  -> Sentence / SpeechAudio / PlaybackStarted (interleaved) -> EngineEvent(Done) -> ReplyEnd
  -> TurnFinished -> TurnComplete (the stored record)
or, at any point after UserTurn, Interrupted -> TurnComplete(record.interrupted=True).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.conversation.stage_framework import Frame
from core.engines.events import Event
from core.speech.tts import Prosody
from core.store.session_store import TurnRecord


@dataclass(frozen=True)
class UserSpeechStarted(Frame):
    """The VAD decided the user is speaking (`stream_s`: seconds into the input stream)."""

    stream_s: float


@dataclass(frozen=True)
class UserSpeechEnded(Frame):
    """The VAD decided the user's turn ended; the turn id it opens is `turn`."""

    stream_s: float
    speech_end_s: float
    duration_s: float
    decided_at: float = 0.0  # perf_counter() of the decision


@dataclass(frozen=True, eq=False)
class UserTurn(Frame):
    """A turn to answer: the utterance (16 kHz mono float32) or typed text."""

    audio: np.ndarray | None = None
    text: str | None = None
    endpoint_ms: float = 0.0  # time the endpointer waited after the speech ended
    created: float = 0.0  # perf_counter() when the turn was submitted
    held: bool = False  # started before its end was certain: silent until TurnReleased
    turn_taking: dict | None = None  # the end-of-turn decision and its reasons (for the record)


@dataclass(frozen=True)
class TurnReleased(Frame):
    """The end of a held (early-started) turn is confirmed: its reply may play."""

    endpoint_ms: float
    turn_taking: dict | None = None


@dataclass(frozen=True)
class TurnRetracted(Frame):
    """A held turn whose user went on speaking: drop it, store nothing."""


@dataclass(frozen=True)
class BargeIn(Frame):
    """The user spoke over the reply: cut every turn in flight (`turn` is NO_TURN)."""

    reason: str = "barge-in"
    detail: str = ""


@dataclass(frozen=True)
class VoicePaused(Frame):
    """The person started to speak over the reply: its voice holds (`paused` True) until we know
    whether it was a backchannel (then it goes on: `paused` False) or an interruption (BargeIn)."""

    paused: bool
    reason: str = ""


@dataclass(frozen=True)
class Backchannel(Frame):
    """Say `text` ("mm") while the person pauses, without taking the turn (`turn` is NO_TURN)."""

    text: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineEvent(Frame):
    """An engine event (Perceived, Reasoning, ReplyDelta, Done, Error) tagged with its turn."""

    event: Event


@dataclass(frozen=True)
class SafetyOverride(Frame):
    """The crisis check fired: `text` replaces whatever the model was going to say."""

    text: str
    source: str  # "transcript" | "reply"
    matched: str
    detail: dict | None = None  # what fired, for the session record (core.safety SafetyResult.as_record)


@dataclass(frozen=True)
class Sentence(Frame):
    """One sentence to speak, with the prosody chosen for this reply."""

    text: str
    index: int
    prosody: Prosody = field(default_factory=Prosody)


@dataclass(frozen=True, eq=False)
class SpeechAudio(Frame):
    """Synthesised audio of (part of) a sentence, float32 at `sample_rate`."""

    samples: np.ndarray
    sample_rate: int
    sentence: int


@dataclass(frozen=True)
class PlaybackStarted(Frame):
    """The first reply sample of the turn went to the output."""


@dataclass(frozen=True)
class ReplyEnd(Frame):
    """No more reply for this turn (sent after the last sentence)."""


@dataclass(frozen=True)
class TurnFinished(Frame):
    """The last reply sample of the turn has been played."""


@dataclass(frozen=True)
class Interrupted(Frame):
    """The turn was cut: `reason` is "barge-in" (the user spoke), "stop" (the stop button) or
    "retracted" (an early start whose user went on speaking: nothing is stored for it)."""

    reason: str


@dataclass(frozen=True)
class TurnComplete(Frame):
    """The turn's record, as stored."""

    record: TurnRecord
    turn_id: int | None = None  # row id in the session store, when one is attached
