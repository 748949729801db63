"""Plans follow docs/emotions.md: every emotion x intensity per text and voice, whole groups per split,
held-out voices in test only, and the same plan for the same seed."""

from __future__ import annotations

from collections import defaultdict

import pytest

from core.emotion.labels import EMOTIONS
from training.lime.align import fill_times
from training.lime.config import LimeConfig, VoiceConfig
from training.lime.plan import assign_splits, plan_synthetic

TEXTS = [f"The parcel number {i} is on the shelf by the door." for i in range(20)]
CONFLICTS = [("happy", "I am so happy today."), ("sad", "I feel so alone tonight.")]


def _cfg(seed=0, **kw):
    voices = [VoiceConfig(name="a", engine="piper"), VoiceConfig(name="b", engine="espeak", model="en-us"),
              VoiceConfig(name="held", engine="piper", formant_shift=1.1, test_only=True)]
    return LimeConfig(seed=seed, voices=voices, **kw)


def test_splits_are_whole_and_cover_every_split():
    splits = assign_splits(TEXTS, {"train": 0.8, "validation": 0.1, "test": 0.1}, seed=3)
    assert set(splits) == set(TEXTS)
    assert sorted(splits.values()).count("test") == 2 and sorted(splits.values()).count("validation") == 2


def test_every_group_has_all_emotions_and_intensities_and_switch_rows():
    groups = plan_synthetic(_cfg(), TEXTS, CONFLICTS)
    single = [g for g in groups if g.text in TEXTS][0]
    kinds = defaultdict(list)
    for row in single.rows:
        kinds[row.kind].append(row)
    assert len(kinds["single"]) == 1 + 6 * 3
    assert {(r.emotion, r.intensity) for r in kinds["single"]} >= {(e, "high") for e in EMOTIONS[1:]}
    assert len(kinds["switch"]) == 2
    for row in kinds["switch"]:
        first, second = row.segments
        assert first.emotion != second.emotion and 0 < second.first_word < len(single.text.split())


def test_texts_stay_in_one_split_and_held_out_voice_only_in_test():
    groups = plan_synthetic(_cfg(), TEXTS, CONFLICTS)
    text_splits, voice_splits = defaultdict(set), defaultdict(set)
    for g in groups:
        text_splits[g.text].add(g.split)
        voice_splits[g.voice].add(g.split)
    assert all(len(s) == 1 for s in text_splits.values())
    assert voice_splits["held"] == {"test"}
    assert voice_splits["a"] == {"train", "validation", "test"}


def test_conflict_rows_put_the_voice_in_another_emotion():
    groups = plan_synthetic(_cfg(), TEXTS, CONFLICTS)
    rows = [r for g in groups for r in g.rows if r.kind == "conflict"]
    assert rows and all(r.emotion != r.text_emotion for r in rows)
    assert {r.text_emotion for r in rows} == {"happy", "sad"}


def test_same_seed_same_plan_other_seed_other_plan():
    def ids(seed):
        return [(g.id, g.split, [(r.id, r.segments) for r in g.rows]) for g in plan_synthetic(_cfg(seed), TEXTS, CONFLICTS)]

    assert ids(0) == ids(0)
    assert ids(0) != ids(1)


def test_fill_times_interpolates_between_anchors():
    words = fill_times(["a", "bbb", "c", "d"], {0: (0.1, 0.3), 3: (0.9, 1.0)}, (0.0, 1.2))
    assert [w.word for w in words] == ["a", "bbb", "c", "d"]
    assert words[1].start == pytest.approx(0.3) and words[2].end == pytest.approx(0.9)
    assert words[1].end - words[1].start > words[2].end - words[2].start  # longer word, longer time
