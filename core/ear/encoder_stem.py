"""The first layers of the Whisper encoder, in numpy, for the ear.

Why: the emotion is clearer in the encoder's middle layers than in its last one, which Whisper
trains to serve the text decoder. Probed across corpora (docs/ear.md), the output of an early
layer, speaker-normalised, read 5-13 points better in session than the last layer that the
transcript uses. CTranslate2 returns only the last layer, so the ear runs the stem itself: the
convolutions, the position embeddings and `n_layers` transformer layers, over the turn's own mel
frames (no padding: a 3 s turn is 150 positions, a few ms), with the weights carried in the head
file (training/ear/stem.py copies them from the same model.bin).

Numbers follow transformers' WhisperEncoder (pre-norm layers, exact GELU, q scaled by
head_dim^-0.5, k without bias); tests/unit/test_encoder_stem.py checks it against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

SAMPLES_PER_POSITION = 320  # one encoder position: two hop-160 mel frames
MIN_MEL_FRAMES = 100  # 1 s: shorter turns are read over a 1 s window
LAYER_KEYS = ("self_attn_layer_norm.weight", "self_attn_layer_norm.bias",
              "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
              "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.out_proj.weight",
              "self_attn.out_proj.bias", "final_layer_norm.weight", "final_layer_norm.bias",
              "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")
STEM_KEYS = ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "embed_positions.weight")


def stem_mel_frames(n_samples: int) -> int:
    """Mel frames the stem reads for a turn of `n_samples`: the speech itself, even, at least 1 s."""
    positions = -(-int(n_samples) // SAMPLES_PER_POSITION)
    return max(MIN_MEL_FRAMES, 2 * positions)


def speech_positions(n_samples: int, n_positions: int) -> int:
    return max(1, min(n_positions, -(-int(n_samples) // SAMPLES_PER_POSITION)))


_SQRT2 = np.float32(np.sqrt(2.0))  # a float32 constant: a float64 one would upcast every activation


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / _SQRT2))


def _conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """(C_in, T) -> (C_out, T_out) for kernel 3, padding 1 (Whisper's two convolutions), as one matmul."""
    c_in, t = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (1, 1)))
    t_out = (t + 2 - k) // stride + 1
    cols = np.stack([xp[:, j: j + stride * (t_out - 1) + 1: stride] for j in range(k)], axis=1)  # (C_in, k, T_out)
    return w.reshape(w.shape[0], c_in * k) @ cols.reshape(c_in * k, t_out) + b[:, None]


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + np.float32(eps)) * g + b


@dataclass(frozen=True)
class EncoderStem:
    # transformers' WhisperEncoder names; float16 as the head file stores them (a layer's weights are
    # widened to float32 while it runs: the stems of two Whisper models held as float32 would add
    # ~30 MB to the app's resident memory) or float32 (training, where load_stem rounds them)
    tensors: dict[str, np.ndarray]
    n_layers: int
    n_heads: int
    source: str = ""  # "": the transcript's own encoder (tiny.en); else the Whisper model it comes from ("base")

    @property
    def n_mels(self) -> int:
        return int(self.tensors["conv1.weight"].shape[1])

    @property
    def dim(self) -> int:
        return int(self.tensors["conv1.weight"].shape[0])

    def validate(self) -> None:
        need = list(STEM_KEYS) + [f"layers.{i}.{k}" for i in range(self.n_layers) for k in LAYER_KEYS]
        missing = [n for n in need if n not in self.tensors]
        if missing:
            raise ValueError(f"encoder stem lacks {missing[:3]}{'...' if len(missing) > 3 else ''}")
        if self.dim % self.n_heads:
            raise ValueError(f"encoder stem width {self.dim} does not split into {self.n_heads} heads")

    def _f32(self, name: str) -> np.ndarray:
        w = self.tensors[name]
        return w if w.dtype == np.float32 else w.astype(np.float32)

    def _layer(self, x: np.ndarray, i: int) -> np.ndarray:
        p = {k: self._f32(f"layers.{i}.{k}") for k in LAYER_KEYS}
        t, d = x.shape
        hd = d // self.n_heads
        h = _layer_norm(x, p["self_attn_layer_norm.weight"], p["self_attn_layer_norm.bias"])
        q = (h @ p["self_attn.q_proj.weight"].T + p["self_attn.q_proj.bias"]) * hd ** -0.5
        k = h @ p["self_attn.k_proj.weight"].T
        v = h @ p["self_attn.v_proj.weight"].T + p["self_attn.v_proj.bias"]
        q, k, v = (a.reshape(t, self.n_heads, hd).transpose(1, 0, 2) for a in (q, k, v))
        s = q @ k.transpose(0, 2, 1)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = (s / s.sum(-1, keepdims=True)) @ v  # (heads, T, hd)
        x = x + a.transpose(1, 0, 2).reshape(t, d) @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]
        h = _layer_norm(x, p["final_layer_norm.weight"], p["final_layer_norm.bias"])
        h = _gelu(h @ p["fc1.weight"].T + p["fc1.bias"])
        return x + h @ p["fc2.weight"].T + p["fc2.bias"]

    def forward(self, mel: np.ndarray) -> np.ndarray:
        """(n_mels, F) log-mel, F even and at most 3000 -> (F/2, d) output of the last stem layer."""
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[0] != self.n_mels or mel.shape[1] % 2 or mel.shape[1] == 0:
            raise ValueError(f"encoder stem needs ({self.n_mels}, even F) mel frames, got {mel.shape}")
        f = self._f32
        x = _gelu(_conv1d(mel, f("conv1.weight"), f("conv1.bias"), 1))
        x = _gelu(_conv1d(x, f("conv2.weight"), f("conv2.bias"), 2)).T
        pos = self.tensors["embed_positions.weight"]
        if x.shape[0] > pos.shape[0]:
            raise ValueError(f"encoder stem reads at most {2 * pos.shape[0]} mel frames, got {mel.shape[1]}")
        x = x + pos[: x.shape[0]].astype(np.float32)
        for i in range(self.n_layers):
            x = self._layer(x, i)
        return x.astype(np.float32)

    def speech_frames(self, mel_window: np.ndarray, n_samples: int) -> np.ndarray:
        """The stem's output over the speech of a turn, from the turn's mel window (the
        transcript's, `EncoderPass.features`, padded to 10 s or more; a shorter one is padded
        with its minimum, the way faster-whisper pads)."""
        # one BLAS thread: these matrices are small, and two threads on a 2-core machine that is
        # also running the LLM or the recogniser wait on each other (measured: 50 ms -> 370 ms, bench/ear_cost.py)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            return self._speech_frames(mel_window, n_samples)

    def _speech_frames(self, mel_window: np.ndarray, n_samples: int) -> np.ndarray:
        n = stem_mel_frames(n_samples)
        mel = np.asarray(mel_window, dtype=np.float32)[:, :n]
        if mel.shape[1] < n:
            mel = np.pad(mel, ((0, 0), (0, n - mel.shape[1])), constant_values=float(mel.min()))
        out = self.forward(mel)
        return out[: speech_positions(n_samples, out.shape[0])]

