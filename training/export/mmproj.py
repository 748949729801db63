"""Write a Whisper encoder + ultravox projector as an mmproj GGUF that llama.cpp's mtmd loads.

What is reused and why: tensor names come from gguf-py's own `TensorNameMap` for the MMPROJ
architecture (the table llama.cpp's convert_hf_to_gguf.py uses), fed with the Hugging Face
names an Ultravox checkpoint has (`audio_tower.*`, `audio.multi_modal_projector.*`). The
metadata mirrors `WhisperEncoderModel` / `UltravoxWhisperEncoderModel` in the vendored
conversion/ultravox.py (projector type `ultravox`, stack factor, num_mel_bins, eps), and the
tensor typing mirrors its rules (conv weights forced to F16, conv biases reshaped to (D, 1),
1-D tensors F32). That converter needs a whole HF model folder with config files and the
vendored `conversion` package, which an installed app or a training checkpoint does not have;
the ~80 lines here only arrange our in-memory tensors for gguf-py's writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

# ultravox projector parameter names in training -> the HF Ultravox names TensorNameMap knows
_PROJECTOR_ALIASES = {
    "ln_pre": "ln_pre", "norm_pre": "ln_pre",
    "linear_1": "linear_1", "linear_2": "linear_2",
    "ln_mid": "ln_mid", "norm_mid": "ln_mid",
}
FTYPES = {"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16}


@dataclass(frozen=True)
class EncoderSpec:
    """Hyper-parameters of the Whisper encoder (transformers WhisperConfig names)."""

    d_model: int
    encoder_ffn_dim: int
    encoder_layers: int
    encoder_attention_heads: int
    num_mel_bins: int = 80
    layer_norm_eps: float = 1e-5

    @classmethod
    def from_whisper_config(cls, cfg) -> EncoderSpec:
        return cls(cfg.d_model, cfg.encoder_ffn_dim, cfg.encoder_layers, cfg.encoder_attention_heads,
                   cfg.num_mel_bins, 1e-5)


def _np(t) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach().float().cpu().numpy()
    return np.ascontiguousarray(np.asarray(t, dtype=np.float32))


def _hf_name(key: str, prefix: str) -> tuple[str, str]:
    """('audio_tower.layers.0.fc1', 'weight') from 'layers.0.fc1.weight'."""
    stem, _, suffix = key.rpartition(".")
    return f"{prefix}{stem}", suffix


def mmproj_tensors(
    encoder_state: Mapping[str, object], projector_state: Mapping[str, object], n_layers: int, ftype: str = "f16"
) -> list[tuple[str, np.ndarray]]:
    """(GGUF name, array) pairs for the encoder and projector, typed as llama.cpp expects."""
    # the map numbers conv1d.{1,2} like blocks, so it must span at least 3 "blocks"
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.MMPROJ, max(n_layers, 3))
    out: list[tuple[str, np.ndarray]] = []
    items = [(_hf_name(k, "audio_tower."), v) for k, v in encoder_state.items()]
    for key, value in projector_state.items():
        stem, _, suffix = key.rpartition(".")
        alias = _PROJECTOR_ALIASES.get(stem.split(".")[-1])
        if alias is None:
            raise ValueError(f"unexpected projector parameter {key!r}; ultravox has ln_pre, linear_1, ln_mid, linear_2")
        if suffix == "bias":
            raise ValueError(f"projector parameter {key!r}: llama.cpp's ultravox projector has no biases")
        items.append(((f"audio.multi_modal_projector.{alias}", suffix), value))
    for (stem, suffix), value in items:
        new = tmap.get_name(stem)
        if new is None:
            raise ValueError(f"no mmproj tensor name for {stem}.{suffix}; is this a Whisper encoder state dict?")
        data = _np(value)
        if ".conv" in stem and suffix == "bias":
            data = data[:, None]  # ggml adds the conv bias as a (D, 1) column
        if ".conv" in stem and suffix == "weight":
            data = data.astype(np.float16)  # ggml_conv_1d needs F16 kernels
        elif suffix == "weight" and data.ndim >= 2 and ftype == "f16" and "position_embd" not in new:
            # biases (even the (D, 1) conv ones) and position embeddings are added, and ggml's
            # CPU add has no f32 + f16 kernel: those stay F32
            data = data.astype(np.float16)
        out.append((f"{new}.{suffix}", data))
    return out


def write_mmproj(
    path: Path,
    encoder_state: Mapping[str, object],
    projector_state: Mapping[str, object],
    spec: EncoderSpec,
    stack_factor: int,
    n_embd_text: int,
    ftype: str = "f16",
    name: str = "cogaudio-audio-projector",
    audio_tail_tokens: int | None = None,
    frames_encoder: str | None = None,
) -> Path:
    """Write the mmproj GGUF; refuses stack factors that make llama.cpp abort."""
    from core.models.audio_tokens import stack_factor_is_safe

    if not stack_factor_is_safe(stack_factor):
        raise ValueError(f"stack factor {stack_factor} makes llama.cpp abort at run time; use 10 or 12")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch="clip")
    writer.add_type(gguf.GGUFType.MMPROJ)
    writer.add_name(name)
    writer.add_file_type(FTYPES[ftype])
    writer.add_clip_has_vision_encoder(False)
    writer.add_clip_has_audio_encoder(True)
    writer.add_clip_projector_type(gguf.VisionProjectorType.ULTRAVOX)
    writer.add_audio_projection_dim(n_embd_text)
    writer.add_audio_embedding_length(spec.d_model)
    writer.add_audio_feed_forward_length(spec.encoder_ffn_dim)
    writer.add_audio_block_count(spec.encoder_layers)
    writer.add_audio_head_count(spec.encoder_attention_heads)
    writer.add_audio_num_mel_bins(spec.num_mel_bins)
    writer.add_audio_attention_layernorm_eps(spec.layer_norm_eps)
    writer.add_audio_stack_factor(stack_factor)
    if audio_tail_tokens is not None:  # trained on the speech part only: see core/engines/mtmd_eval.py
        from core.models.manifest import AUDIO_TAIL_KEY

        writer.add_uint32(AUDIO_TAIL_KEY, int(audio_tail_tokens))
    if frames_encoder is not None:
        # trained on the frames of the app's own short-window pass of this encoder (core.ear.projector)
        from core.ear.projector import FRAMES_INPUT

        writer.add_string("cogaudio.audio_input", FRAMES_INPUT)
        writer.add_string("cogaudio.encoder", frames_encoder)
    tensors = mmproj_tensors(encoder_state, projector_state, spec.encoder_layers, ftype)
    names = {n for n, _ in tensors}
    missing = {"mm.a.mlp.1.weight", "mm.a.mlp.2.weight", "mm.a.norm_pre.weight", "mm.a.norm_mid.weight"} - names
    if missing:
        raise ValueError(f"projector state lacks {sorted(missing)}")
    out_w = dict(tensors)["mm.a.mlp.2.weight"]
    if out_w.shape[0] != n_embd_text:
        raise ValueError(f"projector output width {out_w.shape[0]} != LLM n_embd {n_embd_text}")
    for tname, data in tensors:
        writer.add_tensor(tname, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
