"""Quantization of the exported pair: the LLM through llama.cpp, the projector through gguf-py.

LLM: llama.cpp's own quantizer (`llama_model_quantize` from llama-cpp-python), any llama.cpp
file type by name (Q8_0, Q4_K_M, Q5_K_M, Q4_0, ...); tensors whose rows do not fit a k-quant
block get llama.cpp's usual fallback type.

Projector: llama.cpp's quantizer refuses `clip` GGUFs and libmtmd exports no clip quantize
function, so the mmproj is requantized here with gguf-py's reference quantizer: the 2-D matmul
weights (attention, FFN, projector linears) become Q8_0 (the type llama.cpp's own mmproj
releases use; mtmd's matmuls accept it), while conv kernels stay F16 (ggml's conv_1d needs
F16), position embeddings, norms and biases stay F32. Lower projector types (Q4_0, Q5_0, ...)
are possible by name but cost accuracy on a small encoder for little size, so Q8_0 is the default
even when the LLM goes to Q4_K_M.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from core.models.adapter_merge import copy_metadata

_PROJECTOR_TYPES = {"F16", "F32", "Q8_0", "Q5_0", "Q5_1", "Q4_0", "Q4_1"}


def llama_ftype(name: str) -> int:
    import llama_cpp

    const = f"LLAMA_FTYPE_MOSTLY_{name.upper()}" if name.upper() not in ("F32",) else "LLAMA_FTYPE_ALL_F32"
    if not hasattr(llama_cpp, const):
        known = sorted(k[len("LLAMA_FTYPE_MOSTLY_"):] for k in dir(llama_cpp) if k.startswith("LLAMA_FTYPE_MOSTLY_"))
        raise ValueError(f"unknown quantization {name!r}; llama.cpp knows {', '.join(known)}")
    return int(getattr(llama_cpp, const))


def quantize_llm(src: Path, dst: Path, qtype: str = "Q8_0", n_threads: int = 0) -> Path:
    """Quantize a language-model GGUF with llama.cpp (`llama_model_quantize`)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_ftype(qtype)
    params.nthread = n_threads
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0 or not Path(dst).is_file():
        raise RuntimeError(f"llama.cpp could not quantize {src} to {qtype} (code {rc}); see its log above")
    return Path(dst)


def _projector_target(name: str, data: np.ndarray, qtype: gguf.GGMLQuantizationType) -> gguf.GGMLQuantizationType:
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if ".conv1d." in name and name.endswith(".weight"):
        return gguf.GGMLQuantizationType.F16
    if data.ndim < 2 or name.endswith(".bias") or "position_embd" in name:
        return gguf.GGMLQuantizationType.F32  # added, not multiplied: ggml's CPU add needs F32 here
    if data.shape[-1] % block:
        return gguf.GGMLQuantizationType.F16
    return qtype


def quantize_projector(src: Path, dst: Path, qtype: str = "Q8_0") -> Path:
    """Requantize an F32/F16 mmproj GGUF with gguf-py (see the module docstring for which tensors)."""
    qtype = qtype.upper()
    if qtype not in _PROJECTOR_TYPES:
        raise ValueError(f"projector quantization {qtype!r} is not supported; use one of {sorted(_PROJECTOR_TYPES)}")
    target = gguf.GGMLQuantizationType[qtype]
    reader = gguf.GGUFReader(str(src))
    arch = reader.fields["general.architecture"].contents()
    if arch != "clip":
        raise ValueError(f"{src} is not an mmproj GGUF (architecture {arch!r})")
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(dst), arch=arch)
    copy_metadata(w, reader, int(gguf.LlamaFileType[f"MOSTLY_{qtype}"] if qtype != "F32" else gguf.LlamaFileType.ALL_F32))
    for t in reader.tensors:
        # gguf's reader gives numpy shape in reverse ggml order for plain types
        data = gguf.quants.dequantize(t.data, t.tensor_type).reshape(tuple(int(d) for d in reversed(t.shape)))
        kind = _projector_target(t.name, data, target)
        if kind == gguf.GGMLQuantizationType.F32:
            w.add_tensor(t.name, data.astype(np.float32))
        elif kind == gguf.GGMLQuantizationType.F16:
            w.add_tensor(t.name, data.astype(np.float16))
        else:
            q = gguf.quants.quantize(data.astype(np.float32), kind)
            w.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return Path(dst)
