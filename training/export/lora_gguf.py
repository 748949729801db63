"""Write a peft LoRA (trained on a Llama-family LLM) as a llama.cpp LoRA adapter GGUF.

What is reused from llama.cpp's convert_lora_to_gguf.py and why: its file layout (general.type
`adapter`, adapter.type `lora`, adapter.lora.alpha, tensors `<gguf name>.lora_a` of shape
(rank, in) and `.lora_b` of shape (out, rank)), its name mapping (gguf-py's `TensorNameMap`,
imported from the installed `gguf` package) and its one tensor transformation for Llama:
convert_hf_to_gguf permutes the rows of q_proj/k_proj for llama.cpp's rotary layout, and for a
LoRA delta B@A only B's rows carry the output dimension, so only B is permuted. The script
itself needs a HF config folder plus the vendored `conversion` package (not installed with
llama-cpp-python) and would reload the base model's hyper-parameters from the hub; here the
base GGUF is already on disk, so its metadata (architecture, heads) is read from it instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

_PREFIXES = ("base_model.model.", "base_model.")
# architectures whose converter (LlamaModel and subclasses) permutes q/k rows for rotary
_PERMUTED_ARCHS = {"llama", "mistral", "granite"}


@dataclass(frozen=True)
class LlmShape:
    """What the LoRA export needs to know about the base LLM (read from its GGUF)."""

    arch: str
    n_layers: int
    n_head: int
    n_head_kv: int
    n_embd: int

    @classmethod
    def from_gguf(cls, path: Path) -> LlmShape:
        reader = gguf.GGUFReader(str(path))

        def get(key: str):
            field = reader.fields[key]
            return field.contents()

        arch = str(get("general.architecture"))
        return cls(arch, int(get(f"{arch}.block_count")), int(get(f"{arch}.attention.head_count")),
                   int(get(f"{arch}.attention.head_count_kv")), int(get(f"{arch}.embedding_length")))


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's rotary row order for q/k (LlamaModel.permute in convert_hf_to_gguf)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_base_name(key: str) -> tuple[str, str] | None:
    """('model.layers.0.self_attn.q_proj', 'A') from a peft key, or None for non-LoRA keys."""
    for p in _PREFIXES:
        if key.startswith(p):
            key = key[len(p):]
            break
    for part in ("A", "B"):
        for tail in (f".lora_{part}.weight", f".lora_{part}.default.weight"):
            if key.endswith(tail):
                return key[: -len(tail)], part
    return None


def lora_tensors(
    state: Mapping[str, object], shape: LlmShape, dtype: str = "f32"
) -> list[tuple[str, np.ndarray]]:
    """(GGUF name, array) pairs, lora_a then lora_b for each adapted weight."""
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH[shape.arch.upper()], shape.n_layers)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        parsed = hf_base_name(key)
        if parsed is None:
            raise ValueError(f"unexpected adapter tensor {key!r}: only LoRA A/B matrices can go into a llama.cpp adapter")
        base, part = parsed
        if base.endswith(("embed_tokens", "lm_head")):
            raise ValueError(f"LoRA on {base} is not exportable (tied embeddings in llama.cpp); drop it from target_modules")
        arr = value.detach().float().cpu().numpy() if hasattr(value, "detach") else np.asarray(value, np.float32)
        pairs.setdefault(base, {})[part] = arr
    out: list[tuple[str, np.ndarray]] = []
    np_dtype = np.float16 if dtype == "f16" else np.float32
    for base, ab in sorted(pairs.items()):
        if set(ab) != {"A", "B"}:
            raise ValueError(f"LoRA for {base} lacks its {'A' if 'A' not in ab else 'B'} matrix")
        new = tmap.get_name(base)
        if new is None:
            raise ValueError(f"no llama.cpp tensor for {base}; is the adapter for a {shape.arch} model?")
        a, b = ab["A"], ab["B"]
        if shape.arch not in _PERMUTED_ARCHS:
            pass  # e.g. qwen2: convert_hf_to_gguf keeps HF's q/k row order
        elif base.endswith("q_proj"):
            b = permute_rows(b, shape.n_head)
        elif base.endswith("k_proj"):
            b = permute_rows(b, shape.n_head_kv)
        out.append((f"{new}.weight.lora_a", np.ascontiguousarray(a, dtype=np_dtype)))
        out.append((f"{new}.weight.lora_b", np.ascontiguousarray(b, dtype=np_dtype)))
    if not out:
        raise ValueError("the adapter has no LoRA tensors")
    return out


def llama_cpp_alpha(lora_alpha: float, rank: int, use_rslora: bool = False) -> float:
    """The alpha to store so llama.cpp's scale alpha/rank equals peft's scaling."""
    return lora_alpha * math.sqrt(rank) if use_rslora else float(lora_alpha)


def write_lora_gguf(
    path: Path,
    state: Mapping[str, object],
    shape: LlmShape,
    lora_alpha: float,
    rank: int,
    use_rslora: bool = False,
    dtype: str = "f32",
    name: str = "cogaudio-lora",
) -> Path:
    tensors = lora_tensors(state, shape, dtype)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch=shape.arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, llama_cpp_alpha(lora_alpha, rank, use_rslora))
    writer.add_name(name)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    for tname, data in tensors:
        writer.add_tensor(tname, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
