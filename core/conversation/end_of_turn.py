"""The end-of-turn decision: is the person done, or only pausing?

A fixed silence (the old `vad.min_silence_ms`, 500 ms) is wrong both ways: too slow after a
finished question, too quick for someone who pauses mid-thought. Here the silence a turn
needs depends on how finished it sounds:

- the words so far (the prefetched transcript, core.speech.asr_prefetch): a trailing "and",
  "but", "to", "the" or "um" means more is coming; a question mark or a full stop that the
  recogniser wrote means it may be over;
- the prosody of the last words (core.speech.final_prosody): a final fall, a lengthened last
  syllable, a drop in level;
- the silence so far.

`EndOfTurnModel` scores the first two as a logistic regression, p(complete). Its weights and
its two cut points are calibrated on LIME rows with pauses inserted inside sentences
(`cogaudio-train turn calibrate`, training/turn/) and stored in assets/turn/end_of_turn.json.
With `turn.lm_completion` on, the words also count through a language model's probability of
the turn ending after them (core.conversation.lm_completion, feature `lm_end`): the file's
`with_lm` section holds that scorer and its own cut points; without the model (not installed,
or llama.cpp refuses it) the words-and-voice scorer is used, as with the setting off.
`EndOfTurnPolicy` turns p into the silence to wait: `min_wait_ms` at or above the upper cut
point, `max_wait_ms` at or below the lower one, linear in between. The person's perceived
state stretches it (`Mood`): sad, fearful or hesitant people get `patience` times longer and
a backchannel ("mm") where the turn would otherwise have been taken after a long pause;
agitated people get `agitated_patience` times longer, so that we do not talk over them.

Every decision carries its reasons (the largest contributions to p, the mood, the wait) for
the turn record.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from core.conversation.lm_completion import LmCompletion, load_lm_completion
from core.models.bundled import ASSETS
from core.settings import TurnSettings
from core.speech.final_prosody import FinalProsody

MODEL_PATH = ASSETS / "turn" / "end_of_turn.json"
log = logging.getLogger(__name__)

# Words after which an English sentence rarely ends (conjunctions, prepositions, articles,
# possessives, auxiliaries, subject pronouns); words that often end one are left out ("I like
# that", "come in", "thank you", "I told her", "I want some", "it's over", "yes I did").
CONTINUATION = frozenset("""
and but so or nor because cause if when while whereas although though unless until than as
then also to of at for with from by about into onto between during without the a an my your
his their our its i we he she they is are was were am be been being will would can could
should shall may might must have has had very really just quite
""".split())
FILLERS = frozenset("um uh er erm hmm mm ah eh like".split())
QUESTION_WORDS = frozenset("what why how where when who which whose whom".split())
_WORD = re.compile(r"[a-z']+")

WORD_FEATURES = ("no_words", "continuation_word", "filler_word", "question_mark", "terminal_punctuation",
                 "trailing_comma", "question_start", "few_words", "log_words")
VOICE_FEATURES = ("fall", "rise", "final_level", "level_drop", "lengthening", "unvoiced")

_PHRASES = {  # a feature's name in a reason, by the sign of its contribution
    "no_words": ("no words heard", "no words heard"),
    "continuation_word": ("", "ends on a word that needs more ('{last}')"),
    "filler_word": ("", "ends on a filler ('{last}')"),
    "question_mark": ("a question", "a question"),
    "terminal_punctuation": ("the words make a sentence", "the words make a sentence"),
    "trailing_comma": ("", "the words trail off"),
    "question_start": ("starts like a question", "starts like a question"),
    "few_words": ("a short answer", "only a word or two"),
    "log_words": ("a long turn", "a short turn"),
    "fall": ("the pitch falls at the end", "the pitch falls at the end"),
    "rise": ("the pitch rises at the end", "the pitch rises at the end"),
    "final_level": ("the last words are pitched low", "the last words stay high"),
    "level_drop": ("the voice gets quieter", "the voice keeps its level"),
    "lengthening": ("the last syllable is drawn out", "the last syllable is short"),
    "unvoiced": ("no voice in the last words", "no voice in the last words"),
    "lm_end": ("the words could end here", "the words need more"),
}


def word_features(text: str | None) -> dict[str, float]:
    """What the words so far say about the turn being over (values in about [0, 1])."""
    text = (text or "").strip()
    words = _WORD.findall(text.lower())
    last = words[-1] if words else ""
    return {
        "no_words": float(not words),
        "continuation_word": float(last in CONTINUATION),
        "filler_word": float(last in FILLERS),
        "question_mark": float(text.endswith("?")),
        "terminal_punctuation": float(text.endswith((".", "!", "?")) and not text.endswith("...")),
        "trailing_comma": float(text.endswith((",", "...", "-", "\u2014", ";", ":"))),
        "question_start": float(bool(words) and words[0] in QUESTION_WORDS),
        "few_words": float(0 < len(words) <= 2),
        "log_words": math.log1p(len(words)) / 3.0,
    }


def voice_features(prosody: FinalProsody | None) -> dict[str, float]:
    """What the last words' prosody says (scaled to about [-1, 1])."""
    p = prosody or FinalProsody()
    if not p.voiced:
        return {"fall": 0.0, "rise": 0.0, "final_level": 0.0, "level_drop": 0.0, "lengthening": 0.0, "unvoiced": 1.0}
    return {
        "fall": max(0.0, -p.final_slope_st_s) / 20.0,
        "rise": max(0.0, p.final_slope_st_s) / 20.0,
        "final_level": -p.final_level_st / 6.0,  # low = positive
        "level_drop": -p.level_drop_db / 6.0,  # quieter = positive
        "lengthening": math.log(max(p.final_run_ratio, 0.1)),
        "unvoiced": 0.0,
    }


