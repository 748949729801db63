"""Recordings spoken into a live conversation, one turn each: the headless driver.

`talk --input`, `bench latency` and the tests speak recorded utterances into a listening
pipeline through a QueueSource, each after the previous reply, as a person would. This lives
outside the orchestrator because it is a way of using it, not part of it.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.conversation.frames import UserSpeechEnded
from core.conversation.orchestrator import ConversationPipeline
from core.conversation.stage_framework import Frame

log = logging.getLogger(__name__)


def speak_clips(pipeline: ConversationPipeline, source, clips: list[np.ndarray], on_turn=None) -> list[int]:
    """Push each clip into `source` (a listening QueueSource) once the previous reply is over.

    Returns the turn ids the turn-taking stage opened; a clip in which no speech is found is
    skipped after a while (with a warning)."""
    ended = threading.Event()
    opened: list[int] = []

    def on_frame(frame: Frame) -> None:
        if isinstance(frame, UserSpeechEnded):
            opened.append(frame.turn)
            ended.set()

    pipeline.subscribe(on_frame)
    for clip in clips:
        ended.clear()
        seen = len(opened)
        source.push(clip)
        speed = source.speed if source.speed > 0 else 50.0
        patience = (len(clip) / SAMPLE_RATE + pipeline.policy.longest_ms / 1000 + 3.0) / speed + 5.0
        if not ended.wait(patience):
            log.warning("no speech found in a recording of %.1f s; skipped", len(clip) / SAMPLE_RATE)
            continue
        for turn in opened[seen:]:
            pipeline.wait(turn)
            if on_turn is not None:
                on_turn(turn)
    pipeline.wait_idle()
    return opened
