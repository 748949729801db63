"""Apply an docs/emotions.md prosody profile to a neutral rendering (Praat PSOLA via parselmouth).

F0 level and range are set on the manipulation's PitchTier, duration through a constant
DurationTier, then overlap-add resynthesis; voice quality and loudness follow on the
waveform. Every number comes from core.emotion.labels (PROSODY and the voice-quality constants).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from core.emotion.labels import (
    BREATHY_LOWPASS_HZ,
    CREAK_JITTER,
    FINAL_RISE_SECONDS,
    FINAL_RISE_SEMITONES,
    TREMOLO_DEPTH,
    TREMOLO_HZ,
    ProsodyProfile,
)
from training.lime.voices import Audio

FIRST_PASS_FLOOR, FIRST_PASS_CEILING = 50.0, 700.0
SOFT_CLIP_DRIVE = 2.5  # tanh drive of the "tense" soft clip: audibly pressed, not distorted


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def seed_praat(seed: int) -> None:
    """Seed Praat's own random generator: its overlap-add and "Change gender" draw random
    periods in unvoiced stretches, so without this the same input renders differently."""
    import parselmouth

    parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({int(seed)})")


def pitch_bounds(sound) -> tuple[float, float]:
    """Pitch floor and ceiling fitted to the speaker (two passes, after De Looze & Hirst).

    Fixed 75-600 Hz bounds make octave errors on low voices such as the bundled Piper voice
    (median ~90 Hz, down to ~65 Hz), and a PSOLA driven by octave errors warbles.
    """
    f0 = sound.to_pitch(0.01, FIRST_PASS_FLOOR, FIRST_PASS_CEILING).selected_array["frequency"]
    f0 = f0[f0 > 0]
    if len(f0) < 5:
        return 75.0, 600.0
    q1, q3 = np.percentile(f0, [25, 75])
    return max(40.0, 0.75 * q1), min(900.0, 1.5 * q3)


def _new_pitch(times: np.ndarray, hz: np.ndarray, profile: ProsodyProfile, rng: np.random.Generator) -> np.ndarray:
    semis = 12.0 * np.log2(hz)
    mean = semis.mean()
    semis = mean + profile.f0_semitones + profile.f0_range * (semis - mean)
    if profile.quality == "final_rise":
        start = times[-1] - FINAL_RISE_SECONDS
        semis = semis + FINAL_RISE_SEMITONES * np.clip((times - start) / FINAL_RISE_SECONDS, 0.0, 1.0)
    out = 2.0 ** (semis / 12.0)
    if profile.quality == "creak":
        out = out * (1.0 + CREAK_JITTER * rng.standard_normal(len(out)))
    return out


def apply_profile(audio: Audio, profile: ProsodyProfile, rng: np.random.Generator) -> Audio:
    """The neutral `audio` spoken with `profile` (already scaled to its intensity)."""
    import parselmouth
    from parselmouth.praat import call

    neutral_rms = rms(audio.samples)
    seed_praat(int(rng.integers(2**31)))
    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.rate)
    floor, ceiling = pitch_bounds(sound)
    manipulation = call(sound, "To Manipulation", 0.01, floor, ceiling)
    tier = call(manipulation, "Extract pitch tier")
    n = call(tier, "Get number of points")
    if n:
        # parselmouth has no array view of a PitchTier, hence the per-point calls (~0.1 ms each).
        times = np.array([call(tier, "Get time from index", i + 1) for i in range(n)])
        hz = np.array([call(tier, "Get value at index", i + 1) for i in range(n)])
        new = call("Create PitchTier", "shifted", sound.xmin, sound.xmax)
        for t, f in zip(times, _new_pitch(times, hz, profile, rng), strict=True):
            call(new, "Add point", float(t), float(f))
        call([manipulation, new], "Replace pitch tier")
    durations = call("Create DurationTier", "rate", sound.xmin, sound.xmax)
    call(durations, "Add point", 0.0, 1.0 / profile.rate)
    call([manipulation, durations], "Replace duration tier")
    y = call(manipulation, "Get resynthesis (overlap-add)").values[0]
    y = _voice_quality(y, audio.rate, profile.quality)
    target = neutral_rms * 10.0 ** (profile.loudness_db / 20.0)
    current = rms(y)
    if current > 0:
        y = y * (target / current)
    return Audio(y.astype(np.float32), audio.rate)


def _voice_quality(y: np.ndarray, rate: int, quality: str) -> np.ndarray:
    if quality == "breathy":
        sos = butter(4, BREATHY_LOWPASS_HZ, btype="low", fs=rate, output="sos")
        return sosfiltfilt(sos, y)
    if quality == "tense":
        peak = float(np.max(np.abs(y))) or 1.0
        return peak * np.tanh(SOFT_CLIP_DRIVE * y / peak) / np.tanh(SOFT_CLIP_DRIVE)
    if quality == "tremolo":
        t = np.arange(len(y)) / rate
        return y * (1.0 + TREMOLO_DEPTH * np.sin(2 * np.pi * TREMOLO_HZ * t))
    return y  # "none"; final_rise and creak act on the pitch tier
