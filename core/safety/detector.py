"""The crisis detector: the explicit patterns first, then the learned classifier, per sentence.

A text fires when a pattern matches outside a cancelling context (patterns.py), or when the
classifier (classifier.py) scores one of its sentences at or above its threshold. A sentence
in which the patterns found crisis words but judged them cancelled (negated, quoted, an
idiom) is not given to the classifier: hashed n-grams cannot read "never" before "hurt myself". Text is
read a sentence at a time because a crisis statement inside a long turn ("work was fine.
I've written goodbye letters.") must not be diluted by the rest; ASR output without
punctuation is cut into overlapping windows of words instead. Each result says which layer
fired, the rule or model, the category and the words it read.

The detector is used on the transcript (what the person said) and on the reply (what the
model was about to say); the reply adds the second-person patterns ("kill yourself") and
reads only finished sentences with the classifier, since a reply streams in word by word.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from core.safety.classifier import CrisisClassifier
from core.safety.patterns import find_patterns, normalise, scan

WINDOW_WORDS = 24  # an unpunctuated run is read in windows this long...
WINDOW_STEP = 12  # ...overlapping by half, so no statement falls between two windows
# A piece of fewer words than this is not read by the classifier alone: "I see." or "Good night."
# carry no statement an n-gram head can read, and their few n-grams scored 0.9 (they fired the
# check on a back-channel). A short sentence is read joined to the next one; a short turn by the
# patterns only ("kms", "sh'd again" are theirs).
MIN_MODEL_WORDS = 3
MAX_CHARS = 200_000  # longer input is read up to here (a spoken turn is a few hundred characters)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Detection:
    """What the detector found in one text."""

    triggered: bool
    category: str | None = None
    score: float = 0.0  # 1.0 for a pattern; the classifier's P(crisis) otherwise
    layer: str | None = None  # "pattern" | "model" | None
    rule: str | None = None  # the pattern's id, e.g. "plan_timing:1"
    model: str | None = None  # the classifier's name when it decided
    matched: str | None = None  # the words a pattern matched, or the sentence the model flagged


def chunks(text: str, finished_only: bool = False) -> list[str]:
    """Sentences of `text`; long unpunctuated runs as overlapping word windows.

    With `finished_only` (a reply still streaming), the last piece is dropped unless it ends a sentence.
    """
    pieces = [p.strip() for p in _SENTENCE.split(text[:MAX_CHARS]) if p.strip()]
    if finished_only and pieces and not re.search(r"[.!?]['\")\]]*$", pieces[-1]):
        pieces = pieces[:-1]
    out = []
    for piece in pieces:
        ws = piece.split()
        if len(ws) <= WINDOW_WORDS:
            out.append(piece)
            continue
        for start in range(0, len(ws) - WINDOW_STEP, WINDOW_STEP):
            out.append(" ".join(ws[start:start + WINDOW_WORDS]))
    return out


def _joined_short(pieces: list[str]) -> list[str]:
    """Pieces for the classifier: one shorter than MIN_MODEL_WORDS is joined to the next; a short last one to
    the one before; a text that is short as a whole gives none."""
    out: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}".strip() if carry else piece
        if len(piece.split()) < MIN_MODEL_WORDS:
            carry = piece
            continue
        out.append(piece)
        carry = ""
    if carry and out:
        out[-1] = f"{out[-1]} {carry}"
    return out


class CrisisDetector:
    """Patterns + classifier. `classifier=None` runs the pattern layer alone."""

    def __init__(self, classifier: CrisisClassifier | None, reply_threshold: float | None = None,
                 cache_size: int = 512) -> None:
        self.classifier = classifier
        # A reply is the companion's own voice: it fires on the model's say-so only when very sure.
        self.reply_threshold = reply_threshold if reply_threshold is not None else (
            max(0.9, classifier.threshold) if classifier else 1.0)
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._reply_cache: OrderedDict[str, Detection] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # one detector serves the engine stage and, in the app, the GUI

    def check(self, text: str | None, reply: bool = False) -> Detection:
        if not text or not text.strip():
            return Detection(False)
        text = text[:MAX_CHARS]
        if reply:
            return self._check_reply(text)
        return self._check_text(text, reply=False)

    def _check_reply(self, text: str) -> Detection:
        """A streaming reply is re-checked at every token: each finished sentence is judged once
        (patterns and classifier, then cached); only the sentence still being written is
        re-read, by the patterns alone."""
        pieces = [p.strip() for p in _SENTENCE.split(text) if p.strip()]
        tail = None
        if pieces and not re.search(r"[.!?]['\")\]]*$", pieces[-1]):
            tail = pieces.pop()
        best = Detection(False)
        for piece in pieces:
            key = "reply:" + normalise(piece)
            with self._lock:
                d = self._reply_cache.get(key)
            if d is None:
                d = self._check_text(piece, reply=True)
                with self._lock:
                    self._reply_cache[key] = d
                    if len(self._reply_cache) > self._cache_size:
                        self._reply_cache.popitem(last=False)
            if d.triggered:
                return d
            best = d if d.score > best.score else best
        if tail:
            hits = find_patterns(tail, reply=True)
            if hits:
                h = hits[0]
                return Detection(True, h.category, 1.0, "pattern", h.rule, None, h.matched)
        return best

    def _check_text(self, text: str, reply: bool) -> Detection:
        hits = find_patterns(text, reply=reply)
        if hits:
            h = hits[0]
            return Detection(True, h.category, 1.0, "pattern", h.rule, None, h.matched)
        if self.classifier is None:
            return Detection(False)
        score, category, piece = self._best(text, reply)
        threshold = self.reply_threshold if reply else self.classifier.threshold
        if score >= threshold:
            return Detection(True, category, round(score, 4), "model", None, self.classifier.name, piece)
        return Detection(False, None, round(score, 4))

    def model_score(self, text: str, reply: bool = False) -> float:
        """The classifier's highest score over the sentences it reads (0 without a classifier)."""
        return self._best(text, reply)[0] if self.classifier is not None else 0.0

    def _best(self, text: str, reply: bool) -> tuple[float, str | None, str | None]:
        best: tuple[float, str | None, str | None] = (0.0, None, None)
        for piece in _joined_short(chunks(text)):
            if scan(piece, reply)[1]:
                continue  # the patterns read this sentence's crisis words and cancelled them
            score, category = self._score(piece)
            if score > best[0]:
                best = (score, category, piece)
        return best

    def _score(self, piece: str) -> tuple[float, str | None]:
        # the same sentence comes back (a reply re-checked per token, a repeated phrase): score it once
        key = normalise(piece)
        with self._lock:
            hit = self._cache.get(key)
        if hit is None:
            s = self.classifier.score(piece)
            hit = (s.score, s.category)
            with self._lock:
                self._cache[key] = hit
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return hit
