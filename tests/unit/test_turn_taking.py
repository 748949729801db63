"""The turn-taking stage on scripted timelines: VAD events in, frames out; no model, no clock.

The words come from Futures the test completes (as the transcript prefetch would), the
voice's last words from FinalProsody values; the end-of-turn model is an explicit one here so
that the policy's behaviour is what is tested (the shipped model has its own tests in
test_end_of_turn.py)."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pytest

from core.conversation.end_of_turn import EndOfTurnModel, EndOfTurnPolicy, Mood, Scorer
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
from core.conversation.stage_framework import run_stage
from core.conversation.turn_taking import TurnTaking
from core.settings import Settings, TurnSettings
from core.speech.asr import Transcript
from core.speech.final_prosody import FinalProsody
from core.speech.vad import (
    SpeechDropped,
    SpeechEnded,
    SpeechOnset,
    SpeechPaused,
    SpeechQuieted,
    SpeechResumed,
    SpeechStarted,
)

W = 0.032
FALL = FinalProsody(final_slope_st_s=-18.0, final_level_st=-3.0, level_drop_db=-2.0, final_run_ratio=1.5, voiced=True)
LEVEL = FinalProsody(final_slope_st_s=2.0, final_level_st=0.5, level_drop_db=0.5, final_run_ratio=0.9, voiced=True)
MODEL = EndOfTurnModel(
    Scorer({"continuation_word": -5.0, "terminal_punctuation": 2.0, "question_mark": 2.0, "fall": 2.0,
            "no_words": -1.0}, -1.0),
    Scorer({"fall": 3.0}, -1.0), complete_at=0.8, incomplete_at=0.3, source="test")


class Harness:
    """One stage with a words Future per pause that the test resolves (or not)."""

    def __init__(self, settings: Settings | None = None, words: str | None = "", prosody: FinalProsody = FALL,
                 speaking: bool = False, replying: bool = False, reread=None, executor=None) -> None:
        self.settings = settings or Settings()
        self.words = words
        self.closed = 0
        self.turns = iter(range(1, 100))
        self.speaking, self.replying = speaking, replying
        policy = EndOfTurnPolicy(self.settings.turn, self.settings.vad.min_silence_ms, MODEL)
        self.stage = TurnTaking(self.settings, policy, lambda: next(self.turns), transcribe_ahead=self._ahead,
                                close_utterance=self._close, replying=lambda: self.replying,
                                speaking=lambda: self.speaking, measure_prosody=lambda audio: prosody,
                                reread=reread, executor=executor)

    def _ahead(self, audio):
        if self.words is None:
            return None
        f = Future()
        f.set_result(Transcript(self.words))
        return f

    def _close(self):
        self.closed += 1

    def run(self, events):
        out = run_stage(self.stage, events)
        self.stage.close()
        return out


def utterance(silence_ms: float, start: float = 0.0, speech_s: float = 1.5, audio_s: float = 1.5):
    """Speech from `start` for `speech_s`, then `silence_ms` of silence, as the VAD reports it."""
    end = start + speech_s
    audio = np.full(int(audio_s * 16000), 0.1, np.float32)
    events = [SpeechStarted(start + 0.25, start), SpeechQuieted(end + W, end, audio)]
    n = int(silence_ms / 1000 / W)
    events += [SpeechPaused(end + k * W, end, k * W) for k in range(2, n + 1)]
    return events


def ends(frames):
    return [f for f in frames if isinstance(f, (UserTurn, TurnReleased)) and not getattr(f, "held", False)]


def end_silence_ms(frames) -> float:
    e = next(f for f in frames if isinstance(f, UserSpeechEnded))
    return (e.stream_s - e.speech_end_s) * 1000


def test_a_finished_sentence_with_a_falling_voice_ends_at_the_shortest_wait():
    h = Harness(words="I went to the shop.")
    frames = h.run(utterance(1500))
    assert len(ends(frames)) == 1
    s = h.settings.turn
    assert s.min_wait_ms <= end_silence_ms(frames) < s.min_wait_ms + 40
    record = ends(frames)[0].turn_taking
    assert record["action"] == "end" and record["p_complete"] >= MODEL.complete_at and record["reasons"]
    assert h.closed == 1  # the VAD is told the utterance is over


def test_a_trailing_and_waits_the_longest_and_a_resumption_retracts_the_early_turn():
    h = Harness(words="I went to the shop and", prosody=LEVEL)
    events = utterance(900) + [SpeechResumed(1.5 + 0.9 + W, 0.9)]
    frames = h.run(events)
    assert ends(frames) == []  # 900 ms is not enough for a turn that needs more words
    held = [f for f in frames if isinstance(f, UserTurn) and f.held]
    assert len(held) == 1 and [f.turn for f in frames if isinstance(f, TurnRetracted)] == [held[0].turn]
    # and if the pause goes on past the longest wait, the turn ends there
    h2 = Harness(words="I went to the shop and", prosody=LEVEL)
    frames = h2.run(utterance(1500))
    assert h2.settings.turn.max_wait_ms <= end_silence_ms(frames) < h2.settings.turn.max_wait_ms + 40
    assert isinstance(ends(frames)[0], TurnReleased)  # the early-started turn is the one released


def test_no_decision_before_the_words_are_in():
    h = Harness(words="Thank you.")
    pending = Future()  # the transcript is still running
    h.stage._transcribe_ahead = lambda audio: pending
    frames = run_stage(h.stage, utterance(450))  # past the shortest wait, before the fixed window
    assert ends(frames) == []
    pending.set_result(Transcript("Thank you."))
    frames = run_stage(h.stage, [SpeechPaused(1.5 + 0.48, 1.5, 0.48)])
    assert len(ends(frames)) == 1 and ends(frames)[0].turn_taking["silence_ms"] == pytest.approx(480)
    h.stage.close()


def test_a_sad_person_gets_a_longer_wait_and_a_backchannel_instead_of_the_turn():
    steady = Harness(words="I just feel", prosody=LEVEL)
    steady_at = end_silence_ms(steady.run(utterance(3000)))
    sad = Harness(words="I just feel", prosody=LEVEL)
    sad.stage.perceived("sad", "medium")
    frames = sad.run(utterance(3000))
    sad_at = end_silence_ms(frames)
    assert sad_at == pytest.approx(steady_at * sad.settings.turn.patience, abs=40)
    said = [f for f in frames if isinstance(f, Backchannel)]
    assert len(said) == 1 and said[0].text == "Mm."
    bc_at = frames.index(said[0])
    record = ends(frames)[0].turn_taking
    assert record["mood"] == "patient" and any("sad" in r for r in record["reasons"])
    assert len(record["backchannels"]) == 1 and record["backchannels"][0]["silence_ms"] >= steady.settings.turn.max_wait_ms
    assert bc_at < frames.index(ends(frames)[0])


def test_an_agitated_person_is_not_talked_over():
    calm = Harness(words="This is the third time.")
    angry = Harness(words="This is the third time.")
    angry.stage.perceived("angry", "high")
    frames = angry.run(utterance(2000))
    calm_at, angry_at = end_silence_ms(calm.run(utterance(2000))), end_silence_ms(frames)
    assert angry_at >= calm_at * angry.settings.turn.agitated_patience - 40
    assert not any(isinstance(f, Backchannel) for f in frames)


def test_the_range_comes_from_the_settings():
    s = Settings(turn=TurnSettings(min_wait_ms=400, max_wait_ms=2000))
    fast = end_silence_ms(Harness(s, words="See you tomorrow.").run(utterance(3000)))
    slow = end_silence_ms(Harness(s, words="and then", prosody=LEVEL).run(utterance(3000)))
    assert 400 <= fast < 440 and 2000 <= slow < 2040


def test_the_fixed_window_baseline_ignores_words_and_voice():
    s = Settings(turn=TurnSettings(smart_end=False))
    a = end_silence_ms(Harness(s, words="and then", prosody=LEVEL).run(utterance(1500)))
    b = end_silence_ms(Harness(s, words="Bye.").run(utterance(1500)))
    assert a == b and s.vad.min_silence_ms <= a < s.vad.min_silence_ms + 40


def test_without_a_transcript_the_voice_alone_decides():
    falling = end_silence_ms(Harness(words=None, prosody=FALL).run(utterance(2000)))
    level = end_silence_ms(Harness(words=None, prosody=LEVEL).run(utterance(2000)))
    assert falling < level


def test_noise_with_no_words_and_no_voice_is_no_turn():
    h = Harness(words="", prosody=FinalProsody())
    frames = h.run(utterance(2000))
    assert ends(frames) == [] and not any(isinstance(f, UserSpeechEnded) for f in frames) and h.closed == 1


def test_silence_only_is_no_turn():
    assert Harness().run([SpeechPaused(k * W, 0.0, k * W) for k in range(100)]) == []


def test_the_vads_own_end_and_a_cut_stream_end_the_turn_with_a_clear_record():
    h = Harness(words=None, prosody=LEVEL)
    audio = np.full(16000, 0.1, np.float32)
    frames = h.run([SpeechStarted(0.25, 0.0), SpeechEnded(1.2, 1.0, audio, cut=True)])
    assert len(ends(frames)) == 1 and "the input ended mid-speech" in ends(frames)[0].turn_taking["reasons"]
    h = Harness(words=None)
    frames = h.run([SpeechStarted(0.25, 0.0), SpeechEnded(40.0, 39.0, audio, dropped_s=570.0)])
    assert any("monologue" in r for r in ends(frames)[0].turn_taking["reasons"])


def test_a_held_turn_is_ended_when_the_input_stops_in_a_pause():
    h = Harness(words="and", prosody=LEVEL)
    frames = run_stage(h.stage, utterance(300))  # early start at 100 ms, no end yet
    held = [f for f in frames if isinstance(f, UserTurn) and f.held]
    out = []
    h.stage.flush(out.append)
    h.stage.close()
    assert [type(f) for f in out] == [TurnReleased, UserSpeechEnded] and out[0].turn == held[0].turn


# --- barge-in --------------------------------------------------------------------------

def onsets(n, onset=10.0, prob=0.95):
    return [SpeechOnset(onset + (k + 1) * W, onset, prob, np.zeros(512, np.float32)) for k in range(n)]


def test_speech_over_the_reply_pauses_its_voice_within_two_windows_and_cuts_it_if_it_goes_on():
    h = Harness(speaking=True, replying=True)
    frames = h.run(onsets(40))
    kinds = [type(f) for f in frames]
    assert kinds.index(VoicePaused) == 0 and frames[0].paused  # at the 2nd window: ~64 ms after the onset
    barge = kinds.index(BargeIn)
    assert barge > 0 and kinds.count(BargeIn) == 1
    # cut once the speech outlasted a backchannel (counted in windows after the onset)
    windows_then = barge + 1  # one frame per window before it: the pause came at window 2
    assert (windows_then - 1) * W * 1000 <= h.settings.turn.backchannel_max_ms + W * 1000


def test_a_backchannel_and_a_cough_let_the_reply_go_on_and_open_no_turn():
    h = Harness(speaking=True, replying=True)
    mm_hm = onsets(12) + [SpeechStarted(10.0 + 8 * W, 10.0), SpeechQuieted(10.4, 10.38, np.zeros(4000, np.float32))]
    mm_hm += [SpeechPaused(10.4 + k * W, 10.38, k * W) for k in range(2, 40)]
    cough = onsets(2, onset=12.0, prob=0.7) + [SpeechDropped(12.1, 12.0)]
    frames = h.run(mm_hm + cough)
    assert not any(isinstance(f, (BargeIn, UserTurn, TurnReleased)) for f in frames)
    assert [f.paused for f in frames if isinstance(f, VoicePaused)] == [True, False, True, False]
    assert h.stage.ignored_bursts == 2 and h.closed == 2  # their utterances are closed unheard


def test_a_short_burst_of_words_that_are_not_a_backchannel_cuts_the_reply_and_becomes_a_turn():
    h = Harness(words="Wait.", speaking=True, replying=True)
    wait = onsets(8) + [SpeechStarted(10.0 + 8 * W, 10.0), SpeechQuieted(10.3, 10.28, np.full(8000, 0.1, np.float32))]
    wait += [SpeechPaused(10.3 + k * W, 10.28, k * W) for k in range(2, 40)]
    h.replying = h.speaking = True
    frames = run_stage(h.stage, wait[:12])
    assert [type(f) for f in frames if isinstance(f, (VoicePaused, BargeIn, UserSpeechStarted))] == [
        VoicePaused, UserSpeechStarted, BargeIn]  # the person is shown speaking once it is an interruption
    h.speaking = h.replying = False  # the reply is cut
    frames = h.run(wait[12:])
    assert len(ends(frames)) == 1  # "Wait." is the person's next turn


def test_a_click_shorter_than_two_windows_does_not_even_pause_the_voice():
    h = Harness(speaking=True, replying=True)
    frames = h.run(onsets(1) + [SpeechDropped(10.07, 10.0)])
    assert frames == []


def test_an_agitated_person_cuts_the_reply_at_once():
    h = Harness(speaking=True, replying=True)
    h.stage.perceived("angry", "medium")
    frames = h.run(onsets(3))
    assert [type(f) for f in frames] == [BargeIn]


def test_speech_while_the_reply_is_being_prepared_interrupts_it():
    h = Harness(speaking=False, replying=True)
    frames = h.run([SpeechStarted(10.3, 10.0)])
    assert any(isinstance(f, BargeIn) for f in frames)


def test_late_words_let_a_finished_sounding_voice_end_the_turn_at_the_fixed_window_not_sooner():
    reasons = {}
    for name, prosody, expect_ms in (("falling", FALL, 500), ("level", LEVEL, 1200)):
        h = Harness(prosody=prosody)
        h.stage._transcribe_ahead = lambda audio: Future()  # the transcript never comes (a very busy CPU)
        frames = h.run(utterance(1500))
        at = end_silence_ms(frames)
        assert expect_ms <= at < expect_ms + 40, (name, at)
        reasons[name] = ends(frames)[0].turn_taking["reasons"]
    assert any("the words were late" in r for r in reasons["falling"])


class HeldWorker:
    """The stage's worker, run when the test says (`finish`), so the timeline decides, not a scheduler."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future, object, tuple]] = []

    def submit(self, fn, *args) -> Future:
        f = Future()
        self.jobs.append((f, fn, args))
        return f

    def finish(self) -> None:
        for f, fn, args in self.jobs:
            if not f.done():
                f.set_result(fn(*args))

    def shutdown(self, **_) -> None:
        pass


