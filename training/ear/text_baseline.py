"""The text-only baseline: the emotion the words alone carry, from the NRC emotion lexicon.

This is what a listener that reads the transcript and ignores the voice would answer; on
LIME's lexically neutral texts it should sit near chance, and on conflict rows (words say one
emotion, the voice another) it should miss the voice almost always. VADER's valence breaks
ties between no NRC word and a clearly positive or negative sentence.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from core.emotion.labels import EMOTIONS

_NRC_TO_LABEL = {"anger": "angry", "fear": "fearful", "joy": "happy", "sadness": "sad",
                 "disgust": "disgusted", "surprise": "surprised"}


class TextBaseline:
    def __init__(self) -> None:
        from nrclex import NRCLex
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._nrc = NRCLex()
        self._vader = SentimentIntensityAnalyzer()

    def probabilities(self, text: str) -> np.ndarray:
        words = re.findall(r"[a-z']+", (text or "").lower())
        self._nrc.load_token_list(words)
        votes = Counter(_NRC_TO_LABEL[t] for tags in self._nrc.affect_dict.values() for t in tags if t in _NRC_TO_LABEL)
        p = np.full(len(EMOTIONS), 0.02)
        if votes:
            for label, n in votes.items():
                p[EMOTIONS.index(label)] += n
        else:
            compound = self._vader.polarity_scores(text or "")["compound"]
            p[EMOTIONS.index("happy" if compound > 0.3 else "sad" if compound < -0.3 else "neutral")] += 1
        return p / p.sum()

    def predict(self, texts) -> np.ndarray:
        return np.stack([self.probabilities(t) for t in texts]) if len(texts) else np.zeros((0, len(EMOTIONS)))
