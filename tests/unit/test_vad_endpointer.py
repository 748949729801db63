"""The VAD endpointer state machine on synthetic probabilities, and the streaming VAD on real speech."""

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
    SpeechEnd,
    SpeechEnded,
    SpeechPause,
    SpeechPaused,
    SpeechQuiet,
    SpeechQuieted,
    SpeechResume,
    SpeechStart,
    SpeechStarted,
    StreamingVad,
)

# 32 ms windows: min_speech 96 ms = 3 windows, min_silence 160 ms = 5 windows
SETTINGS = VadSettings(threshold=0.5, min_speech_ms=100, min_silence_ms=160, pre_roll_ms=100, max_turn_s=2.0,
                       early_start_ms=0)


def run(probs, settings=SETTINGS, quiet: bool = False):
    """Decisions over `probs`; the SpeechQuiet hints only when `quiet` (they have their own tests)."""
    ep = Endpointer(settings)
    events = []
    for p in probs:
        events += [e for e in ep.step(p) if quiet or not isinstance(e, SpeechQuiet)]
    return ep, events


def feed_all(vad: StreamingVad, stream: np.ndarray, frame: int, quiet: bool = False) -> list:
    events = []
    for i in range(0, len(stream), frame):
        events += [e for e in vad.feed(stream[i:i + frame]) if quiet or not isinstance(e, SpeechQuieted)]
    return events


def test_speech_starts_after_min_speech_and_ends_after_min_silence():
    ep, events = run([0.1] * 4 + [0.9] * 10 + [0.05] * 6)
    assert events == [SpeechStart(window=6, start_window=4), SpeechEnd(window=18, start_window=4, end_window=14)]
    assert ep.state == QUIET


def test_short_burst_is_not_speech():
    _, events = run([0.1] * 3 + [0.9, 0.9] + [0.05] * 10)
    assert events == []


def test_short_pause_does_not_end_the_turn():
    ep, events = run([0.9] * 5 + [0.05] * 3 + [0.9] * 5)
    assert [type(e) for e in events] == [SpeechStart]
    assert ep.state == SPEAKING


def test_hysteresis_probability_between_thresholds_keeps_speaking():
    # 0.4 is below the threshold (0.5) but above the silence threshold (0.35): still speech
    ep, events = run([0.9] * 5 + [0.4] * 20)
    assert [type(e) for e in events] == [SpeechStart]
    assert ep.state == SPEAKING
    ep.step(0.1)
    assert ep.state == STOPPING


def test_max_turn_cuts_a_monologue():
    _, events = run([0.9] * 70)  # 2.24 s > max_turn_s = 2 s
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(ends) == 1 and ends[0].cut


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
    events = feed_all(vad, stream, 480)  # frames that do not match the 512-sample window
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    utterance = events[1].audio
    # the clip has 0.2 s of silence at each end; the utterance keeps the voiced part plus pre-roll
    assert 0.8 * (len(speech) / 16000 - 0.4) < len(utterance) / 16000 < len(speech) / 16000 + 0.5
    assert events[1].decision_s - events[1].speech_end_s == pytest.approx(0.4, abs=0.07)


EARLY = VadSettings(threshold=0.5, min_speech_ms=100, min_silence_ms=320, pre_roll_ms=100, early_start_ms=96)


def test_early_pause_then_confirmed_end():
    # 10 silent windows = 320 ms; the pause comes after 3 windows (96 ms), the end after 10
    _, events = run([0.9] * 6 + [0.05] * 10, EARLY)
    assert [type(e) for e in events] == [SpeechStart, SpeechPause, SpeechEnd]
    assert events[1].window == 8 and events[2].window == 15


def test_early_pause_retracted_when_speech_resumes():
    ep, events = run([0.9] * 6 + [0.05] * 4 + [0.9] * 3 + [0.05] * 10, EARLY)
    assert [type(e) for e in events] == [SpeechStart, SpeechPause, SpeechResume, SpeechPause, SpeechEnd]
    assert ep.state == QUIET


def test_no_early_pause_when_disabled():
    _, events = run([0.9] * 6 + [0.05] * 10, EARLY.model_copy(update={"early_start_ms": 0}))
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd]


def test_streaming_vad_early_pause_carries_the_utterance(silero):
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    stream = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000, np.float32)])
    vad = StreamingVad(VadSettings(min_silence_ms=500, pre_roll_ms=200, early_start_ms=150), silero)
    events = feed_all(vad, stream, 512)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SpeechStarted" and kinds[-2:] == ["SpeechPaused", "SpeechEnded"]
    paused, ended = events[-2], events[-1]
    assert ended.decision_s - paused.decision_s == pytest.approx(0.35, abs=0.07)
    assert abs(len(paused.audio) - len(ended.audio)) <= 0.2 * 16000  # the same words


def test_the_first_silent_window_after_speech_is_a_quiet_hint():
    _, events = run([0.9] * 6 + [0.05] * 2 + [0.9] * 3 + [0.05] * 10, EARLY, quiet=True)
    assert [type(e) for e in events] == [SpeechStart, SpeechQuiet, SpeechQuiet, SpeechPause, SpeechEnd]
    assert [e.window for e in events if isinstance(e, SpeechQuiet)] == [6, 11]  # each pause, at its first window
    # the hysteresis band is neither speech nor silence: no hint there
    _, events = run([0.9] * 6 + [0.4] * 3 + [0.9] * 2, EARLY, quiet=True)
    assert [type(e) for e in events] == [SpeechStart]


def test_the_quiet_hint_carries_a_prefix_of_the_answered_utterance(silero):
    """What the transcript prefetch relies on (core.speech.asr_prefetch): the audio at the last quiet
    hint is an exact prefix of the early-started turn's audio, which adds only silence."""
    speech = load_audio(ASSETS / "samples" / "hello.wav")
    stream = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000, np.float32)])
    vad = StreamingVad(VadSettings(min_silence_ms=500, pre_roll_ms=300, early_start_ms=100), silero)
    events = feed_all(vad, stream, 512, quiet=True)
    paused = next(e for e in events if isinstance(e, SpeechPaused))
    quiet = [e for e in events if isinstance(e, SpeechQuieted) and e.decision_s <= paused.decision_s][-1]
    n = len(quiet.audio)
    assert 0 < n < len(paused.audio) <= n + 3 * 512
    assert np.array_equal(paused.audio[:n], quiet.audio)
    assert paused.decision_s - quiet.decision_s == pytest.approx(0.064, abs=0.001)
