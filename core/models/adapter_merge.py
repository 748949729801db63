"""Fold a LoRA adapter GGUF into its base model once, and keep the merged GGUF in a cache.

Why: llama.cpp applies a LoRA adapter at run time as two extra matmuls, a scale and an add
for every adapted weight (7 per layer x 30 layers for the embedded model). On a 135M model on
a 2-core CPU those small ops cost more than the weights they adapt: measured with the
embedded adapter on SmolLM2-135M Q4_1, the first spoken sentence came 476 ms after the audio
with the adapter on top and 330 ms with the same weights merged (Q8_0). llama.cpp's own
`llama-export-lora` tool does this merge, but llama-cpp-python ships only the libraries, so
the merge is done here with gguf-py (dequantize, W + scale * B @ A, requantize) and numpy.

The merged file is derived data: it lives in the user cache directory, named by the sha256
of the base, the adapter and the scale, is written to a temporary file and renamed into place
(a crash or a full disk never leaves a half file under the final name), and is rebuilt when
either input changes. A small JSON beside it (size, architecture, width) spares the next start
a second parse of the model's vocabulary (~2 s in Python). Weights the adapter touches are stored as Q8_0 by default (lossless next
to the base's own 4-bit rounding); every other tensor is copied byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MERGE_FORMAT = 1  # bump when the merge changes, so that old cached files are not reused

_LORA_A, _LORA_B = ".lora_a", ".lora_b"


class AdapterMergeError(RuntimeError):
    """The adapter could not be merged; the message says why (the caller may apply it on top)."""


@dataclass(frozen=True)
class MergedModel:
    path: Path
    built: bool  # False: taken from the cache
    seconds: float
    arch: str
    n_embd: int


def merge_key(base: Path, adapter: Path, scale: float, qtype: str) -> str:
    h = hashlib.sha256()
    from core.models.manifest import sha256_file

    for part in (sha256_file(base), sha256_file(adapter), f"{float(scale):.6g}", qtype.upper(), str(MERGE_FORMAT)):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:24]


def copy_metadata(writer, reader, file_type: int | None = None, only: tuple[str, ...] | None = None) -> None:
    """Copy the key/values of `reader` to `writer` (all of them, or those starting with one of
    `only`; the GGUF.* header keys and the architecture are written by the writer itself);
    `file_type` replaces general.file_type when given."""
    import gguf

    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture" or (only and not key.startswith(only)):
            continue
        vtype = field.types[0]
        value = field.contents()
        if key == "general.file_type" and file_type is not None:
            value = int(file_type)
        writer.add_key_value(key, value, vtype, sub_type=field.types[1] if vtype == gguf.GGUFValueType.ARRAY else None)


def _lora_pairs(adapter) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float | None]:
    """{base tensor name: (A (r, n_in), B (n_out, r))} and the adapter's alpha."""
    import gguf

    if "adapter.type" not in adapter.fields or adapter.fields["adapter.type"].contents() != "lora":
        raise AdapterMergeError("the adapter GGUF is not a LoRA adapter (adapter.type != lora)")
    alpha_field = adapter.fields.get("adapter.lora.alpha")
    alpha = float(alpha_field.contents()) if alpha_field is not None else None
    halves: dict[str, dict[str, np.ndarray]] = {}
    for t in adapter.tensors:
        for suffix in (_LORA_A, _LORA_B):
            if t.name.endswith(suffix):
                data = gguf.quants.dequantize(t.data, t.tensor_type).reshape(tuple(int(d) for d in reversed(t.shape)))
                halves.setdefault(t.name[: -len(suffix)], {})[suffix] = data.astype(np.float32)
    pairs = {}
    for name, h in halves.items():
        if _LORA_A not in h or _LORA_B not in h:
            raise AdapterMergeError(f"the adapter has only one half of the LoRA pair for {name}")
        pairs[name] = (h[_LORA_A], h[_LORA_B])
    if not pairs:
        raise AdapterMergeError("the adapter GGUF holds no LoRA tensors")
    return pairs, alpha


