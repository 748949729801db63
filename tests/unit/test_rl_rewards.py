"""DR-SAPO rewards: what each route is paid for, the shared penalties, and a reward that raises."""

from __future__ import annotations

import pytest

from core.emotion.eips import EIPS, render_target
from training.eips_annotate import template
from training.rl.rewards import RewardModel, Sample

WORDS = "I finally finished the report for my manager today."


@pytest.fixture(scope="module")
def rm() -> RewardModel:
    return RewardModel()  # lexical relevance, the app's real safety screen


def _explicit(label="sad", intensity="high", strategy=None, reply="I'm so sorry, that sounds heavy. What happened?"):
    eips, _ = template.annotate(WORDS, "sad", "high")
    if strategy:
        eips = EIPS(eips.emotion, eips.intent, eips.psychology, strategy)
    if label != "sad":
        eips = EIPS(f"{label}, {intensity}. Lively voice.", eips.intent, eips.psychology, eips.strategy)
    return render_target(label, intensity, reply, eips)


def test_explicit_route_pays_for_order_gold_label_fitting_strategy_and_a_reply_that_follows_it(rm):
    good = rm.score(Sample("explicit", _explicit(), WORDS, "sad", "high"))
    assert good.error is None and good.parts["format"] == 1.0 and good.parts["emotion"] == 1.0
    assert good.parts["strategy"] > 0.5 and good.parts["coherence"] == 1.0
    wrong_label = rm.score(Sample("explicit", _explicit(label="happy"), WORDS, "sad", "high"))
    assert wrong_label.parts["emotion"] == pytest.approx(0.3) and wrong_label.total < good.total  # intensity right
    contrary = rm.score(Sample("explicit", _explicit(strategy="Celebrate with them enthusiastically."), WORDS, "sad", "high"))
    assert contrary.parts["strategy"] < good.parts["strategy"]
    no_question = rm.score(Sample("explicit", _explicit(reply="Okay then. Noted."), WORDS, "sad", "high"))
    assert no_question.parts["coherence"] < 1.0 and no_question.total < good.total
    shuffled = "Intent: a\nEmotion: sad, high.\nPsychology: b\nStrategy: c\nResponse: I'm here."
    assert rm.score(Sample("explicit", shuffled, WORDS, "sad", "high")).parts["format"] == 0.0


def test_direct_route_pays_for_empathy_relevance_respect_and_length(rm):
    warm = "Emotion: sad, high.\nResponse: I'm so sorry the report wore you out. It sounds like today was a lot. How are you feeling now?"
    flat = "Emotion: sad, high.\nResponse: Okay."
    rude = "Emotion: sad, high.\nResponse: Calm down, it's not a big deal, just finish the report."
    long = "Emotion: sad, high.\nResponse: " + " ".join(["I hear you about the report."] * 5)
    s = {k: rm.score(Sample("direct", v, WORDS, "sad", "high")) for k, v in
         {"warm": warm, "flat": flat, "rude": rude, "long": long}.items()}
    assert s["warm"].parts["reaction"] == 1.0 and s["warm"].parts["interpretation"] == 1.0
    assert s["warm"].parts["exploration"] == 1.0 and s["warm"].parts["relevance"] > 0
    assert s["rude"].parts["respectful"] == 0.0 and s["long"].parts["length"] == 0.0
    assert s["warm"].total > max(s["flat"].total, s["rude"].total, s["long"].total)
    assert s["warm"].parts["tag"] == 1.0
    assert rm.score(Sample("direct", warm.replace("sad, high", "happy, high"), WORDS, "sad", "high")).parts["tag"] == 0.0


def test_unsafe_content_and_a_wrong_language_are_penalised_on_both_routes(rm):
    ok = rm.score(Sample("direct", "Emotion: sad, high.\nResponse: I'm sorry, that sounds hard.", WORDS, "sad", "high"))
    french = rm.score(Sample("direct", "Emotion: sad, high.\nResponse: Je suis désolé, c'est très difficile pour toi.",
                             WORDS, "sad", "high"))
    unsafe = rm.score(Sample("direct", "Emotion: sad, high.\nResponse: Maybe you should just kill yourself.",
                             WORDS, "sad", "high"))
    assert ok.parts["unsafe"] == 0.0 and ok.parts["wrong_language"] == 0.0
    assert french.parts["wrong_language"] == 1.0 and french.total < ok.total - 0.9
    assert unsafe.parts["unsafe"] == 1.0 and unsafe.total < ok.total - 0.9


def test_a_reward_that_raises_gives_no_reward_and_says_why():
    def broken(a: str, b: str) -> float:
        raise RuntimeError("embedding server down")

    res = RewardModel(relevance=broken).score(Sample("direct", "Emotion: sad, high.\nResponse: Hi.", WORDS, "sad", "high"))
    assert res.total is None and "embedding server down" in res.error
    assert RewardModel().score(Sample("sideways", "x", WORDS, "sad", "high")).error.startswith("ValueError")
