"""Text to speech with Piper, one sentence at a time, with prosody chosen per reply.

`Speaker` loads the Piper voice once (all I/O happens in `load`), then `synthesize()`
turns one sentence into float32 audio chunks at the voice's rate. The pipeline calls it per
sentence as sentences leave the splitter, so the first sentence plays while the language
model is still writing the rest.

Prosody: `prosody_for()` maps what was perceived (the user's emotion) and the EIPS
strategy text onto Piper's SynthesisConfig. Piper has no pitch control, so the levers are
pace (length_scale), expressiveness (noise_scale, noise_w_scale) and volume: slower, softer
and steadier for a sad or fearful listener, steady and calm (not louder) for an angry one,
a little brighter for good news. The strategy text can push further (for example
"reassure calmly" slows down, "celebrate" brightens).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.models.bundled import require_bundled
from core.settings import TtsSettings


@dataclass(frozen=True)
class Prosody:
    """How to speak one reply. Scales are relative to the voice's own defaults (1.0 = as trained)."""

    name: str = "neutral"
    length: float = 1.0  # >1 slower
    noise: float = 1.0  # <1 flatter, steadier pitch/energy
    noise_w: float = 1.0  # <1 more even phoneme timing
    volume: float = 1.0


# Keyed by the user's perceived emotion: how a caring listener adapts its own voice.
EMOTION_PROSODY: dict[str, Prosody] = {
    "neutral": Prosody("neutral"),
    "happy": Prosody("bright", length=0.95, noise=1.10, noise_w=1.05, volume=1.0),
    "surprised": Prosody("bright", length=0.97, noise=1.10, noise_w=1.05, volume=1.0),
    "sad": Prosody("gentle", length=1.15, noise=0.80, noise_w=0.85, volume=0.75),
    "fearful": Prosody("gentle", length=1.12, noise=0.75, noise_w=0.80, volume=0.80),
    "angry": Prosody("steady", length=1.06, noise=0.65, noise_w=0.70, volume=0.85),
    "disgusted": Prosody("steady", length=1.04, noise=0.80, noise_w=0.85, volume=0.90),
}

# Words in the EIPS strategy that adjust the base profile (multiplied in).
_STRATEGY_CUES: tuple[tuple[tuple[str, ...], dict[str, float]], ...] = (
    (("calm", "sooth", "gentl", "reassur", "comfort", "slow"), {"length": 1.05, "volume": 0.95}),
    (("de-escalat", "steady", "firm", "ground"), {"noise": 0.85, "noise_w": 0.9}),
    (("celebrat", "enthusias", "cheer", "upbeat", "excit", "share the joy"), {"length": 0.96, "noise": 1.08}),
    (("refer", "help line", "helpline", "crisis", "safety"), {"length": 1.08, "noise": 0.8, "volume": 0.9}),
)


def prosody_for(label: str | None, strategy: str | None = None, intensity: str | None = None) -> Prosody:
    """The speaking style for a reply to someone who sounded `label`, following `strategy`."""
    base = EMOTION_PROSODY.get(label or "neutral", EMOTION_PROSODY["neutral"])
    if intensity in ("low", "high") and base.name != "neutral":
        k = 0.5 if intensity == "low" else 1.5  # same scaling rule as docs/emotions.md's profile table
        base = replace(base, **{f: 1 + k * (getattr(base, f) - 1) for f in ("length", "noise", "noise_w", "volume")})
    text = (strategy or "").lower()
    for words, scales in _STRATEGY_CUES:
        if any(w in text for w in words):
            base = replace(base, **{f: getattr(base, f) * s for f, s in scales.items()})
    return replace(base, volume=min(base.volume, 1.0))


def _quiet_session(path: Path):
    """Piper's ONNX session without busy-waiting threads.

    The voice speaks while llama.cpp is still generating on the same cores; onnxruntime's
    default worker threads spin while idle and steal those cores. Measured here with the LLM
    generating beside it: a sentence took ~1.1-1.6 s with the default session, ~0.6-0.9 s
    without spinning (Piper's load() has no option for it, so the session is rebuilt).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return _ShrinkingSession(ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"]))


class _ShrinkingSession:
    """The voice's ONNX session, handing its memory arena back after every sentence.

    onnxruntime's CPU arena grows to the longest sentence it has synthesised and keeps it
    (it also fragments): measured here, resident memory after sentences of 10, 20, 40, 80, 20
    and 80 words went 208 -> 260 -> 372 -> 588 -> 586 -> 758 MB. With the arena shrunk at the
    end of each run (onnxruntime's run option memory.enable_memory_arena_shrinkage) it stayed
    at 157-190 MB for the same sentences, for ~9 % more CPU; without an arena at all it stayed
    at 156-158 MB for ~32 % more CPU (issue 14, soak). Piper calls `session.run(names, feed)`
    without run options, hence this wrapper.
    """

    def __init__(self, session) -> None:
        import onnxruntime as ort

        self._session = session
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, output_names, input_feed, run_options=None):
        return self._session.run(output_names, input_feed, run_options or self._run_options)

    def __getattr__(self, name: str):
        return getattr(self._session, name)


class Speaker:
    """A loaded Piper voice. Thread-safe: one synthesis at a time (onnxruntime session reuse)."""

    def __init__(self, settings: TtsSettings | None = None, voice_path: Path | None = None) -> None:
        from piper import PiperVoice

        self.settings = settings or TtsSettings()
        path = voice_path or self.settings.voice_path or require_bundled("tts")
        if not Path(path).exists():
            raise FileNotFoundError(f"Piper voice {path} not found; set tts.voice_path to a .onnx voice file.")
        self.voice = PiperVoice.load(str(path))
        self.voice.session = _quiet_session(Path(path))
        self.sample_rate: int = int(self.voice.config.sample_rate)
        inf = self.voice.config
        self._defaults = (
            float(getattr(inf, "length_scale", 1.0) or 1.0),
            float(getattr(inf, "noise_scale", 0.667) or 0.667),
            float(getattr(inf, "noise_w_scale", 0.8) or 0.8),
        )
        self._lock = threading.Lock()
        self.name = Path(path).stem

    def config(self, prosody: Prosody):
        """Piper's SynthesisConfig for a prosody (scales applied to the voice's defaults)."""
        from piper import SynthesisConfig

        length, noise, noise_w = self._defaults
        return SynthesisConfig(
            length_scale=length * prosody.length / self.settings.speaking_rate,
            noise_scale=noise * prosody.noise,
            noise_w_scale=noise_w * prosody.noise_w,
            volume=prosody.volume,
            normalize_audio=True,
        )

    def synthesize(self, text: str, prosody: Prosody | None = None, cancel: threading.Event | None = None
                   ) -> Iterator[np.ndarray]:
        """Audio for `text` (float32 at `sample_rate`), one chunk per phonemized sentence."""
        cfg = self.config(prosody or Prosody())
        with self._lock:
            for chunk in self.voice.synthesize(text, syn_config=cfg):
                if cancel is not None and cancel.is_set():
                    return
                yield chunk.audio_float_array.astype(np.float32, copy=False)

    def speak_all(self, text: str, prosody: Prosody | None = None) -> np.ndarray:
        chunks = list(self.synthesize(text, prosody))
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
