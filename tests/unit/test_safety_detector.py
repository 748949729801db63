"""The layered crisis detector: its figures on the held-out phrasings, its layers, its categories."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from core.safety.check import SafetyCheck
from core.safety.classifier import ClassifierError, CrisisClassifier
from core.safety.data import (
    BATCH5_PATH,
    BATCH6_PATH,
    BATCH7_PATH,
    BREADTH_PATH,
    EXTRA_PATH,
    FRESH2_PATH,
    batch_halves,
    load_phrasings,
    split,
)
from core.safety.detector import CrisisDetector, _joined_short, chunks
from core.safety.patterns import CATEGORIES, find_patterns


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    return CrisisDetector(CrisisClassifier.load())


def test_the_phrasing_set_is_large_varied_and_split_by_template():
    rows = load_phrasings()
    train, held = split(rows)
    assert len(rows) >= 600
    assert {r.template for r in train}.isdisjoint({r.template for r in held})
    assert {r.category for r in held if r.label} == set(CATEGORIES)  # every category is tested
    kinds = {r.category for r in held if not r.label}
    assert {"negation", "quotation", "reported", "media", "idiom", "everyday"} <= kinds
    # ASR-like rows (lower case, no final punctuation) are part of the set, not an afterthought
    assert sum(r.text == r.text.lower() and not r.text.endswith((".", "!", "?")) for r in rows) >= 250


def test_held_out_recall_and_false_positive_rate_meet_the_targets(detector):
    _, held = split(load_phrasings())
    fired = {r.text: detector.check(r.text).triggered for r in held}
    pos = [r for r in held if r.label]
    neg = [r for r in held if not r.label]
    recall = sum(fired[r.text] for r in pos) / len(pos)
    fpr = sum(fired[r.text] for r in neg) / len(neg)
    assert recall >= 0.97, [r.text for r in pos if not fired[r.text]]
    assert fpr <= 0.03, [r.text for r in neg if fired[r.text]]


@pytest.mark.parametrize(("text", "category"), [
    ("I'm going to kill myself tonight", "plan_timing"),
    ("i wrote goodbye letters to my kids", "preparatory"),
    ("I've been saving up my sleeping pills", "preparatory"),
    ("been thinking about hanging myself", "method_means"),
    ("I relapsed and started cutting again", "self_injury"),
    ("I'm such a burden to everyone", "hopelessness_burden"),
    ("i just wanna die", "passive_ideation"),  # Columbia item 1, the wish to be dead
    ("i keep thinking about killing myself", "active_ideation"),
    ("I wish I was dead", "passive_ideation"),
    ("I'm going to stab my brother", "harm_others"),
])
def test_explicit_statements_fire_with_their_category(detector, text, category):
    d = detector.check(text)
    assert d.triggered and d.layer == "pattern" and d.category == category and d.rule.startswith(category)


@pytest.mark.parametrize("text", [
    "I'm not going to kill myself, don't worry",
    "I listened to a podcast episode on self-harm awareness",
    "the main character says he wants to die in the first scene",
    "this commute is killing me",
    "I could die of embarrassment",
    "im killing myself laughing at this",
    "I used to cut myself but not anymore",
    'the song goes "I want to die tonight" and it is stuck in my head',
    "the nurse asked if I had any thoughts of self-harm",
    # look-alikes of the second session's patterns
    "I want to cut my hair really short.",
    "In group today someone talked about their suicide attempt and it was really moving.",
    "I bought a rope swing for the garden tree.",
    "I won't be around next week, I'm on holiday.",
    "The film ends with him leaving a note for his daughter to find, I sobbed.",
])
def test_cancelled_contexts_do_not_fire_the_patterns(text):
    assert find_patterns(text) == []


@pytest.mark.parametrize(("text", "category"), [
    ("I've got the rope in the boot of my car.", "method_means"),
    ("i swallowed half a bottle of paracetamol earlier", "method_means"),
    ("the knife is in my hand right now and i want to use it on me", "method_means"),
    ("i left a note on my desk for my mum to find", "preparatory"),
    ("I recorded a video for my daughter, because I won't be around.", "preparatory"),
    ("i dig my nails into my skin until it breaks", "self_injury"),
    ("i feel like the only way out is to not exist", "passive_ideation"),
    ("I'm just a drain on everyone's time and money.", "hopelessness_burden"),
    ("I want to shoot up my old school.", "harm_others"),
])
def test_implicit_statements_of_the_second_batch_fire(text, category):
    hits = find_patterns(text)
    assert hits and hits[0].category == category, hits


def test_the_untouched_half_never_reaches_training():
    """phrasings-fresh2.tsv is only scored: no template or text of it is trained on or held out elsewhere."""
    fresh2, extra, rows = load_phrasings(FRESH2_PATH), load_phrasings(EXTRA_PATH), load_phrasings()
    assert sum(r.label for r in fresh2) >= 45 and sum(not r.label for r in fresh2) >= 45
    seen = extra + rows
    assert {r.template for r in fresh2}.isdisjoint({r.template for r in seen})
    assert {r.text.lower() for r in fresh2}.isdisjoint({r.text.lower() for r in seen})
    # the training-only rows stay out of the held-out split the targets are measured on
    _, held = split(rows)
    assert {r.template for r in extra}.isdisjoint({r.template for r in held})


@pytest.mark.parametrize(("text", "category"), [
    ("I'm not going to do anything, but I wouldn't care if I disappeared.", "passive_ideation"),
    ("Dying sounds almost comforting right now.", "passive_ideation"),
    ("some nights i pray my heart just gives out", "passive_ideation"),
    ("i'm such a waste of air", "hopelessness_burden"),
    ("I'm tired of being the problem everyone has to deal with.", "hopelessness_burden"),
    ("sh'd last night, feel awful", "self_injury"),
    ("hugged my dad at the station, the last time he'll ever see me", "plan_timing"),
    ("I sold my bike and my amp, won't need them after this week.", "preparatory"),
    ("I finished my letters and then said goodbye forever to my friends", "preparatory"),
    ("I've got a knife and a list of people at college", "harm_others"),
    ("i keep picturing smothering my son when he won't settle", "harm_others"),
])
def test_implicit_statements_of_the_fifth_batch_kinds_fire(text, category):
    hits = find_patterns(text)
    assert hits and hits[0].category == category, hits


@pytest.mark.parametrize("text", [
    "I'm doing my thesis on self-harm in young men.",
    "i want to go to sleep and not wake up until the holidays lol",
    "We're going bungee jumping off a bridge in New Zealand!",
    "i bought some rope for the tyre swing",
    "We learned about self-harm signs at the staff training.",
    "it's the last time you'll see me in this uniform, I'm retiring",
])
def test_look_alikes_of_the_fifth_batch_kinds_do_not_fire(text):
    assert find_patterns(text) == []


def test_batch5_test_half_never_reaches_training():
    """The fifth batch's test half is only scored: none of its templates or texts is trained on or tuned on."""
    dev, test = batch_halves(load_phrasings(BATCH5_PATH))
    assert sum(r.label for r in test) >= 60 and sum(not r.label for r in test) >= 60
    assert {r.category for r in test if r.label} == set(CATEGORIES)
    seen = load_phrasings() + load_phrasings(EXTRA_PATH) + load_phrasings(BREADTH_PATH) + dev
    assert {r.template for r in test}.isdisjoint({r.template for r in seen})
    same = {r.text.lower() for r in test} & {r.text.lower() for r in seen}
    # one hard negative of batch 5 happens to repeat, word for word, an idiom row the first session wrote
    # (idi32); it is counted in the test half's figures as it was scored (docs/safety.md)
    assert same == {"i wanted the ground to swallow me up when i tripped on stage."}, same
    # the sixth and seventh batches are scored only, like the test half
    for path in (BATCH6_PATH, BATCH7_PATH):
        later = load_phrasings(path)
        assert sum(r.label for r in later) >= 55 and sum(not r.label for r in later) >= 55
        assert {r.text.lower() for r in later}.isdisjoint({r.text.lower() for r in seen + test})


