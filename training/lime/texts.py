"""The text side of LIME: the text pool, the conflict texts and the semantic-decoupling filter.

A LIME text must not give its emotion away, so every text whose words carry emotion is
dropped before rendering. Two lexicons judge it (libraries, not hand-made word lists):
VADER's compound valence and the NRC emotion lexicon (nrclex). Each drop keeps its reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.emotion.labels import check_label
from training.lime.config import FilterConfig

# NRC categories that name an emotion. NRC also tags 'trust', 'anticipation', 'positive' and
# 'negative' on a great many everyday words ("bank", "time"); those say nothing about emotion.
NRC_EMOTIONS = frozenset({"anger", "fear", "joy", "sadness", "disgust", "surprise"})
_WORD = re.compile(r"[a-z']+")


def read_lines(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a text file, stripped."""
    lines = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def read_conflict_texts(path: Path) -> list[tuple[str, str]]:
    """(text emotion, sentence) pairs from an 'emotion<TAB>sentence' file."""
    pairs = []
    for line in read_lines(path):
        emotion, _, text = line.partition("\t")
        if not text.strip():
            raise ValueError(f"{path}: line {line!r} is not 'emotion<TAB>sentence'")
        pairs.append((check_label(emotion.strip()), text.strip()))
    return pairs


@dataclass(frozen=True)
class Verdict:
    text: str
    kept: bool
    reasons: tuple[str, ...] = ()


@dataclass
class FilterReport:
    kept: list[str] = field(default_factory=list)
    dropped: list[Verdict] = field(default_factory=list)

    def summary(self) -> dict:
        reasons = Counter(r.split(":")[0] for v in self.dropped for r in v.reasons)
        return {
            "pool": len(self.kept) + len(self.dropped),
            "kept": len(self.kept),
            "dropped": len(self.dropped),
            "drop_reasons": dict(sorted(reasons.items())),
            "dropped_texts": [{"text": v.text, "reasons": list(v.reasons)} for v in self.dropped],
        }


class DecouplingFilter:
    """Judges whether a text's words carry emotion (thresholds from FilterConfig)."""

    def __init__(self, config: FilterConfig) -> None:
        from nrclex import NRCLex
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._config = config
        self._vader = SentimentIntensityAnalyzer()
        self._nrc = NRCLex()
        self._ignore = {w.lower() for w in config.nrc_ignore}

    def judge(self, text: str) -> Verdict:
        if not text.strip():
            return Verdict(text, False, ("empty: no words",))
        reasons = []
        compound = self._vader.polarity_scores(text)["compound"]
        if abs(compound) > self._config.vader_threshold:
            reasons.append(f"vader: compound {compound:+.3f} beyond +/-{self._config.vader_threshold}")
        words = [w for w in _WORD.findall(text.lower()) if w not in self._ignore]
        self._nrc.load_token_list(words)
        emotional = sorted(
            {w for w, tags in self._nrc.affect_dict.items() if NRC_EMOTIONS.intersection(tags)}
        )
        if len(emotional) > self._config.nrc_max_emotion_words:
            reasons.append(f"nrc: emotion words {', '.join(emotional)}")
        return Verdict(text, not reasons, tuple(reasons))

    def run(self, texts: list[str]) -> FilterReport:
        report = FilterReport()
        seen: set[str] = set()
        for text in texts:
            if text in seen:
                report.dropped.append(Verdict(text, False, ("duplicate: text already in the pool",)))
                continue
            seen.add(text)
            verdict = self.judge(text)
            if verdict.kept:
                report.kept.append(text)
            else:
                report.dropped.append(verdict)
        return report
