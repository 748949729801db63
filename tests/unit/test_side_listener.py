"""SideListener: the audio engine's side transcript thread ends with its turn."""

from __future__ import annotations

import threading

import numpy as np

from core.engines.side_listener import SideListener
from core.speech.asr import Transcript


class _GatedRecogniser:
    """Stands in for faster-whisper so that the test decides when the words come."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def transcribe(self, pcm: np.ndarray) -> Transcript:
        self.entered.set()
        self.gate.wait(10)
        return Transcript("mm hm", [], "en", pcm.size / 16000)


def _tone() -> np.ndarray:
    t = np.arange(16000) / 16000
    return (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)


def test_a_turn_whose_result_is_never_read_leaves_no_thread():
    baseline = {t.name for t in threading.enumerate()}
    asr, timings = _GatedRecogniser(), {}
    with SideListener(asr, _tone(), timings):
        assert asr.entered.wait(10)
        assert "audio-llm-asr" in {t.name for t in threading.enumerate()} - baseline
        asr.gate.set()  # the words come; nobody reads them (the turn failed before its Emotion line)
    assert "audio-llm-asr" not in {t.name for t in threading.enumerate()}
    assert "asr_ms" in timings  # the work finished before the turn let go of it


def test_close_after_result_is_harmless_and_result_keeps_the_words():
    asr = _GatedRecogniser()
    asr.gate.set()
    side = SideListener(asr, _tone(), {})
    text, cues = side.result()
    side.close()
    assert text == "mm hm" and "f0_mean_hz" in cues
    assert side.result() == (text, cues)
