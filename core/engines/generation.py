"""The generation loop both engines run: stream the model's text into a TurnStream, nudge once.

Both engines pre-fill "Emotion:" and let the model write its EIPS text; small models (135M)
often stop before "Response:". The loop then appends NUDGE ("\\nResponse:") once and lets the
model go on with a short budget (CONTINUE_TOKENS), so every turn ends with something to say.
While the first sentence is being written every core generates (ThreadSprint); the sprint
ends as soon as that sentence is out, so Piper can speak it on a free core.

The engines differ only in how they produce text (llama-cpp-python's completion stream for
the cascade, a token loop over the mtmd context for the audio model) and in what the nudge
costs them (nothing for the cascade, which re-sends the prompt with the text so far; a
decode of the nudge tokens for the audio model), which they pass in as two callables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Protocol

from core.engines.events import Event
from core.engines.turn_stream import NUDGE, TurnStream, ms_since

CONTINUE_TOKENS = 96  # budget for the reply when the model had to be nudged into "Response:"


class Sprint(Protocol):
    """What the loop needs of core.engines.llm_runtime.ThreadSprint."""

    active: bool

    def start(self) -> None: ...

    def relax(self) -> None: ...


def generate_reply(
    stream: TurnStream,
    pieces: Callable[[int | None], Iterator[str]],
    sprint: Sprint,
    cancel: threading.Event,
    first_budget: int | None,
    t0: float,
    nudge: Callable[[], bool] = lambda: True,
) -> Iterator[Event]:
    """Run up to two attempts: the first with `first_budget` tokens, then (when the model
    stopped before its reply) NUDGE and CONTINUE_TOKENS more.

    `pieces(budget)` yields the model's text pieces for one attempt, continuing from
    everything fed to `stream` so far; it is closed as soon as the reply is complete.
    `nudge()` prepares the model for the nudge text and returns False when there is no room.
    """
    sprint.start()
    try:
        for attempt in range(2):
            if cancel.is_set():
                break  # stopped before the model began (the crisis check fired on the transcript): no prompt evaluation
            budget = first_budget if attempt == 0 else CONTINUE_TOKENS
            attempt_pieces = pieces(budget)
            try:
                for piece in attempt_pieces:
                    stream.timings.setdefault("first_token_ms", ms_since(t0))
                    if piece:
                        yield from stream.feed(piece)
                    if sprint.active and stream.first_sentence_out:
                        sprint.relax()
                    if stream.complete:
                        break
            finally:
                attempt_pieces.close()  # ends llama.cpp's generation so the context is free
            if cancel.is_set() or stream.replied or attempt == 1 or not nudge():
                break
            yield from stream.feed(NUDGE)  # stopped before "Response:" (common at 135M): nudge once
    finally:
        sprint.relax()
