"""EIPS annotation of LIME rows: teacher prompt, validation, retry/reject, content-hash cache.

The teacher sees the gold emotion and intensity, the acoustic cues of that emotion (the
docs/emotions.md profile in words), the words, and any conversation context, and answers in the
app's own format (core.emotion.eips). Its reply is read with core.emotion.eips.parse_reply and accepted only
when the four steps come in order, are non-empty, the Emotion step names the gold label
(core.emotion.eips.validate_eips), and there is a response. Otherwise it is retried with a new seed,
then rejected: the row keeps `annotation_ok = False`, or gets the template annotation when
`fallback="template"` (and then says so in `annotator`, and the log says why).

A small teacher cannot write all four steps reliably (SmolLM2-135M rarely keeps the format), so
`writes="reply"` asks it for the spoken reply only, given the gold emotion, the cues, the words
and the template's Strategy for that emotion; the four steps then come from the validated
template tables and `annotator` says so (`gguf:X (reply) + template-v1 (steps)`). Either way the
reply must pass training.eval.reply_text.reply_problems (1-3 sentences, English, no dismissive
phrasing, not an echo of the words, not a copy of a template reply). A teacher call that raises
(timeout, HTTP error) counts as a failed attempt and is retried like a bad reply.

Every teacher call is cached under sha256(teacher, messages, seed, params), so re-running an
annotation costs no teacher calls at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.emotion.eips import DEFAULT_PERSONA, EIPS, STEPS, parse_reply, system_prompt, validate_eips
from training.eips_annotate import template
from training.eips_annotate.teachers import Teacher
from training.eval.reply_text import reply_problems, sentences, words

log = logging.getLogger(__name__)
WRITES = ("full", "reply")  # what the teacher writes: all four steps + reply, or the reply only
_TEMPLATE_REPLIES = tuple(r for rs in template.RESPONSES.values() for r in rs)
_ORDER = (*STEPS, "response")
_HEAD = re.compile(rf"^\s*({'|'.join(_ORDER)})\s*:", re.IGNORECASE | re.MULTILINE)


@dataclass
class Annotation:
    eips: EIPS | None
    response: str
    annotator: str
    ok: bool
    attempts: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Stats:
    rows: int = 0
    teacher_calls: int = 0
    cache_hits: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    fallback: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    trimmed: int = 0  # reply-only answers cut to their first sentences
    rejected_rows: list[dict] = field(default_factory=list)  # the first 50, with their reasons, for the report


class Cache:
    """One JSON file per teacher call, named by the content hash of the call."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(payload: dict) -> str:
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> str | None:
        p = self.root / key[:2] / f"{key}.json"
        return json.loads(p.read_text())["text"] if p.exists() else None

    def put(self, key: str, text: str) -> None:
        p = self.root / key[:2] / f"{key}.json"
        p.parent.mkdir(exist_ok=True)
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps({"text": text}))
        tmp.replace(p)


def _facts(row: dict) -> list[str]:
    emotion, intensity = row["emotion"], row["intensity"]
    facts = [
        f"The speaker's voice carries: {emotion}, {intensity} intensity.",
        f"Acoustic cues heard: {template.cue_words(emotion, intensity)}.",
        f'Their words: "{row["text"]}"',
    ]
    text_emotion = row.get("text_emotion")
    if text_emotion and text_emotion not in (emotion, "neutral"):
        facts.append(f"The words alone would suggest {text_emotion}; trust the voice.")
    if row.get("context"):
        facts.insert(0, f"Conversation so far:\n{row['context']}")
    return facts


def teacher_messages(row: dict) -> list[dict]:
    """The teacher's chat: our format instructions plus the gold facts it must explain."""
    emotion, intensity = row["emotion"], row["intensity"]
    facts = _facts(row)
    instruction = (
        "Write the four reasoning steps and the spoken response for this turn. The Emotion line must start "
        f'with "{emotion}, {intensity}." and then name the cues. Keep each line short.'
    )
    return [{"role": "system", "content": system_prompt(explicit=True)},
            {"role": "user", "content": "\n".join(facts) + "\n\n" + instruction}]


# One worked exchange: a 135M chat model follows an example far better than a brief. Its reply
# is refused if copied (see _FORBIDDEN).
_EXAMPLE = ("(Voice: sad, low: a lower pitch, a slower pace, a quieter voice.) I finally sent the report to my manager.",
            "Well done for getting it out. You sound worn out, though. How are you holding up?")


def reply_messages(row: dict, strategy: str) -> list[dict]:
    """The reply-only teacher chat, in the cascade engine's own turn format: the person's words
    with the voice in brackets as the user turn, the Strategy (and any words-vs-voice note or
    context) in the system prompt, after one worked exchange."""
    emotion, intensity = row["emotion"], row["intensity"]
    system = [DEFAULT_PERSONA, "Answer what they said and how they sound, in one to three short spoken sentences.",
              strategy]
    text_emotion = row.get("text_emotion")
    if text_emotion and text_emotion not in (emotion, "neutral"):
        system.append(f"Their words alone would suggest {text_emotion}; trust the voice.")
    if row.get("context"):
        system.append(f"Conversation so far:\n{row['context']}")
    user = f"(Voice: {emotion}, {intensity}: {template.cue_words(emotion, intensity)}.) {row['text']}"
    return [{"role": "system", "content": " ".join(system)}, {"role": "user", "content": _EXAMPLE[0]},
            {"role": "assistant", "content": _EXAMPLE[1]}, {"role": "user", "content": user}]


