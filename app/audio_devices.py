"""Sound devices for the settings and the first run: listing them, and a live input level."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.audio.pcm import SAMPLE_RATE


def list_audio_devices(kind: str) -> tuple[list[tuple[str, int]], str | None]:
    """[(name, index)] of input ("input") or output devices, and an error message if none can be listed."""
    try:
        import sounddevice as sd

        devices = sd.query_devices()
    except Exception as exc:  # PortAudio missing or broken: say so, keep the dialog usable
        return [], f"cannot list audio devices ({exc}); install PortAudio (apt install libportaudio2)"
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    found = [(d["name"], i) for i, d in enumerate(devices) if d[key] > 0]
    return found, None if found else f"no {kind} device found"


class LevelProbe(QObject):
    """Opens the chosen input device and reports its RMS, for the live level test."""

    level = Signal(float)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stream = None

    def start(self, device: int | str | None) -> None:
        self.stop()
        try:
            import numpy as np
            import sounddevice as sd

            def callback(indata, _frames, _time, _status) -> None:  # PortAudio thread
                self.level.emit(float(np.sqrt(np.mean(np.square(indata)))))

            self._stream = sd.InputStream(device=device, channels=1, samplerate=SAMPLE_RATE, callback=callback)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            self.failed.emit(f"cannot open the microphone: {exc}")

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
