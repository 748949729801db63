"""A reply's voice held while the person speaks over it, then going on (or cut)."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.audio.sinks import ArraySink


def _play_in_thread(sink: ArraySink, samples: np.ndarray) -> tuple[threading.Thread, list]:
    result: list = []
    t = threading.Thread(target=lambda: result.append(sink.play(samples, 16000, None, turn=7)))
    t.start()
    return t, result


def test_a_paused_voice_goes_on_where_it_was_after_resume():
    sink = ArraySink(realtime=True)
    samples = np.linspace(-0.5, 0.5, 8000, dtype=np.float32)  # 0.5 s
    t, result = _play_in_thread(sink, samples)
    time.sleep(0.1)
    sink.pause()
    time.sleep(0.3)
    assert t.is_alive()  # held, not finished
    sink.resume()
    t.join(10)
    assert result == [True]
    audio, _ = sink.audio(7)
    assert np.array_equal(audio, samples)  # nothing lost, nothing repeated
    assert len(sink.pauses) == 1 and sink.pauses[0][1] > sink.pauses[0][0]


def test_stop_during_a_pause_cuts_the_voice():
    sink = ArraySink(realtime=True)
    t, result = _play_in_thread(sink, np.zeros(16000, np.float32))
    time.sleep(0.1)
    sink.pause()
    time.sleep(0.1)
    sink.stop()
    t.join(10)
    assert result == [False] and not t.is_alive()
    assert sink.audio(7)[0].size < 16000
