"""What to render: the split of every text, the groups of work and the rows inside them.

A group is one text spoken by one voice (or one corpus file); its rows share the neutral
rendering and its word alignment. Splits follow docs/emotions.md: a text (so its whole
lexically-identical group) lives in one split, and held-out voices speak test texts only.
Every random choice is drawn from a generator seeded by (seed, the row's identity), so a
plan does not depend on the order in which it is made.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np

from training.lime.config import LimeConfig

SPLITS = ("train", "validation", "test")


def stable_hash(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    return np.random.default_rng(int(stable_hash(seed, *parts), 16))


@dataclass(frozen=True)
class Segment:
    first_word: int  # index of the segment's first word in the text
    emotion: str
    intensity: str


@dataclass(frozen=True)
class RowSpec:
    id: str
    kind: str  # "single" | "switch" | "conflict"
    segments: tuple[Segment, ...]
    text_emotion: str  # what the words express: "neutral" for pool texts

    @property
    def emotion(self) -> str:
        """Row label: the voice's emotion; for a switch row, the emotion it ends in."""
        return self.segments[-1].emotion

    @property
    def intensity(self) -> str:
        return self.segments[-1].intensity


@dataclass(frozen=True)
class Group:
    id: str
    text: str
    voice: str
    split: str
    source: str
    rows: tuple[RowSpec, ...] = field(default=())
    audio_path: str = ""  # corpus groups: the file to ingest

    @property
    def text_id(self) -> str:
        """The lexically-identical group: every rendering of this text shares it."""
        return stable_hash("text", self.text)

    def to_json(self) -> dict:
        return asdict(self)


def assign_splits(texts: list[str], ratios: dict[str, float], seed: int) -> dict[str, str]:
    """Text -> split, by a seeded hash order; each split gets at least one text when possible."""
    order = sorted(texts, key=lambda t: stable_hash(seed, "split", t))
    total = sum(ratios.get(s, 0.0) for s in SPLITS)
    n = len(order)
    counts = {s: int(round(n * ratios.get(s, 0.0) / total)) for s in SPLITS}
    for s in ("test", "validation"):
        if ratios.get(s, 0.0) > 0 and counts[s] == 0 and n >= 3:
            counts[s] = 1
    counts["train"] = n - counts["validation"] - counts["test"]
    out, i = {}, 0
    for s in SPLITS:
        for t in order[i : i + counts[s]]:
            out[t] = s
        i += counts[s]
    return out


def _single_rows(cfg: LimeConfig, gid: str) -> list[RowSpec]:
    rows = []
    for emotion in cfg.emotions:
        for intensity in ["medium"] if emotion == "neutral" else cfg.intensities:
            rows.append(RowSpec(stable_hash(gid, "single", emotion, intensity), "single",
                                (Segment(0, emotion, intensity),), "neutral"))
    return rows


def _switch_rows(cfg: LimeConfig, gid: str, n_words: int) -> list[RowSpec]:
    rows = []
    if n_words < 4:
        return rows
    for k in range(cfg.switch_rows_per_text):
        rng = rng_for(cfg.seed, gid, "switch", k)
        first, second = rng.choice(cfg.emotions, size=2, replace=False)
        cut = int(rng.integers(2, n_words - 1))
        segs = tuple(
            Segment(start, str(e), "medium" if e == "neutral" else str(rng.choice(cfg.intensities)))
            for start, e in ((0, first), (cut, second))
        )
        rows.append(RowSpec(stable_hash(gid, "switch", k), "switch", segs, "neutral"))
    return rows


def _conflict_rows(cfg: LimeConfig, gid: str, text_emotion: str) -> list[RowSpec]:
    voices = [e for e in cfg.emotions if e != text_emotion]
    rows = []
    rng = rng_for(cfg.seed, gid, "conflict")
    picks = rng.choice(voices, size=min(cfg.conflict_rows_per_text, len(voices)), replace=False)
    for e in picks:
        intensity = "medium" if e == "neutral" else str(rng.choice(cfg.intensities))
        rows.append(RowSpec(stable_hash(gid, "conflict", e), "conflict", (Segment(0, str(e), intensity),), text_emotion))
    return rows


def plan_synthetic(cfg: LimeConfig, texts: list[str], conflicts: list[tuple[str, str]]) -> list[Group]:
    """Groups for every (text, voice) pair allowed by the split rules."""
    splits = assign_splits(texts + [t for _, t in conflicts], cfg.split_ratios, cfg.seed)
    source = f"lime-synth/{cfg.backend}"
    groups = []
    items = [(t, "neutral") for t in texts] + [(t, e) for e, t in conflicts]
    for voice in cfg.voices:
        for text, text_emotion in items:
            split = splits[text]
            if voice.test_only and split != "test":
                continue
            # The voice's whole config is in the id, so a changed voice never reuses stale cached rows.
            gid = stable_hash(cfg.seed, source, voice.model_dump_json(exclude={"test_only"}), text)
            if text_emotion == "neutral":
                rows = _single_rows(cfg, gid) + _switch_rows(cfg, gid, len(text.split()))
            else:
                rows = _conflict_rows(cfg, gid, text_emotion)
            groups.append(Group(gid, text, voice.name, split, source, tuple(rows)))
    return groups