class Reread:
    """The second, backchannel-primed reading: what the recogniser makes of the burst then."""

    def __init__(self, text: str) -> None:
        self.text, self.audio = text, []

    def __call__(self, audio):
        self.audio.append(audio.size)
        return Transcript(self.text)


def burst_over_reply(n_pauses: int = 40, onset: float = 10.0):
    """A ~0.4 s sound over the reply, then silence, as the VAD reports it."""
    audio = np.full(6400, 0.1, np.float32)
    events = onsets(12, onset) + [SpeechStarted(onset + 8 * W, onset), SpeechQuieted(onset + 0.4, onset + 0.38, audio)]
    return events + [SpeechPaused(onset + 0.4 + k * W, onset + 0.38, k * W) for k in range(2, n_pauses)]


def test_a_hum_heard_as_a_sentence_is_read_again_and_lets_the_reply_go_on():
    worker, reread = HeldWorker(), Reread("Mm-hmm.")
    h = Harness(words="And make him...", speaking=True, replying=True, reread=reread, executor=worker)
    events = burst_over_reply()
    frames = run_stage(h.stage, events[:20])  # quiet for a while: the second reading is not in yet
    assert [type(f) for f in frames] == [VoicePaused] and frames[0].paused  # the voice waits, nothing is decided
    worker.finish()
    assert reread.audio == [6400]  # the burst's own audio was read again, once
    frames = h.run(events[20:])
    assert not any(isinstance(f, (BargeIn, UserTurn, UserSpeechStarted)) for f in frames)
    assert [f.paused for f in frames if isinstance(f, VoicePaused)] == [False]
    assert "read again as 'Mm-hmm.'" in frames[0].reason and h.stage.ignored_bursts == 1


