"""EIPS annotation of LIME rows: teacher prompt, validation, retry/reject, content-hash cache.

The teacher sees the gold emotion and intensity, the acoustic cues of that emotion (the
EMOTIONS.md profile in words), the words, and any conversation context, and answers in the
app's own format (core.emotion.eips). Its reply is read with core.emotion.eips.parse_reply and accepted only
when the four steps come in order, are non-empty, the Emotion step names the gold label
(core.emotion.eips.validate_eips), and there is a response. Otherwise it is retried with a new seed,
then rejected: the row keeps `annotation_ok = False`, or gets the template annotation when
`fallback="template"` (and then says so in `annotator`).

Every teacher call is cached under sha256(teacher, messages, seed, params), so re-running an
annotation costs no teacher calls at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.emotion.eips import EIPS, STEPS, parse_reply, system_prompt, validate_eips
from training.eips_annotate import template
from training.eips_annotate.teachers import Teacher

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


def teacher_messages(row: dict) -> list[dict]:
    """The teacher's chat: our format instructions plus the gold facts it must explain."""
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
    instruction = (
        "Write the four reasoning steps and the spoken response for this turn. The Emotion line must start "
        f'with "{emotion}, {intensity}." and then name the cues. Keep each line short.'
    )
    return [{"role": "system", "content": system_prompt(explicit=True)},
            {"role": "user", "content": "\n".join(facts) + "\n\n" + instruction}]


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


def annotate_row(row: dict, teacher: Teacher | None, cache: Cache | None, retries: int, fallback: str,
                 stats: Stats) -> Annotation:
    """Annotate one row with the teacher (None means the template annotator)."""
    stats.rows += 1
    if teacher is None:
        eips, response = template.annotate(row["text"], row["emotion"], row["intensity"], row.get("text_emotion"))
        stats.accepted[template.NAME] = stats.accepted.get(template.NAME, 0) + 1
        return Annotation(eips, response, template.NAME, True)
    messages = teacher_messages(row)
    problems: list[str] = []
    for attempt in range(retries + 1):
        payload = {"teacher": teacher.name, "messages": messages, "seed": attempt,
                   "params": getattr(teacher, "params", None).__dict__ if hasattr(teacher, "params") else None}
        key = Cache.key(payload)
        text = cache.get(key) if cache else None
        if text is None:
            text = teacher.complete(messages, seed=attempt)
            stats.teacher_calls += 1
            if cache:
                cache.put(key, text)
        else:
            stats.cache_hits += 1
        eips, response, problems = check_reply(text, row["emotion"])
        if not problems:
            stats.accepted[teacher.name] = stats.accepted.get(teacher.name, 0) + 1
            return Annotation(eips, response, teacher.name, True, attempt + 1)
        for p in problems:
            kind = p.split(":")[0].split(" names ")[0]
            stats.problems[kind] = stats.problems.get(kind, 0) + 1
    stats.rejected += 1
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
