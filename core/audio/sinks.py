"""Where the spoken reply goes: the speaker, an in-memory array, or a wav file.

Every sink has one method that matters, `play(samples, sample_rate, cancel)`: it returns
when the audio has been played (real-time sinks) or stored (instant sinks), and returns
early, within one block (20 ms), when `cancel` is set. That is what makes barge-in stop
the voice at once. `stop()` cuts whatever is playing (the stop button).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.pcm import save_wav

BLOCK_S = 0.02  # granularity of real-time playback and of stopping it


class AudioDeviceError(RuntimeError):
    """No usable sound device; the message says how to get one or how to run without."""


@dataclass
class Played:
    """A piece of audio that reached the output: when (perf_counter) and what (truncated if cut)."""

    turn: int
    started: float
    samples: np.ndarray
    sample_rate: int


class _SinkBase:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._paused = threading.Event()
        self.first_write_at: float | None = None
        self.pauses: list[tuple[float, float | None]] = []  # (paused at, resumed at) perf_counter times

    def stop(self) -> None:
        """Cut the current playback (the next `play` call plays again); a pause ends with it."""
        self._stop.set()
        self.resume()

    def pause(self) -> None:
        """Hold the voice within one block, where it is (the person started to speak over it)."""
        if not self._paused.is_set():
            self._paused.set()
            self.pauses.append((time.perf_counter(), None))

    def resume(self) -> None:
        """Go on from where `pause()` held it (it was only a backchannel)."""
        if self._paused.is_set():
            self._paused.clear()
            if self.pauses and self.pauses[-1][1] is None:
                self.pauses[-1] = (self.pauses[-1][0], time.perf_counter())

    def _wait_while_paused(self, cancel: threading.Event | None) -> float:
        """Block while paused (not past a stop or cancel); returns the seconds spent."""
        t0 = time.perf_counter()
        while self._paused.is_set() and not self._cancelled(cancel):
            time.sleep(BLOCK_S / 2)
        return time.perf_counter() - t0

    def _cancelled(self, cancel: threading.Event | None) -> bool:
        return self._stop.is_set() or (cancel is not None and cancel.is_set())

    def close(self) -> None:
        pass


class ArraySink(_SinkBase):
    """Keeps what was played in memory. `realtime=True` paces playback like a sound card."""

    def __init__(self, realtime: bool = False) -> None:
        super().__init__()
        self.realtime = realtime
        self.played: list[Played] = []
        self._lock = threading.Lock()

    def play(self, samples: np.ndarray, sample_rate: int, cancel: threading.Event | None = None, turn: int = 0) -> bool:
        """Returns True if all of `samples` was played, False if it was cut."""
        self._stop.clear()
        if self._cancelled(cancel):
            return False
        started = time.perf_counter()
        if self.first_write_at is None:
            self.first_write_at = started
        samples = np.asarray(samples, dtype=np.float32)
        if not self.realtime:
            self._keep(turn, started, samples, sample_rate)
            return True
        block = max(1, int(BLOCK_S * sample_rate))
        done = 0
        for done in range(0, len(samples), block):
            started += self._wait_while_paused(cancel)  # the rest comes later by as much
            if self._cancelled(cancel):
                self._keep(turn, started, samples[:done], sample_rate)
                return False
            # sleep until this block's real-time deadline (no drift accumulates)
            time.sleep(max(0.0, started + (done + block) / sample_rate - time.perf_counter()))
        self._keep(turn, started, samples, sample_rate)
        return not self._cancelled(cancel)

    def _keep(self, turn: int, started: float, samples: np.ndarray, sample_rate: int) -> None:
        with self._lock:
            self.played.append(Played(turn, started, samples, sample_rate))

    def audio(self, turn: int | None = None) -> tuple[np.ndarray, int]:
        """Everything played (for one turn, if given) as one array, and its sample rate."""
        with self._lock:
            parts = [p for p in self.played if turn is None or p.turn == turn]
        if not parts:
            return np.zeros(0, np.float32), 22050
        return np.concatenate([p.samples for p in parts]), parts[0].sample_rate

    def turns(self) -> list[int]:
        with self._lock:
            return sorted({p.turn for p in self.played})

    def clear(self) -> None:
        with self._lock:
            self.played.clear()


class WavFileSink(ArraySink):
    """Writes what was played to a wav file (all turns, or one file per turn) on `save()`/`close()`."""

    def __init__(self, path: str | Path, realtime: bool = False, per_turn: bool = False) -> None:
        super().__init__(realtime)
        self.path = Path(path)
        self.per_turn = per_turn

    def save(self) -> list[Path]:
        if not self.per_turn:
            audio, rate = self.audio()
            return [save_wav(self.path, audio, rate)]
        paths = []
        for i, turn in enumerate(self.turns(), start=1):
            audio, rate = self.audio(turn)
            paths.append(save_wav(self.path.with_name(f"{self.path.stem}-{i}{self.path.suffix}"), audio, rate))
        return paths

    def close(self) -> None:
        self.save()


class SpeakerSink(_SinkBase):
    """The default sound output through sounddevice (PortAudio), one OutputStream per sample rate.

    An output that goes away mid-reply (headphones unplugged) makes `play` return False (the
    rest of that reply is not heard) and says so through `on_status`; every later `play`
    tries the device again and says when it is back, so no restart is needed.
    """

    def __init__(self, device: str | int | None = None, on_status: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.on_status = on_status or (lambda message: None)
        self.lost = False
        try:
            import sounddevice as sd
        except OSError as exc:  # PortAudio library missing
            raise AudioDeviceError(f"cannot load PortAudio ({exc}); install it: sudo apt-get install libportaudio2") from exc
        self._sd = sd
        self.device = device
        self._stream = None
        self._rate: int | None = None
        try:
            sd.check_output_settings(device=device, channels=1, dtype="float32")
        except Exception as exc:
            raise AudioDeviceError(
                f"no usable sound output ({exc}). Connect speakers or headphones, pick one with "
                "audio.output_device (see `cogaudio doctor`), or write the reply to a file with --out."
            ) from exc

    def _open(self, rate: int):
        if self._stream is not None and self._rate == rate:
            return self._stream
        self.close()
        self._stream = self._sd.OutputStream(samplerate=rate, channels=1, dtype="float32", device=self.device)
        self._stream.start()
        self._rate = rate
        return self._stream

    def play(self, samples: np.ndarray, sample_rate: int, cancel: threading.Event | None = None, turn: int = 0) -> bool:
        self._stop.clear()
        try:
            stream = self._open(sample_rate)
        except Exception as exc:  # PortAudioError and friends: the device is (still) gone
            return self._lost(exc)
        if self.lost:
            self.lost = False
            self.on_status("The sound output is back.")
        if self.first_write_at is None:
            self.first_write_at = time.perf_counter()
        block = max(1, int(BLOCK_S * sample_rate))
        samples = np.asarray(samples, dtype=np.float32)
        try:
            for i in range(0, len(samples), block):
                if self._paused.is_set():
                    stream.abort()  # silence now, not after PortAudio's buffer
                    stream.start()
                    self._wait_while_paused(cancel)
                if self._cancelled(cancel):
                    # abort() drops what PortAudio still holds, so the voice stops now, not after its buffer
                    stream.abort()
                    stream.start()
                    return False
                stream.write(samples[i:i + block].reshape(-1, 1))
        except Exception as exc:  # unplugged mid-reply
            return self._lost(exc)
        return True

    def _lost(self, exc: Exception) -> bool:
        try:
            self.close()
        except Exception:  # a vanished device may refuse even this; the stream is dropped either way
            self._stream = None
        if not self.lost:
            self.lost = True
            self.on_status(f"The sound output stopped working ({exc}). Plug it back in: the next reply "
                           "will try it again.")
        return False

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None