def test_words_that_stay_words_on_the_second_reading_cut_the_reply():
    worker = HeldWorker()
    h = Harness(words="And then I can.", speaking=True, replying=True, reread=Reread("And then I can."),
                executor=worker)
    events = burst_over_reply()
    run_stage(h.stage, events[:20])
    worker.finish()
    frames = run_stage(h.stage, events[20:22])
    assert [type(f) for f in frames][:2] == [UserSpeechStarted, BargeIn] and "And then I can." in frames[1].detail
    h.stage.close()


def test_words_that_name_an_interruption_are_never_read_again():
    reread = Reread("Mm-hmm.")
    h = Harness(words="No, not that.", speaking=True, replying=True, reread=reread, executor=HeldWorker())
    frames = h.run(burst_over_reply(20))
    assert any(isinstance(f, BargeIn) for f in frames) and reread.audio == []


def test_a_second_reading_that_never_comes_lets_the_reply_go_on_after_the_words_patience():
    h = Harness(words="And make him...", speaking=True, replying=True, reread=Reread("Mm-hmm."), executor=HeldWorker())
    frames = h.run(burst_over_reply(60))  # never finished: ~1.9 s of silence
    assert not any(isinstance(f, BargeIn) for f in frames)
    assert [f.paused for f in frames if isinstance(f, VoicePaused)] == [True, False]
    assert "late" in frames[-1].reason


def test_gaps_between_words_are_not_hesitation_but_long_pauses_are():
    def with_gaps(gap_s: float):
        events = [SpeechStarted(0.25, 0.0)]
        t = 1.0
        for _ in range(3):
            events += [SpeechQuieted(t + W, t, np.full(16000, 0.1, np.float32)), SpeechResumed(t + gap_s + W, gap_s)]
            t += gap_s + 0.5
        return events

    h = Harness(words="I was going to", prosody=LEVEL)
    run_stage(h.stage, with_gaps(0.064))
    assert h.stage.mood().kind == "steady"
    h = Harness(words="I was going to", prosody=LEVEL)
    run_stage(h.stage, with_gaps(0.3))
    assert h.stage.mood() == Mood("patient", "sounds hesitant")
