"""DR-SAPO rewards: logical rigour for the explicit route, empathy for the direct route, shared penalties.

Every component is in [0, 1]; a route's reward is the weighted mean of its components, then
the shared penalties are subtracted (each -1): unsafe content in the reply (the app's own
crisis screen, core.safety.SafetyCheck.check_reply) and a reply that is not English.

Explicit route (logical rigour):
  format       the four steps then Response, in order (share of the five heads in order);
  emotion      the Emotion step names the gold label (0.7) and intensity (0.3);
  strategy     the Strategy fits the Emotion (it uses that emotion's strategy words and none
               of a contrary emotion's) and the Intent (shares a content word with it);
  coherence    the reply does what the Strategy says (asks when it says ask/invite/explore,
               reacts or interprets when it says validate/acknowledge/reassure/celebrate...).
Direct route (empathy, after the EPITOME mechanisms; training.eval.reply_text):
  reaction, interpretation, exploration   EPITOME levels 0 / 0.5 / 1;
  relevance    cosine(transcript, reply) of all-MiniLM-L6-v2 (or word overlap without it);
  respectful   no dismissive phrasing;  length  1-3 sentences, 3-60 words;
  tag          the Emotion tag names the gold label (keeps what stages 1-2 taught).

An optional judge (any OpenAI-compatible endpoint) scores the reply 0-10 behind the same
interface and is blended in with `judge_weight`. `RewardModel.score` never raises: a
component that raises makes that sample's reward None with the reason, and the trainer
gives it no advantage and logs the reason.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from core.emotion.eips import STEPS, find_tag, parse_reply
from training.eval.reply_text import (
    DEFAULT_LIMITS,
    ReplyLimits,
    dismissive,
    epitome,
    is_english,
    sentences,
    words,
)

_ORDER = (*STEPS, "response")
_HEAD = re.compile(rf"^\s*({'|'.join(_ORDER)})\s*:", re.IGNORECASE | re.MULTILINE)

# Strategy words per emotion (the template strategies' verbs plus their usual synonyms).
STRATEGY_CUES: dict[str, tuple[str, ...]] = {
    "neutral": ("clear", "answer", "invite", "inform", "warm", "listen", "explain"),
    "happy": ("celebrat", "share", "joy", "mirror", "congratul", "enthusias", "pleas", "excite"),
    "sad": ("validat", "comfort", "gentl", "presence", "support", "soft", "empath", "slow"),
    "angry": ("calm", "acknowledg", "frustrat", "respect", "de-escalat", "listen", "without judg"),
    "fearful": ("reassur", "ground", "safe", "steady", "breath", "worr", "calm"),
    "surprised": ("surpris", "make sense", "unexpected", "orient", "curio", "light"),
    "disgusted": ("acknowledg", "boundar", "respect", "unpleasant", "bother", "validat"),
}
# A strategy word of a contrary emotion is a contradiction (celebrating someone who is sad).
_CONTRARY = {"happy": ("sad", "angry", "fearful", "disgusted"), "sad": ("happy",), "angry": ("happy",),
             "fearful": ("happy",), "disgusted": ("happy",), "surprised": (), "neutral": ()}
_CONTRARY_CUES = {"happy": ("celebrat", "congratul", "enthusias"), "sad": ("comfort",), "angry": ("de-escalat",),
                  "fearful": ("reassur", "ground"), "disgusted": ("boundar",)}
# What a strategy asks of the reply, in EPITOME terms.
_ASKS_EXPLORE = re.compile(r"\b(ask|question|invite|explore|find out|tell more|what would help)", re.IGNORECASE)
_ASKS_REACT = re.compile(r"\b(validat|acknowledg|reassur|celebrat|comfort|mirror|name|empath|share the|warm)",
                         re.IGNORECASE)
_STOP = frozenset("the a an and or to of in on for with is are be it that this them they their what how".split())


@dataclass(frozen=True)
class Sample:
    route: str  # "explicit" | "direct"
    completion: str
    transcript: str
    emotion: str
    intensity: str


@dataclass
class RewardResult:
    total: float | None
    parts: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def lexical_relevance(transcript: str, reply: str) -> float:
    """Share of the transcript's content words that the reply picks up (no model)."""
    t = {w for w in words(transcript) if w not in _STOP and len(w) > 2}
    r = {w for w in words(reply) if w not in _STOP and len(w) > 2}
    return len(t & r) / len(t) if t else 0.0


def _heads_in_order(text: str) -> float:
    heads: list[str] = []
    for m in _HEAD.finditer(text):
        name = m.group(1).lower()
        if name not in heads:
            heads.append(name)
    n = 0
    for want, got in zip(_ORDER, heads, strict=False):
        if want != got:
            break
        n += 1
    return n / len(_ORDER)


