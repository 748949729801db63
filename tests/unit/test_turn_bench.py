"""The end-of-turn replay behind `cogaudio bench latency`'s turn figures (core.cli.turn_bench),
on a bundled utterance with the real Silero VAD and the real prosody; the words are scripted."""

from __future__ import annotations

from concurrent.futures import Future  # noqa: F401  (the replay hands Futures to the stage)

import numpy as np
import pytest

from core.audio.pcm import SAMPLE_RATE, load_audio
from core.cli.turn_bench import Case, make_cases, replay, speech_end_s, summarize
from core.models.bundled import ASSETS
from core.settings import Settings, TurnSettings
from core.speech.asr import Transcript
from core.speech.vad import SileroVad

TEXT = "I am so tired today, nothing seems to be going right at work."


@pytest.fixture(scope="module")
def silero():
    return SileroVad()


@pytest.fixture(scope="module")
def row():
    audio = load_audio(ASSETS / "samples" / "tired.wav")
    words = TEXT.split()
    span = len(audio) / SAMPLE_RATE - 0.4  # the clip has ~0.2 s of silence at each end
    step = span / len(words)
    return {"id": "tired", "audio": audio, "emotion": "sad",
            "words": [{"word": w, "start": 0.2 + i * step, "end": 0.2 + (i + 1) * step} for i, w in enumerate(words)]}


def test_cases_insert_one_pause_of_300_to_900_ms_inside_the_sentence(row, silero):
    complete, paused = make_cases([row] * 5, seed=3, silero=silero)
    assert len(complete) == len(paused) == 5
    for c, p in zip(complete, paused, strict=True):
        assert 0.3 <= p.pause_s <= 0.9
        assert len(p.audio) - len(c.audio) == int(p.pause_s * SAMPLE_RATE)
        assert p.last_word_end_s == pytest.approx(c.last_word_end_s + p.pause_s, abs=1 / SAMPLE_RATE * 2)
    assert len({p.pause_s for p in paused}) == 5  # seeded, but not one value


def _with_pause(row, silero, pause_s: float) -> Case:
    audio = row["audio"]
    cut = int(1.0 * SAMPLE_RATE)  # after "I am so tired" roughly: a gap between words
    gap = np.zeros(int(pause_s * SAMPLE_RATE), np.float32)
    tail = np.zeros(3 * SAMPLE_RATE, np.float32)
    return Case("t", "sad", np.concatenate([audio[:cut], gap, audio[cut:], tail]),
                speech_end_s(audio, silero) + pause_s, pause_s)


def test_the_fixed_window_cuts_a_speaker_off_in_a_long_pause_but_not_a_short_one(row, silero):
    fixed = Settings(turn=TurnSettings(smart_end=False))
    long_pause = replay(_with_pause(row, silero, 0.8), fixed, silero, None)
    short_pause = replay(_with_pause(row, silero, 0.3), fixed, silero, None)
    assert long_pause.cut_off and not short_pause.cut_off
    assert 500 <= short_pause.delay_ms < 600  # 500 ms of silence, decided at a 32 ms window


def test_the_decision_waits_through_a_pause_after_words_that_need_more(row, silero):
    def words(audio):  # before the pause the words so far trail off; at the end they are whole
        return Transcript(TEXT if len(audio) > 2.5 * SAMPLE_RATE else "I am so tired and")

    smart = Settings()
    outcome = replay(_with_pause(row, silero, 0.8), smart, silero, words)
    assert not outcome.cut_off and outcome.delay_ms is not None
    summary = summarize([outcome])
    assert summary["cut_offs"] == 0 and summary["n"] == 1
