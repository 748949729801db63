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

Barge-in, while the reply is being spoken: two windows of young speech (SpeechOnset, ~64 ms)
pause its voice at once (VoicePaused), which is all a real interruption needs within 200 ms.
Then the stage listens: a sound that stops before `turn.backchannel_max_ms` of speech and
whose words (the same prefetched transcript) are a backchannel ("mm-hm", "uh-huh", "yeah") or
nothing (a cough) lets the reply go on from where it paused; other words ("wait", "no") or
speech that goes on past it are an interruption (BargeIn: the turn is cut); words that are
neither are read a second time, primed for backchannels, before deciding
(core.conversation.backchannels, `reread`). Why pause first: in the first 200 ms a hummed "mm-hm"
and a "hold on" look alike (Silero calls both speech; a back vowel has as little energy above
1 kHz as a hum), so no decision taken that early can be both fast and right. An agitated
person (or backchannel_max_ms 0) cuts the reply at once. Speech while the reply is still being
prepared (nothing playing yet) cuts it at SpeechStarted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.conversation.backchannels import needs_second_reading, verdict
from core.conversation.end_of_turn import Decision, EndOfTurnPolicy, Mood, hesitant, mood_for
from core.conversation.frames import (
    Backchannel,
    BargeIn,
    TurnReleased,
    TurnRetracted,
    UserSpeechEnded,
    UserSpeechStarted,
    UserTurn,
    VoicePaused,
)
from core.conversation.stage_framework import NO_TURN, Push, Stage
from core.settings import Settings
from core.speech.final_prosody import FinalProsody, measure_final_prosody
from core.speech.vad import (
    WINDOW,
    SpeechDropped,
    SpeechEnded,
    SpeechOnset,
    SpeechPaused,
    SpeechQuieted,
    SpeechResumed,
    SpeechStarted,
)

log = logging.getLogger(__name__)

ONSET_WINDOWS = 2  # windows of speech (>= vad.threshold) that pause the reply's voice (~64 ms)
HESITATION_S = 0.2  # a pause at least this long inside a turn counts towards sounding hesitant
WORDS_PATIENCE_MS = 1500  # a paused reply waits this long at most for a short burst's words (busy CPU)
BACKCHANNELS = ("Mm.", "I'm here.")


@dataclass
class _Utterance:
    audio: np.ndarray | None = None  # the utterance at its latest SpeechQuieted
    speech_end_s: float = 0.0
    words: Future | None = None
    second_reading: Future | None = None  # of a short burst over the reply (core.conversation.backchannels)
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
    speech: int = 0  # windows at or above the threshold
    paused: bool = False  # the reply's voice is held for it
    quiet: bool = False  # it stopped: its words decide
    decided: bool = False  # it was an interruption
    started_s: float | None = None  # the VAD's SpeechStarted, held back while undecided


