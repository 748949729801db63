"""The prosody of the last words before a silence: does the voice sound finished?

People hear the end of a turn in the voice as much as in the words: a final fall of the
pitch towards the speaker's floor, a lengthened last syllable, a drop in level. A pause
inside a sentence keeps the pitch up (or level) and the loudness steady. `measure_final_prosody`
reads these from the utterance so far (16 kHz mono float32), with Praat's pitch tracker
through praat-parselmouth (the same tool as core.speech.cues), over the last `TAIL_S` seconds
only, so that it costs a few milliseconds on the listener thread.

The numbers (all 0 when the tail has no voiced frames; `voiced` says which):
- `final_slope_st_s`: slope of F0 over the last voiced `SLOPE_S`, semitones per second
  (a fall is negative, a question's rise positive);
- `final_level_st`: F0 of the last voiced 100 ms against the median F0 of the tail, semitones;
- `level_drop_db`: level of the last voiced 200 ms against the voiced tail, dB (negative = quieter);
- `final_run_ratio`: length of the last voiced stretch against the median stretch of the tail
  (lengthening of the last syllable shows as a ratio above 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.audio.pcm import SAMPLE_RATE

TAIL_S = 1.6  # the last words: long enough for a few syllables to compare with
SLOPE_S = 0.3  # the final movement of the pitch
_HOP_S = 0.01
_SILENCE_FLOOR_DB = 30.0  # frames this far below the loudest are not sound


@dataclass(frozen=True)
class FinalProsody:
    final_slope_st_s: float = 0.0
    final_level_st: float = 0.0
    level_drop_db: float = 0.0
    final_run_ratio: float = 1.0
    voiced: bool = False

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def measure_final_prosody(audio: np.ndarray) -> FinalProsody:
    """Prosody of the last voiced stretch of `audio` (the utterance up to its trailing silence)."""
    import parselmouth  # lazily: importing core stays cheap

    tail = np.asarray(audio, dtype=np.float64).reshape(-1)[-int(TAIL_S * SAMPLE_RATE):]
    if tail.size < int(0.15 * SAMPLE_RATE) or not np.any(tail):
        return FinalProsody()
    snd = parselmouth.Sound(tail, sampling_frequency=SAMPLE_RATE)
    pitch = snd.to_pitch_ac(time_step=_HOP_S, pitch_floor=75.0, pitch_ceiling=500.0)
    f0 = pitch.selected_array["frequency"]
    times = pitch.xs()
    level = _frame_db(tail, times)
    voiced = (f0 > 0) & (level > level.max() - _SILENCE_FLOOR_DB)
    if voiced.sum() < 5:
        return FinalProsody()
    st = 12.0 * np.log2(np.where(voiced, f0, 1.0) / 100.0)
    idx = np.flatnonzero(voiced)
    last_t = times[idx[-1]]
    slope_sel = idx[times[idx] >= last_t - SLOPE_S]
    slope = 0.0
    if slope_sel.size >= 4:
        # a robust line through the final pitch: Theil-Sen ignores a single octave jump
        from scipy.stats import theilslopes

        slope = float(theilslopes(st[slope_sel], times[slope_sel])[0])
    end_sel = idx[times[idx] >= last_t - 0.1]
    final_level = float(np.median(st[end_sel]) - np.median(st[idx]))
    drop_sel = idx[times[idx] >= last_t - 0.2]
    drop = float(_power_db(level[drop_sel]) - _power_db(level[idx]))
    runs = _runs(voiced)
    run_ratio = float(runs[-1] / max(np.median(runs), 1)) if runs else 1.0
    return FinalProsody(
        final_slope_st_s=float(np.clip(slope, -60.0, 60.0)),
        final_level_st=float(np.clip(final_level, -12.0, 12.0)),
        level_drop_db=float(np.clip(drop, -30.0, 10.0)),
        final_run_ratio=float(np.clip(run_ratio, 0.1, 10.0)),
        voiced=True,
    )


def _frame_db(audio: np.ndarray, times: np.ndarray, win_s: float = 0.025) -> np.ndarray:
    half = int(win_s * SAMPLE_RATE / 2)
    padded = np.pad(audio, half)
    centres = np.clip((times * SAMPLE_RATE).astype(int), 0, audio.size - 1) + half
    idx = centres[:, None] + np.arange(-half, half)[None, :]
    rms = np.sqrt(np.mean(padded[idx] ** 2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-6))


def _power_db(levels_db: np.ndarray) -> float:
    return float(10.0 * np.log10(np.mean(10.0 ** (levels_db / 10.0)))) if levels_db.size else -120.0


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths (in frames) of the runs of True, in order."""
    runs, n = [], 0
    for v in mask:
        if v:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    if n:
        runs.append(n)
    return runs
