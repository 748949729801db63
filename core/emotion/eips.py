"""EIPS reasoning format: rendering for prompts and training targets, parsing of model output.

This module is the single definition of how the four reasoning steps (Emotion, Intent,
Psychology, Strategy) and the spoken response are written as text. Training imports it to
render targets, the engines import it to parse what the model says, so both sides agree
byte for byte. The format is line-headed plain text because small models follow it well:

    Emotion: sad, high. The voice is low, slow and quiet; the words are neutral.
    Intent: ...
    Psychology: ...
    Strategy: ...
    Response: ...

The direct (implicit) form keeps only the emotion tag and the response:

    Emotion: sad, high.
    Response: ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from core.emotion.labels import EMOTIONS, INTENSITIES

PROMPT_FORMAT_VERSION = 1
STEPS: tuple[str, ...] = ("emotion", "intent", "psychology", "strategy")
_HEADERS = {s: s.capitalize() for s in (*STEPS, "response")}
_HEADER_RE = re.compile(r"^\s*(emotion|intent|psychology|strategy|response)\s*:\s*", re.IGNORECASE | re.MULTILINE)
_TAG_RE = re.compile(
    rf"\b({'|'.join(EMOTIONS)})\b(?:\s*[,(/-]\s*({'|'.join(INTENSITIES)})\b)?", re.IGNORECASE
)

DEFAULT_PERSONA = (
    "You are CogAudio, a warm, calm voice companion. You listen to how the person sounds, "
    "not only to their words, and you answer briefly and kindly in plain spoken English."
)

EXPLICIT_INSTRUCTION = (
    "First reason in four steps, one line each, headed Emotion:, Intent:, Psychology:, Strategy:. "
    "The Emotion line starts with one label (neutral, happy, sad, angry, fearful, surprised, disgusted) "
    "and an intensity (low, medium, high). Then write Response: and one to three short spoken sentences."
)
DIRECT_INSTRUCTION = (
    "Write Emotion: with one label and intensity, then Response: and one to three short spoken sentences."
)


@dataclass(frozen=True)
class EIPS:
    """The four reasoning steps, each a short paragraph of plain text."""

    emotion: str
    intent: str
    psychology: str
    strategy: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class ParsedReply:
    """What a model said, split into its parts. `valid` is False when the format was not followed."""

    label: str | None
    intensity: str | None
    eips: EIPS | None
    response: str
    valid: bool


def emotion_tag(label: str, intensity: str) -> str:
    return f"{label}, {intensity}."


def render_target(label: str, intensity: str, response: str, eips: EIPS | None = None) -> str:
    """The assistant text a model is trained to produce: explicit when `eips` is given, else direct."""
    if eips is None:
        return f"Emotion: {emotion_tag(label, intensity)}\nResponse: {response.strip()}"
    emotion_line = eips.emotion.strip()
    if not emotion_line.lower().startswith(label):
        emotion_line = f"{emotion_tag(label, intensity)} {emotion_line}"
    return (
        f"Emotion: {emotion_line}\nIntent: {eips.intent.strip()}\nPsychology: {eips.psychology.strip()}\n"
        f"Strategy: {eips.strategy.strip()}\nResponse: {response.strip()}"
    )


def system_prompt(persona: str = DEFAULT_PERSONA, explicit: bool = True) -> str:
    return f"{persona}\n{EXPLICIT_INSTRUCTION if explicit else DIRECT_INSTRUCTION}"


def find_tag(text: str) -> tuple[str | None, str | None]:
    """The first emotion label (and intensity, if it follows) named in `text`."""
    m = _TAG_RE.search(text)
    if not m:
        return None, None
    return m.group(1).lower(), (m.group(2) or "").lower() or None


def _sections(text: str) -> list[tuple[str, str]]:
    marks = list(_HEADER_RE.finditer(text))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((m.group(1).lower(), text[m.end():end].strip()))
    return out


def parse_reply(text: str) -> ParsedReply:
    """Split model output into tag, EIPS steps and response. Never raises.

    Malformed output degrades gracefully: without a `Response:` header, whatever text is
    not a reasoning step becomes the response, so there is always something to say.
    """
    sections = dict()
    for name, body in _sections(text):
        sections.setdefault(name, body)
    label, intensity = find_tag(sections.get("emotion", ""))
    have_steps = all(s in sections and sections[s] for s in STEPS)
    eips = EIPS(**{s: sections[s] for s in STEPS}) if have_steps else None
    response = sections.get("response", "").strip()
    valid = bool(response) and label is not None
    if not response:
        if sections:
            # headers but no response: keep the last non-emotion section as the answer
            tail = [b for n, b in _sections(text) if n != "emotion" and b]
            response = tail[-1] if tail else ""
        else:
            response = text.strip()
    if not response:
        response = FALLBACK_RESPONSE
    return ParsedReply(label, intensity, eips, response, valid)


FALLBACK_RESPONSE = "I'm here with you. Could you tell me a little more?"


def validate_eips(eips: EIPS | None, gold_label: str) -> list[str]:
    """Problems with an annotation, empty when it is usable (four non-empty steps, gold label named)."""
    if eips is None:
        return ["missing one or more of the four steps"]
    problems = [f"step {s!r} is empty" for s in STEPS if not getattr(eips, s).strip()]
    label, _ = find_tag(eips.emotion)
    if label != gold_label:
        problems.append(f"emotion step names {label!r}, expected {gold_label!r}")
    return problems


class StreamParser:
    """Incremental parser for streamed model output.

    Feed text deltas; it yields ("step", name, text) when a reasoning step is complete and
    ("reply", delta) for response text as it arrives. Output that never uses the headers
    is streamed as reply text, so a model that ignores the format still speaks.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._mode: str | None = None  # None until decided, "structured" or "plain"
        self._steps_done = 0
        self._emitted_reply = 0

    def feed(self, delta: str) -> Iterator[tuple]:
        self._buf += delta
        if self._mode is None:
            stripped = self._buf.lstrip()
            if _HEADER_RE.match(stripped):
                self._mode = "structured"
            elif "\n" in stripped or len(stripped) > 24:
                self._mode = "plain"
            else:
                return
        yield from self._drain(final=False)

    def finish(self) -> Iterator[tuple]:
        if self._mode is None:
            self._mode = "plain"
        yield from self._drain(final=True)

    def _drain(self, final: bool) -> Iterator[tuple]:
        if self._mode == "plain":
            text = self._buf.lstrip()
            if len(text) > self._emitted_reply:
                yield ("reply", text[self._emitted_reply:])
                self._emitted_reply = len(text)
            return
        marks = list(_HEADER_RE.finditer(self._buf))
        for i, m in enumerate(marks):
            name = m.group(1).lower()
            nxt = marks[i + 1].start() if i + 1 < len(marks) else None
            body = self._buf[m.end():nxt]
            if name == "response":
                if len(body) > self._emitted_reply:
                    yield ("reply", body[self._emitted_reply:])
                    self._emitted_reply = len(body)
                if nxt is not None:
                    break  # text after the response section is ignored
                continue
            if i < self._steps_done:
                continue
            if nxt is None and not final:
                break  # this step may still be growing
            self._steps_done = i + 1
            yield ("step", name, body.strip())
        if final and not any(m.group(1).lower() == "response" for m in marks):
            # structured start but no response header: the last section is the answer
            parsed = parse_reply(self._buf)
            yield ("reply", parsed.response)