class EndOfTurnModelError(RuntimeError):
    """The calibrated model file is missing or malformed; the message says how to rebuild it."""


@dataclass(frozen=True)
class Scorer:
    """One logistic regression: p = sigmoid(intercept + sum(w * x))."""

    weights: dict[str, float]
    intercept: float

    def score(self, features: dict[str, float]) -> tuple[float, dict[str, float]]:
        parts = {k: w * features.get(k, 0.0) for k, w in self.weights.items()}
        z = self.intercept + sum(parts.values())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), parts


@dataclass(frozen=True)
class EndOfTurnModel:
    """p(the turn is complete) from the words and the voice, or the voice alone."""

    words_and_voice: Scorer
    voice_only: Scorer
    complete_at: float  # p at or above which the shortest wait applies
    incomplete_at: float  # p at or below which the longest wait applies
    source: str = ""  # how it was calibrated (for `doctor` and the docs)
    lm: LmCompletion | None = field(default=None, compare=False)  # set when words_and_voice uses lm_end

    @classmethod
    def load(cls, path: Path = MODEL_PATH, lm: LmCompletion | None = None) -> EndOfTurnModel:
        """The words-and-voice model, or with `lm` its `with_lm` variant (when the file has one)."""
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
            voice = Scorer(dict(spec["voice_only"]["weights"]), float(spec["voice_only"]["intercept"]))
            if lm is not None and "with_lm" in spec:
                w = spec["with_lm"]
                return cls(Scorer(dict(w["words_voice_lm"]["weights"]), float(w["words_voice_lm"]["intercept"])),
                           voice, float(w["complete_at"]), float(w["incomplete_at"]), str(w.get("source", "")), lm)
            if lm is not None:
                log.warning("%s has no with_lm section: the language model is not used (rebuild it with "
                            "`cogaudio-train turn calibrate --lm`)", path)
            return cls(Scorer(dict(spec["words_and_voice"]["weights"]), float(spec["words_and_voice"]["intercept"])),
                       voice, float(spec["complete_at"]), float(spec["incomplete_at"]), str(spec.get("source", "")))
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise EndOfTurnModelError(
                f"cannot read the end-of-turn model {path}: {exc}; reinstall the assets folder or rebuild it with "
                "`cogaudio-train turn calibrate` (or set turn.smart_end off for the fixed silence)") from exc

    def lm_feature(self, text: str | None) -> dict[str, float]:
        """{"lm_end": ...} when this scorer uses it (0.0, no evidence either way, if the model fails now)."""
        if "lm_end" not in self.words_and_voice.weights:
            return {}
        try:
            return {"lm_end": self.lm.feature(text) if self.lm is not None else 0.0}
        except Exception as exc:  # a native failure mid-session: decide on the rest, never fail the turn
            log.warning("the language model's end-of-turn reading failed (%s)", exc)
            return {"lm_end": 0.0}

    def completion(self, text: str | None, prosody: FinalProsody | None, have_words: bool) -> tuple[float, list[str]]:
        """p(complete) and the reasons (largest contributions first, at most three)."""
        voice = voice_features(prosody)
        if have_words:
            words = {**word_features(text), **self.lm_feature(text)}
            p, parts = self.words_and_voice.score({**words, **voice})
        else:
            p, parts = self.voice_only.score(voice)
        last = (_WORD.findall((text or "").lower()) or [""])[-1]
        reasons = []
        for name, value in sorted(parts.items(), key=lambda kv: -abs(kv[1])):
            if abs(value) < 0.25 or len(reasons) == 3:
                break
            phrase = _PHRASES.get(name, (name, name))[0 if value > 0 else 1].format(last=last)
            if phrase:
                reasons.append(f"{phrase} ({'+' if value > 0 else '-'}{abs(value):.1f})")
        return p, reasons


