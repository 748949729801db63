"""Neutral renderings of a text by one voice: Piper, espeak-ng, and timbre-shifted variants.

Only one Piper voice ships with the project, so extra voices come from espeak-ng (a
different synthesiser altogether) and from Praat's "Change gender" applied to Piper's
output (formant and median-pitch shift: a synthetic variant, marked so in the dataset card).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from core.models.bundled import require_bundled
from training.lime.config import VoiceConfig

# Every neutral rendering is scaled to this peak so that the loudest emotion at `high`
# (+7.5 dB) still stays below full scale without a limiter that would bend the loudness.
NEUTRAL_PEAK = 0.3


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32 mono
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


class PiperRenderer:
    """Piper with noise switched off, so that a text always renders the same (determinism)."""

    def __init__(self, voice: VoiceConfig) -> None:
        from piper import PiperVoice, SynthesisConfig

        model = require_bundled("tts") if voice.model == "bundled" else voice.model
        self._voice = PiperVoice.load(str(model))
        self._syn = SynthesisConfig(length_scale=voice.length_scale, noise_scale=0.0, noise_w_scale=0.0)

    def render(self, text: str) -> Audio:
        chunks = [c.audio_float_array for c in self._voice.synthesize(text, syn_config=self._syn)]
        if not chunks:
            raise ValueError(f"Piper rendered nothing for {text!r}")
        return Audio(np.concatenate(chunks).astype(np.float32), self._voice.config.sample_rate)


class EspeakRenderer:
    """espeak-ng through its command line (the system binary; apt install espeak-ng)."""

    def __init__(self, voice: VoiceConfig) -> None:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise FileNotFoundError("espeak-ng is not installed; run: sudo apt-get install espeak-ng")
        self._cmd = [exe, "-v", voice.model, "-s", str(round(170 / voice.length_scale)), "--stdout"]

    def render(self, text: str) -> Audio:
        # A fixed environment: espeak-ng's output (its f3 variant at least) changes with the size
        # of the environment block (measured: another XDG_CONFIG_HOME, other samples), which would
        # break determinism. ESPEAK_DATA_PATH is passed on when the user set it.
        env = {k: v for k, v in os.environ.items() if k == "ESPEAK_DATA_PATH"}
        out = subprocess.run([*self._cmd, text], capture_output=True, check=True, timeout=60, env=env)
        samples, rate = sf.read(io.BytesIO(out.stdout), dtype="float32")
        return Audio(samples, rate)


def change_timbre(audio: Audio, formant_shift: float, pitch_shift: float) -> Audio:
    """Praat's "Change gender": formant shift ratio and a new median pitch."""
    import parselmouth
    from parselmouth.praat import call

    from training.lime.prosody import seed_praat

    # Seeded by the audio itself: the same rendering always gets the same variant.
    seed_praat(int.from_bytes(hashlib.sha1(audio.samples.tobytes()).digest()[:4], "big"))
    sound = parselmouth.Sound(audio.samples.astype(np.float64), audio.rate)
    median = call(sound.to_pitch(), "Get quantile", 0, 0, 0.5, "Hertz")
    new_median = 0.0 if pitch_shift == 1.0 or np.isnan(median) else median * pitch_shift
    shifted = call(sound, "Change gender", 75, 600, formant_shift, new_median, 1.0, 1.0)
    return Audio(shifted.values[0].astype(np.float32), audio.rate)


def normalise_peak(audio: Audio, peak: float = NEUTRAL_PEAK) -> Audio:
    top = float(np.max(np.abs(audio.samples))) if len(audio.samples) else 0.0
    if not np.isfinite(top) or top == 0.0:
        raise ValueError("the rendering is silent or not finite")
    return Audio((audio.samples * (peak / top)).astype(np.float32), audio.rate)


class NeutralVoice:
    """One configured voice: base engine, optional timbre shift, peak-normalised output."""

    def __init__(self, voice: VoiceConfig) -> None:
        self.config = voice
        if voice.engine == "piper":
            self._engine = PiperRenderer(voice)
        elif voice.engine == "espeak":
            self._engine = EspeakRenderer(voice)
        else:
            raise ValueError(f"voice {voice.name!r}: engine {voice.engine!r} renders emotion itself; "
                             "use it with backend 'parler', not as a neutral voice")

    def render(self, text: str) -> Audio:
        audio = self._engine.render(text)
        if self.config.synthetic_variant:
            audio = change_timbre(audio, self.config.formant_shift, self.config.pitch_shift)
        return normalise_peak(audio)
