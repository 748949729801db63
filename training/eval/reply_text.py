"""Surface checks of a spoken reply, shared by EIPS annotation, the DR-SAPO rewards and the reply evaluation.

One definition of "a usable reply" keeps the three places honest with each other: the
teacher's replies are accepted by the same rules the RL rewards pay for and the evaluation
reports. Everything here is cheap text work (no model), so it runs per rollout:

* sentences (core.conversation.sentences.split_sentences, the splitter the TTS uses) and words;
* English: no language-ID model ships in this environment, and the failure it must catch is a
  small LLM drifting into another language, code or symbols, which a function-word share and a
  Latin-letter share catch;
* dismissive or harmful phrasing (a phrase list: "calm down", "get over it", ...);
* EPITOME communication mechanisms (Sharma et al. 2020): emotional reaction, interpretation,
  exploration, each scored 0 / 0.5 / 1 (none / weak / strong) like the paper's levels. The
  paper scores them with RoBERTa classifiers trained on Reddit data that no package ships,
  so these are lexical cues of the same three mechanisms, documented as such;
* echo: a reply that mostly repeats the person's words.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from core.conversation.sentences import split_sentences

_WORD = re.compile(r"[A-Za-z']+")
_FUNCTION_WORDS = frozenset("""
a about after all also am an and any are as at be because been but by can could did do does
don't for from get got had has have he her here him his how i i'm if in is it it's just know
let let's like me more my no not now of on one or our out really so some that that's the them
then there they this to too up us very was we what when where which who why will with would you
you're your feel feels feeling sounds sound here's glad sorry
""".split())

DISMISSIVE = (
    "calm down", "get over it", "not a big deal", "no big deal", "just relax", "stop worrying",
    "you're overreacting", "you are overreacting", "stop complaining", "cheer up", "could be worse",
    "it's nothing", "toughen up", "man up", "who cares", "deal with it", "not my problem",
    "that's silly", "that's stupid", "stop being dramatic", "you're being dramatic",
)
_HEADERS = re.compile(r"\b(emotion|intent|psychology|strategy|response)\s*:", re.IGNORECASE)
# Prompt text or chat-template markup leaking into a small model's reply.
_LEAK = re.compile(r"[<>{}\[\]$|#*_]|\b(INST|SYS|assistant|user)\b|speaker'?s voice|acoustic cues|their words|"
                   r"intensity\b|voice carries", re.IGNORECASE)

# EPITOME cues. Reaction: warmth, compassion, concern, shared joy. Interpretation: saying what
# the person feels or means ("it sounds like", "you must"). Exploration: inviting more.
_REACTION_STRONG = re.compile(
    r"\b(i'?m (so |really |very )?(sorry|glad|happy|sad)\b|i'?m here (for|with) you|that'?s (wonderful|awful|terrible|"
    r"great news|hard|tough)|how (wonderful|awful|frustrating|scary|exciting)|congratulations|oh no)", re.IGNORECASE)
_REACTION_WEAK = re.compile(
    r"\b(sorry|glad|wonderful|great|lovely|awful|terrible|hard|tough|upsetting|frustrating|worrying|scary|"
    r"exciting|unpleasant|heavy|oh|wow)\b", re.IGNORECASE)
_INTERPRET_STRONG = re.compile(
    r"\b(it sounds like|sounds like you|you (must|seem|sound|might) (be |have |feel)?|i can (hear|tell|see) (that|how|you)|"
    r"that must (be|have)|i understand (why|how|that)|it makes sense (that|you))", re.IGNORECASE)
_INTERPRET_WEAK = re.compile(r"\b(i (understand|hear you|get it|can imagine)|that sounds|you feel|you're feeling)\b",
                             re.IGNORECASE)
_EXPLORE_STRONG = re.compile(
    r"\b(what (happened|made|was|is|would|do|did|does)|how (are|do|did|does|is|was) you|tell me (more|about)|"
    r"do you want to (talk|tell|say)|would you like to|what'?s (on your mind|going on|behind))\b[^.!]*\?", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    return split_sentences(text.strip()) if text.strip() else []


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def is_english(text: str) -> bool:
    """Latin letters and enough English function words (one-word replies pass on letters alone)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(c.isascii() for c in letters) / len(letters)
    ws = words(text)
    if latin < 0.9:
        return False
    if len(ws) < 4:
        return True
    return sum(w in _FUNCTION_WORDS for w in ws) / len(ws) >= 0.2


def dismissive(text: str) -> list[str]:
    low = text.lower().replace("’", "'")
    return [p for p in DISMISSIVE if re.search(rf"\b{re.escape(p)}\b", low)]


def echo_ratio(reply: str, transcript: str) -> float:
    """Share of the reply's words that are the transcript's words in the transcript's order (LCS / reply)."""
    a, b = words(reply), words(transcript)
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1] / len(a)


@dataclass(frozen=True)
class Epitome:
    reaction: float
    interpretation: float
    exploration: float

    @property
    def total(self) -> float:
        return (self.reaction + self.interpretation + self.exploration) / 3

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def epitome(text: str) -> Epitome:
    t = text.replace("’", "'")
    reaction = 1.0 if _REACTION_STRONG.search(t) else 0.5 if _REACTION_WEAK.search(t) else 0.0
    interp = 1.0 if _INTERPRET_STRONG.search(t) else 0.5 if _INTERPRET_WEAK.search(t) else 0.0
    explore = 1.0 if _EXPLORE_STRONG.search(t) else 0.5 if "?" in t else 0.0
    return Epitome(reaction, interp, explore)


@dataclass(frozen=True)
class ReplyLimits:
    min_sentences: int = 1
    max_sentences: int = 3
    min_words: int = 3
    max_words: int = 60
    max_echo: float = 0.8


DEFAULT_LIMITS = ReplyLimits()


def reply_problems(reply: str, transcript: str = "", limits: ReplyLimits = DEFAULT_LIMITS,
                   forbidden: tuple[str, ...] = (), require_empathy: bool = True) -> list[str]:
    """Why `reply` is not a usable spoken reply (empty list: usable). `forbidden`: exact replies to refuse
    (for example the worked example of the teacher's own prompt, which small models copy);
    `require_empathy`: at least one EPITOME mechanism (a reaction, an interpretation or a question),
    which is what separates a companion's reply from "I'll do it."."""
    text = reply.strip()
    if not text:
        return ["empty reply"]
    out = []
    n_sent, n_words = len(sentences(text)), len(words(text))
    if not limits.min_sentences <= n_sent <= limits.max_sentences:
        out.append(f"sentences: {n_sent} (allowed {limits.min_sentences}-{limits.max_sentences})")
    if not limits.min_words <= n_words <= limits.max_words:
        out.append(f"words: {n_words} (allowed {limits.min_words}-{limits.max_words})")
    if not is_english(text):
        out.append("not English")
    if _HEADERS.search(text):
        out.append("format header inside the reply")
    elif _LEAK.search(text):
        out.append("prompt text or markup in the reply")
    if require_empathy and epitome(text).total == 0:
        out.append("no empathy: no reaction, interpretation or question")
    if d := dismissive(text):
        out.append(f"dismissive phrasing: {d[0]!r}")
    if transcript and echo_ratio(text, transcript) > limits.max_echo:
        out.append("echoes the transcript")
    norm = " ".join(words(text))
    if any(norm == " ".join(words(f)) for f in forbidden):
        out.append("copies the prompt's example")
    return out
