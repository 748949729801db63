"""The ultravox audio projector, laid out exactly as llama.cpp mtmd's PROJECTOR_TYPE_ULTRAVOX.

mtmd (tools/mtmd/models/whisper-enc.cpp) runs, after the Whisper encoder:

    stack frames (flat pad to a multiple of stack * d_model, then rows of stack frames)
    -> RMSNorm(eps 1e-6) * ln_pre -> linear_1 (no bias)
    -> swiglu_swapped: x1 * silu(x2) where x2 is the SECOND half
    -> RMSNorm(eps 1e-6) * ln_mid -> linear_2 (no bias)

Parameter names follow Hugging Face's Ultravox (`multi_modal_projector.ln_pre.weight`,
`linear_1.weight`, `ln_mid.weight`, `linear_2.weight`), which convert_hf_to_gguf.py maps to
the GGUF `mm.a.norm_pre`, `mm.a.mlp.1`, `mm.a.norm_mid`, `mm.a.mlp.2` tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

RMS_EPS = 1e-6  # hard-coded in mtmd's graph, whatever the GGUF says


def stack_frames(x: torch.Tensor, stack_factor: int) -> torch.Tensor:
    """(B, T, D) -> (B, ceil(T / k), k * D): consecutive frames side by side, zero-padded at the end."""
    b, t, d = x.shape
    pad = (-t) % stack_factor
    if pad:
        x = F.pad(x, (0, 0, 0, pad))
    return x.reshape(b, (t + pad) // stack_factor, stack_factor * d)


class UltravoxProjector(nn.Module):
    """Stacked encoder frames -> LLM embeddings (see the module docstring for the exact layout)."""

    def __init__(self, d_audio: int, stack_factor: int, hidden: int, d_llm: int) -> None:
        super().__init__()
        if hidden % 2:
            raise ValueError(f"projector hidden size must be even (SwiGLU halves it), got {hidden}")
        self.stack_factor = stack_factor
        d_in = d_audio * stack_factor
        self.ln_pre = nn.RMSNorm(d_in, eps=RMS_EPS)
        self.linear_1 = nn.Linear(d_in, hidden, bias=False)
        self.ln_mid = nn.RMSNorm(hidden // 2, eps=RMS_EPS)
        self.linear_2 = nn.Linear(hidden // 2, d_llm, bias=False)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.ln_pre(stack_frames(frames, self.stack_factor))
        x1, x2 = self.linear_1(x).chunk(2, dim=-1)
        x = x1 * F.silu(x2)  # SiLU on the second half: ultravox_model.SwiGLU / ggml_swiglu_swapped
        return self.linear_2(self.ln_mid(x))
