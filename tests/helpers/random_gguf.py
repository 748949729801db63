"""Tiny random-weight GGUF files the tests write themselves with the `gguf` package.

- `write_random_projector`: an ultravox audio projector (mmproj) with a 1-layer, 64-wide
  Whisper-style encoder, so mtmd's audio path runs end to end in about a second.
- `write_random_lora`: a rank-2 LoRA adapter for the bundled SmolLM2 (Llama architecture).

Keys and tensor names follow llama.cpp's clip.cpp / llama-adapter.cpp (see issue 2's facts).
Numpy shapes are (out, in); the writer reverses them into ggml's (in, out) order.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

N_MELS = 80
N_POSITIONS = 1500  # whisper's 30 s window after the stride-2 conv


def write_random_projector(
    path: Path,
    n_embd_text: int = 576,
    stack_factor: int = 10,
    d_model: int = 64,
    n_layers: int = 1,
    n_heads: int = 2,
    ffn: int = 128,
    hidden: int = 256,
    seed: int = 0,
    projector_type: str = "ultravox",
) -> Path:
    rng = np.random.default_rng(seed)

    def w(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), arch="clip")
    writer.add_type(gguf.GGUFType.MMPROJ)
    writer.add_name("random-test-projector")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_clip_has_vision_encoder(False)
    writer.add_clip_has_audio_encoder(True)
    writer.add_clip_projector_type(projector_type)
    writer.add_audio_projection_dim(n_embd_text)
    writer.add_audio_embedding_length(d_model)
    writer.add_audio_feed_forward_length(ffn)
    writer.add_audio_block_count(n_layers)
    writer.add_audio_head_count(n_heads)
    writer.add_audio_num_mel_bins(N_MELS)
    writer.add_audio_attention_layernorm_eps(1e-5)
    writer.add_audio_stack_factor(stack_factor)

    ones = lambda n: np.ones(n, dtype=np.float32)  # noqa: E731
    zeros = lambda n: np.zeros(n, dtype=np.float32)  # noqa: E731
    tensors: dict[str, np.ndarray] = {
        # conv kernels must be F16 (ggml_conv_1d); biases are (D, 1) columns
        "a.conv1d.1.weight": w(d_model, N_MELS, 3).astype(np.float16),
        "a.conv1d.1.bias": zeros(d_model)[:, None],
        "a.conv1d.2.weight": w(d_model, d_model, 3).astype(np.float16),
        "a.conv1d.2.bias": zeros(d_model)[:, None],
        "a.position_embd.weight": w(N_POSITIONS, d_model),
        "a.post_ln.weight": ones(d_model),
        "a.post_ln.bias": zeros(d_model),
        # ultravox projector: stack frames, RMS norm, SwiGLU MLP (no biases)
        "mm.a.norm_pre.weight": ones(d_model * stack_factor),
        "mm.a.mlp.1.weight": w(hidden, d_model * stack_factor),
        "mm.a.norm_mid.weight": ones(hidden // 2),
        "mm.a.mlp.2.weight": w(n_embd_text, hidden // 2),
    }
    for i in range(n_layers):
        b = f"a.blk.{i}"
        tensors.update({
            f"{b}.ln1.weight": ones(d_model), f"{b}.ln1.bias": zeros(d_model),
            f"{b}.attn_q.weight": w(d_model, d_model), f"{b}.attn_q.bias": zeros(d_model),
            f"{b}.attn_k.weight": w(d_model, d_model),
            f"{b}.attn_v.weight": w(d_model, d_model), f"{b}.attn_v.bias": zeros(d_model),
            f"{b}.attn_out.weight": w(d_model, d_model), f"{b}.attn_out.bias": zeros(d_model),
            f"{b}.ln2.weight": ones(d_model), f"{b}.ln2.bias": zeros(d_model),
            f"{b}.ffn_up.weight": w(ffn, d_model), f"{b}.ffn_up.bias": zeros(ffn),
            f"{b}.ffn_down.weight": w(d_model, ffn), f"{b}.ffn_down.bias": zeros(d_model),
        })
    for name, data in tensors.items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)


def write_random_lora(
    path: Path, n_layers: int = 30, n_embd: int = 576, rank: int = 2, alpha: float = 4.0, seed: int = 0,
    std: float = 0.01,
) -> Path:
    """A LoRA adapter GGUF on every layer's attn_q and attn_v of a Llama model (SmolLM2-135M shape)."""
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_name("random-test-lora")
    for i in range(n_layers):
        for proj, out_dim in (("attn_q", n_embd), ("attn_v", 192)):
            writer.add_tensor(f"blk.{i}.{proj}.weight.lora_a", (rng.standard_normal((rank, n_embd)) * std).astype(np.float32))
            writer.add_tensor(f"blk.{i}.{proj}.weight.lora_b", (rng.standard_normal((out_dim, rank)) * std).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)
