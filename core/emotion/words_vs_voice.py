"""Words against voice: when what a person says and how they sound point different ways.

"It went fine" said in a flat, slow, quiet voice is the case the companion exists for. The
words' sentiment comes from VADER (the standard lexicon sentiment model for short English
text, vaderSentiment on PyPI); the voice's side is the perceived emotion and its confidence.
They disagree *with confidence* when the words are clearly positive (compound >= 0.35) and the
voice is confidently negative (sad, angry, fearful, disgusted), or the words are clearly
negative (<= -0.35) and the voice confidently happy; neutral and surprised voices, weak words
or a voice heard with less than `min_confidence` never count. Then the reply may gently name
it ("you say it went fine, but you sound worn out"): `hint` is the line the engine adds to its
prompt, and the turn is marked in the session record and the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

NEGATIVE_VOICES = frozenset({"sad", "angry", "fearful", "disgusted"})
WORDS_THRESHOLD = 0.35
MIN_CONFIDENCE = 0.5
# how a negative voice sounds, in the words a reply can use
_SOUNDS = {"sad": "low and heavy", "angry": "tense and upset", "fearful": "anxious", "disgusted": "put off",
           "happy": "bright and upbeat"}


@dataclass(frozen=True)
class WordsVsVoice:
    words: str  # "positive" | "negative"
    voice: str  # the perceived label
    compound: float  # VADER compound score of the words
    confidence: float  # of the voice label

    @property
    def note(self) -> str:
        """The mark shown on the turn and kept in its record."""
        return f"words sound {self.words}, voice sounds {self.voice}"

    @property
    def hint(self) -> str:
        """For the reply prompt: the disagreement, and leave to name it gently (never to insist)."""
        return (f"their words sound {self.words} but their voice sounds {_SOUNDS.get(self.voice, self.voice)}; "
                "you may gently name the difference")


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def words_sentiment(text: str) -> float:
    """VADER compound score of `text` in [-1, 1]."""
    return float(_analyzer().polarity_scores(text)["compound"]) if text.strip() else 0.0


def detect(text: str | None, voice_label: str | None, voice_confidence: float | None,
           min_confidence: float = MIN_CONFIDENCE) -> WordsVsVoice | None:
    """The disagreement between `text` and the voice, or None when there is none worth naming."""
    if not text or not voice_label or voice_confidence is None or voice_confidence < min_confidence:
        return None
    try:
        c = words_sentiment(text)
    except ImportError:  # vaderSentiment missing: no mark rather than no conversation
        return None
    if c >= WORDS_THRESHOLD and voice_label in NEGATIVE_VOICES:
        return WordsVsVoice("positive", voice_label, round(c, 3), voice_confidence)
    if c <= -WORDS_THRESHOLD and voice_label == "happy":
        return WordsVsVoice("negative", voice_label, round(c, 3), voice_confidence)
    return None
