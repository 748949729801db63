"""From streamed model text to the engine event sequence, shared by both engines.

Both engines generate the same EIPS text (core.emotion.eips) and must emit the same events in the
same order: Perceived (as soon as the Emotion line is complete), the four Reasoning steps
(all four or none, just before the reply starts), ReplyDelta pieces, then Done. `TurnStream`
holds that bookkeeping so the engines only differ in how they produce tokens.

The spoken reply is one paragraph of at most MAX_REPLY_SENTENCES sentences: a newline or a
new section header after the reply has begun ends it (small models ramble on otherwise), and it
is cut right after the end of its third sentence, even when that end arrives in the middle of
a token ('." I'), so nothing of a fourth sentence is streamed or kept (`cut_reply` does the same
to finished text, for training's evaluation of a PyTorch model).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from core.emotion.eips import EIPS, STEPS, StreamParser, find_tag, parse_reply
from core.engines.events import Done, Event, Perceived, Reasoning, ReplyDelta

LEAD = "Emotion:"  # every reply starts with it; engines put it in the prompt
RESPONSE_HEAD = "Response:"  # what follows the Emotion line of a direct reply
NUDGE = "\n" + RESPONSE_HEAD  # appended once when the model stops before writing its reply
MAX_REPLY_SENTENCES = 3
# . ! ? ... and closing quotes or brackets, followed by a space or a line break: a sentence end only
# once the next character shows it ("3.5", "e.g.,": not yet, and never when no space follows)
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"')\]\u201d\u2019]*(?=\s)")
_AFTER_RESPONSE = re.compile(r"response\s*:.*?\n\s*(emotion|intent|psychology|strategy|response|user)\s*:", re.I | re.S)
_EMOTION_LINE_ONLY = re.compile(r"\s*emotion\s*:[^\n]*\S[^\n]*\n", re.I)
_NEW_HEADER = re.compile(r"\n\s*(emotion|intent|psychology|strategy|user)\s*:", re.I)

PerceiveFn = Callable[[str | None, str | None], Perceived]


SPRINT_REPLY_CHARS = 40  # as core.conversation.reply_stages.FIRST_CLAUSE_CHARS: the first piece the voice speaks


class TurnStream:
    """Feed generated text; get events. `complete` turns True when the reply is finished."""

    def __init__(self, perceive: PerceiveFn, t0: float, timings: dict[str, float]) -> None:
        self._perceive = perceive
        self._t0 = t0
        self.timings = timings
        self._parser = StreamParser()
        self.text = ""
        self.steps: dict[str, str] = {}
        self.reply_parts: list[str] = []
        self.perceived_sent = False
        self.complete = False

    @property
    def replied(self) -> bool:
        return bool(self.reply_parts)

    @property
    def first_sentence_out(self) -> bool:
        """The reply holds a finished first sentence or clause (what the voice starts with)."""
        reply = "".join(self.reply_parts).strip()
        return len(reply) >= SPRINT_REPLY_CHARS or any(c in reply for c in ".!?")

    def awaits_response_head(self) -> bool:
        """The text so far is exactly one finished Emotion line: a direct reply goes on with
        RESPONSE_HEAD, so an engine may put it there without sampling it."""
        return bool(_EMOTION_LINE_ONLY.fullmatch(self.text))

    def feed(self, piece: str) -> Iterator[Event]:
        if self.complete:
            return
        self.text += piece
        yield from self._handle(self._parser.feed(piece))
        if _reply_complete(self.text):
            self.complete = True

    def finish(self, interrupted: bool) -> Iterator[Event]:
        """Flush the parser and end the turn with Done (a fallback reply if none was streamed)."""
        if not interrupted and not self.complete:
            yield from self._handle(self._parser.finish())
        parsed = parse_reply(self.text)
        if not self.perceived_sent:
            self.perceived_sent = True
            yield self._perceive(parsed.label, parsed.intensity)
        reply = _NEW_HEADER.split("".join(self.reply_parts))[0].strip()
        if not reply and not interrupted:
            reply = parsed.response
            yield ReplyDelta(reply)
        eips = EIPS(**{s: self.steps[s] for s in STEPS}) if all(self.steps.get(s) for s in STEPS) else None
        self.timings["total_ms"] = ms_since(self._t0)
        yield Done(reply, eips, interrupted=interrupted, timings_ms=dict(self.timings))

    def _handle(self, items: Iterator[tuple]) -> Iterator[Event]:
        for item in items:
            if item[0] == "step":
                self.steps.setdefault(item[1], item[2])
                if item[1] == "emotion" and not self.perceived_sent:
                    self.perceived_sent = True
                    self.timings["perceived_ms"] = ms_since(self._t0)
                    yield self._perceive(*find_tag(item[2]))
                continue
            if not self.perceived_sent:  # the model skipped the emotion line
                self.perceived_sent = True
                self.timings["perceived_ms"] = ms_since(self._t0)
                yield self._perceive(None, None)
            if not self.reply_parts:
                self.timings["first_reply_ms"] = ms_since(self._t0)
                if all(s in self.steps for s in STEPS):  # Reasoning: all four steps or none
                    for s in STEPS:
                        yield Reasoning(s, self.steps[s])
            delta = self._first_sentences(self._one_paragraph(item[1]))
            if delta:
                self.reply_parts.append(delta)
                yield ReplyDelta(delta)
            if self.complete:
                return

    def _one_paragraph(self, delta: str) -> str:
        """Cut `delta` at the first line break after the reply's first words (and mark complete)."""
        before = "".join(self.reply_parts)
        lead = len(before + delta) - len((before + delta).lstrip())
        text = (before + delta)[lead:]
        if "\n" not in text:
            return delta
        self.complete = True
        return delta[: max(0, lead + text.index("\n") - len(before))]

    def _first_sentences(self, delta: str) -> str:
        """Cut `delta` right after the reply's MAX_REPLY_SENTENCES-th sentence end (and mark complete)."""
        before = "".join(self.reply_parts)
        ends = list(_SENTENCE_END.finditer(before + delta))
        if len(ends) < MAX_REPLY_SENTENCES:
            return delta
        self.complete = True
        return delta[: max(0, ends[MAX_REPLY_SENTENCES - 1].end() - len(before))]


def cut_reply(text: str) -> str:
    """A finished reply as the engines speak it: its first paragraph, at most MAX_REPLY_SENTENCES sentences."""
    text = text.strip().split("\n", 1)[0]
    ends = list(_SENTENCE_END.finditer(text + " "))
    return text[: ends[MAX_REPLY_SENTENCES - 1].end()] if len(ends) >= MAX_REPLY_SENTENCES else text


def _reply_complete(text: str) -> bool:
    """True once the response has its sentences or the model starts another section."""
    if _AFTER_RESPONSE.search(text):
        return True
    idx = text.lower().rfind("response:")
    if idx < 0:
        return False
    return len(_SENTENCE_END.findall(text[idx + len("response:"):])) >= MAX_REPLY_SENTENCES


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)
