"""Where the user's voice comes from: the microphone, a file played in real time, or a script.

A source yields 16 kHz mono float32 frames (`frame_ms` long) from `frames()` until it is
exhausted or `close()` is called. Real-time sources block between frames like a sound
card; `speed` > 1 plays a file faster (0 = as fast as possible), for tests and benchmarks.
`last_frame_at` and `fed` let a benchmark know when a given sample went in.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE, load_audio
from core.audio.sinks import AudioDeviceError


class _Paced:
    """Shared pacing: frame i is released at start + i * frame duration / speed."""

    def __init__(self, frame_ms: int, speed: float) -> None:
        self.frame_len = int(SAMPLE_RATE * frame_ms / 1000)
        self.speed = speed
        self.fed = 0  # samples handed out so far
        self.last_frame_at: float | None = None
        self.handed_out: list[tuple[int, float]] | None = None  # (fed, perf_counter) per frame, after keep_times()
        self._closed = threading.Event()
        self._t0: float | None = None

    def keep_times(self) -> None:
        """Remember when each frame is handed out, so that `time_of` can answer (benchmarks)."""
        self.handed_out = []

    def time_of(self, sample: int) -> float | None:
        """perf_counter() when the frame holding stream sample `sample` was handed out, or None
        if it has not been yet (or keep_times() was not called)."""
        for fed, t in self.handed_out or []:
            if fed > sample:
                return t
        return None

    def close(self) -> None:
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _wait_turn(self) -> None:
        if self.speed <= 0:
            return
        if self._t0 is None:
            self._t0 = time.perf_counter()
        due = self._t0 + self.fed / SAMPLE_RATE / self.speed
        delay = due - time.perf_counter()
        if delay > 0:
            self._closed.wait(delay)

    def _hand_out(self, frame: np.ndarray) -> np.ndarray:
        self.fed += len(frame)
        self.last_frame_at = time.perf_counter()
        if self.handed_out is not None:
            self.handed_out.append((self.fed, self.last_frame_at))
        return frame


class FileSource(_Paced):
    """Plays an audio file (wav/flac/mp3, any rate) as a live stream, with optional silence around it."""

    def __init__(self, path: str | Path | None = None, audio: np.ndarray | None = None, frame_ms: int = 32,
                 speed: float = 1.0, lead_silence_s: float = 0.0, tail_silence_s: float = 1.0) -> None:
        super().__init__(frame_ms, speed)
        clip = load_audio(path) if audio is None else np.asarray(audio, dtype=np.float32)
        lead = np.zeros(int(lead_silence_s * SAMPLE_RATE), np.float32)
        tail = np.zeros(int(tail_silence_s * SAMPLE_RATE), np.float32)
        self.audio = np.concatenate([lead, clip, tail])
        self.speech_end_sample = len(lead) + len(clip)  # where the clip ends in the stream

    def frames(self) -> Iterator[np.ndarray]:
        for i in range(0, len(self.audio), self.frame_len):
            if self.closed:
                return
            self._wait_turn()
            if self.closed:
                return
            yield self._hand_out(self.audio[i:i + self.frame_len])


class QueueSource(_Paced):
    """A live stream of silence into which audio can be pushed at any moment (scripted timelines).

    Tests push an utterance when an event happens (for example "the reply started playing"),
    which makes a barge-in timeline deterministic without depending on how fast the machine is.
    """

    def __init__(self, frame_ms: int = 32, speed: float = 1.0) -> None:
        super().__init__(frame_ms, speed)
        self._pending = np.zeros(0, np.float32)
        self._lock = threading.Lock()
        self.pushed_end_samples: list[int] = []  # stream position where each pushed clip ends

    def push(self, audio: np.ndarray) -> None:
        with self._lock:
            self._pending = np.concatenate([self._pending, np.asarray(audio, dtype=np.float32)])
            self.pushed_end_samples.append(self.fed + len(self._pending))

    def frames(self) -> Iterator[np.ndarray]:
        while not self.closed:
            self._wait_turn()
            if self.closed:
                return
            with self._lock:
                frame, self._pending = self._pending[: self.frame_len], self._pending[self.frame_len:]
            if len(frame) < self.frame_len:
                frame = np.concatenate([frame, np.zeros(self.frame_len - len(frame), np.float32)])
            yield self._hand_out(frame)


class MicrophoneSource(_Paced):
    """The default microphone through a sounddevice InputStream (16 kHz mono float32).

    A microphone that goes away mid-conversation (unplugged, a Bluetooth headset out of
    range) is noticed when the stream stops delivering or reports an error; the source then
    closes it, says so through `on_status`, retries every `reopen_s` and says so again when
    the device is back, so the conversation goes on without a restart. PortAudio is not
    re-initialised for that (it would cut the speaker's stream too): with PulseAudio/PipeWire
    or the system default device, a re-plugged microphone comes back under the same name.
    """

    STALL_S = 1.0  # no audio for this long from an open stream: the device is gone

    def __init__(self, device: str | int | None = None, frame_ms: int = 32,
                 on_status: Callable[[str], None] | None = None, reopen_s: float = 1.0) -> None:
        super().__init__(frame_ms, speed=0)
        self.on_status = on_status or (lambda message: None)
        self.reopen_s = reopen_s
        self.device = device
        self.lost = False  # True while the device is gone
        try:
            import sounddevice as sd
        except OSError as exc:
            raise AudioDeviceError(f"cannot load PortAudio ({exc}); install it: sudo apt-get install libportaudio2") from exc
        try:
            sd.check_input_settings(device=device, channels=1, dtype="float32", samplerate=SAMPLE_RATE)
        except Exception as exc:
            raise AudioDeviceError(
                f"no usable microphone ({exc}). Connect one, choose it with audio.input_device "
                "(`cogaudio doctor` lists devices), or drive the conversation from a file with --input FILE."
            ) from exc
        self._sd = sd
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=500)
        self._stream = self._new_stream()
        self.overflows = 0

    def _new_stream(self):
        return self._sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", device=self.device,
                                    blocksize=self.frame_len, callback=self._callback)

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio's thread
        if status.input_overflow:
            self.overflows += 1
        try:
            self._queue.put_nowait(indata[:, 0].copy())
        except queue.Full:
            self.overflows += 1  # the consumer stalled; dropping is better than growing without bound

    def _drop(self, reason: str) -> None:
        """The device is gone: close what is left of the stream and say so once."""
        try:
            self._stream.abort()
            self._stream.close()
        except Exception:  # a vanished device may refuse even this; the stream is dropped either way
            pass
        self._stream = None
        if not self.lost:
            self.lost = True
            self.on_status(f"The microphone stopped working ({reason}). Plug it back in: the conversation "
                           "goes on as soon as it is back.")

    def _reopen(self) -> bool:
        try:
            stream = self._new_stream()
            stream.start()
        except Exception:  # still gone; try again later
            return False
        self._stream = stream
        self.lost = False
        self.on_status("The microphone is back; I'm listening again.")
        return True

    def frames(self) -> Iterator[np.ndarray]:
        try:
            self._stream.start()
        except Exception as exc:  # gone between the check and the start
            self._drop(str(exc))
        quiet_since = time.monotonic()
        try:
            while not self.closed:
                if self._stream is None:
                    if not self._reopen():
                        self._closed.wait(self.reopen_s)
                        continue
                    quiet_since = time.monotonic()
                try:
                    frame = self._queue.get(timeout=0.1)
                except queue.Empty:
                    if time.monotonic() - quiet_since > self.STALL_S and not self._stream_alive():
                        self._drop("no audio is arriving from it")
                    continue
                quiet_since = time.monotonic()
                yield self._hand_out(frame)
        finally:
            if self._stream is not None:
                self._stream.stop()
                self._stream.close()

    def _stream_alive(self) -> bool:
        try:
            return bool(self._stream.active)
        except Exception:
            return False
