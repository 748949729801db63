"""The enrolment clip's voice gate (core.ear.enrolment): seconds of voice against known signals."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.pcm import SAMPLE_RATE
from core.ear.enrolment import check_clip, voice_seconds


def _tone(seconds: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # RMS = dbfs


def test_voice_seconds_counts_the_loud_part_only():
    clip = np.r_[np.zeros(SAMPLE_RATE, np.float32), _tone(2.0, -20), np.zeros(SAMPLE_RATE, np.float32)]
    assert voice_seconds(clip) == pytest.approx(2.0, abs=2 * 512 / SAMPLE_RATE)
    assert voice_seconds(_tone(3.0, -60)) == 0.0  # below the -50 dBFS gate: a dead or muted microphone
    assert voice_seconds(np.zeros(100, np.float32)) == 0.0


@pytest.mark.parametrize("clip, words", [
    (_tone(1.2, -20), "1.2 s long"),
    (np.r_[_tone(1.0, -20), np.zeros(3 * SAMPLE_RATE, np.float32)], "only 1.0 s of voice"),
    (_tone(4.0, -65), "silent"),
    (np.r_[_tone(2.0, -20), np.float32([np.nan])], "invalid samples"),
])
def test_bad_clips_are_refused_with_what_to_do(clip, words):
    with pytest.raises(ValueError, match=words):
        check_clip(clip)


def test_a_clip_with_enough_voice_passes():
    assert check_clip(np.r_[np.zeros(SAMPLE_RATE, np.float32), _tone(2.5, -30)]) == pytest.approx(2.5, abs=0.07)
