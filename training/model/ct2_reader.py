"""Reader for CTranslate2 `model.bin` files: named numpy arrays, dequantized on request.

The faster-whisper models installed with the project (tiny.en, base) exist here only as
CTranslate2 files, and CTranslate2's Python package can write that format but not read it
back (its loader is C++ and keeps the weights to itself), so this module reads it.
The layout, as `ModelSpec._serialize` in python/ctranslate2/specs/model_spec.py writes it and
src/models/model.cc reads it (all integers little-endian):

    u32 binary_version                      (1..6; this reader knows all of them)
    str spec_name, u32 spec_revision        (binary_version >= 2)
    u32 n_variables, then per variable:
        str name, u8 rank, u32 dims[rank],
        u8 dtype_id, u32 n_bytes            (binary_version >= 4; before: u8 item_size, u32 n_items)
        n_bytes of data, C order
    u32 n_aliases, then per alias: str alias, str target    (binary_version >= 3)

where `str` is a u16 length (including a trailing NUL), the UTF-8 bytes and the NUL.
dtype ids follow include/ctranslate2/types.h: float32, int8, int16, int32, float16, bfloat16.

Quantized weights: a variable `<x>/weight` stored as int8 has a float32 `<x>/weight_scale`
with one value per output row (127 / row absmax), int16 a single scale; the float value is
`q / scale`. A model may be cut into several files (`model.bin.part1`, `.part2`): pass them
in order and they are read as one stream, with nothing written to disk.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_BINARY_VERSION = 6  # CURRENT_BINARY_VERSION of CTranslate2 4.x
# type ids of include/ctranslate2/types.h; bfloat16 is read as its raw 16 bits (numpy has none)
DTYPES: dict[int, np.dtype] = {0: np.dtype("<f4"), 1: np.dtype("i1"), 2: np.dtype("<i2"), 3: np.dtype("<i4"),
                               4: np.dtype("<f2"), 5: np.dtype("<u2")}
BFLOAT16 = 5
_ITEM_SIZE_DTYPES = {4: np.dtype("<f4"), 2: np.dtype("<i2"), 1: np.dtype("i1")}  # binary_version < 4
_MAX_NAME = 4096  # longer "names" mean the bytes are not a model.bin


class CT2FormatError(ValueError):
    """The file is not a readable CTranslate2 model.bin; the message names the file and the offset."""


class _Stream:
    """Several files read back to back as one byte stream, with a file name for every error."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValueError("no model file given")
        self.label = " + ".join(str(p) for p in self.paths)
        for p in self.paths:
            if not p.is_file():
                raise FileNotFoundError(f"CTranslate2 model file not found: {p}")
        self.size = sum(p.stat().st_size for p in self.paths)
        self.pos = 0
        self._i = 0
        self._fh = self.paths[0].open("rb")

    def read(self, n: int, what: str) -> bytes:
        if self.pos + n > self.size:
            raise CT2FormatError(
                f"{self.label}: truncated CTranslate2 model: {what} needs {n} bytes at offset {self.pos}, "
                f"but the file ends at {self.size}; the download or copy is incomplete, reinstall the model package")
        chunks = []
        while n:
            got = self._fh.read(n)
            if not got:  # this part is done: continue in the next one
                self._fh.close()
                self._i += 1
                self._fh = self.paths[self._i].open("rb")
                continue
            chunks.append(got)
            n -= len(got)
            self.pos += len(got)
        return b"".join(chunks)

    def seek(self, pos: int) -> None:
        """Continue reading at byte `pos` of the joined stream."""
        start = 0
        for i, p in enumerate(self.paths):
            size = p.stat().st_size
            if pos < start + size or i == len(self.paths) - 1:
                if i != self._i:
                    self._fh.close()
                    self._i, self._fh = i, p.open("rb")
                self._fh.seek(pos - start)
                self.pos = pos
                return
            start += size

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.read(struct.calcsize("<" + fmt), what))

    def string(self, what: str) -> str:
        (length,) = self.unpack("H", what)
        if length == 0 or length > _MAX_NAME:
            raise CT2FormatError(f"{self.label}: invalid string length {length} for {what} at offset {self.pos - 2}; "
                                 "this is not a CTranslate2 model.bin")
        raw = self.read(length, what)
        if raw[-1] != 0:
            raise CT2FormatError(f"{self.label}: {what} at offset {self.pos - length} is not NUL-terminated; "
                                 "this is not a CTranslate2 model.bin")
        return raw[:-1].decode("utf-8", errors="replace")

    def close(self) -> None:
        self._fh.close()


