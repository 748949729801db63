"""Emotion labels, intensities and the synthetic prosody profile (docs/emotions.md).

Every part of the project (dataset builder, model output, app display, evaluation) takes
its names and numbers from here, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted")
INTENSITIES: tuple[str, ...] = ("low", "medium", "high")
EMOTION_ID: dict[str, int] = {name: i for i, name in enumerate(EMOTIONS)}

# Corpus label maps (docs/emotions.md table). RAVDESS 02 "calm" folds into neutral.
ESD_LABELS = {"Neutral": "neutral", "Happy": "happy", "Sad": "sad", "Angry": "angry", "Surprise": "surprised"}
CREMA_D_LABELS = {"NEU": "neutral", "HAP": "happy", "SAD": "sad", "ANG": "angry", "FEA": "fearful", "DIS": "disgusted"}
CREMA_D_INTENSITY = {"LO": "low", "MD": "medium", "HI": "high", "XX": "medium", "X": "medium"}
RAVDESS_LABELS = {
    "01": "neutral", "02": "neutral", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgusted", "08": "surprised",
}
RAVDESS_INTENSITY = {"01": "medium", "02": "high"}


@dataclass(frozen=True)
class ProsodyProfile:
    """Deviation from a speaker's own neutral rendering at intensity `medium`."""

    f0_semitones: float
    f0_range: float  # scale of each frame's distance from the mean F0, in semitones
    rate: float  # speaking-rate factor (>1 is faster, shorter duration)
    loudness_db: float
    quality: str  # "none" | "breathy" | "tense" | "tremolo" | "final_rise" | "creak"

    def at(self, intensity: str) -> ProsodyProfile:
        """The profile at `low` (half), `medium` (as is) or `high` (one and a half)."""
        k = {"low": 0.5, "medium": 1.0, "high": 1.5}[intensity]
        return ProsodyProfile(
            f0_semitones=self.f0_semitones * k,
            f0_range=1 + k * (self.f0_range - 1),
            rate=1 + k * (self.rate - 1),
            loudness_db=self.loudness_db * k,
            quality=self.quality,
        )


PROSODY: dict[str, ProsodyProfile] = {
    "neutral": ProsodyProfile(0.0, 1.00, 1.00, 0.0, "none"),
    "happy": ProsodyProfile(2.0, 1.30, 1.08, 2.0, "none"),
    "sad": ProsodyProfile(-2.0, 0.60, 0.85, -4.0, "breathy"),
    "angry": ProsodyProfile(1.0, 1.40, 1.10, 5.0, "tense"),
    "fearful": ProsodyProfile(3.0, 1.10, 1.12, -2.0, "tremolo"),
    "surprised": ProsodyProfile(4.0, 1.50, 1.00, 2.0, "final_rise"),
    "disgusted": ProsodyProfile(-1.0, 0.80, 0.90, 0.0, "creak"),
}

# Voice-quality parameters from the docs/emotions.md table.
BREATHY_LOWPASS_HZ = 3500.0
TREMOLO_HZ, TREMOLO_DEPTH = 6.0, 0.10
FINAL_RISE_SEMITONES, FINAL_RISE_SECONDS = 3.0, 0.4
CREAK_JITTER = 0.03


def check_label(label: str) -> str:
    """Return `label` if it is one of the seven, else raise a ValueError naming them."""
    if label not in EMOTION_ID:
        raise ValueError(f"unknown emotion label {label!r}; expected one of {', '.join(EMOTIONS)}")
    return label


def check_intensity(intensity: str) -> str:
    if intensity not in INTENSITIES:
        raise ValueError(f"unknown intensity {intensity!r}; expected one of {', '.join(INTENSITIES)}")
    return intensity
