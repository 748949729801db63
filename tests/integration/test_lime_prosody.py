"""The docs/emotions.md prosody profile is really applied: measured on rendered audio, per emotion and intensity.

One short Piper sentence is rendered neutral and in every emotion x intensity through the
`piper+prosody` backend; F0 level and range, duration and loudness are measured with Praat
on the result and compared with the neutral rendering. Tolerances (stated, measured here):
F0 mean in the profile's direction and within 0.4 + |range - 1| semitones of it (widening the
range pushes the low tail of this low voice, ~65 Hz, below what PSOLA and the tracker follow,
which lifts the measured mean: angry/high measures +2.2 for +1.5; final rise: its extra lift
of up to 1.5 semitones is allowed on top),
F0 range (std of semitones) within 20 % of the profile's factor (creak's jitter and the
final rise widen it: for those, direction only), duration within 3 % of 1/rate, loudness
within 0.5 dB.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.emotion.labels import EMOTIONS, INTENSITIES, PROSODY
from training.lime.align import EvenAligner
from training.lime.backends import ProsodyBackend
from training.lime.config import LimeConfig, VoiceConfig
from training.lime.plan import Segment
from training.lime.prosody import pitch_bounds

TEXT = "The bus leaves from the corner at nine."
F0_TOL_ST, F0_TOL_PER_RANGE, RANGE_TOL, DUR_TOL, DB_TOL = 0.4, 1.0, 0.20, 0.03, 0.5


def measure(samples: np.ndarray, rate: int) -> dict:
    import parselmouth

    sound = parselmouth.Sound(samples.astype(np.float64), rate)
    pitch = sound.to_pitch(0.01, *pitch_bounds(sound))
    f0 = pitch.selected_array["frequency"]
    semis = 12 * np.log2(f0[f0 > 0])
    return {"f0": semis.mean(), "range": semis.std(), "seconds": len(samples) / rate,
            "db": 10 * np.log10(np.mean(np.square(samples, dtype=np.float64)))}


@pytest.fixture(scope="module")
def renders():
    voice = VoiceConfig(name="joe", engine="piper")
    backend = ProsodyBackend(LimeConfig(voices=[voice]), EvenAligner())
    prepared = backend.prepare(TEXT, voice)
    out = {}
    for emotion in EMOTIONS:
        for intensity in ["medium"] if emotion == "neutral" else INTENSITIES:
            r = backend.render(prepared, (Segment(0, emotion, intensity),), np.random.default_rng(0))
            out[emotion, intensity] = measure(r.samples, r.rate)
    return out


@pytest.mark.parametrize("emotion", [e for e in EMOTIONS if e != "neutral"])
@pytest.mark.parametrize("intensity", INTENSITIES)
def test_profile_measured(renders, emotion, intensity):
    base, got = renders["neutral", "medium"], renders[emotion, intensity]
    want = PROSODY[emotion].at(intensity)
    shift = got["f0"] - base["f0"]
    tol = F0_TOL_ST + F0_TOL_PER_RANGE * abs(want.f0_range - 1)
    assert np.sign(shift) == np.sign(want.f0_semitones), shift
    if want.quality == "final_rise":
        assert want.f0_semitones - tol <= shift <= want.f0_semitones + 1.5, shift
    else:
        assert abs(shift - want.f0_semitones) <= tol, shift
    ratio = got["range"] / base["range"]
    if want.quality in ("creak", "final_rise"):
        assert ratio >= want.f0_range * (1 - RANGE_TOL), ratio
    else:
        assert abs(ratio - want.f0_range) <= RANGE_TOL * want.f0_range, ratio
    assert got["seconds"] / base["seconds"] == pytest.approx(1 / want.rate, rel=DUR_TOL)
    assert got["db"] - base["db"] == pytest.approx(want.loudness_db, abs=DB_TOL)
