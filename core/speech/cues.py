"""Prosodic cues measured from 16 kHz speech, and a weak acoustic emotion estimate from them.

Cues (Praat through praat-parselmouth, the standard tool of phonetics):
- `f0_mean_hz` and `f0_level_st`: mean F0 of voiced frames, and that mean in semitones re 100 Hz;
- `f0_range_st`: the 10th-90th percentile spread of voiced F0, in semitones (robust to octave errors);
- `rate_sps`: syllable nuclei per second of speech (de Jong & Wempe 2009: intensity peaks at
  least 2 dB above their surroundings, in voiced frames), and `rate_wps`: words per second
  when a transcript with word timestamps is given;
- `loudness_dbfs`: RMS level of the voiced frames in dB re full scale;
- `voicing_ratio`: voiced frames / frames with any sound (above the silence floor).

The emotion estimate is a WEAK BASELINE: a nearest-prototype classifier whose prototypes are the
docs/emotions.md prosody profiles (core.emotion.labels.PROSODY) added to a generic reference voice stored in
assets/cues/emotion_prototypes.json. Without the speaker's own neutral voice it confuses a
naturally high voice with excitement; it exists so the cascade has an acoustic hint at all.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.emotion.labels import EMOTIONS, INTENSITIES, PROSODY
from core.models.bundled import ASSETS

PROTOTYPES_PATH = ASSETS / "cues" / "emotion_prototypes.json"
_HOP_S = 0.01
_SILENCE_FLOOR_DB = 25.0
HINT_MIN_CONFIDENCE = 0.5  # below this the guess would mislead the LLM more than help it  # frames this far below the loudest frame count as silence


@dataclass(frozen=True)
class Cues:
    f0_mean_hz: float
    f0_level_st: float
    f0_range_st: float
    rate_sps: float
    rate_wps: float | None
    loudness_dbfs: float
    voicing_ratio: float
    duration_s: float

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items() if v is not None}

    @property
    def voiced(self) -> bool:
        return self.f0_mean_hz > 0


@dataclass(frozen=True)
class EmotionEstimate:
    """Acoustic guess: the label, an intensity and the probability of every label."""

    label: str
    intensity: str
    confidence: float
    probabilities: dict[str, float]
    heard: bool = False  # True: from the calibrated ear (core.ear), not from these cues


def measure_cues(audio: np.ndarray, words: list | None = None, n_words: int | None = None) -> Cues:
    """Measure the prosodic cues of one utterance (16 kHz mono float32).

    `words` (objects with `.start` and `.end` seconds, e.g. core.speech.asr.Word) adds `rate_wps`;
    without timestamps, `n_words` (the transcript's word count) gives it over the voiced span.
    Silent or unvoiced audio gives zeros rather than an error.
    """
    import parselmouth  # lazily: importing core must stay cheap

    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    duration = audio.size / SAMPLE_RATE
    rate_wps = _words_per_second(words)
    if audio.size < int(0.1 * SAMPLE_RATE) or not np.any(audio):
        return Cues(0.0, 0.0, 0.0, 0.0, rate_wps, -120.0, 0.0, duration)
    snd = parselmouth.Sound(audio, sampling_frequency=SAMPLE_RATE)
    pitch = snd.to_pitch_ac(time_step=_HOP_S, pitch_floor=75.0, pitch_ceiling=500.0)
    f0 = pitch.selected_array["frequency"]
    times = pitch.xs()
    rms_db = _frame_rms_db(audio, times)
    sounding = rms_db > rms_db.max() - _SILENCE_FLOOR_DB
    voiced = (f0 > 0) & sounding
    if not voiced.any():
        return Cues(0.0, 0.0, 0.0, 0.0, rate_wps, float(_mean_db(rms_db[sounding])), 0.0, duration)
    st = 12.0 * np.log2(f0[voiced] / 100.0)
    level = float(st.mean())
    f0_range = float(np.percentile(st, 90) - np.percentile(st, 10))
    voiced_times = times[voiced]
    span = max(voiced_times[-1] - voiced_times[0] + _HOP_S, _HOP_S)
    nuclei = _syllable_nuclei(snd, times, voiced)
    if rate_wps is None and n_words:
        rate_wps = n_words / span
    return Cues(
        f0_mean_hz=float(100.0 * 2.0 ** (level / 12.0)),
        f0_level_st=level,
        f0_range_st=f0_range,
        rate_sps=float(nuclei / span),
        rate_wps=rate_wps,
        loudness_dbfs=float(_mean_db(rms_db[voiced])),
        voicing_ratio=float(voiced.sum() / max(sounding.sum(), 1)),
        duration_s=duration,
    )


def _words_per_second(words: list | None) -> float | None:
    if not words:
        return None
    span = words[-1].end - words[0].start
    return len(words) / span if span > 0 else None


def _frame_rms_db(audio: np.ndarray, times: np.ndarray, win_s: float = 0.025) -> np.ndarray:
    """RMS level (dBFS) of a 25 ms window centred on each pitch frame time."""
    half = int(win_s * SAMPLE_RATE / 2)
    padded = np.pad(audio, half)
    centres = np.clip((times * SAMPLE_RATE).astype(int), 0, audio.size - 1) + half
    idx = centres[:, None] + np.arange(-half, half)[None, :]
    rms = np.sqrt(np.mean(padded[idx] ** 2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-6))


def _mean_db(levels_db: np.ndarray) -> float:
    """Level of the mean power, not the mean of dB values (which would understate loud frames)."""
    if levels_db.size == 0:
        return -120.0
    return float(10.0 * np.log10(np.mean(10.0 ** (levels_db / 10.0))))


def _syllable_nuclei(snd, times: np.ndarray, voiced: np.ndarray) -> int:
    """Count intensity peaks that stand out by >= 2 dB and fall in voiced frames (de Jong & Wempe)."""
    from scipy.signal import find_peaks

    intensity = snd.to_intensity(minimum_pitch=75.0, time_step=_HOP_S)
    values = intensity.values[0]
    threshold = np.median(values)  # peaks below the median intensity are pauses or noise
    peaks, _ = find_peaks(values, height=threshold, prominence=2.0, distance=int(0.1 / _HOP_S))
    if peaks.size == 0:
        return 0
    peak_times = intensity.xs()[peaks]
    nearest = np.clip(np.searchsorted(times, peak_times), 0, times.size - 1)
    return int(voiced[nearest].sum())


class EmotionFromCues:
    """Nearest-prototype emotion estimate over the docs/emotions.md profiles (a weak baseline)."""

    def __init__(self, path: Path = PROTOTYPES_PATH) -> None:
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
            self._ref = spec["reference"]
            self._scale = spec["scale"]
            self._temperature = float(spec["temperature"])
            self._neutral_prior = float(spec.get("neutral_prior", 0.0))
        except (OSError, KeyError, ValueError) as exc:
            raise RuntimeError(f"cannot read the cue prototypes {path}: {exc}; reinstall the assets folder") from exc

    def _features(self, cues: Cues) -> np.ndarray:
        """Deviation of the cues from the reference voice, in the units of the profile table."""
        ref = self._ref
        male = cues.f0_mean_hz < ref["register_split_hz"]
        level_ref = ref["f0_level_st_male"] if male else ref["f0_level_st_female"]
        return np.array([
            cues.f0_level_st - level_ref,
            math.log(max(cues.f0_range_st, 0.5) / ref["f0_range_st"]),
            math.log(max(cues.rate_sps, 0.5) / ref["rate_sps"]),
            cues.loudness_dbfs - ref["loudness_dbfs"],
        ])

    def _prototype(self, label: str, intensity: str) -> np.ndarray:
        p = PROSODY[label].at(intensity)
        return np.array([p.f0_semitones, math.log(p.f0_range), math.log(p.rate), p.loudness_db])

    def estimate(self, cues: Cues) -> EmotionEstimate:
        if not cues.voiced:
            probs = {e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS}
            return EmotionEstimate("neutral", "medium", 0.0, probs)
        scale = np.array([self._scale[k] for k in ("f0_level_st", "log_f0_range", "log_rate", "loudness_db")])
        x = self._features(cues) / scale
        logits: dict[str, float] = {}
        best_intensity: dict[str, str] = {}
        for label in EMOTIONS:
            scores = {i: -0.5 * float(np.sum((x - self._prototype(label, i) / scale) ** 2)) for i in INTENSITIES}
            best_intensity[label] = "medium" if label == "neutral" else max(scores, key=scores.get)
            # a label's score sums over its three intensities (log-sum-exp), so no label gains by having more
            top = max(scores.values())
            logits[label] = top + math.log(sum(math.exp(s - top) for s in scores.values()))
        logits["neutral"] += self._neutral_prior
        z = np.array([logits[e] for e in EMOTIONS]) / self._temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        probs = {e: float(v) for e, v in zip(EMOTIONS, p, strict=True)}
        label = max(probs, key=probs.get)
        return EmotionEstimate(label, best_intensity[label], probs[label], probs)

    def describe(self, cues: Cues, estimate: EmotionEstimate | None = None) -> str:
        """Plain words for the text LLM's prompt, e.g. 'pitch low and flat, pace slow, quiet; may sound sad'."""
        if not cues.voiced:
            return "no clear voice cues"
        level, log_range, log_rate, loud = self._features(cues)
        pitch = "high" if level > 2.0 else "low" if level < -2.0 else "average"
        melody = "lively" if log_range > 0.25 else "flat" if log_range < -0.3 else "even"
        pace = "fast" if log_rate > 0.15 else "slow" if log_rate < -0.15 else "steady"
        volume = "loud" if loud > 3.0 else "quiet" if loud < -3.0 else "moderate volume"
        text = f"pitch {pitch} and {melody}, pace {pace}, {volume}"
        if estimate is not None and estimate.label != "neutral" and estimate.confidence >= HINT_MIN_CONFIDENCE:
            text += f"; may sound {estimate.label}"
        return text