@dataclass
class CT2Model:
    """What a model.bin holds. `variables` are as stored (bfloat16 as raw uint16 bits)."""

    source: str  # the file name(s), for error messages
    binary_version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    dtypes: dict[str, int] = field(default_factory=dict)  # CTranslate2 type id per variable
    aliases: dict[str, str] = field(default_factory=dict)

    def _resolve(self, name: str) -> str:
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise KeyError(f"{self.source}: no variable {name!r} in this {self.spec or 'CTranslate2'} model")
        return name

    def __contains__(self, name: str) -> bool:
        return self.aliases.get(name, name) in self.variables

    def raw(self, name: str) -> np.ndarray:
        """The stored array of `name` (following aliases)."""
        return self.variables[self._resolve(name)]

    def scalar(self, name: str) -> int | float:
        return self.raw(name).reshape(-1)[0].item()

    def tensor(self, name: str) -> np.ndarray:
        """`name` as float32: int8/int16 weights divided by their `_scale`, float16/bfloat16 widened."""
        key = self._resolve(name)
        value, type_id = self.variables[key], self.dtypes[key]
        if type_id == BFLOAT16:
            return (value.astype(np.uint32) << 16).view(np.float32)
        if value.dtype.kind == "f":
            return value.astype(np.float32)
        if f"{name}_zero" in self:
            raise CT2FormatError(f"{self.source}: {name} is AWQ-quantized (has {name}_zero); only CTranslate2's own "
                                 "int8/int16 quantization can be read back: convert the model with --quantization float16")
        if f"{name}_scale" not in self:
            raise CT2FormatError(f"{self.source}: {name} is stored as {value.dtype} without {name}_scale, so it "
                                 "cannot be turned back into floats")
        scale = self.tensor(f"{name}_scale").astype(np.float32)
        if scale.ndim == 0 or scale.size == 1:  # int16: one scale for the whole matrix
            return value.astype(np.float32) / scale.reshape(())
        if scale.shape[0] != value.shape[0]:
            raise CT2FormatError(f"{self.source}: {name}_scale has {scale.shape[0]} rows for a weight of shape {value.shape}")
        # int8: one scale per output row (per output channel for a conv kernel)
        return value.astype(np.float32) / scale.reshape((-1,) + (1,) * (value.ndim - 1))


def read_model_bin(paths: Path | Sequence[Path], keep: Callable[[str], bool] | None = None) -> CT2Model:
    """Read a CTranslate2 model.bin (or its parts, in order). Variables for which `keep(name)` is
    false, and that no kept alias points at, are not loaded (e.g. a Whisper decoder when only the
    encoder is wanted; the converter may alias an encoder norm to an equal decoder one)."""
    stream = _Stream([paths] if isinstance(paths, (str, Path)) else list(paths))
    try:
        return _read(stream, keep)
    finally:
        stream.close()


def _read(s: _Stream, keep: Callable[[str], bool] | None) -> CT2Model:
    (version,) = s.unpack("I", "the binary version")
    if not 1 <= version <= MAX_BINARY_VERSION:
        raise CT2FormatError(f"{s.label}: binary version {version} is not a CTranslate2 model.bin version (1.."
                             f"{MAX_BINARY_VERSION}); the file is not a CTranslate2 model or comes from a newer release")
    spec, revision = "", 1
    if version >= 2:
        spec = s.string("the spec name")
        (revision,) = s.unpack("I", "the spec revision")
    model = CT2Model(s.label, version, spec, revision)
    (n_vars,) = s.unpack("I", "the variable count")
    index = []
    for _ in range(n_vars):
        name = s.string("a variable name")
        (rank,) = s.unpack("B", f"the rank of {name}")
        shape = s.unpack(f"{rank}I", f"the shape of {name}") if rank else ()
        if version >= 4:
            type_id, n_bytes = s.unpack("BI", f"the type of {name}")
            if type_id not in DTYPES:
                raise CT2FormatError(f"{s.label}: variable {name} has unknown type id {type_id}")
            dtype = DTYPES[type_id]
        else:
            item_size, n_items = s.unpack("BI", f"the type of {name}")
            if item_size not in _ITEM_SIZE_DTYPES:
                raise CT2FormatError(f"{s.label}: variable {name} has unknown item size {item_size}")
            dtype, n_bytes = _ITEM_SIZE_DTYPES[item_size], n_items * item_size
            type_id = {4: 0, 2: 2, 1: 1}[item_size]
        if n_bytes != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise CT2FormatError(f"{s.label}: variable {name} of shape {shape} and type {dtype} "
                                 f"declares {n_bytes} bytes (offset {s.pos})")
        if s.pos + n_bytes > s.size:
            s.read(n_bytes, f"the data of {name}")  # raises the truncation error
        index.append((name, shape, dtype, type_id, s.pos, n_bytes))
        s.seek(s.pos + n_bytes)  # data is loaded below, once the aliases say what is needed
    if version >= 3:
        (n_alias,) = s.unpack("I", "the alias count")
        for _ in range(n_alias):
            alias = s.string("an alias name")
            model.aliases[alias] = s.string(f"the target of alias {alias}")
    if s.pos != s.size:
        raise CT2FormatError(f"{s.label}: {s.size - s.pos} unexpected bytes after the end of the model at offset "
                             f"{s.pos}; the parts are in the wrong order, or this is not one CTranslate2 model")
    wanted = None
    if keep is not None:  # the kept names, and what their aliases point at (maybe outside the kept set)
        wanted = {n for n, *_ in index if keep(n)} | {t for a, t in model.aliases.items() if keep(a)}
    for name, shape, dtype, type_id, offset, n_bytes in index:
        if wanted is None or name in wanted:
            s.seek(offset)
            model.variables[name] = np.frombuffer(s.read(n_bytes, f"the data of {name}"), dtype=dtype).reshape(shape)
            model.dtypes[name] = type_id
    return model
