"""The word classes and negation scope the crisis classifier reads besides the words (core/safety/lexicon.py)."""

from __future__ import annotations

import numpy as np

from core.safety.classifier import CrisisClassifier
from core.safety.features import featurize, ngram_counts, words
from core.safety.lexicon import class_grams, negated


def test_words_of_one_kind_share_a_class_feature():
    # a means never named in a training row still shares its kind's feature with "rope"
    rope, cord = class_grams(words("i've got the rope ready")), class_grams(words("i've got the cord ready"))
    assert "k:ligature" in rope and "k:ligature" in cord
    assert "kp:decide+ligature" in cord or "kb:ligature decide" in cord
    # a time and a means in one sentence give the pair, whatever words carry them
    assert "kp:drug+time" in class_grams(words("saving my tablets for saturday"))


def test_a_negation_governs_the_next_words_only():
    ws = words("I've never hurt anyone but I hurt myself")
    scope = dict(zip(ws, negated(ws), strict=False))
    assert negated(ws)[ws.index("hurt")] is True  # "never hurt"
    assert negated(ws)[len(ws) - 2] is False  # the second "hurt", after "but"
    grams = class_grams(words("I've never hurt anyone"))
    assert "n:hurt" in grams and "kn:harm" in grams and "k:harm" not in grams
    assert scope["ive"] is False


def test_class_features_are_added_only_for_heads_trained_with_them():
    text = "the cord would hold"
    assert len(ngram_counts(text, classes=True)) > len(ngram_counts(text, classes=False))
    idx_plain, _ = featurize(text, classes=False)
    old = CrisisClassifier(weights=np.zeros((2**16, 9), "float32"),
                           bias=np.zeros(9, "float32"), categories=tuple("abcdefgh"),
                           threshold=0.5, info={})
    assert old.classes is False  # a head without "features" in its info predates the classes
    new = CrisisClassifier(weights=old.weights, bias=old.bias, categories=old.categories, threshold=0.5,
                           info={"features": "ngram+classes"})
    assert new.classes is True  # a head trained with them reads them (the shipped one is the plain n-gram head)
    assert len(idx_plain) > 0