def _has(text: str, cues: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(c in low for c in cues)


def logic_parts(s: Sample, limits: ReplyLimits) -> dict[str, float]:
    p = parse_reply(s.completion)
    parts = {"format": _heads_in_order(s.completion)}
    label, intensity = find_tag(p.eips.emotion) if p.eips else (p.label, p.intensity)
    parts["emotion"] = 0.7 * (label == s.emotion) + 0.3 * (intensity == s.intensity)
    if p.eips is None:
        parts["strategy"] = parts["coherence"] = 0.0
        return parts
    strat = p.eips.strategy
    fits = _has(strat, STRATEGY_CUES[s.emotion])
    contrary = any(_has(strat, _CONTRARY_CUES.get(o, ())) for o in _CONTRARY[s.emotion])
    intent_words = {w for w in words(p.eips.intent) if w not in _STOP and len(w) > 3}
    linked = bool(intent_words & set(words(strat))) or bool(intent_words & set(words(p.response)))
    parts["strategy"] = max(0.0, 0.6 * fits + 0.4 * linked - 0.6 * contrary)
    need, got = 0, 0.0
    e = epitome(p.response)
    if _ASKS_EXPLORE.search(strat):
        need, got = need + 1, got + e.exploration
    if _ASKS_REACT.search(strat):
        need, got = need + 1, got + max(e.reaction, e.interpretation)
    parts["coherence"] = got / need if need else float(bool(p.response))
    return parts


def empathy_parts(s: Sample, limits: ReplyLimits, relevance: Callable[[str, str], float]) -> dict[str, float]:
    p = parse_reply(s.completion)
    reply = p.response
    e = epitome(reply)
    n_s, n_w = len(sentences(reply)), len(words(reply))
    return {
        "reaction": e.reaction, "interpretation": e.interpretation, "exploration": e.exploration,
        "relevance": min(1.0, max(0.0, relevance(s.transcript, reply))),
        "respectful": 0.0 if dismissive(reply) else 1.0,
        "length": float(limits.min_sentences <= n_s <= limits.max_sentences and limits.min_words <= n_w <= limits.max_words),
        "tag": float(p.label == s.emotion),
    }


DIRECT_WEIGHTS = {"reaction": 1.0, "interpretation": 1.0, "exploration": 1.0, "relevance": 1.5,
                  "respectful": 1.0, "length": 1.0, "tag": 1.0}
EXPLICIT_WEIGHTS = {"format": 1.0, "emotion": 1.0, "strategy": 1.0, "coherence": 1.0}


class JudgeReward:
    """A judge model behind an OpenAI-compatible endpoint: rates the reply 0-10, returned as [0, 1]."""

    name = "judge"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        self.base_url, self.model, self.api_key, self.timeout_s = base_url.rstrip("/"), model, api_key, timeout_s

    def __call__(self, s: Sample) -> dict[str, float]:
        p = parse_reply(s.completion)
        what = ("logical rigour of the reasoning steps and whether the reply follows them" if s.route == "explicit"
                else "empathy (emotional reaction, interpretation, exploration) and relevance")
        prompt = (f'A person said: "{s.transcript}" and sounded {s.emotion} ({s.intensity}).\n'
                  f"The companion answered:\n{s.completion if s.route == 'explicit' else p.response}\n\n"
                  f"Rate the {what} from 0 to 10. Answer with the number only.")
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0.0,
                "max_tokens": 8}
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {})
        req = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            text = json.loads(resp.read())["choices"][0]["message"]["content"] or ""
        m = re.search(r"\d+(\.\d+)?", text)
        if not m:
            raise ValueError(f"judge answered {text[:40]!r}, not a number from 0 to 10")
        return {"judge": min(10.0, max(0.0, float(m.group()))) / 10.0}


class RewardModel:
    """Scores rollouts of both routes; see the module docstring."""

    def __init__(self, relevance: Callable[[str, str], float] | None = None, limits: ReplyLimits = DEFAULT_LIMITS,
                 judge: Callable[[Sample], dict[str, float]] | None = None, judge_weight: float = 0.5,
                 safety=None) -> None:
        self.relevance = relevance or lexical_relevance
        self.limits, self.judge, self.judge_weight = limits, judge, judge_weight
        if safety is None:
            from core.safety import SafetyCheck

            safety = SafetyCheck()
        self.safety = safety

    def components(self, s: Sample) -> tuple[dict[str, float], dict[str, float]]:
        if s.route == "explicit":
            return logic_parts(s, self.limits), EXPLICIT_WEIGHTS
        if s.route == "direct":
            return empathy_parts(s, self.limits, self.relevance), DIRECT_WEIGHTS
        raise ValueError(f"unknown route {s.route!r}")

    def score(self, s: Sample) -> RewardResult:
        try:
            parts, weights = self.components(s)
            total = sum(weights[k] * parts[k] for k in weights) / sum(weights.values())
            if self.judge is not None:
                parts.update(self.judge(s))
                total = (1 - self.judge_weight) * total + self.judge_weight * parts["judge"]
            reply = parse_reply(s.completion).response
            parts["unsafe"] = float(self.safety.check_reply(reply).triggered)
            parts["wrong_language"] = float(not is_english(reply))
            total -= parts["unsafe"] + parts["wrong_language"]
        except Exception as exc:  # noqa: BLE001 - any failure of a reward costs that sample only
            return RewardResult(None, {}, f"{type(exc).__name__}: {exc}")
        return RewardResult(total, parts)
