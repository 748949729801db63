"""CTranslate2 Whisper files -> transformers WhisperEncoder, on tiny models the test converts with
CTranslate2's own converter: weights back as they went in, and the same output as CTranslate2's
own encoder on the full 30 s window and on a short one."""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ctranslate2 = pytest.importorskip("ctranslate2")

from tests.helpers.ct2_files import tiny_ct2_whisper, tiny_hf_whisper, write_model_bin  # noqa: E402
from training.model.ct2_reader import CT2FormatError  # noqa: E402
from training.model.whisper_ct2 import ct2_model_dir, encode_window, load_whisper_encoder, locate_ct2_whisper  # noqa: E402


@pytest.fixture(scope="module")
def hf():
    return tiny_hf_whisper()


@pytest.fixture(scope="module")
def converted(hf, tmp_path_factory):
    root = tmp_path_factory.mktemp("ct2")
    return {q: tiny_ct2_whisper(hf, root / q, q) for q in ("float32", "float16", "int8")}


def _mel(frames: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 80, frames, generator=g) * 0.5


def _frame_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize(("quant", "tol"), [("float32", 1e-7), ("float16", 2e-3), ("int8", 1.5e-2)])
def test_weights_come_back_as_the_original_encoder_holds_them(hf, converted, quant, tol):
    enc = load_whisper_encoder(f"ct2:{converted[quant]}")
    want = hf.model.encoder.state_dict()
    got = enc.state_dict()
    assert set(got) == set(want)
    for name, value in want.items():
        scale = value.abs().max().item()
        assert (got[name] - value).abs().max().item() <= tol * scale + 1e-7, name
    c = enc.config
    assert (c.d_model, c.encoder_layers, c.encoder_attention_heads, c.encoder_ffn_dim, c.num_mel_bins) == (64, 2, 4, 128, 80)


@pytest.mark.parametrize("frames", [3000, 1000, 400])
def test_same_output_as_ctranslate2_encode(converted, frames):
    folder = converted["float32"]
    enc = load_whisper_encoder(f"ct2:{folder}")
    mel = _mel(frames, frames)
    ct2 = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
    theirs = np.array(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy()), to_cpu=True))
    with torch.no_grad():
        ours = encode_window(enc, mel).numpy()
    assert ours.shape == theirs.shape == (1, frames // 2, 64)
    assert _frame_cosines(ours, theirs).min() > 0.9999
    if frames == 3000:  # the window helper is the transformers forward at full length
        with torch.no_grad():
            full = enc(mel).last_hidden_state.numpy()
        np.testing.assert_allclose(ours, full, atol=1e-5)
        with torch.no_grad():  # and so are the per-layer states a layer-mix probe reads
            want = enc(mel, output_hidden_states=True).hidden_states
            got = encode_window(enc, mel, hidden_states=True)
        assert len(got) == len(want) == 3
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g.numpy(), w.numpy(), atol=1e-5)


def test_encode_window_refuses_odd_or_too_long_windows(converted):
    enc = load_whisper_encoder(f"ct2:{converted['float32']}")
    for frames in (999, 3002):
        with pytest.raises(ValueError, match=f"{frames} frames"):
            encode_window(enc, _mel(frames))


def test_a_model_cut_in_parts_loads_and_is_joined_once_for_ctranslate2(converted, tmp_path):
    whole = (converted["int8"] / "model.bin").read_bytes()
    folder = tmp_path / "split"
    folder.mkdir()
    for i, (a, b) in enumerate([(0, 1000), (1000, len(whole))], start=1):
        (folder / f"model.bin.part{i}").write_bytes(whole[a:b])
    for side in ("config.json", "vocabulary.json"):
        (folder / side).write_bytes((converted["int8"] / side).read_bytes())
    assert len(locate_ct2_whisper(f"ct2:{folder}").parts) == 2
    a = load_whisper_encoder(f"ct2:{folder}").state_dict()
    b = load_whisper_encoder(f"ct2:{converted['int8']}").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in b)
    joined = ct2_model_dir(f"ct2:{folder}", cache_dir=tmp_path / "cache")
    assert (joined / "model.bin").read_bytes() == whole and (joined / "config.json").is_file()
    assert ct2_model_dir(f"ct2:{folder}", cache_dir=tmp_path / "cache") == joined  # cached
    ctranslate2.models.Whisper(str(joined), device="cpu")  # CTranslate2 itself loads the joined file


def test_wrong_architecture_and_truncated_files_name_the_file(converted, tmp_path):
    other = tmp_path / "translator"
    other.mkdir()
    write_model_bin(other / "model.bin", "TransformerSpec", {"encoder/layer_0/ffn/linear_0/weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(CT2FormatError, match=re.escape(str(other / "model.bin")) + ".*TransformerSpec.*not a Whisper"):
        load_whisper_encoder(f"ct2:{other}")
    cut = tmp_path / "cut"
    cut.mkdir()
    whole = (converted["float16"] / "model.bin").read_bytes()
    (cut / "model.bin").write_bytes(whole[: len(whole) // 3])
    with pytest.raises(CT2FormatError, match=re.escape(str(cut / "model.bin")) + ".*truncated"):
        load_whisper_encoder(f"ct2:{cut}")
    with pytest.raises(FileNotFoundError, match="ct2:tiny.en, ct2:base or a folder"):
        load_whisper_encoder(f"ct2:{tmp_path / 'nothing-here'}")


def test_model_config_ct2_encoder_init_builds_the_pretrained_encoder(hf, converted):
    from training.model.cogaudio import build_encoder
    from training.model.config import ModelConfig

    enc = build_encoder(ModelConfig(encoder_init=f"ct2:{converted['float32']}"))
    assert torch.allclose(enc.layers[1].fc2.weight, hf.model.encoder.layers[1].fc2.weight)
    with pytest.raises(ValueError, match="takes 80 mel bins but n_mels is 128"):
        build_encoder(ModelConfig(encoder_init=f"ct2:{converted['float32']}", n_mels=128))


def test_tiny_faster_whisper_fixture_loads_in_faster_whisper(tmp_path):
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import get_ctranslate2_storage

    from tests.helpers.ct2_files import tiny_faster_whisper_dir

    folder = tiny_faster_whisper_dir(tmp_path / "fw")
    fw = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=1)
    mel = fw.feature_extractor(np.zeros(16000, np.float32), chunk_length=30)[:, :1000]
    mel = np.pad(mel, ((0, 0), (0, 1000 - mel.shape[1])), constant_values=mel.min())
    out = np.array(fw.model.encode(get_ctranslate2_storage(mel[None]), to_cpu=True))
    assert out.shape == (1, 500, 64) and np.isfinite(out).all() and out.std() > 0
