"""Prosodic cues on synthetic voiced signals with known pitch and level, and the weak estimate."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.speech.asr import Word
from core.speech.cues import Cues, EmotionFromCues, measure_cues

SR = 16000


def _voice(f0: float, seconds: float = 2.0, gain: float = 0.3, syllables_per_s: float = 4.0) -> np.ndarray:
    """A harmonic 'voice' at `f0` Hz, amplitude-modulated into syllable-like bursts."""
    t = np.arange(int(SR * seconds)) / SR
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * syllables_per_s * t - np.pi / 2)
    return (gain * wave / 2.3 * envelope).astype(np.float32)


def test_pitch_level_range_and_loudness():
    low, high = measure_cues(_voice(110)), measure_cues(_voice(220))
    assert low.f0_mean_hz == pytest.approx(110, rel=0.05) and high.f0_mean_hz == pytest.approx(220, rel=0.05)
    assert high.f0_level_st - low.f0_level_st == pytest.approx(12.0, abs=0.5)  # one octave
    assert low.f0_level_st == pytest.approx(12 * np.log2(110 / 100), abs=0.5)
    assert low.f0_range_st < 1.0  # a steady tone has almost no melody
    loud = measure_cues(_voice(110, gain=0.6))
    assert loud.loudness_dbfs - low.loudness_dbfs == pytest.approx(6.0, abs=0.5)
    assert 0.5 < low.voicing_ratio <= 1.0


def test_syllable_rate_follows_the_bursts_and_words_give_words_per_second():
    slow, fast = measure_cues(_voice(150, 3.0, syllables_per_s=2.5)), measure_cues(_voice(150, 3.0, syllables_per_s=5.0))
    assert slow.rate_sps == pytest.approx(2.5, rel=0.3) and fast.rate_sps == pytest.approx(5.0, rel=0.3)
    words = [Word("a", 0.0, 0.4, 1.0), Word("b", 0.5, 0.9, 1.0), Word("c", 1.0, 2.0, 1.0)]
    assert measure_cues(_voice(150), words).rate_wps == pytest.approx(1.5)
    # without timestamps, a word count is spread over the voiced span (the 2 s test voice)
    counted = measure_cues(_voice(150), n_words=4)
    assert counted.rate_wps == pytest.approx(2.0, rel=0.15)
    assert measure_cues(_voice(150)).rate_wps is None


def test_silence_is_unvoiced_not_an_error():
    cues = measure_cues(np.zeros(SR, dtype=np.float32))
    assert not cues.voiced and cues.f0_mean_hz == 0.0
    est = EmotionFromCues().estimate(cues)
    assert est.label == "neutral" and est.confidence == 0.0


def test_estimate_moves_with_the_profile_table():
    model = EmotionFromCues()
    neutral = Cues(112.0, 2.0, 7.0, 4.0, None, -22.0, 0.8, 3.0)  # the reference voice itself
    assert model.estimate(neutral).label == "neutral"
    sad = replace(neutral, f0_mean_hz=100.0, f0_level_st=0.0, f0_range_st=4.2, rate_sps=3.4, loudness_dbfs=-28.0)
    happy = replace(neutral, f0_mean_hz=126.0, f0_level_st=4.0, f0_range_st=9.5, rate_sps=4.4, loudness_dbfs=-20.0)
    p_sad, p_happy = model.estimate(sad).probabilities, model.estimate(happy).probabilities
    assert p_sad["sad"] > p_sad["happy"] and p_happy["happy"] > p_happy["sad"]
    assert sum(p_sad.values()) == pytest.approx(1.0)
    assert "quiet" in model.describe(sad) and "slow" in model.describe(sad)
