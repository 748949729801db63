"""Calm enrolment: a short sentence read calmly, taken into the speaker's baseline first.

The baseline (core.ear.baseline) starts from the population's statistics and learns the voice
turn by turn, so the first turns of a new user are read mostly against other people's voices.
An optional enrolment clip (issue 11: "a short calm enrolment sentence at first run") gives
the baseline the speaker's calm voice before the first real turn. It is one more observed
turn, no audio is kept; how many enrolment turns the profile holds is written beside the
baseline (`voice-enrolment.json`), and *Forget my voice* deletes both.

Before anything is added, the clip is checked: too short or silent audio would pull the
baseline towards noise, so it is refused with a message that says what to do.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE

CALM_SENTENCE = "The weather today is mild, and I am sitting comfortably at home."
RECORD_SECONDS = 5.0  # what the app records for the sentence above, read at an easy pace
MIN_VOICE_S = 1.5  # less voice than this is too little to say how the speaker sounds
# A 32 ms frame counts as voice above -50 dBFS RMS. A plain energy gate, not the Silero VAD:
# it only has to tell a read sentence from silence or a dead microphone, and core/ear stays
# free of the VAD's onnx session.
FRAME = 512
VOICE_RMS = 10 ** (-50 / 20)


@dataclass(frozen=True)
class EnrolResult:
    """What one enrolment stored."""

    enrolled: int  # enrolment turns the profile (or, without one, this ear) now holds
    turns: int  # turns in the speaker's baseline, enrolment included
    voice_s: float  # seconds of voice found in the clip
    profile: Path | None  # where the statistics were saved; None: kept for this session only


def voice_seconds(pcm: np.ndarray) -> float:
    """Seconds of 16 kHz `pcm` in 32 ms frames louder than VOICE_RMS."""
    pcm = np.asarray(pcm, dtype=np.float32).reshape(-1)
    n = pcm.size // FRAME
    if n == 0:
        return 0.0
    rms = np.sqrt(np.mean(np.square(pcm[: n * FRAME].reshape(n, FRAME)), axis=1))
    return float(np.count_nonzero(rms > VOICE_RMS) * FRAME / SAMPLE_RATE)


def check_clip(pcm: np.ndarray) -> float:
    """The clip's seconds of voice; ValueError, saying what to do, when it is too short or silent."""
    pcm = np.asarray(pcm, dtype=np.float32).reshape(-1)
    duration = pcm.size / SAMPLE_RATE
    if duration < MIN_VOICE_S:
        raise ValueError(f"the enrolment recording is {duration:.1f} s long; read the whole sentence "
                         f"calmly (at least {MIN_VOICE_S:.1f} s of speech, about {RECORD_SECONDS:.0f} s is best)")
    if not np.all(np.isfinite(pcm)):
        raise ValueError("the enrolment recording holds invalid samples (NaN or infinity); record it again")
    voice = voice_seconds(pcm)
    if voice == 0.0:
        raise ValueError("the enrolment recording is silent; check that the microphone is on and not muted "
                         "(Settings > Audio has a level test), then read the sentence again")
    if voice < MIN_VOICE_S:
        raise ValueError(f"only {voice:.1f} s of voice in the enrolment recording; read the whole sentence "
                         f"calmly, close enough to the microphone (at least {MIN_VOICE_S:.1f} s of speech)")
    return voice


def enrolment_path(profile: Path) -> Path:
    """The enrolment record kept beside the baseline file."""
    return Path(profile).with_name("voice-enrolment.json")


def read_enrolled(profile: Path | None, encoder: str) -> int:
    """Enrolment turns recorded beside `profile` for this encoder; 0 when there is none or it is
    unreadable, or when the baseline itself is gone (forgotten by hand)."""
    if profile is None or not Path(profile).exists():
        return 0
    try:
        data = json.loads(enrolment_path(profile).read_text(encoding="utf-8"))
        if data.get("format") != "cogaudio-voice-enrolment" or data.get("encoder") != encoder:
            return 0
        return max(0, int(data["enrolled"]))
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def write_enrolled(profile: Path, encoder: str, enrolled: int) -> Path:
    """Record the count atomically (as the baseline is saved), so a crash leaves the old file."""
    path = enrolment_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".enrolment-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"format": "cogaudio-voice-enrolment", "version": 1, "encoder": encoder,
                   "enrolled": int(enrolled)}, fh)
    os.replace(tmp, path)
    return path
