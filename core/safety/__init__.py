"""On-device crisis safety: a layered detector over what is heard and said, and the caring reply.

- patterns.py   explicit phrases per category, and the contexts that cancel them (negation,
                quotation, reported speech, media talk, idioms)
- features.py   the hashed word and character n-grams the learned classifier reads
- classifier.py the small linear head over those features (weights in assets/safety/)
- detector.py   the layers composed: patterns first, then the classifier, per sentence
- data.py       the labelled phrasing set (assets/safety/phrasings.tsv) and its template split
- check.py      SafetyCheck: screens transcripts and replies, builds the safe reply and resources
"""

from core.safety.check import RESOURCES_PATH, Resource, SafetyCheck, SafetyError, SafetyResult, find_crisis

__all__ = ["RESOURCES_PATH", "Resource", "SafetyCheck", "SafetyError", "SafetyResult", "find_crisis"]
