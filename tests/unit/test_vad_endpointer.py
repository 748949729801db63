"""The VAD endpointer state machine on synthetic probabilities, and the streaming VAD on real speech.

The endpointer only reports what it hears (one family of speech-boundary events); when a turn
is over is decided by the turn-taking stage (tests/unit/test_turn_taking.py)."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.pcm import load_audio
from core.models.bundled import ASSETS
from core.settings import VadSettings
from core.speech.vad import (
    QUIET,
    SPEAKING,
    STOPPING,
    Endpointer,
    SileroVad,
    SpeechDropped,
    SpeechEnded,
    SpeechOnset,
    SpeechPaused,
    SpeechQuieted,
    SpeechResumed,
    SpeechStarted,
    StreamingVad,
)

W = 0.032  # one 512-sample window at 16 kHz
# min_speech 96 ms = 3 windows, min_silence 160 ms = 5 windows
SETTINGS = VadSettings(threshold=0.5, min_speech_ms=100, min_silence_ms=160, pre_roll_ms=100, max_turn_s=2.0,
                       early_start_ms=0)
BOUNDARIES = (SpeechStarted, SpeechQuieted, SpeechResumed, SpeechEnded, SpeechDropped)


def run(probs, settings=SETTINGS, kinds=BOUNDARIES):
    ep = Endpointer(settings)
    events = []
    for p in probs:
        events += [e for e in ep.step(p) if isinstance(e, kinds)]
    return ep, events


def feed_all(vad: StreamingVad, stream: np.ndarray, frame: int, kinds=BOUNDARIES) -> list:
    events = []
    for i in range(0, len(stream), frame):
        events += [e for e in vad.feed(stream[i:i + frame]) if isinstance(e, kinds)]
    return events


def test_speech_starts_after_min_speech_and_ends_after_min_silence():
    ep, events = run([0.1] * 4 + [0.9] * 10 + [0.05] * 6)
    assert [type(e) for e in events] == [SpeechStarted, SpeechQuieted, SpeechEnded]
    start, quiet, end = events
    assert start.onset_s == pytest.approx(4 * W) and start.decision_s == pytest.approx(7 * W)
    assert quiet.speech_end_s == pytest.approx(14 * W) and quiet.decision_s == pytest.approx(15 * W)
    assert end.speech_end_s == pytest.approx(14 * W) and end.decision_s == pytest.approx(19 * W)
    assert ep.state == QUIET


def test_every_silent_window_after_the_first_is_a_pause_with_its_length():
    _, events = run([0.9] * 5 + [0.05] * 5, kinds=(SpeechPaused,))
    assert [round(e.silence_s / W) for e in events] == [2, 3, 4]  # the 1st is SpeechQuieted, the 5th the end


def test_a_short_burst_is_an_onset_then_dropped():
    _, events = run([0.1] * 3 + [0.9, 0.9] + [0.05] * 10, kinds=(SpeechOnset, SpeechDropped, SpeechStarted))
    assert [type(e) for e in events] == [SpeechOnset, SpeechOnset, SpeechDropped]
    assert events[-1].onset_s == pytest.approx(3 * W)


def test_onsets_report_each_window_of_young_speech_with_its_probability():
    _, events = run([0.6, 0.7, 0.95, 0.9], kinds=(SpeechOnset,))
    assert [e.probability for e in events] == [0.6, 0.7, 0.95, 0.9]
    assert {e.onset_s for e in events} == {0.0}


def test_short_pause_then_resume_is_reported_and_does_not_end():
    ep, events = run([0.9] * 5 + [0.05] * 3 + [0.9] * 5)
    assert [type(e) for e in events] == [SpeechStarted, SpeechQuieted, SpeechResumed]
    assert events[-1].silence_s == pytest.approx(3 * W)
    assert ep.state == SPEAKING


def test_hysteresis_probability_between_thresholds_keeps_speaking():
    # 0.4 is below the threshold (0.5) but above the silence threshold (0.35): still speech
    ep, events = run([0.9] * 5 + [0.4] * 20)
    assert [type(e) for e in events] == [SpeechStarted]
    assert ep.state == SPEAKING
    ep.step(0.1)
    assert ep.state == STOPPING


def test_a_monologue_is_not_cut_but_keeps_only_its_last_max_turn_s(silero):
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    loud = np.tile(speech, 3)  # ~13 s of speech with short pauses; max_turn_s 2 s
    vad = StreamingVad(VadSettings(min_silence_ms=1500, max_turn_s=2.0, pre_roll_ms=100), silero)
    events = feed_all(vad, np.concatenate([loud, np.zeros(32000, np.float32)]), 512)
    ended = [e for e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == 1 and not ended[0].cut
    assert len(ended[0].audio) <= (2.0 + 0.2) * 16000 and ended[0].dropped_s > 5.0


def test_closing_the_utterance_makes_the_next_speech_a_new_one():
    ep = Endpointer(SETTINGS)
    for p in [0.9] * 5 + [0.05] * 2:
        ep.step(p)
    ep.close()
    events = []
    for p in [0.9] * 4:
        events += ep.step(p)
    assert SpeechStarted in [type(e) for e in events] and SpeechResumed not in [type(e) for e in events]


@pytest.fixture(scope="module")
def silero():
    return SileroVad()


def test_silero_scores_speech_high_and_silence_low(silero):
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    probs = silero.probabilities(np.concatenate([np.zeros(16000, np.float32), speech]))
    assert probs[:25].max() < 0.3  # the first 0.8 s are silence
    assert probs[31:].max() > 0.9


def test_streaming_vad_returns_the_utterance_with_pre_roll(silero):
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    stream = np.concatenate([np.zeros(16000, np.float32), speech, np.zeros(16000, np.float32)])
    vad = StreamingVad(VadSettings(min_silence_ms=400, pre_roll_ms=200, early_start_ms=0), silero)
    events = feed_all(vad, stream, 480, kinds=(SpeechStarted, SpeechEnded))  # frames that do not match the window
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    utterance = events[1].audio
    # the clip has 0.2 s of silence at each end; the utterance keeps the voiced part plus pre-roll
    assert 0.8 * (len(speech) / 16000 - 0.4) < len(utterance) / 16000 < len(speech) / 16000 + 0.5
    assert events[1].decision_s - events[1].speech_end_s == pytest.approx(0.4, abs=0.07)


def test_the_quiet_audio_is_an_exact_prefix_of_the_ended_utterance(silero):
    """What the transcript prefetch relies on (core.speech.asr_prefetch): the audio at the last
    SpeechQuieted is an exact prefix of the utterance at its end, which adds only silence."""
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    stream = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000, np.float32)])
    vad = StreamingVad(VadSettings(min_silence_ms=500, pre_roll_ms=300), silero)
    events = feed_all(vad, stream, 512)
    ended = next(e for e in events if isinstance(e, SpeechEnded))
    quiet = [e for e in events if isinstance(e, SpeechQuieted)][-1]
    n = len(quiet.audio)
    assert 0 < n < len(ended.audio) <= n + 10 * 512
    assert np.array_equal(ended.audio[:n], quiet.audio)


def test_a_stream_that_ends_mid_word_is_flushed_as_a_cut_utterance(silero):
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    vad = StreamingVad(VadSettings(), silero)
    events = feed_all(vad, np.concatenate([np.zeros(8000, np.float32), speech[: len(speech) // 2]]), 512)
    assert SpeechStarted in [type(e) for e in events] and SpeechEnded not in [type(e) for e in events]
    flushed = vad.flush()
    assert len(flushed) == 1 and flushed[0].cut and len(flushed[0].audio) > 16000
    assert vad.flush() == []  # once
