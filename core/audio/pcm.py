"""PCM in one place: loading audio files, converting sample formats, resampling, saving.

Everything the conversation loop hears or says passes through here, so that there is one
definition of "16 kHz mono float32 in [-1, 1]" and one set of clear errors for files that
cannot be used (missing, unreadable, empty, not audio).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SAMPLE_RATE = 16_000


class AudioFileError(ValueError):
    """An input file cannot be used as audio; the message names the file and what to do."""


def to_float32(samples: np.ndarray) -> np.ndarray:
    """Any integer or float PCM array -> float32 in [-1, 1], same shape."""
    a = np.asarray(samples)
    if a.dtype == np.int16:
        return (a.astype(np.float32) / 32768.0)
    if a.dtype == np.int32:
        return (a.astype(np.float32) / 2147483648.0)
    if a.dtype == np.uint8:
        return (a.astype(np.float32) - 128.0) / 128.0
    return np.clip(a.astype(np.float32, copy=False), -1.0, 1.0)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float PCM in [-1, 1] -> int16 (what sound cards and wav players expect)."""
    return (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) -> (n,) by averaging the channels."""
    a = np.asarray(samples)
    return a if a.ndim == 1 else a.mean(axis=1)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy); exact for rational ratios such as 22050 -> 16000."""
    if from_rate == to_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.float32)
    ratio = Fraction(to_rate, from_rate).limit_denominator(1000)
    out = resample_poly(np.asarray(samples, dtype=np.float32), ratio.numerator, ratio.denominator)
    return out.astype(np.float32)


def _read_with_av(path: Path) -> tuple[np.ndarray, int]:
    """Decode formats libsndfile may not know (mp3 on old libsndfile, m4a...) through PyAV (FFmpeg)."""
    import av  # faster-whisper depends on it, so it is present wherever ASR is

    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise AudioFileError(f"{path}: the file has no audio stream; give a wav, flac or mp3 file.")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return audio.astype(np.float32), SAMPLE_RATE


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read a wav/flac/ogg/mp3 file as mono float32 at `sample_rate`.

    Raises AudioFileError (never a library exception) for a missing, unreadable, empty or
    non-audio file, with a message that says which file and why.
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file.")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty (0 bytes).")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        # libsndfile refuses it; FFmpeg may still know the format (mp3, m4a, ...).
        try:
            data, rate = _read_with_av(path)
        except AudioFileError:
            raise
        except Exception as exc:  # any decoder failure means "not audio we can read"
            raise AudioFileError(
                f"{path}: not a readable audio file ({type(exc).__name__}); give a wav, flac or mp3 file."
            ) from None
    audio = to_mono(to_float32(data))
    if audio.size == 0:
        raise AudioFileError(f"{path}: the file holds no audio samples.")
    if not np.isfinite(audio).all():
        raise AudioFileError(f"{path}: the audio contains NaN or infinite samples.")
    return resample(audio, int(rate), sample_rate)


def save_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float PCM as 16-bit PCM wav (plays everywhere), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), to_int16(samples), sample_rate, subtype="PCM_16")
    return path


def frames(samples: np.ndarray, frame_len: int) -> list[np.ndarray]:
    """Split into consecutive frames of `frame_len` samples, zero-padding the last one."""
    samples = np.asarray(samples, dtype=np.float32)
    n = -(-len(samples) // frame_len) if len(samples) else 0
    padded = np.zeros(n * frame_len, dtype=np.float32)
    padded[: len(samples)] = samples
    return [padded[i * frame_len:(i + 1) * frame_len] for i in range(n)]
