"""The inputs that come from outside, as fuzzing targets: a strategy, the call, its documented errors.

Shared by the property tests (tests/unit/test_fuzz_inputs.py) and the benchmark that runs
them longer (bench/fuzz_inputs.py). Each target writes the generated input where the real
reader would find it and calls the real reader; the documented clear error is the only
exception allowed out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from core.audio.pcm import AudioFileError, load_audio
from core.emotion.eips import StreamParser, parse_reply
from core.models.manifest import ModelAssetError, load_manifest
from core.settings import SettingsError, load_settings

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20)
# Settings-shaped and manifest-shaped objects get past the first checks, so the deep ones are fuzzed too
_settings_like = st.fixed_dictionaries({}, optional={
    "schema_version": _json | st.integers(-5, 5), "engine": _json | st.dictionaries(
        st.sampled_from(["kind", "max_tokens", "temperature", "explicit_reasoning"]), _json),
    "safety": _json | st.fixed_dictionaries({"region": _json}), "audio": _json, "vad": _json, "tts": _json})
_manifest_like = st.fixed_dictionaries({"name": _json, "form": st.sampled_from(["adapter", "merged", "x"]) | _json}, optional={
    "format": st.just("cogaudio-model-manifest") | _json, "format_version": _json, "base_model": _json,
    "projector": _json, "adapter": _json, "labels": _json, "prompt_format_version": _json | st.integers(0, 3)})


def _as_file_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode("utf-8")


_RIFF = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data"
_audio_bytes = st.binary(max_size=2048) | st.binary(max_size=2048).map(lambda b: _RIFF + b) | st.binary(
    max_size=512).map(lambda b: b"fLaC" + b) | st.binary(max_size=512).map(lambda b: b"ID3\x03\x00" + b)


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy
    call: Callable[[object, Path], object]  # (generated input, scratch folder) -> result
    errors: tuple[type[BaseException], ...]  # the documented clear errors


def _audio(data: tuple[bytes, str], folder: Path):
    raw, suffix = data
    path = folder / f"input{suffix}"
    path.write_bytes(raw)
    audio = load_audio(path)
    assert audio.dtype.name == "float32" and audio.ndim == 1 and audio.size > 0
    return audio


def _settings(value, folder: Path):
    path = folder / "settings.json"
    path.write_bytes(_as_file_bytes(value))
    return load_settings(path)


def _eips(value: tuple[str, list[int]], folder: Path):
    text, cuts = value
    parsed = parse_reply(text)
    assert parsed.response  # there is always something to say
    parser, last = StreamParser(), 0
    for cut in sorted(c % (len(text) + 1) for c in cuts) + [len(text)]:
        list(parser.feed(text[last:cut]))
        last = cut
    list(parser.finish())
    return parsed


def _manifest(value, folder: Path):
    path = folder / "manifest.json"
    path.write_bytes(_as_file_bytes(value))
    return load_manifest(path)


_eips_text = st.lists(st.sampled_from(["Emotion:", "Intent:", "Psychology:", "Strategy:", "Response:", "\n",
                                       "[sad, high]", "sad", " ", "Response: hi", "::"]) | st.text(max_size=30),
                      max_size=12).map("".join)

TARGETS = [
    Target("audio reader", st.tuples(_audio_bytes, st.sampled_from([".wav", ".flac", ".mp3", ".ogg", ".bin", ""])),
           _audio, (AudioFileError,)),
    Target("settings loader", _settings_like | _json | st.binary(max_size=300), _settings, (SettingsError,)),
    Target("EIPS parser", st.tuples(_eips_text | st.text(max_size=400), st.lists(st.integers(0, 500), max_size=6)),
           _eips, ()),
    Target("manifest reader", _manifest_like | _json | st.binary(max_size=300), _manifest, (ModelAssetError,)),
]