class TurnTaking(Stage):
    """Decides when the person's turn is over, when they interrupt, and when to say 'mm'."""

    name = "turn-taking"

    def __init__(self, settings: Settings, policy: EndOfTurnPolicy, new_turn: Callable[[], int], *,
                 transcribe_ahead: Callable[[np.ndarray], Future | None] | None = None,
                 close_utterance: Callable[[], None] = lambda: None,
                 replying: Callable[[], bool] = lambda: False, speaking: Callable[[], bool] = lambda: False,
                 barge_in: bool = True, measure_prosody: Callable[[np.ndarray], FinalProsody] = measure_final_prosody,
                 executor=None, reread: Callable[[np.ndarray], object] | None = None) -> None:
        self.settings = settings
        self.policy = policy
        self._new_turn = new_turn
        self._transcribe_ahead = transcribe_ahead
        self._close_utterance = close_utterance
        self._replying = replying
        self._speaking = speaking
        self.barge_in = barge_in
        self._measure = measure_prosody
        self._reread = reread  # a burst's second reading, primed for backchannels (on the worker below)
        # Praat's pitch tracker takes 10-100 ms on a busy 2-core CPU: off the listener thread,
        # on one worker that this stage owns and joins (close()).
        self._analysis = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="final-prosody")
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
            else:
                self._burst.started_s = event.decision_s  # shown once it is known to be an interruption
            if not self._burst and self._replying() and self.barge_in and not self._speaking():
                self._barge(push, "the person spoke while the reply was being prepared")
        elif isinstance(event, SpeechQuieted):
            self._quieted(event)
            if self._burst is not None and not self._burst.decided:
                self._burst.quiet = True  # a backchannel, or a short interruption? its words say
        elif isinstance(event, SpeechPaused):
            if self._burst is not None and not self._burst.decided and self._burst.quiet:
                self._judge_burst(event, push)
            elif self._ignoring is None:
                self._paused(event, push)
        elif isinstance(event, SpeechResumed):
            if self._burst is not None and not self._burst.decided:
                self._burst.quiet = False
            if self._ignoring is None:
                self._resumed(event, push)
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
        u.words = u.second_reading = None
        if self.settings.turn.smart_end:
            if self._transcribe_ahead is not None and ev.audio is not None:
                u.words = self._transcribe_ahead(ev.audio)
            u.prosody = self._analysis.submit(self._measure, ev.audio) if ev.audio is not None and ev.audio.size else None

    def _resumed(self, ev: SpeechResumed, push: Push) -> None:
        u = self._utt
        if ev.silence_s >= HESITATION_S:  # not the gaps between words
            u.pauses += 1
        u.words, u.second_reading, u.p = None, None, None
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
        if u.p is None and self.settings.turn.smart_end and silence_ms >= self.policy.fixed_ms and \
                (u.prosody is None or u.prosody.done()):
            # the words are late (a busy CPU): from the old fixed silence on, a voice that alone
            # sounds clearly finished (p >= complete_at) may end the turn; never sooner than the fixed
            # window would, and never on a guess (held-out rows: a looser rule cut people off)
            p_voice, why = self.policy.model.completion(None, self._voice(u), have_words=False)
            if p_voice >= self.policy.model.complete_at:
                decision = self.policy.decide(silence_ms, p_voice, ["the words were late: the voice alone"] + why,
                                              mood, len(u.backchannels))
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
        if not (self.barge_in and self._speaking()) and not (self._burst and self._burst.paused):
            self._burst = None
            return
        b = self._burst
        if b is None or b.onset_s != ev.onset_s:
            b = self._burst = _Burst(ev.onset_s)
        if b.decided:
            return
        b.speech += ev.probability >= self.settings.vad.threshold
        if b.speech < ONSET_WINDOWS:
            return
        s = self.settings.turn
        if self.mood().kind == "agitated" or s.backchannel_max_ms == 0:
            self._barge(push, "the person spoke over the reply (agitated: no waiting to see if it is a backchannel)")
            return
        if not b.paused:
            b.paused = True
            push(VoicePaused(NO_TURN, True, "the person started to speak over the reply"))
        if b.speech * 1000.0 * WINDOW / SAMPLE_RATE > s.backchannel_max_ms:
            self._barge(push, f"the person went on past a backchannel's {s.backchannel_max_ms} ms")

    def _judge_burst(self, ev: SpeechPaused, push: Push) -> None:
        """A burst over the reply went quiet: a backchannel lets the reply go on, words cut it;
        words that are neither are read again, primed for backchannels, before deciding."""
        u = self._utt
        if u.words is None:  # no recogniser: its shortness is all we know
            self._burst_over(push, "a short sound over the reply")
            return
        first = self._text(u.words)
        if first is not None and self._reread is not None and u.audio is not None and needs_second_reading(first):
            if u.second_reading is None:
                u.second_reading = self._analysis.submit(self._reread, u.audio)
            second = self._text(u.second_reading)
        else:
            second = ""  # not needed
        if first is None or second is None:  # still reading
            if ev.silence_s * 1000.0 >= WORDS_PATIENCE_MS:
                self._burst_over(push, "a short sound over the reply (its words were late)")
            return
        go_on, why = verdict(first, second if u.second_reading is not None else None)
        if go_on:
            self._burst_over(push, why)
        else:
            self._barge(push, why)

    @staticmethod
    def _text(words: Future) -> str | None:
        """A reading's text once it is in (a failed reading counts as no words); None until then."""
        if not words.done():
            return None
        try:
            return getattr(words.result(), "text", "") or ""
        except Exception:
            return ""

    def _barge(self, push: Push, why: str) -> None:
        b = self._burst
        if b is not None:
            b.decided = True
        self.barge_ins += 1
        log.info("barge-in: %s", why)
        if b is not None and b.started_s is not None:
            push(UserSpeechStarted(NO_TURN, b.started_s))  # held back while it might have been a backchannel
        push(BargeIn(NO_TURN, "barge-in", why))

    def _burst_over(self, push: Push, what: str) -> None:
        b, self._burst = self._burst, None
        if b is None or b.decided:
            return
        self.ignored_bursts += 1
        log.info("the reply goes on: %s", what)
        if b.paused:
            push(VoicePaused(NO_TURN, False, what))
        self._ignoring = b.onset_s  # the rest of this utterance (its pause and end) is no turn
        self._close_utterance()
        self._utt = _Utterance()
