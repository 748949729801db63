"""The semantic-decoupling filter keeps neutral everyday texts and drops emotional ones, with reasons."""

from __future__ import annotations

import pytest

from training.lime.config import DATA_DIR, FilterConfig
from training.lime.texts import DecouplingFilter, read_conflict_texts, read_lines


@pytest.fixture(scope="module")
def pool_parts():
    raw = (DATA_DIR / "pool.txt").read_text().split("# Emotional sentences")
    neutral = [ln for ln in raw[0].splitlines() if ln.strip() and not ln.startswith("#")]
    emotional = [ln for ln in raw[1].splitlines()[1:] if ln.strip() and not ln.startswith("#")]
    return neutral, emotional


def test_pool_is_a_few_hundred_lines(pool_parts):
    neutral, emotional = pool_parts
    assert len(neutral) >= 200 and len(emotional) >= 20
    assert len(read_lines(DATA_DIR / "pool.txt")) == len(neutral) + len(emotional)


def test_every_emotional_sentence_is_dropped_with_a_reason(pool_parts):
    _, emotional = pool_parts
    report = DecouplingFilter(FilterConfig()).run(emotional)
    assert report.kept == []
    assert all(v.reasons for v in report.dropped)


def test_most_neutral_sentences_are_kept_and_the_report_counts_reasons(pool_parts):
    neutral, _ = pool_parts
    report = DecouplingFilter(FilterConfig()).run(neutral + ["", neutral[0]])
    summary = report.summary()
    assert summary["kept"] >= 150  # the lexicons are strict; enough texts remain for any tiny build
    assert summary["pool"] == len(neutral) + 2
    assert {"empty", "duplicate"} <= set(summary["drop_reasons"])


def test_threshold_comes_from_the_config():
    text = "The shop around the corner sells fresh fruit."  # VADER +0.318 ("fresh")
    assert not DecouplingFilter(FilterConfig(vader_threshold=0.05)).judge(text).kept
    assert DecouplingFilter(FilterConfig(vader_threshold=0.5)).judge(text).kept


def test_nrc_emotion_words_are_named_and_ignorable():
    verdict = DecouplingFilter(FilterConfig(vader_threshold=1.0)).judge("The door to the garden is usually open.")
    assert verdict.reasons == ("nrc: emotion words garden",)
    assert DecouplingFilter(FilterConfig(vader_threshold=1.0, nrc_ignore=["garden"])).judge(verdict.text).kept


def test_conflict_texts_carry_their_emotion():
    pairs = read_conflict_texts(DATA_DIR / "conflict.txt")
    assert {e for e, _ in pairs} == {"happy", "sad", "angry", "fearful", "surprised", "disgusted"}
    judged = DecouplingFilter(FilterConfig()).run([t for _, t in pairs])
    assert len(judged.kept) <= 2  # the filter sees the emotion in nearly all of them


def test_conflict_file_rejects_unknown_labels(tmp_path):
    bad = tmp_path / "c.tsv"
    bad.write_text("joyful\tI am glad.\n")
    with pytest.raises(ValueError, match="unknown emotion label"):
        read_conflict_texts(bad)
