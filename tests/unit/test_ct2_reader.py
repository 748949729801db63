"""The CTranslate2 model.bin reader on files the test writes (tests/helpers/ct2_files.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.helpers.ct2_files import write_model_bin
from training.model.ct2_reader import CT2FormatError, read_model_bin


def _variables() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "enc/w32": rng.standard_normal((3, 5)).astype(np.float32),
        "enc/w16": rng.standard_normal((4, 2, 3)).astype(np.float16),
        "enc/ids": np.arange(7, dtype=np.int32),
        "enc/num_heads": np.array(6, dtype=np.int16),  # a rank-0 scalar, as WhisperEncoderSpec stores num_heads
        "enc/bf": np.array([1.0, -2.5, 0.15625, 2.0**100], dtype=np.float32),  # exact in bfloat16
    }


def test_reads_names_shapes_values_scalars_and_aliases(tmp_path):
    want = _variables()
    path = write_model_bin(tmp_path / "model.bin", "TestSpec", want, {"dec/w32": "enc/w32"}, revision=3,
                           bf16=frozenset({"enc/bf"}))
    m = read_model_bin(path)
    assert (m.binary_version, m.spec, m.revision) == (6, "TestSpec", 3)
    assert set(m.variables) == set(want)
    for name in ("enc/w32", "enc/w16", "enc/ids"):
        assert m.raw(name).dtype == want[name].dtype and np.array_equal(m.raw(name), want[name])
    assert m.scalar("enc/num_heads") == 6 and m.raw("enc/num_heads").shape == ()
    assert np.array_equal(m.tensor("enc/bf"), want["enc/bf"])  # bfloat16 widened bit for bit
    assert m.tensor("enc/w16").dtype == np.float32 and np.array_equal(m.tensor("enc/w16"), want["enc/w16"].astype(np.float32))
    assert "dec/w32" in m and np.array_equal(m.tensor("dec/w32"), want["enc/w32"])
    with pytest.raises(KeyError, match="no variable 'nope'"):
        m.raw("nope")


def test_int8_and_int16_weights_are_divided_by_their_scales(tmp_path):
    q8 = np.array([[127, -64, 0], [10, 20, -127]], dtype=np.int8)
    scale8 = np.array([127 / 0.5, 127 / 2.0], dtype=np.float32)  # row absmax 0.5 and 2.0
    conv = np.array([[[127, -127]], [[1, 2]]], dtype=np.int8)  # (out, in, k): one scale per output channel
    q16 = np.array([[1024, -512]], dtype=np.int16)
    path = write_model_bin(tmp_path / "model.bin", "TestSpec", {
        "lin/weight": q8, "lin/weight_scale": scale8, "conv/weight": conv,
        "conv/weight_scale": np.array([127.0, 2.0], dtype=np.float32),
        "big/weight": q16, "big/weight_scale": np.array(1024.0, dtype=np.float32),
        "bad/weight": q8,
    })
    m = read_model_bin(path)
    np.testing.assert_allclose(m.tensor("lin/weight"), [[0.5, -64 * 0.5 / 127, 0.0], [20 / 127, 40 / 127, -2.0]], rtol=1e-6)
    np.testing.assert_allclose(m.tensor("conv/weight"), [[[1.0, -1.0]], [[0.5, 1.0]]], rtol=1e-6)
    np.testing.assert_allclose(m.tensor("big/weight"), [[1.0, -0.5]], rtol=1e-6)
    with pytest.raises(CT2FormatError, match="bad/weight is stored as int8 without bad/weight_scale"):
        m.tensor("bad/weight")


@pytest.mark.parametrize("version", [1, 3, 4, 5])
def test_older_binary_versions(tmp_path, version):
    want = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([-3, 4], dtype=np.int16)}
    m = read_model_bin(write_model_bin(tmp_path / "model.bin", "OldSpec", want, version=version))
    assert m.spec == ("OldSpec" if version >= 2 else "")
    assert all(np.array_equal(m.raw(k), v) for k, v in want.items())


def test_parts_are_read_as_one_file_even_when_cut_inside_a_header(tmp_path):
    whole = write_model_bin(tmp_path / "model.bin", "TestSpec", _variables(), {"x": "enc/w32"}).read_bytes()
    cuts = [5, 40, len(whole) - 3]  # inside the spec name, inside a variable, inside the aliases
    parts = []
    for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(whole)], strict=True)):
        parts.append(tmp_path / f"model.bin.part{i + 1}")
        parts[-1].write_bytes(whole[a:b])
    one, split = read_model_bin(tmp_path / "model.bin"), read_model_bin(parts)
    assert split.aliases == one.aliases == {"x": "enc/w32"}
    assert all(np.array_equal(split.raw(k), v) for k, v in one.variables.items())
    with pytest.raises(CT2FormatError, match="unexpected bytes|invalid string length|not a CTranslate2"):
        read_model_bin(list(reversed(parts)))  # parts in the wrong order are refused, not misread


def test_skipped_variables_are_not_loaded_unless_a_kept_alias_needs_them(tmp_path):
    path = write_model_bin(tmp_path / "model.bin", "TestSpec", _variables(), {"keep/same": "enc/w32"})
    m = read_model_bin(path, keep=lambda n: n.startswith("keep/") or n.endswith("w16"))
    assert set(m.variables) == {"enc/w16", "enc/w32"}
    assert np.array_equal(m.tensor("keep/same"), _variables()["enc/w32"])


def test_truncated_file_is_refused_naming_the_file(tmp_path):
    whole = write_model_bin(tmp_path / "full.bin", "TestSpec", _variables()).read_bytes()
    for cut in (2, 12, len(whole) // 2, len(whole) - 1):
        path = tmp_path / f"cut{cut}.bin"
        path.write_bytes(whole[:cut])
        with pytest.raises(CT2FormatError) as err:
            read_model_bin(path)
        assert str(path) in str(err.value) and "truncated" in str(err.value)


def test_other_files_are_refused_naming_the_file(tmp_path):
    text = tmp_path / "notes.bin"
    text.write_text("this is not a model, just some text that happens to be long enough")
    with pytest.raises(CT2FormatError, match=re.escape(str(text)) + ".*not a CTranslate2"):
        read_model_bin(text)
    newer = write_model_bin(tmp_path / "newer.bin", "TestSpec", {"a": np.zeros(2, np.float32)}, version=7)
    with pytest.raises(CT2FormatError, match=re.escape(str(newer)) + ".*binary version 7"):
        read_model_bin(newer)
    with pytest.raises(FileNotFoundError, match="missing.bin"):
        read_model_bin(tmp_path / "missing.bin")
