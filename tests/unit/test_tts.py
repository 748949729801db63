"""Piper sentence TTS and the prosody chosen per reply."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.settings import TtsSettings
from core.speech.tts import Speaker, prosody_for


def test_prosody_follows_the_listener_and_the_strategy():
    sad, angry, happy = prosody_for("sad"), prosody_for("angry"), prosody_for("happy")
    assert sad.length > 1 and sad.volume < 1  # slower and softer
    assert angry.noise < 1 and angry.volume <= 1  # steady, never louder
    assert happy.length < 1
    assert prosody_for("sad", intensity="high").length > sad.length > prosody_for("sad", intensity="low").length
    assert prosody_for("neutral", "Reassure them calmly").length > prosody_for("neutral").length
    assert prosody_for(None) == prosody_for("neutral")


@pytest.fixture(scope="module")
def speaker():
    return Speaker()


def test_speaks_a_sentence_and_slower_prosody_takes_longer(speaker):
    text = "I hear you, and I am here with you."
    plain = speaker.speak_all(text)
    slow = speaker.speak_all(text, prosody_for("sad", "comfort them gently", "high"))
    assert speaker.sample_rate == 22050
    assert 1.0 < len(plain) / speaker.sample_rate < 5.0
    assert len(slow) > 1.1 * len(plain)
    assert np.abs(slow).max() < np.abs(plain).max()  # softer


def test_cancel_stops_synthesis(speaker):
    cancel = threading.Event()
    cancel.set()
    assert list(speaker.synthesize("One. Two. Three.", cancel=cancel)) == []


def test_speaking_rate_setting_scales_the_pace():
    fast = Speaker(TtsSettings(speaking_rate=1.5))
    assert fast.config(prosody_for("neutral")).length_scale == pytest.approx(1 / 1.5)