def merge_adapter(base: Path, adapter: Path, dst: Path, scale: float = 1.0, qtype: str = "Q8_0") -> dict:
    """Write base + scale * (alpha / rank) * B @ A to `dst` (as llama.cpp scales an adapter);
    returns the model's architecture and width."""
    import gguf

    target = gguf.GGMLQuantizationType[qtype.upper()]
    base_r, lora_r = gguf.GGUFReader(str(base)), gguf.GGUFReader(str(adapter))
    pairs, alpha = _lora_pairs(lora_r)
    arch = base_r.fields["general.architecture"].contents()
    n_embd = int(base_r.fields[f"{arch}.embedding_length"].contents())
    tensors = {t.name: t for t in base_r.tensors}
    missing = sorted(set(pairs) - set(tensors))
    if missing:
        raise AdapterMergeError(f"the adapter adapts tensors the base model lacks: {', '.join(missing[:3])}")
    block = gguf.GGML_QUANT_SIZES[target][0]
    writer = gguf.GGUFWriter(str(dst), arch=arch)
    try:
        copy_metadata(writer, base_r)
        writer.add_key_value("cogaudio.merged_adapter", Path(adapter).name, gguf.GGUFValueType.STRING)
        for t in base_r.tensors:
            shape = tuple(int(d) for d in reversed(t.shape))  # numpy order: (n_out, n_in)
            if t.name not in pairs:
                # untouched: the stored bytes as they are, whatever their type
                plain = t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16)
                writer.add_tensor(t.name, t.data.reshape(shape) if plain else t.data,
                                  raw_shape=None if plain else t.data.shape, raw_dtype=None if plain else t.tensor_type)
                continue
            a, b = pairs[t.name]
            rank = a.shape[0]
            factor = float(scale) * ((alpha / rank) if alpha else 1.0)
            w = gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape).astype(np.float32)
            if b.shape[0] != w.shape[0] or a.shape[1] != w.shape[1]:
                raise AdapterMergeError(
                    f"LoRA shapes {b.shape}x{a.shape} do not fit {t.name} {w.shape}; the adapter is for another model"
                )
            w += factor * (b @ a)
            kind = target if w.shape[-1] % block == 0 else gguf.GGMLQuantizationType.F16
            if kind == gguf.GGMLQuantizationType.F16:
                writer.add_tensor(t.name, w.astype(np.float16))
            else:
                q = gguf.quants.quantize(w, kind)
                writer.add_tensor(t.name, q, raw_shape=q.shape, raw_dtype=kind)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return {"arch": arch, "n_embd": n_embd}


def merged_path(base: Path, adapter: Path, cache_dir: Path, scale: float = 1.0, qtype: str = "Q8_0") -> Path:
    """Where the merge of these inputs lives in `cache_dir` (named by their checksums)."""
    base, adapter = Path(base), Path(adapter)
    key = merge_key(base, adapter, scale, qtype)
    return Path(cache_dir) / f"{base.stem}+{adapter.stem}-{qtype.lower()}-{key}.gguf"


def cached_merge(dst: Path) -> dict | None:
    """The note of a complete merged file at `dst` (size, arch, n_embd), or None."""
    try:
        meta = json.loads(Path(dst).with_suffix(".json").read_text())
        if Path(dst).stat().st_size == meta["size"]:
            return meta
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not built yet, or half a previous attempt
    return None


def merged_model(base: Path, adapter: Path, cache_dir: Path, scale: float = 1.0, qtype: str = "Q8_0") -> MergedModel:
    """The cached merge of `adapter` into `base`, built on first use.

    Raises AdapterMergeError (bad adapter) or OSError (cache not writable, disk full); the
    caller then applies the adapter on top instead."""
    t0 = time.perf_counter()
    dst = merged_path(base, adapter, cache_dir, scale, qtype)
    found = cached_merge(dst)
    if found is not None:
        return MergedModel(dst, False, time.perf_counter() - t0, found["arch"], int(found["n_embd"]))
    info = dst.with_suffix(".json")  # written before the GGUF is renamed into place
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dst.stem + ".", suffix=".part", dir=dst.parent)
    os.close(fd)
    try:
        meta = merge_adapter(base, adapter, Path(tmp), scale, qtype)
        meta["size"] = Path(tmp).stat().st_size
        _write_atomically(info, json.dumps(meta))
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _drop_older(dst)
    return MergedModel(dst, True, time.perf_counter() - t0, meta["arch"], meta["n_embd"])


def _drop_older(dst: Path) -> None:
    """Remove earlier merges of the same base and adapter names (a retrained adapter would
    otherwise leave ~145 MB behind each time); merges of other models stay."""
    family = dst.name[: -len(".gguf")].rsplit("-", 1)[0] + "-"
    for old in dst.parent.glob(f"{family}*"):
        if old.stem != dst.stem and not old.name.endswith(".part"):
            old.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
