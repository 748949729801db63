"""CTranslate2 model files made by the tests themselves.

Two writers, on purpose: `tiny_ct2_whisper` uses CTranslate2's own converter and spec writer
(WhisperLoader + ModelSpec.save, the code that made the installed models), so the reader is
checked against the real format; `write_model_bin` packs the layout by hand (the same layout
model_spec.py writes) for what the converter cannot make: other architectures, old binary
versions, bfloat16, cut files.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

TYPE_IDS = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("int16"): 2, np.dtype("int32"): 3,
            np.dtype("float16"): 4}


def _string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def write_model_bin(path: Path, spec: str, variables: dict[str, np.ndarray], aliases: dict[str, str] | None = None,
                    revision: int = 1, version: int = 6, bf16: frozenset[str] = frozenset()) -> Path:
    """A model.bin in CTranslate2's binary layout. Names in `bf16` are float32 arrays stored as bfloat16."""
    out = [struct.pack("<I", version)]
    if version >= 2:
        out += [_string(spec), struct.pack("<I", revision)]
    out.append(struct.pack("<I", len(variables)))
    for name, value in sorted(variables.items()):
        value = np.array(value, order="C")  # (ascontiguousarray would make scalars 1-D)
        out += [_string(name), struct.pack("<B", value.ndim), struct.pack(f"<{value.ndim}I", *value.shape)]
        if name in bf16:
            data = (value.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes()
            out.append(struct.pack("<BI", 5, len(data)))
        else:
            data = value.tobytes()
            if version >= 4:
                out.append(struct.pack("<BI", TYPE_IDS[value.dtype], len(data)))
            else:
                out.append(struct.pack("<BI", value.dtype.itemsize, value.size))
        out.append(data)
    if version >= 3:
        aliases = aliases or {}
        out.append(struct.pack("<I", len(aliases)))
        for alias, target in aliases.items():
            out += [_string(alias), _string(target)]
    Path(path).write_bytes(b"".join(out))
    return Path(path)


def tiny_hf_whisper(seed: int = 0, d_model: int = 64, layers: int = 2, heads: int = 4, vocab: int = 64):
    """A randomly initialised transformers Whisper model, small enough to convert in a second."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(seed)
    cfg = WhisperConfig(
        vocab_size=vocab, num_mel_bins=80, d_model=d_model, encoder_layers=layers, encoder_attention_heads=heads,
        decoder_layers=1, decoder_attention_heads=heads, encoder_ffn_dim=2 * d_model, decoder_ffn_dim=2 * d_model,
        max_source_positions=1500, max_target_positions=32, decoder_start_token_id=1, pad_token_id=0,
        bos_token_id=1, eos_token_id=2, suppress_tokens=[], begin_suppress_tokens=[],
    )
    model = WhisperForConditionalGeneration(cfg).eval()
    with torch.no_grad():  # random, visible biases (transformers starts them at zero) and k_proj stays bias-free
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.1)
    return model


def tiny_ct2_whisper(model, out_dir: Path, quantization: str | None) -> Path:
    """`model` converted with CTranslate2's own WhisperLoader and saved with its own writer."""
    import copy

    from ctranslate2.converters.transformers import WhisperLoader

    # a copy: the spec shares memory with the torch weights, and int8 quantization scales them in place
    spec = WhisperLoader().get_model_spec(copy.deepcopy(model))
    spec.config.suppress_ids, spec.config.suppress_ids_begin = [], []
    spec.config.lang_ids, spec.config.alignment_heads = [], [(0, 0)]
    spec.register_vocabulary([f"<t{i}>" for i in range(model.config.vocab_size)])
    spec.validate()
    spec.optimize(quantization=quantization)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))
    return out_dir


def tiny_faster_whisper_dir(out_dir: Path, quantization: str = "int8", seed: int = 0) -> Path:
    """A tiny random Whisper that faster_whisper.WhisperModel loads (64 wide, 2 encoder layers):
    for tests of code that takes a WhisperModel (feature extractor + CTranslate2 encode) where
    the real tiny.en's numbers do not matter. The tokenizer is tiny.en's (decoding is meaningless)."""
    import shutil

    from training.model.whisper_ct2 import locate_ct2_whisper

    out = tiny_ct2_whisper(tiny_hf_whisper(seed), out_dir, quantization)
    shutil.copy(locate_ct2_whisper("tiny.en").folder / "tokenizer.json", out / "tokenizer.json")
    return out
