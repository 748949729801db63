"""The audio projector on the transcript's encoder frames, in numpy.

An mmproj GGUF holds a Whisper encoder and the ultravox projector; llama.cpp's mtmd runs both
over a padded 30 s window. When the encoder is the transcript's own (the mmproj says so with
`cogaudio.audio_input = "asr-encoder-frames"` and names it in `cogaudio.encoder`), the frames
of the short-window pass the recogniser already ran (core.speech.encoder_pass) go through the
projector here, and the engine hands the embeddings to llama.cpp: no second encoder pass, and
exactly the frames training used (training/ear/features.py). The mmproj itself stays a normal
one that other llama.cpp tools run statelessly over 30 s windows.

The projector is mtmd's PROJECTOR_TYPE_ULTRAVOX (training/model/projector.py has the same in
torch): stack k frames -> RMSNorm * norm_pre -> mlp.1 -> x1 * silu(x2) (SiLU on the second
half) -> RMSNorm * norm_mid -> mlp.2; eps 1e-6 as mtmd hard-codes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FRAMES_INPUT = "asr-encoder-frames"
RMS_EPS = 1e-6


def _rms_norm(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + RMS_EPS) * w


@dataclass(frozen=True)
class FrameProjector:
    encoder: str  # whose frames it reads, e.g. whisper-tiny.en
    stack: int
    norm_pre: np.ndarray
    w1: np.ndarray  # (hidden, stack * d)
    norm_mid: np.ndarray
    w2: np.ndarray  # (d_llm, hidden / 2)

    @property
    def d_llm(self) -> int:
        return int(self.w2.shape[0])

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(T, d) encoder frames -> (ceil(T / stack), d_llm) float32 embeddings."""
        x = np.asarray(frames, dtype=np.float32)
        pad = (-x.shape[0]) % self.stack
        if pad:
            x = np.concatenate([x, np.zeros((pad, x.shape[1]), np.float32)])
        x = x.reshape(-1, self.stack * x.shape[1])
        h = _rms_norm(x, self.norm_pre) @ self.w1.T
        x1, x2 = np.split(h, 2, axis=-1)
        h = x1 * (x2 / (1.0 + np.exp(-x2)))
        return np.ascontiguousarray(_rms_norm(h, self.norm_mid) @ self.w2.T, dtype=np.float32)

    @classmethod
    def from_mmproj(cls, path: Path) -> FrameProjector | None:
        """The projector of an mmproj that reads the transcript's encoder frames, else None."""
        import gguf
        from gguf.quants import dequantize

        reader = gguf.GGUFReader(str(path))
        fields = reader.fields

        def text(key: str) -> str | None:
            f = fields.get(key)
            return bytes(f.parts[f.data[0]]).decode() if f is not None else None

        if text("cogaudio.audio_input") != FRAMES_INPUT:
            return None
        tensors = {t.name: t for t in reader.tensors}

        def array(name: str) -> np.ndarray:
            t = tensors[name]
            return np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32).reshape(
                [int(n) for n in reversed(t.shape.tolist())])

        stack_field = fields["clip.audio.projector.stack_factor"]
        return cls(text("cogaudio.encoder") or "", int(stack_field.parts[stack_field.data[0]][0]),
                   array("mm.a.norm_pre.weight"), array("mm.a.mlp.1.weight"),
                   array("mm.a.norm_mid.weight"), array("mm.a.mlp.2.weight"))
