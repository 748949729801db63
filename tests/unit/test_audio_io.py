"""PCM loading and conversion, file/queue sources, array/wav sinks (no sound card needed)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

from core.audio.pcm import AudioFileError, frames, load_audio, resample, save_wav, to_float32, to_int16
from core.audio.sinks import ArraySink, WavFileSink
from core.audio.sources import FileSource, QueueSource


def tone(seconds: float, rate: int, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_load_audio_resamples_downmixes_and_keeps_pitch(tmp_path):
    stereo = np.stack([tone(1.0, 44100), tone(1.0, 44100)], axis=1)
    sf.write(tmp_path / "a.flac", stereo, 44100)
    audio = load_audio(tmp_path / "a.flac")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == 16000
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16000 / len(audio) - 440) < 2


def test_load_audio_reads_mp3(tmp_path):
    sf.write(tmp_path / "a.mp3", tone(0.5, 22050), 22050, format="MP3")
    assert abs(len(load_audio(tmp_path / "a.mp3")) - 8000) < 1200  # mp3 adds codec padding


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("hello, I am text"), "not a readable audio file"),
    (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "no audio samples"),
])
def test_unusable_files_raise_one_clear_error(tmp_path, make, message):
    path = tmp_path / "x.wav"
    make(path)
    with pytest.raises(AudioFileError, match=message) as info:
        load_audio(path)
    assert str(path) in str(info.value)


def test_conversions_round_trip():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 0.999], np.float32)
    assert np.allclose(to_float32(to_int16(x)), x, atol=1e-4)
    assert to_float32(np.array([2.0], np.float32))[0] == 1.0  # clipped
    assert len(resample(tone(1.0, 22050), 22050, 16000)) == 16000
    assert [len(f) for f in frames(np.ones(1000), 512)] == [512, 512]


def test_file_source_yields_frames_with_silence_and_remembers_the_speech_end():
    clip = tone(0.5, 16000)
    src = FileSource(audio=clip, frame_ms=32, speed=0, lead_silence_s=0.1, tail_silence_s=0.2)
    got = list(src.frames())
    assert all(len(f) == 512 for f in got[:-1])
    assert sum(len(f) for f in got) == 1600 + 8000 + 3200
    assert src.speech_end_sample == 9600 and src.fed == 12800


def test_file_source_paces_in_real_time_and_stops_when_closed():
    src = FileSource(audio=np.zeros(16000, np.float32), frame_ms=32, speed=4.0, tail_silence_s=0.0)
    t0 = time.perf_counter()
    n = sum(1 for _ in src.frames())
    assert n == 32 and time.perf_counter() - t0 >= 0.2  # 1 s of audio at 4x takes at least 0.25 s
    src2 = FileSource(audio=np.zeros(16000 * 60, np.float32), frame_ms=32, speed=1.0)
    it = src2.frames()
    next(it)
    src2.close()
    assert sum(1 for _ in it) <= 1


def test_queue_source_plays_pushed_audio_between_silence():
    src = QueueSource(frame_ms=32, speed=0)
    it = src.frames()
    assert not next(it).any()
    src.push(np.ones(700, np.float32))
    a, b = next(it), next(it)
    assert a.all() and b[:188].all() and not b[188:].any()
    src.close()
    assert list(it) == []


def test_array_sink_instant_and_realtime_with_cancel(tmp_path):
    sink = ArraySink()
    assert sink.play(np.ones(22050, np.float32), 22050, turn=1)
    audio, rate = sink.audio(1)
    assert len(audio) == 22050 and rate == 22050
    live = ArraySink(realtime=True)
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    t0 = time.perf_counter()
    assert not live.play(np.ones(22050 * 5, np.float32), 22050, cancel, turn=2)
    assert time.perf_counter() - t0 < 2.0
    played, _ = live.audio(2)
    assert 0 < len(played) < 22050  # cut after ~0.1 s, not after 5 s


def test_wav_file_sink_writes_one_file_per_turn(tmp_path):
    sink = WavFileSink(tmp_path / "o.wav", per_turn=True)
    sink.play(np.full(1000, 0.5, np.float32), 22050, turn=3)
    sink.play(np.full(500, 0.5, np.float32), 22050, turn=7)
    paths = sink.save()
    assert [p.name for p in paths] == ["o-1.wav", "o-2.wav"]
    assert sf.info(paths[1]).frames == 500
    single = save_wav(tmp_path / "deep" / "x.wav", np.zeros(10), 16000)
    assert single.exists()


def test_a_source_can_say_when_each_sample_was_handed_out():
    src = QueueSource(frame_ms=32, speed=0)  # 512 samples per frame, no pacing
    assert src.time_of(0) is None  # not asked to keep times
    src.keep_times()
    stream = src.frames()
    next(stream)
    first = src.last_frame_at
    next(stream)
    second = src.last_frame_at
    src.close()
    assert src.time_of(0) == first and src.time_of(511) == first
    assert src.time_of(512) == second and second >= first
    assert src.time_of(1024) is None  # not handed out yet
