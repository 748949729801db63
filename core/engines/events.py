"""The one event stream every engine emits, and the GUI, CLI and session store consume.

Events are immutable dataclasses. An engine's `respond()` yields, in order:
Perceived, Reasoning* (0 or 4), ReplyDelta+, then Done, or Error at any point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.emotion.eips import EIPS


@dataclass(frozen=True)
class Perceived:
    """How the user sounded: one of the seven labels, an intensity, and the cues heard."""

    label: str
    intensity: str
    confidence: float
    transcript: str | None = None
    cues: dict[str, float] = field(default_factory=dict)  # e.g. f0_mean_hz, f0_range_st, rate_sps, loudness_db


@dataclass(frozen=True)
class Reasoning:
    """One completed EIPS step (`step` is one of core.emotion.eips.STEPS)."""

    step: str
    text: str


@dataclass(frozen=True)
class ReplyDelta:
    """A piece of the spoken reply, in generation order."""

    text: str


@dataclass(frozen=True)
class Done:
    """The turn is complete (or was interrupted: `interrupted` is True)."""

    reply: str
    eips: EIPS | None
    interrupted: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)
    safety_triggered: bool = False


@dataclass(frozen=True)
class Error:
    """A stage failed; `message` says what to do about it. The conversation goes on."""

    message: str
    stage: str = "engine"


Event = Perceived | Reasoning | ReplyDelta | Done | Error