# --- the person's state --------------------------------------------------------------

MoodKind = Literal["steady", "patient", "agitated"]


@dataclass(frozen=True)
class Mood:
    """How the person sounds, as far as turn-taking cares, and why."""

    kind: MoodKind = "steady"
    why: str = ""


def mood_for(label: str | None, intensity: str | None, hesitant: bool = False) -> Mood:
    """Sad, fearful or hesitant -> patient; angry (agitated) -> agitated; otherwise steady."""
    if label == "angry" or (label == "disgusted" and intensity == "high"):
        return Mood("agitated", f"sounds {label}")
    if label in ("sad", "fearful"):
        return Mood("patient", f"sounds {label}")
    if hesitant:
        return Mood("patient", "sounds hesitant")
    return Mood("steady", f"sounds {label}" if label else "")


def hesitant(text: str | None, pauses: int) -> bool:
    """Fillers in the words, or several pauses inside this turn."""
    words = _WORD.findall((text or "").lower())
    return pauses >= 3 or sum(w in FILLERS for w in words) >= 1


# --- the decision --------------------------------------------------------------------

Action = Literal["wait", "end", "backchannel"]


@dataclass(frozen=True)
class Decision:
    action: Action
    silence_ms: float
    wait_ms: float  # silence this turn needs before it ends
    p_complete: float | None
    mood: MoodKind
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def as_record(self) -> dict:
        return {"action": self.action, "silence_ms": round(self.silence_ms, 1), "wait_ms": round(self.wait_ms, 1),
                "p_complete": None if self.p_complete is None else round(self.p_complete, 3), "mood": self.mood,
                "reasons": list(self.reasons)}


class EndOfTurnPolicy:
    """Silence needed to end a turn, from p(complete) and the mood; the decision at a moment."""

    def __init__(self, settings: TurnSettings, fixed_ms: float, model: EndOfTurnModel | None = None) -> None:
        self.settings = settings
        self.fixed_ms = float(fixed_ms)  # the baseline: a fixed silence (vad.min_silence_ms)
        if model is None and settings.smart_end:
            model = EndOfTurnModel.load(lm=load_lm_completion() if settings.lm_completion else None)
        self.model = model

    def close(self) -> None:
        """Free the language model's context, if the model has one."""
        if self.model is not None and self.model.lm is not None:
            self.model.lm.close()

    @property
    def longest_ms(self) -> float:
        """The longest any turn waits (the VAD's own hard end goes beyond it)."""
        if not self.settings.smart_end:
            return self.fixed_ms
        return self.settings.max_wait_ms * max(self.settings.patience, self.settings.agitated_patience)

    def wait_ms(self, p: float, mood: Mood) -> float:
        s = self.settings
        if not s.smart_end:
            return self.fixed_ms
        m = self.model
        span = max(m.complete_at - m.incomplete_at, 1e-6)
        done = min(1.0, max(0.0, (p - m.incomplete_at) / span))
        wait = s.max_wait_ms - (s.max_wait_ms - s.min_wait_ms) * done
        return wait * self.stretch(mood)

    def stretch(self, mood: Mood) -> float:
        return {"patient": self.settings.patience, "agitated": self.settings.agitated_patience}.get(mood.kind, 1.0)

    def decide(self, silence_ms: float, p: float | None, reasons: list[str], mood: Mood,
               backchannels: int = 0) -> Decision:
        """`p` None: the words are not in yet (the policy waits for them up to its longest wait)."""
        s = self.settings
        why = tuple(reasons) + ((f"{mood.kind}: {mood.why}",) if mood.why and mood.kind != "steady" else ())
        if not s.smart_end:
            act: Action = "end" if silence_ms >= self.fixed_ms else "wait"
            return Decision(act, silence_ms, self.fixed_ms, None, mood.kind, (f"fixed silence {self.fixed_ms:.0f} ms",))
        if p is None:
            wait = s.max_wait_ms * self.stretch(mood)
            act = "end" if silence_ms >= wait else "wait"
            return Decision(act, silence_ms, wait, None, mood.kind, why + ("words not in yet",))
        wait = self.wait_ms(p, mood)
        # a patient listener answers a long pause in an unfinished-sounding turn with "mm", once
        if (s.backchannel and mood.kind == "patient" and backchannels == 0 and p < self.model.complete_at
                and s.max_wait_ms <= silence_ms < wait):
            return Decision("backchannel", silence_ms, wait, p, mood.kind, why + ("a long pause: backchannel, keep listening",))
        return Decision("end" if silence_ms >= wait else "wait", silence_ms, wait, p, mood.kind, why)
