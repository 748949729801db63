"""A tiny random Whisper encoder + ultravox projector as numpy arrays, and mmproj files built from it
without the writer's guards (to make the bad files the validation must refuse)."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from training.export.mmproj import EncoderSpec, mmproj_tensors

D, FFN, MEL, HID = 32, 64, 80, 64
SPEC = EncoderSpec(D, FFN, 1, 2, MEL)


def encoder_and_projector(stack: int, n_embd: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    r = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.05  # noqa: E731
    enc = {"conv1.weight": r(D, MEL, 3), "conv1.bias": r(D), "conv2.weight": r(D, D, 3), "conv2.bias": r(D),
           "embed_positions.weight": r(1500, D), "layer_norm.weight": r(D) + 1, "layer_norm.bias": r(D)}
    blk = "layers.0."
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        enc[f"{blk}self_attn.{name}.weight"] = r(D, D)
        if name != "k_proj":
            enc[f"{blk}self_attn.{name}.bias"] = r(D)
    for norm in ("self_attn_layer_norm", "final_layer_norm"):
        enc[f"{blk}{norm}.weight"], enc[f"{blk}{norm}.bias"] = r(D) + 1, r(D)
    enc.update({f"{blk}fc1.weight": r(FFN, D), f"{blk}fc1.bias": r(FFN), f"{blk}fc2.weight": r(D, FFN), f"{blk}fc2.bias": r(D)})
    proj = {"ln_pre.weight": r(D * stack) + 1, "linear_1.weight": r(HID, D * stack),
            "ln_mid.weight": r(HID // 2) + 1, "linear_2.weight": r(n_embd, HID // 2)}
    return enc, proj


def raw_mmproj(path: Path, stack: int, n_embd: int, f16_bias: bool = False) -> Path:
    """An mmproj written without write_mmproj's own guards, to build the bad cases."""
    enc, proj = encoder_and_projector(10, n_embd)
    w = gguf.GGUFWriter(str(path), arch="clip")
    w.add_type(gguf.GGUFType.MMPROJ)
    w.add_clip_has_audio_encoder(True)
    w.add_clip_projector_type(gguf.VisionProjectorType.ULTRAVOX)
    w.add_audio_projection_dim(n_embd)
    w.add_audio_stack_factor(stack)
    for name, data in mmproj_tensors(enc, proj, 1, "f16"):
        w.add_tensor(name, data.astype(np.float16) if f16_bias and name.endswith("conv1d.1.bias") else data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
