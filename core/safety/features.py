"""What the learned crisis classifier reads: hashed word and character n-grams of a sentence.

Word uni- and bigrams carry phrasing ("better off", "off without me"); character 3- to
5-grams inside word boundaries carry spelling variants, typos and slang ("killin",
"myslef", "kms"). Both are hashed into one fixed-size vector (the hashing trick), so the
model is a plain matrix with no vocabulary file. We hash with CRC-32 because Python's own
`hash()` is salted per process; scikit-learn's HashingVectorizer would do the same job but
would make scikit-learn a run-time dependency of core for ten lines of code. The training
code (training/safety/) calls these same functions, so training and run time agree.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from core.safety.lexicon import class_grams
from core.safety.patterns import normalise

CLASS_WEIGHT = 0.5  # a class feature counts half a word n-gram: the classes back the words up, not outvote them
DIM = 2**16  # hashed feature slots; collisions at this size cost nothing measurable here

# Contractions and ASR spellings collapse to one form: "I'm" / "im" / "i am" read alike.
_CONTRACTIONS = [
    (r"\bi'm\b|\bi am\b", "im"), (r"\bi've\b", "ive"), (r"\bi'll\b", "ill"), (r"\bi'd\b", "id"),
    (r"\bdon't\b|\bdo not\b", "dont"), (r"\bcan't\b|\bcannot\b|\bcan not\b", "cant"),
    (r"\bwon't\b|\bwill not\b", "wont"), (r"\bwouldn't\b|\bwould not\b", "wouldnt"),
    (r"\bgoing to\b", "gonna"), (r"\bwant to\b", "wanna"), (r"\b(\w+)in'(?=\s|$)", r"\1ing"),
]
_CONTRACTIONS_RE = [(re.compile(p), r) for p, r in _CONTRACTIONS]
_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """The normalised words of `text` (contractions folded, punctuation dropped)."""
    t = normalise(text)
    for pattern, repl in _CONTRACTIONS_RE:
        t = pattern.sub(repl, t)
    return [w.strip("'") for w in _WORD.findall(t) if w.strip("'")]


def _slot(gram: str, dim: int) -> int:
    return zlib.crc32(gram.encode("utf-8")) % dim


def ngram_counts(text: str, dim: int = DIM, classes: bool = True) -> dict[int, float]:
    """Hashed n-gram counts of one text: slot -> count; with `classes`, also the word-class
    and negation-scope features of lexicon.py (a head records which kind it was trained on)."""
    ws = words(text)
    counts: dict[int, float] = {}

    def add(gram: str, weight: float = 1.0) -> None:
        k = _slot(gram, dim)
        counts[k] = counts.get(k, 0.0) + weight

    for i, w in enumerate(ws):
        add("w:" + w)
        if i + 1 < len(ws):
            add("b:" + w + " " + ws[i + 1])
        padded = f" {w} "
        for n in (3, 4, 5):
            for j in range(len(padded) - n + 1):
                add("c:" + padded[j:j + n])
    if classes:
        for gram in class_grams(ws):
            add(gram, CLASS_WEIGHT)
    return counts


def featurize(text: str, dim: int = DIM, classes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(slots, values) of one text: sublinear counts, L2-normalised (long and short texts weigh alike)."""
    counts = ngram_counts(text, dim, classes)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    val = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
    return idx, (val / np.linalg.norm(val)).astype(np.float32)
