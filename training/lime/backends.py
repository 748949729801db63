"""Rendering backends behind one interface: text + voice + emotion segments -> aligned audio.

`Backend.prepare(text, voice)` does the per-(text, voice) work once (for `piper+prosody`:
the neutral rendering and its word alignment); `Backend.render(prepared, segments, rng)`
returns one row's 16 kHz audio with per-word times and emotion labels.

- `piper+prosody` (CPU, any machine): a neutral voice (Piper, espeak-ng or a timbre-shifted
  Piper) transformed segment by segment with the docs/emotions.md profile (prosody.py). Word
  times follow from the neutral alignment, since the duration change is uniform per segment.
- `parler` (GPU machines): Parler-TTS, an emotion-controllable TTS whose voice is steered by
  a natural-language description; each segment is generated with its emotion in the
  description and aligned with faster-whisper. It needs `pip install parler-tts`, and says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy.signal import resample_poly

from core.emotion.labels import PROSODY
from training.lime.align import Word, text_words
from training.lime.config import LimeConfig, VoiceConfig
from training.lime.plan import Segment
from training.lime.prosody import apply_profile
from training.lime.voices import Audio, NeutralVoice


@dataclass(frozen=True)
class LabelledWord:
    word: str
    start: float
    end: float
    emotion: str


@dataclass(frozen=True)
class Rendered:
    samples: np.ndarray  # float32, mono, at `rate`
    rate: int
    words: list[LabelledWord]
    segments: list[dict]  # {"start", "end", "emotion", "intensity"} in seconds


class Aligner(Protocol):
    def align(self, text: str, samples: np.ndarray, rate: int) -> list[Word]: ...


class Backend(Protocol):
    name: str

    def prepare(self, text: str, voice: VoiceConfig, cache: Path | None = None) -> Any:
        """Per-(text, voice) work; `cache` is a file the backend may keep it in for a resumed build."""
        ...

    def render(self, prepared: Any, segments: tuple[Segment, ...], rng: np.random.Generator) -> Rendered: ...


def to_rate(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return samples.astype(np.float32)
    g = np.gcd(rate, target)
    return resample_poly(samples, target // g, rate // g).astype(np.float32)


@dataclass
class _Neutral:
    text: str
    audio: Audio
    words: list[Word]


class ProsodyBackend:
    """`piper+prosody`: neutral voice + PSOLA prosody profile per segment."""

    name = "piper+prosody"

    def __init__(self, cfg: LimeConfig, aligner: Aligner) -> None:
        self._cfg = cfg
        self._aligner = aligner
        self._voices: dict[str, NeutralVoice] = {}

    def prepare(self, text: str, voice: VoiceConfig, cache: Path | None = None) -> _Neutral:
        if not text.strip():
            raise ValueError("empty text")
        if voice.name not in self._voices:
            self._voices[voice.name] = NeutralVoice(voice)
        audio = self._voices[voice.name].render(text)
        # The alignment is kept: a resumed build must cut switch rows where the first run did,
        # and faster-whisper's word times can move by a frame from one model load to the next.
        if cache is not None and cache.exists():
            words = [Word(**w) for w in json.loads(cache.read_text())]
        else:
            rate = self._cfg.sample_rate
            words = self._aligner.align(text, to_rate(audio.samples, audio.rate, rate), rate)
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps([asdict(w) for w in words]))
        return _Neutral(text, audio, words)

    def render(self, prepared: _Neutral, segments: tuple[Segment, ...], rng: np.random.Generator) -> Rendered:
        audio, words = prepared.audio, prepared.words
        # Cut points (seconds in the neutral rendering) halfway between the two words at a switch.
        cuts = [0.0]
        for seg in segments[1:]:
            cuts.append((words[seg.first_word - 1].end + words[seg.first_word].start) / 2)
        cuts.append(audio.seconds)
        pieces, out_words, out_segs, offset = [], [], [], 0.0
        for k, seg in enumerate(segments):
            a, b = (round(c * audio.rate) for c in cuts[k : k + 2])
            piece = apply_profile(Audio(audio.samples[a:b], audio.rate), PROSODY[seg.emotion].at(seg.intensity), rng)
            scale = len(piece.samples) / max(1, b - a)  # the uniform duration change of this segment
            last = segments[k + 1].first_word if k + 1 < len(segments) else len(words)
            for w in words[seg.first_word : last]:
                out_words.append(LabelledWord(w.word, offset + (w.start - cuts[k]) * scale,
                                              offset + (w.end - cuts[k]) * scale, seg.emotion))
            length = piece.seconds
            out_segs.append({"start": offset, "end": offset + length, "emotion": seg.emotion, "intensity": seg.intensity})
            pieces.append(piece.samples)
            offset += length
        rate = self._cfg.sample_rate
        samples = to_rate(np.concatenate(pieces), audio.rate, rate)
        return Rendered(samples, rate, _clamp(out_words, len(samples) / rate), out_segs)


def _clamp(words: list[LabelledWord], seconds: float) -> list[LabelledWord]:
    return [LabelledWord(w.word, max(0.0, min(w.start, seconds)), max(0.0, min(w.end, seconds)), w.emotion) for w in words]


# How each emotion and intensity is described to Parler-TTS (its prompts are free text).
_PARLER_EMOTION = {
    "neutral": "in a calm, neutral tone", "happy": "in a happy, cheerful tone", "sad": "in a sad, downcast tone",
    "angry": "in an angry, harsh tone", "fearful": "in a fearful, trembling tone",
    "surprised": "in a surprised, astonished tone", "disgusted": "in a disgusted, contemptuous tone",
}
_PARLER_INTENSITY = {"low": "slightly", "medium": "clearly", "high": "very strongly"}


class ParlerBackend:
    """`parler`: Parler-TTS generates each segment with its emotion in the voice description."""

    name = "parler"

    def __init__(self, cfg: LimeConfig, aligner: Aligner) -> None:
        try:
            import torch
            from parler_tts import ParlerTTSForConditionalGeneration
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise RuntimeError(
                "backend 'parler' needs Parler-TTS: pip install git+https://github.com/huggingface/parler-tts "
                f"(and a GPU for any real scale); import failed: {exc}"
            ) from exc
        self._torch = torch
        self._cfg = cfg
        self._aligner = aligner
        self._model = ParlerTTSForConditionalGeneration.from_pretrained(cfg.parler_model).to(cfg.device)
        self._tok = AutoTokenizer.from_pretrained(cfg.parler_model)
        self._rate = int(self._model.config.sampling_rate)

    def prepare(self, text: str, voice: VoiceConfig, cache: Path | None = None) -> tuple[str, VoiceConfig]:
        if not text.strip():
            raise ValueError("empty text")
        return text, voice

    def describe(self, speaker: str, seg: Segment) -> str:
        how = "" if seg.emotion == "neutral" else _PARLER_INTENSITY[seg.intensity] + " "
        return f"{speaker} speaks {how}{_PARLER_EMOTION[seg.emotion]}, with very clear audio and no background noise."

    def render(self, prepared: tuple[str, VoiceConfig], segments: tuple[Segment, ...], rng: np.random.Generator) -> Rendered:
        text, voice = prepared
        words = text_words(text)
        rate = self._cfg.sample_rate
        pieces, out_words, out_segs, offset = [], [], [], 0.0
        for k, seg in enumerate(segments):
            last = segments[k + 1].first_word if k + 1 < len(segments) else len(words)
            chunk = " ".join(words[seg.first_word : last])
            self._torch.manual_seed(int(rng.integers(2**31)))  # Parler samples: seed it for determinism
            desc = self._tok(self.describe(voice.model, seg), return_tensors="pt").to(self._cfg.device)
            prompt = self._tok(chunk, return_tensors="pt").to(self._cfg.device)
            with self._torch.no_grad():
                wav = self._model.generate(input_ids=desc.input_ids, attention_mask=desc.attention_mask,
                                           prompt_input_ids=prompt.input_ids, prompt_attention_mask=prompt.attention_mask)
            samples = to_rate(wav.cpu().float().numpy().squeeze(), self._rate, rate)
            for w in self._aligner.align(chunk, samples, rate):
                out_words.append(LabelledWord(w.word, offset + w.start, offset + w.end, seg.emotion))
            length = len(samples) / rate
            out_segs.append({"start": offset, "end": offset + length, "emotion": seg.emotion, "intensity": seg.intensity})
            pieces.append(samples)
            offset += length
        return Rendered(np.concatenate(pieces), rate, out_words, out_segs)


def check_backend(cfg: LimeConfig) -> None:
    """Fail before any work when the configured backend cannot run here, saying how to fix it."""
    import importlib.util

    if cfg.backend == "parler" and importlib.util.find_spec("parler_tts") is None:
        raise RuntimeError("backend 'parler' needs Parler-TTS, which is not installed: "
                           "pip install git+https://github.com/huggingface/parler-tts (a GPU machine is advised); "
                           "or use backend 'piper+prosody', which runs on any CPU")
    if cfg.backend == "parler" and any(v.engine != "parler" for v in cfg.voices):
        raise RuntimeError("backend 'parler' renders Parler speakers only: give every voice `engine: parler`")


def make_backend(cfg: LimeConfig, aligner: Aligner) -> Backend:
    if cfg.backend == "piper+prosody":
        return ProsodyBackend(cfg, aligner)
    if cfg.backend == "parler":
        return ParlerBackend(cfg, aligner)
    raise ValueError(f"unknown backend {cfg.backend!r}; use 'piper+prosody' or 'parler'")
