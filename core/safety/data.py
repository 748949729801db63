"""The labelled phrasing set of the crisis check and its split by template.

assets/safety/phrasings.tsv holds statements written for this project: label 1 (the check
must fire, with a Columbia-scale category) or 0 (it must not: negation, quotation, reported
speech, media talk, idioms, everyday sadness). Rows that share a template id are variants of
one statement (another person, tense, slang, typos, ASR-like lower case without punctuation),
so a split by template keeps near-duplicates out of the held-out part. The split is
deterministic and decided by each template id alone (CRC-32 of the id, one in four held
out), so adding phrasings never moves an existing template from one side to the other, and
training, the benchmark and the tests all see the same held-out rows.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

from core.models.bundled import ASSETS

PHRASINGS_PATH = ASSETS / "safety" / "phrasings.tsv"
# Written after the patterns and the threshold were fixed; only ever scored, never used to choose.
FRESH_PATH = ASSETS / "safety" / "phrasings-fresh.tsv"
# A third batch's untouched half (its other half is in phrasings-extra.tsv): scored only, like FRESH_PATH.
FRESH2_PATH = ASSETS / "safety" / "phrasings-fresh2.tsv"
# Training-only rows: written while the patterns were being changed to catch them, so they
# would not be an honest held-out set; the training split of phrasings.tsv is extended by them.
EXTRA_PATH = ASSETS / "safety" / "phrasings-extra.tsv"
# Training-only rows written in the third session for breadth (one template per row, every category).
BREADTH_PATH = ASSETS / "safety" / "phrasings-breadth.tsv"
# A fifth batch, written and scored before the third session changed anything: its dev half
# (CRC-32(template) % 2 == 0) is trained on; its test half is only ever scored, never printed.
BATCH5_PATH = ASSETS / "safety" / "phrasings-batch5.tsv"
# A sixth batch, written after the third session's head was trained and scored once (before/after): scored only.
BATCH6_PATH = ASSETS / "safety" / "phrasings-batch6.tsv"
# A seventh batch, written after the second breadth round's head was trained: scored once per head, never trained on.
BATCH7_PATH = ASSETS / "safety" / "phrasings-batch7.tsv"
HELD_OUT_EVERY = 4  # one template in four is held out


@dataclass(frozen=True)
class Phrasing:
    template: str
    label: int  # 1 = must fire, 0 = must not
    category: str  # crisis category for label 1; kind of hard negative for label 0
    text: str


def load_phrasings(path: Path = PHRASINGS_PATH) -> list[Phrasing]:
    """Every row of the set; lines starting with '#' are comments."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        rows = [Phrasing(r["template"], int(r["label"]), r["category"], r["text"]) for r in reader]
    if not rows:
        raise ValueError(f"{path} holds no phrasings")
    return rows


def held_out_templates(rows: list[Phrasing]) -> set[str]:
    """Template ids of the held-out split: those whose CRC-32 is divisible by HELD_OUT_EVERY."""
    return {r.template for r in rows if zlib.crc32(r.template.encode()) % HELD_OUT_EVERY == 0}


def batch_halves(rows: list[Phrasing]) -> tuple[list[Phrasing], list[Phrasing]]:
    """(dev, test) of a batch: CRC-32(template) even -> dev, odd -> test, fixed before any scoring."""
    dev = [r for r in rows if zlib.crc32(r.template.encode()) % 2 == 0]
    return dev, [r for r in rows if zlib.crc32(r.template.encode()) % 2 == 1]


def split(rows: list[Phrasing]) -> tuple[list[Phrasing], list[Phrasing]]:
    """(train, held_out), no template in both."""
    held = held_out_templates(rows)
    return [r for r in rows if r.template not in held], [r for r in rows if r.template in held]
