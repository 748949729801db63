"""Audio augmentation for training the ear: noise at a set SNR, level, a synthetic room, speed.

So that the model does not learn one microphone, one room or one corpus's recording level,
each training clip can be passed through a seeded random chain (`augment`): speed, room,
noise, level. Every step is also a plain function with the property its name claims (the
unit tests measure it). Pure numpy/scipy: the field's augmentation packages
(audiomentations, torch-audiomentations) pull in librosa/torch for what is a few lines
here, and their room simulators need measured impulse responses we do not have.

- `add_noise`: white, pink or brown noise (or a given recording) scaled to an exact SNR,
  measured as the ratio of mean powers over the whole clip.
- `change_level`: a gain in dB, reduced where it would push the peak over `max_peak`
  (clipping would add a distortion that the label does not carry).
- `room_impulse_response` / `add_room`: exponentially decaying Gaussian noise (the
  statistical late-reverberation model) with a direct path; RT60 is the time the energy
  decay curve takes to fall 60 dB. The result keeps the clip's length and RMS.
- `change_speed`: tape-style speed change by resampling (duration / factor, pitch x factor),
  as Kaldi's speed perturbation does; kept to 0.9-1.1 so that pitch moves <= 1.8 semitones,
  less than the emotion profiles of docs/emotions.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from core.audio.pcm import resample


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64))) if len(x) else 0.0


def colored_noise(n: int, rng: np.random.Generator, exponent: float = 0.0) -> np.ndarray:
    """Unit-RMS Gaussian noise whose power spectrum falls as 1/f**exponent (0 white, 1 pink, 2 brown)."""
    white = rng.standard_normal(n)
    if exponent:
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = f[1] if len(f) > 1 else 1.0  # no infinite gain at DC
        white = np.fft.irfft(spec / f ** (exponent / 2), n)
    rms = np.sqrt(_power(white))
    return (white / rms if rms > 0 else white).astype(np.float32)


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator, noise: np.ndarray | None = None,
              exponent: float = 0.0) -> np.ndarray:
    """`x` plus noise at `snr_db` (10 log10 of mean signal power over mean noise power).

    `noise` (e.g. a background recording) is looped from a random offset to the clip's length;
    without it, `colored_noise(exponent)` is used. A silent clip is returned unchanged (no SNR
    is defined for it).
    """
    x = np.asarray(x, dtype=np.float32)
    p_signal = _power(x)
    if p_signal == 0.0:
        return x.copy()
    if noise is None:
        n = colored_noise(len(x), rng, exponent)
    else:
        noise = np.asarray(noise, dtype=np.float32)
        if _power(noise) == 0.0:
            raise ValueError("the noise recording is silent; it cannot set an SNR")
        start = int(rng.integers(len(noise)))
        n = np.resize(np.roll(noise, -start), len(x))  # np.resize repeats a short recording
    gain = np.sqrt(p_signal / (_power(n) * 10 ** (snr_db / 10)))
    return (x + gain * n).astype(np.float32)


def change_level(x: np.ndarray, gain_db: float, max_peak: float = 0.99) -> np.ndarray:
    """`x` scaled by `gain_db`, or by less where the peak would exceed `max_peak`."""
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    gain = 10 ** (gain_db / 20)
    if peak > 0:
        gain = min(gain, max_peak / peak)
    return (x * gain).astype(np.float32)


def room_impulse_response(rt60: float, rate: int, rng: np.random.Generator, drr_db: float = 3.0) -> np.ndarray:
    """A synthetic room: a unit direct path, then decaying noise whose energy falls 60 dB in `rt60` s.

    `drr_db` is the direct-to-reverberant energy ratio (higher: a drier room, nearer talker).
    """
    if rt60 <= 0:
        raise ValueError(f"rt60 must be positive, got {rt60}")
    n = max(2, int(round(rt60 * rate)))
    t = np.arange(n) / rate
    # amplitude e^(-6.908 t / rt60): energy e^(-13.8 t / rt60) = -60 dB at t = rt60
    tail = rng.standard_normal(n) * np.exp(-np.log(1000.0) * t / rt60)
    tail[0] = 0.0
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail ** 2))
    tail[0] = 1.0
    return tail.astype(np.float32)


def add_room(x: np.ndarray, rate: int, rt60: float, rng: np.random.Generator, drr_db: float = 3.0) -> np.ndarray:
    """`x` as heard in a synthetic room; same length and RMS as `x` (level is `change_level`'s job)."""
    x = np.asarray(x, dtype=np.float32)
    if not len(x):
        return x.copy()
    y = fftconvolve(x, room_impulse_response(rt60, rate, rng, drr_db))[: len(x)]
    p_in, p_out = _power(x), _power(y)
    return (y * np.sqrt(p_in / p_out) if p_out > 0 else y).astype(np.float32)


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play `x` `factor` times faster: about len(x) / factor samples, every frequency x factor."""
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"speed factor {factor} is outside 0.5-2.0")
    milli = int(round(factor * 1000))  # the project's polyphase resampler takes integer rates
    return resample(np.asarray(x, dtype=np.float32), milli, 1000)


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the random chain (uniform draws)."""

    p_speed: float = 0.5
    speed: tuple[float, float] = (0.9, 1.1)
    p_room: float = 0.5
    rt60: tuple[float, float] = (0.15, 0.7)
    drr_db: tuple[float, float] = (-3.0, 10.0)
    p_noise: float = 0.7
    snr_db: tuple[float, float] = (5.0, 30.0)
    noise_exponents: tuple[float, ...] = (0.0, 1.0, 2.0)
    p_level: float = 1.0
    gain_db: tuple[float, float] = (-12.0, 6.0)


def augment(x: np.ndarray, rate: int, seed: int, cfg: AugmentConfig | None = None,
            noises: list[np.ndarray] | None = None) -> tuple[np.ndarray, dict]:
    """One seeded random pass (speed, room, noise, level); returns the audio and what was applied.

    The same (x, seed, cfg) always gives the same result, so an augmented copy can be named by
    its seed in a feature cache. `noises`: optional background recordings to draw from.
    """
    cfg = cfg or AugmentConfig()
    rng = np.random.default_rng(seed)
    y = np.asarray(x, dtype=np.float32)
    applied: dict = {"seed": seed}
    if rng.random() < cfg.p_speed:
        applied["speed"] = round(float(rng.uniform(*cfg.speed)), 3)
        y = change_speed(y, applied["speed"])
    if rng.random() < cfg.p_room:
        applied["rt60"], applied["drr_db"] = float(rng.uniform(*cfg.rt60)), float(rng.uniform(*cfg.drr_db))
        y = add_room(y, rate, applied["rt60"], rng, applied["drr_db"])
    if rng.random() < cfg.p_noise:
        applied["snr_db"] = float(rng.uniform(*cfg.snr_db))
        if noises:
            applied["noise"] = int(rng.integers(len(noises)))
            y = add_noise(y, applied["snr_db"], rng, noise=noises[applied["noise"]])
        else:
            applied["noise_exponent"] = float(cfg.noise_exponents[int(rng.integers(len(cfg.noise_exponents)))])
            y = add_noise(y, applied["snr_db"], rng, exponent=applied["noise_exponent"])
    if rng.random() < cfg.p_level:
        applied["gain_db"] = float(rng.uniform(*cfg.gain_db))
        y = change_level(y, applied["gain_db"])
    return y, applied
