"""A tiny Engine for pipeline tests: replies with a fixed script, one word per step, honouring cancel.

It implements the real Engine protocol (core.engines.base) so the pipeline under test is the
real one; only the language model is replaced, which keeps these tests fast and exact.
"""

from __future__ import annotations

import threading
import time

from core.emotion.eips import EIPS
from core.engines.events import Done, Perceived, Reasoning, ReplyDelta
from core.engines.options import resolve_options
from core.settings import Settings

EIPS_STEPS = EIPS("sad, medium. Low and slow.", "To vent.", "Feels unheard.", "Validate gently and ask an open question.")


class ScriptedEngine:
    name = "scripted"
    model = "scripted-test-engine"
    notice = None
    options = resolve_options(Settings())

    def __init__(self, reply: str = "I hear you. That sounds hard. What happened today?", label: str = "sad",
                 transcript: str = "I had a rough day.", word_delay_s: float = 0.0,
                 timings: dict[str, float] | None = None) -> None:
        self.reply = reply
        # what the engine measured before the model started (a real engine's asr_ms); its Done
        # carries it whether the turn ends or is stopped, as the real engines' does
        self.timings = dict(timings or {})
        self.label = label
        self.transcript = transcript
        self.word_delay_s = word_delay_s
        self.calls: list[dict] = []
        self.cancelled = threading.Event()

    def respond(self, audio, history, text=None, cancel=None):
        self.calls.append({"audio": audio, "history": list(history), "text": text})
        cancel = cancel or threading.Event()
        yield Perceived(self.label, "medium", 0.8, text or self.transcript, {"f0_mean_hz": 110.0})
        for step in ("emotion", "intent", "psychology", "strategy"):
            yield Reasoning(step, getattr(EIPS_STEPS, step))
        said = []
        for i, word in enumerate(self.reply.split(" ")):
            if cancel.is_set():
                self.cancelled.set()
                yield Done(" ".join(said), None, interrupted=True, timings_ms=dict(self.timings))
                return
            if self.word_delay_s:
                time.sleep(self.word_delay_s)
            piece = word if i == 0 else " " + word
            said.append(word)
            yield ReplyDelta(piece)
        yield Done(self.reply, EIPS_STEPS, timings_ms={**self.timings, "engine_ms": 1.0})

    def prefetch(self, audio) -> None:
        self.prefetched = len(audio)

    def close(self) -> None:
        pass
