"""Turn-taking as a stage: the VAD's speech-boundary events in; user turns, releases,
retractions, barge-ins and backchannels out.

`TurnTaking.process(event, push)` reads one event of core.speech.vad and pushes frames of
core.conversation.frames; the orchestrator runs it on the listener thread and routes what it
pushes (a UserTurn into the stage pipeline, a TurnReleased to the playback gate, a BargeIn to
the interrupt lane, a Backchannel to the voice). Tests drive it with `run_stage` on scripted
timelines, with no model and no clock.

One utterance, as the stage sees it:
- SpeechQuieted (the first silent window): the words so far start transcribing in the
  background (`transcribe_ahead`, the engine's prefetch) and the prosody of the last words is
  measured (core.speech.final_prosody);
- SpeechPaused (every further silent window): after `vad.early_start_ms` the turn is started
  held (the engine works while we are not sure); once the words are in, the end-of-turn model
  gives p(complete), and the policy (core.conversation.end_of_turn) says how much silence this
  turn needs, stretched by the person's mood. Enough silence: TurnReleased (or a UserTurn when
  nothing was started early), and the VAD closes the utterance. A patient listener may say
  "mm" instead, once, and keep listening;
- SpeechResumed: the held turn is retracted; the next pause starts again;
- SpeechEnded: the VAD's own end (past the policy's longest wait, or the input ended): the
  turn ends here with that reason on its record.
A transcript that comes back empty from audio with no voice in it (noise) is no turn.

Barge-in, while a reply is under way: young speech (SpeechOnset windows) is judged as it
comes. Speech that sounds like words (clear speech probability and energy above 1 kHz, as
vowels and fricatives have and a hummed "mm-hm" or a cough does not) stops the reply after
`BARGE_WINDOWS` windows; sound that stays murmur-like is let be unless it lasts past
`turn.backchannel_max_ms`. An agitated person (or backchannel_max_ms 0) stops it at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.conversation.end_of_turn import Decision, EndOfTurnPolicy, Mood, hesitant, mood_for
from core.conversation.frames import (
    Backchannel,
    BargeIn,
    TurnReleased,
    TurnRetracted,
    UserSpeechEnded,
    UserSpeechStarted,
    UserTurn,
)
from core.conversation.stage_framework import NO_TURN, Push, Stage
from core.settings import Settings
from core.speech.final_prosody import FinalProsody, measure_final_prosody
from core.speech.vad import (
    SpeechDropped,
    SpeechEnded,
    SpeechOnset,
    SpeechPaused,
    SpeechQuieted,
    SpeechResumed,
    SpeechStarted,
)

log = logging.getLogger(__name__)

BARGE_WINDOWS = 3  # ~96 ms of young speech before a word-like burst stops the reply
BARGE_PROBABILITY = 0.8  # mean Silero probability of a word-like burst
BARGE_HIGH_BAND = 0.12  # share of energy above 1 kHz: vowels' formants and fricatives have it, a hum does not
BACKCHANNELS = ("Mm.", "I'm here.")


def high_band_share(window: np.ndarray) -> float:
    """Share of a window's energy above 1 kHz (numpy's real FFT; a hum or a nasal 'mm' has
    almost none, an open vowel or an 's' a good part)."""
    spectrum = np.abs(np.fft.rfft(np.asarray(window, dtype=np.float64) * np.hanning(len(window)))) ** 2
    freqs = np.fft.rfftfreq(len(window), 1.0 / SAMPLE_RATE)
    total = spectrum[freqs >= 80].sum()
    return float(spectrum[freqs >= 1000].sum() / total) if total > 0 else 0.0


@dataclass
class _Utterance:
    audio: np.ndarray | None = None  # the utterance at its latest SpeechQuieted
    speech_end_s: float = 0.0
    words: Future | None = None
    prosody: Future | None = None  # of a FinalProsody
    p: float | None = None  # p(complete), once the words are in
    reasons: list[str] = field(default_factory=list)
    text: str | None = None
    pauses: int = 0
    held: int | None = None  # the turn started early, silent until released
    backchannels: list[dict] = field(default_factory=list)


@dataclass
class _Burst:
    """Young speech heard while the reply plays."""

    onset_s: float
    probs: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    decided: bool = False


class TurnTaking(Stage):
    """Decides when the person's turn is over, when they interrupt, and when to say 'mm'."""

    name = "turn-taking"

    def __init__(self, settings: Settings, policy: EndOfTurnPolicy, new_turn: Callable[[], int], *,
                 transcribe_ahead: Callable[[np.ndarray], Future | None] | None = None,
                 close_utterance: Callable[[], None] = lambda: None,
                 replying: Callable[[], bool] = lambda: False, speaking: Callable[[], bool] = lambda: False,
                 barge_in: bool = True, measure_prosody: Callable[[np.ndarray], FinalProsody] = measure_final_prosody) -> None:
        self.settings = settings
        self.policy = policy
        self._new_turn = new_turn
        self._transcribe_ahead = transcribe_ahead
        self._close_utterance = close_utterance
        self._replying = replying
        self._speaking = speaking
        self.barge_in = barge_in
        self._measure = measure_prosody
        # Praat's pitch tracker takes 10-100 ms on a busy 2-core CPU: off the listener thread,
        # on one worker that this stage owns and joins (close()).
        self._analysis = ThreadPoolExecutor(max_workers=1, thread_name_prefix="final-prosody")
        self._utt = _Utterance()
        self._burst: _Burst | None = None
        self._ignoring: float | None = None  # onset of an utterance heard as a backchannel: no turn
        self.heard: tuple[str | None, str | None] = (None, None)  # last perceived (label, intensity)
        self.ignored_bursts = 0  # counters, for the benchmark and tests
        self.barge_ins = 0

    # -- what the person sounds like ----------------------------------------------------
    def perceived(self, label: str | None, intensity: str | None) -> None:
        """The latest turn's perceived emotion (the recorder's TurnComplete); the next turn's
        waits adapt to it."""
        self.heard = (label, intensity)

    def mood(self) -> Mood:
        u = self._utt
        return mood_for(self.heard[0], self.heard[1], hesitant(u.text, u.pauses))

    # -- the stage -----------------------------------------------------------------------
    def process(self, event, push: Push) -> None:
        if self._ignoring is not None and getattr(event, "onset_s", self._ignoring) != self._ignoring:
            self._ignoring = None  # a new utterance after an ignored backchannel
        if isinstance(event, SpeechOnset):
            self._onset(event, push)
        elif isinstance(event, SpeechDropped):
            self._burst_over(push, "a short sound (a click or a cough)")
        elif isinstance(event, SpeechStarted):
            if self._burst is None or self._burst.decided:
                push(UserSpeechStarted(NO_TURN, event.decision_s))
            if not self._burst and self._replying() and self.barge_in and not self._speaking():
                self._barge(push, "the person spoke while the reply was being prepared")
        elif isinstance(event, SpeechQuieted):
            if self._burst is not None and not self._burst.decided:
                self._burst_over(push, "a short murmur (a backchannel)")
                return
            self._quieted(event)
        elif isinstance(event, SpeechPaused):
            if self._ignoring is None:
                self._paused(event, push)
        elif isinstance(event, SpeechResumed):
            if self._ignoring is None:
                self._resumed(push)
        elif isinstance(event, SpeechEnded):
            if self._ignoring is not None:
                self._ignoring = None
                self._utt = _Utterance()
                return
            self._vad_ended(event, push)

    # -- one utterance -------------------------------------------------------------------
    def _quieted(self, ev: SpeechQuieted) -> None:
        u = self._utt
        u.audio, u.speech_end_s = ev.audio, ev.speech_end_s
        u.p, u.reasons, u.text = None, [], None
        u.words = None
        if self.settings.turn.smart_end:
            if self._transcribe_ahead is not None and ev.audio is not None:
                u.words = self._transcribe_ahead(ev.audio)
            u.prosody = self._analysis.submit(self._measure, ev.audio) if ev.audio is not None and ev.audio.size else None

    def _resumed(self, push: Push) -> None:
        u = self._utt
        u.pauses += 1
        u.words, u.p = None, None
        if u.held is not None:
            push(TurnRetracted(u.held))
            u.held = None

    def _paused(self, ev: SpeechPaused, push: Push) -> None:
        u = self._utt
        if u.audio is None:
            return
        silence_ms = ev.silence_s * 1000.0
        self._complete(u)
        if u.p is not None and u.text is not None and not u.text.strip() and not self._voice(u).voiced:
            self._drop("no words and no voice: not speech (noise)")
            return
        mood = self.mood()
        decision = self.policy.decide(silence_ms, u.p, u.reasons, mood, len(u.backchannels))
        early = self.settings.vad.early_start_ms
        if u.held is None and early and silence_ms >= early and decision.action != "end":
            u.held = self._new_turn()
            push(UserTurn(u.held, u.audio, None, 0.0, time.perf_counter(), held=True))
        if decision.action == "backchannel":
            u.backchannels.append(decision.as_record())
            log.info("backchannel after %.0f ms of silence: %s", silence_ms, "; ".join(decision.reasons))
            push(Backchannel(NO_TURN, BACKCHANNELS[min(len(u.backchannels), len(BACKCHANNELS)) - 1], decision.reasons))
        elif decision.action == "end":
            self._end(push, decision, u.audio, ev.decision_s, u.speech_end_s)

    def _complete(self, u: _Utterance) -> None:
        """p(complete) as soon as the words are in (or at once from the voice alone)."""
        if u.p is not None or not self.settings.turn.smart_end:
            return
        if u.prosody is not None and not u.prosody.done():
            return
        if u.words is None:
            u.p, reasons = self.policy.model.completion(None, self._voice(u), have_words=False)
            u.reasons = ["from the voice alone"] + reasons
            return
        if not u.words.done():
            return
        try:
            u.text = getattr(u.words.result(), "text", "") or ""
        except Exception as exc:  # the transcript failed: decide from the voice
            log.warning("prefetched transcript failed (%s); deciding from the voice", exc)
            u.words = None
            self._complete(u)
            return
        u.p, u.reasons = self.policy.model.completion(u.text, self._voice(u), have_words=True)

    def _voice(self, u: _Utterance) -> FinalProsody:
        try:
            return u.prosody.result() if u.prosody is not None else FinalProsody()
        except Exception as exc:  # a pitch-tracker failure only loses the voice's evidence
            log.warning("final prosody failed (%s)", exc)
            return FinalProsody()

    def close(self) -> None:
        """Join the prosody worker."""
        self._analysis.shutdown(wait=True, cancel_futures=True)

    def _vad_ended(self, ev: SpeechEnded, push: Push) -> None:
        u = self._utt
        why = "the input ended mid-speech" if ev.cut else "the VAD's own end (the longest wait)"
        mood = self.mood()
        decision = Decision("end", (ev.decision_s - ev.speech_end_s) * 1000.0, self.policy.longest_ms, u.p,
                            mood.kind, tuple(u.reasons) + (why,))
        if ev.dropped_s:
            decision = Decision(decision.action, decision.silence_ms, decision.wait_ms, decision.p_complete,
                                decision.mood, decision.reasons + (f"a monologue: only its last "
                                                                  f"{self.settings.vad.max_turn_s:.0f} s are answered "
                                                                  f"({ev.dropped_s:.0f} s before them were not)",))
        audio = ev.audio if ev.audio is not None else u.audio
        if audio is None or not audio.size:
            self._utt = _Utterance()
            return
        self._end(push, decision, audio, ev.decision_s, ev.speech_end_s, close=False)

    def _end(self, push: Push, decision: Decision, audio: np.ndarray, decision_s: float, speech_end_s: float,
             close: bool = True) -> None:
        u = self._utt
        endpoint_ms = (decision_s - speech_end_s) * 1000.0
        record = {**decision.as_record(), "pauses": u.pauses, "early_start": u.held is not None,
                  "backchannels": u.backchannels}
        log.info("end of turn after %.0f ms of silence (wait %.0f ms, p=%s, %s): %s", decision.silence_ms,
                 decision.wait_ms, decision.p_complete, decision.mood, "; ".join(decision.reasons))
        if u.held is not None:
            turn = u.held
            push(TurnReleased(turn, endpoint_ms, record))
        else:
            turn = self._new_turn()
            push(UserTurn(turn, audio, None, endpoint_ms, time.perf_counter(), turn_taking=record))
        push(UserSpeechEnded(turn, decision_s, speech_end_s, len(audio) / SAMPLE_RATE, time.perf_counter()))
        if close:
            self._close_utterance()
        self._utt = _Utterance()

    def _drop(self, why: str) -> None:
        log.info("utterance dropped: %s", why)
        self._close_utterance()
        self._utt = _Utterance()

    def flush(self, push: Push) -> None:
        """The input ended in a pause: a held turn must not wait for a release that never comes."""
        u = self._utt
        if u.held is not None and u.audio is not None:
            mood = self.mood()
            self._end(push, Decision("end", 0.0, 0.0, u.p, mood.kind, tuple(u.reasons) + ("the input ended",)),
                      u.audio, u.speech_end_s, u.speech_end_s)

    # -- barge-in ------------------------------------------------------------------------
    def _onset(self, ev: SpeechOnset, push: Push) -> None:
        if not (self.barge_in and self._speaking()):
            self._burst = None
            return
        b = self._burst
        if b is None or b.onset_s != ev.onset_s:
            b = self._burst = _Burst(ev.onset_s)
        if b.decided:
            return
        b.probs.append(ev.probability)
        b.high.append(high_band_share(ev.window) if ev.window is not None else 1.0)
        speech = [p for p in b.probs if p >= self.settings.vad.threshold]
        if self.mood().kind == "agitated" or self.settings.turn.backchannel_max_ms == 0:
            if len(speech) >= 2:
                self._barge(push, "the person spoke over the reply (agitated: stop at once)")
            return
        if len(b.probs) >= BARGE_WINDOWS:
            recent_p, recent_h = np.mean(b.probs[-BARGE_WINDOWS:]), np.mean(b.high[-BARGE_WINDOWS:])
            if recent_p >= BARGE_PROBABILITY and recent_h >= BARGE_HIGH_BAND:
                self._barge(push, f"words over the reply (speech {recent_p:.2f}, energy above 1 kHz {recent_h:.2f})")
                return
        if len(speech) * 1000.0 * 512 / SAMPLE_RATE > self.settings.turn.backchannel_max_ms:
            self._barge(push, f"the person went on past a backchannel's {self.settings.turn.backchannel_max_ms} ms")

    def _barge(self, push: Push, why: str) -> None:
        if self._burst is not None:
            self._burst.decided = True
        self.barge_ins += 1
        log.info("barge-in: %s", why)
        push(BargeIn(NO_TURN, "barge-in", why))

    def _burst_over(self, push: Push, what: str) -> None:
        b, self._burst = self._burst, None
        if b is None or b.decided:
            return
        self.ignored_bursts += 1
        log.info("the reply goes on: %s", what)
        self._ignoring = b.onset_s  # the rest of this utterance (its pause and end) is no turn
        self._close_utterance()
        self._utt = _Utterance()
