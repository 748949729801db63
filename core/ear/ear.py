"""The ear: encoder frames of a turn -> pooled -> read against the speaker's baseline -> emotion.

`Ear.hear(output, baseline)` is one turn: the baseline (the speaker's running statistics,
core.ear.baseline) takes the turn, and the head reads it against them. A turn heard with a
fresh baseline is a single-turn reading; the app keeps one baseline per user profile and
`cogaudio reply --session` one for its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.ear.baseline import VoiceBaseline
from core.ear.head import EmotionHead
from core.ear.pooling import stats_pool
from core.emotion.labels import EMOTIONS, INTENSITIES
from core.speech.encoder_pass import EncoderOutput


@dataclass(frozen=True)
class Hearing:
    label: str
    intensity: str
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)
    session_turns: int = 1  # turns of this speaker the baseline held when this one was read


class Ear:
    def __init__(self, head: EmotionHead) -> None:
        self.head = head

    def pooled(self, output: EncoderOutput) -> np.ndarray:
        """The turn's pooled vector: over the head's own encoder stem when it has one (the
        emotion is clearer in the encoder's middle layers), else over the transcript's frames.
        Kept on the output, so that a turn pooled ahead (`EarListener.warm`, during the transcript
        prefetch) costs nothing when it is heard."""
        key = (self.head.features, id(self.head.stem), *map(id, self.head.extra_stems))  # two heads of one feature space may carry other stems
        hit = output.memo.get(key)
        if hit is None:
            hit = output.memo[key] = self._pool(output)
        return hit.copy()

    def _pool(self, output: EncoderOutput) -> np.ndarray:
        stem = self.head.stem
        if stem is None:
            return stats_pool(output.speech)
        if output.mel is None:
            raise ValueError("this emotion head reads the encoder's first layers and needs the turn's mel frames")
        parts = [stats_pool(output.speech)] if self.head.stem_with_last else []
        for s in (stem, *self.head.extra_stems):
            parts.append(stats_pool(s.speech_frames(output.mel, output.n_samples)))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def hear(self, output: EncoderOutput, baseline: VoiceBaseline) -> Hearing:
        z = baseline.observe(self.pooled(output))
        probs = self.head.probabilities(z)
        k = int(np.argmax(probs))
        label = EMOTIONS[k]
        intensity = "medium" if label == "neutral" else INTENSITIES[int(np.argmax(self.head.intensity(z)))]
        return Hearing(label, intensity, float(probs[k]),
                       {e: round(float(p), 4) for e, p in zip(EMOTIONS, probs, strict=True)}, baseline.n)