def test_the_classifier_catches_what_no_pattern_names(detector):
    _, held = split(load_phrasings())
    caught = [r for r in held if r.label and not find_patterns(r.text) and detector.check(r.text).triggered]
    assert len(caught) >= 4, "the learned layer adds recall on held-out statements no pattern names"
    d = detector.check(caught[0].text)
    assert d.layer == "model" and d.model == "ngram-logreg" and d.rule is None and d.category in CATEGORIES


@pytest.mark.parametrize("text", ["I see.", "I know.", "Good night.", "me too", "Sure."])
def test_a_back_channel_is_not_read_by_the_classifier_alone(detector, text):
    # before, "I see." scored 0.9 from two n-grams and fired the check on a back-channel
    assert detector.model_score(text) == 0.0 and not detector.check(text).triggered


def test_a_short_sentence_is_read_with_the_next_one(detector):
    pieces = _joined_short(chunks("Okay. I have a rope in the garage and I keep looking at it. Bye."))
    assert pieces == ["Okay. I have a rope in the garage and I keep looking at it. Bye."]
    assert detector.check("kms").triggered  # a short turn still meets the patterns


def test_a_crisis_sentence_inside_a_long_turn_is_not_diluted(detector):
    filler = "Work was okay and the train was late again and I had soup for lunch. " * 40
    d = detector.check(filler + "I have a rope in the garage and I keep looking at it. " + filler)
    assert d.triggered


def test_unpunctuated_asr_runs_are_read_in_overlapping_windows():
    words = [f"w{i}" for i in range(60)]
    pieces = chunks(" ".join(words))
    assert len(pieces) >= 4
    assert all(len(p.split()) <= 24 for p in pieces)
    covered = {w for p in pieces for w in p.split()}
    assert covered == set(words)


def test_a_streaming_reply_is_read_by_finished_sentences():
    assert chunks("I hear you. It sounds like", finished_only=True) == ["I hear you."]


@pytest.mark.parametrize("reply", [
    "That sounds exhausting. Do you want to tell me more about your day?",
    "It sounds like you've been feeling really hopeless lately, and that is a heavy thing to carry.",
    "I'm so sorry about your grandmother. Losing someone is hard.",
    "Congratulations on the new job! When do you start?",
    "Please don't hurt yourself tonight, stay with me.",
])
def test_ordinary_replies_pass(reply):
    assert not SafetyCheck().check_reply(reply).triggered


def test_a_damaged_head_is_refused_with_a_fix(tmp_path):
    bad = tmp_path / "crisis_head.npz"
    bad.write_bytes(b"not an npz at all")
    with pytest.raises(ClassifierError, match="train_head"):
        CrisisClassifier.load(bad)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, weights=np.zeros((4, 2)), bias=np.zeros(2), categories=np.array(["a", "b"]),
             threshold=np.float32(0.5), info=np.array("{}"))
    with pytest.raises(ClassifierError, match="does not hold a crisis head"):
        CrisisClassifier.load(wrong)


def test_without_its_classifier_the_check_keeps_its_patterns_and_says_so(tmp_path, caplog):
    check = SafetyCheck(head_path=tmp_path / "missing.npz")
    with caplog.at_level(logging.ERROR):
        assert check.check_transcript("I want to end my life").triggered
    assert "without its classifier" in caplog.text
    assert check.detector.classifier is None