def clean_reply(text: str, max_sentences: int = 3, max_words: int = 60) -> tuple[str, bool]:
    """(reply, trimmed): without a leading 'Response:' and wrapping quotes, and cut to its first
    sentences when a small teacher rambles on (it is asked for 1-3; what follows is rarely the reply)."""
    t = text.strip()
    t = re.sub(r"^\s*response\s*:\s*", "", t, flags=re.IGNORECASE)
    t = t.split("\n\n")[0].strip()  # a second paragraph is the model talking to itself
    # a small chat model writes stage directions ("(pauses, smiling)"): the voice would read them out
    t = re.sub(r"\s*\([^()]*\)", "", t).strip()
    if len(t) > 1 and t[0] in "\"'“" and t[-1] in "\"'”":
        t = t[1:-1].strip()
    parts = sentences(t)
    if len(parts) > 1 and not parts[-1].rstrip("\"')”’").endswith((".", "!", "?", "…")):
        parts = parts[:-1]  # cut off by the token limit mid-sentence
        t = " ".join(parts) if len(parts) <= max_sentences else t
        if len(parts) <= max_sentences:
            return t, True
    keep = parts[:max_sentences]
    while len(keep) > 1 and len(words(" ".join(keep))) > max_words:
        keep = keep[:-1]
    if len(keep) < len(parts):
        return " ".join(keep), True
    return t, False


def check_reply(text: str, gold: str) -> tuple[EIPS | None, str, list[str]]:
    """(EIPS, response, problems) of a teacher reply; problems is empty when it is usable."""
    parsed = parse_reply(text)
    problems = list(validate_eips(parsed.eips, gold))
    heads = []
    for m in _HEAD.finditer(text):
        name = m.group(1).lower()
        if name not in heads:
            heads.append(name)
    if heads[:5] != list(_ORDER):
        problems.append(f"steps out of order or missing: {heads}")
    if not parsed.valid:
        problems.append("no Response line")
    return parsed.eips, parsed.response, problems


def _call(teacher: Teacher, messages: list[dict], seed: int, cache: Cache | None, stats: Stats) -> str | None:
    """The teacher's text for (messages, seed), from the cache when it is there; None when the call failed."""
    payload = {"teacher": teacher.name, "messages": messages, "seed": seed,
               "params": getattr(teacher, "params", None).__dict__ if hasattr(teacher, "params") else None}
    key = Cache.key(payload)
    text = cache.get(key) if cache else None
    if text is not None:
        stats.cache_hits += 1
        return text
    stats.teacher_calls += 1
    try:
        text = teacher.complete(messages, seed=seed)
    except (RuntimeError, OSError, TimeoutError, ValueError, KeyError) as exc:
        log.warning("teacher %s failed (%s); retrying", teacher.name, exc)
        stats.problems["teacher error"] = stats.problems.get("teacher error", 0) + 1
        return None
    if cache:
        cache.put(key, text)
    return text


def annotate_row(row: dict, teacher: Teacher | None, cache: Cache | None, retries: int, fallback: str,
                 stats: Stats, writes: str = "full") -> Annotation:
    """Annotate one row with the teacher (None means the template annotator)."""
    stats.rows += 1
    if teacher is None:
        eips, response = template.annotate(row["text"], row["emotion"], row["intensity"], row.get("text_emotion"))
        stats.accepted[template.NAME] = stats.accepted.get(template.NAME, 0) + 1
        return Annotation(eips, response, template.NAME, True)
    steps = None
    if writes == "reply":
        steps, _ = template.annotate(row["text"], row["emotion"], row["intensity"], row.get("text_emotion"))
        messages = reply_messages(row, steps.strategy)
    else:
        messages = teacher_messages(row)
    name = f"{teacher.name} (reply) + {template.NAME} (steps)" if writes == "reply" else teacher.name
    problems: list[str] = ["teacher error"]
    for attempt in range(retries + 1):
        text = _call(teacher, messages, attempt, cache, stats)
        if text is None:
            problems = ["teacher error"]
            continue
        if writes == "reply":
            (response, trimmed), eips = clean_reply(text), steps
            stats.trimmed += trimmed
            problems = []
        else:
            eips, response, problems = check_reply(text, row["emotion"])
        problems += reply_problems(response, row["text"], forbidden=(*_TEMPLATE_REPLIES, _EXAMPLE[1]))
        if not problems:
            stats.accepted[name] = stats.accepted.get(name, 0) + 1
            return Annotation(eips, response, name, True, attempt + 1)
        for p in problems:
            kind = p.split(":")[0].split(" names ")[0]
            stats.problems[kind] = stats.problems.get(kind, 0) + 1
    stats.rejected += 1
    log.warning("row %r (%s) rejected after %d attempts: %s%s", row["text"][:40], row["emotion"], retries + 1,
                "; ".join(problems), " -> template fallback" if fallback == "template" else "")
    if len(stats.rejected_rows) < 50:
        stats.rejected_rows.append({"text": row["text"], "emotion": row["emotion"], "problems": problems})
    if fallback == "template":
        stats.fallback += 1
        eips, response = template.annotate(row["text"], row["emotion"], row["intensity"], row.get("text_emotion"))
        return Annotation(eips, response, f"{template.NAME} (fallback: {teacher.name} rejected)", True,
                          retries + 1, problems)
    return Annotation(None, "", f"rejected: {teacher.name}", False, retries + 1, problems)


def annotation_columns(annotations: list[Annotation]) -> dict[str, list]:
    def step(a: Annotation, name: str) -> str:
        return getattr(a.eips, name) if a.eips else ""

    return {
        "eips_emotion": [step(a, "emotion") for a in annotations],
        "eips_intent": [step(a, "intent") for a in annotations],
        "eips_psychology": [step(a, "psychology") for a in annotations],
        "eips_strategy": [step(a, "strategy") for a in annotations],
        "response": [a.response for a in annotations],
        "annotator": [a.annotator for a in annotations],
        "annotation_ok": [a.ok for a in annotations],
    }
