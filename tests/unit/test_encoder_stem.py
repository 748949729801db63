"""The ear's numpy encoder stem against transformers' WhisperEncoder on the installed tiny.en
weights, its trip through the head file, and the ear reading a turn through it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.ear.baseline import VoiceBaseline  # noqa: E402
from core.ear.ear import Ear  # noqa: E402
from core.ear.encoder_stem import EncoderStem, stem_mel_frames  # noqa: E402
from core.ear.head import EmotionHead, HeadError  # noqa: E402
from core.ear.pooling import stats_pool  # noqa: E402
from core.speech.encoder_pass import EncoderOutput  # noqa: E402
from training.ear.stem import load_stem  # noqa: E402
from training.model.whisper_ct2 import encode_window, load_whisper_encoder, locate_ct2_whisper  # noqa: E402


@pytest.fixture(scope="module")
def encoder():
    return load_whisper_encoder("tiny.en")


@pytest.fixture(scope="module")
def stem():
    return load_stem(locate_ct2_whisper("tiny.en").folder, 2)


def _mel(seconds: float, seed: int) -> tuple[np.ndarray, int]:
    """A turn's mel window as EncoderPass pads it (10 s at least), and the turn's sample count."""
    from faster_whisper.feature_extractor import FeatureExtractor

    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    t = np.arange(n) / 16000
    pcm = (0.2 * np.sin(2 * np.pi * (120 + 40 * rng.random()) * t * (1 + 0.1 * t)) + 0.02 * rng.standard_normal(n))
    mel = FeatureExtractor(feature_size=80)(pcm.astype(np.float32), chunk_length=30)
    window = max(1000, stem_mel_frames(n))
    mel = mel[:, :window]
    return np.pad(mel, ((0, 0), (0, window - mel.shape[1])), constant_values=mel.min()), n


@pytest.mark.parametrize("seconds", [0.5, 2.7, 12.3])
def test_stem_equals_whisper_encoder_layers(encoder, stem, seconds):
    mel, n = _mel(seconds, int(seconds * 10))
    got = stem.speech_frames(mel, n)
    frames = stem_mel_frames(n)
    with torch.no_grad():
        states = encode_window(encoder, torch.from_numpy(np.ascontiguousarray(mel[None, :, :frames])), hidden_states=True)
    want = states[2][0, : got.shape[0]].numpy()  # the output of the second layer
    assert got.shape == (min(frames // 2, -(-n // 320)), 384)
    cos = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert cos.min() > 0.999  # float16 weights against float32
    assert not np.allclose(got, states[1][0, : got.shape[0]].numpy(), atol=1e-2)  # not the first layer's output


def test_stem_rejects_bad_mel(stem):
    with pytest.raises(ValueError, match="even"):
        stem.forward(np.zeros((80, 101), np.float32))
    with pytest.raises(ValueError, match="80"):
        stem.forward(np.zeros((64, 100), np.float32))


def _head_with(stem: EncoderStem) -> EmotionHead:
    rng = np.random.default_rng(0)
    d = 2 * stem.dim
    return EmotionHead("whisper-tiny.en", rng.normal(size=d).astype(np.float32), np.ones(d, np.float32),
                       rng.normal(size=(7, d)).astype(np.float32), np.zeros(7, np.float32),
                       np.zeros((3, d), np.float32), np.zeros(3, np.float32), 2.0, 3.0, stem)


def test_head_file_carries_the_stem_and_the_ear_reads_through_it(stem, tmp_path):
    head = _head_with(stem)
    back = EmotionHead.load(head.save(tmp_path / "h.gguf"))
    assert back.stem is not None and back.stem.n_layers == 2 and back.stem.n_heads == stem.n_heads
    assert back.features == "whisper-tiny.en/layer2" and _head_with(stem).features != dataclasses.replace(head, stem=None).features
    for name, value in stem.tensors.items():  # stored as float16, which load_stem already rounded to
        np.testing.assert_array_equal(back.stem.tensors[name], value)
    mel, n = _mel(2.7, 1)
    last_layer = np.random.default_rng(2).normal(size=(500, 384)).astype(np.float32)
    out = EncoderOutput(last_layer, 135, mel, n)
    hearing = Ear(back).hear(out, back.baseline())
    z = back.baseline().observe(stats_pool(stem.speech_frames(mel, n)))
    assert hearing.probabilities["sad"] == pytest.approx(float(back.probabilities(z)[2]), abs=1e-4)
    with pytest.raises(ValueError, match="mel"):
        Ear(back).hear(EncoderOutput(last_layer, 135), VoiceBaseline(back.mu0, back.var0, 3.0))


def test_head_with_a_stem_of_the_wrong_width_is_refused(stem, tmp_path):
    head = dataclasses.replace(_head_with(stem), mu0=np.zeros(10, np.float32), var0=np.ones(10, np.float32),
                               w=np.zeros((7, 10), np.float32), wi=np.zeros((3, 10), np.float32))
    with pytest.raises(HeadError, match="wide"):
        EmotionHead.load(head.save(tmp_path / "bad.gguf"))


def test_head_reading_the_last_layer_and_the_stem(stem, tmp_path):
    rng = np.random.default_rng(5)
    d = 4 * stem.dim
    head = EmotionHead("whisper-tiny.en", rng.normal(size=d).astype(np.float32), np.ones(d, np.float32),
                       rng.normal(size=(7, d)).astype(np.float32), np.zeros(7, np.float32),
                       np.zeros((3, d), np.float32), np.zeros(3, np.float32), 2.0, 3.0, stem, True)
    back = EmotionHead.load(head.save(tmp_path / "joined.gguf"))
    assert back.stem_with_last and back.features == "whisper-tiny.en/last+layer2"
    mel, n = _mel(1.9, 4)
    last_layer = np.random.default_rng(6).normal(size=(500, 384)).astype(np.float32)
    out = EncoderOutput(last_layer, 95, mel, n)
    x = Ear(back).pooled(out)
    np.testing.assert_allclose(x[:768], stats_pool(last_layer[:95]), rtol=1e-6)
    np.testing.assert_allclose(x[768:], stats_pool(stem.speech_frames(mel, n)), rtol=1e-5)


def test_a_stem_of_whisper_base_equals_its_encoder_and_travels_as_an_extra_stem(stem, tmp_path):
    """The shipped head reads tiny.en's first layer and Whisper base's second (configs/ear.yaml:
    extra_stems): base's stem runs on the same mel frames and is stored after the first one."""
    base = load_stem("ct2:base", 2, "base")
    mel, n = _mel(2.7, 7)
    got = base.speech_frames(mel, n)
    frames = stem_mel_frames(n)
    with torch.no_grad():
        states = encode_window(load_whisper_encoder("base"), torch.from_numpy(np.ascontiguousarray(mel[None, :, :frames])),
                               hidden_states=True)
    want = states[2][0, : got.shape[0]].numpy()
    assert got.shape == (min(frames // 2, -(-n // 320)), 512)
    cos = (got * want).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert cos.min() > 0.999

    rng = np.random.default_rng(8)
    d = 2 * (stem.dim + base.dim)
    head = EmotionHead("whisper-tiny.en", rng.normal(size=d).astype(np.float32), np.ones(d, np.float32),
                       rng.normal(size=(7, d)).astype(np.float32), np.zeros(7, np.float32),
                       np.zeros((3, d), np.float32), np.zeros(3, np.float32), 2.0, 3.0, stem, extra_stems=(base,))
    back = EmotionHead.load(head.save(tmp_path / "two.gguf"))
    assert back.features == "whisper-tiny.en/layer2+base.layer2"
    assert [s.source for s in back.extra_stems] == ["base"] and back.extra_stems[0].n_heads == 8
    for name, value in base.tensors.items():
        np.testing.assert_array_equal(back.extra_stems[0].tensors[name], value)
    out = EncoderOutput(np.zeros((500, 384), np.float32), 135, mel, n)
    x = Ear(back).pooled(out)
    np.testing.assert_allclose(x[: 2 * stem.dim], stats_pool(stem.speech_frames(mel, n)), rtol=1e-5)
    np.testing.assert_allclose(x[2 * stem.dim:], stats_pool(got), rtol=1e-5)
    # a head whose extra stem is cut off (its key kept) is refused, not read with the wrong features
    short = dataclasses.replace(head, extra_stems=())
    path = short.save(tmp_path / "short.gguf")
    with pytest.raises(HeadError, match="wide"):
        EmotionHead.load(path)


def test_a_prefetched_turn_is_pooled_ahead_and_heard_the_same(stem, tmp_path):
    from concurrent.futures import Future

    from core.ear.listener import EarListener

    head = _head_with(stem)
    mel, n = _mel(2.7, 1)
    outputs = {}

    class Asr:  # the recogniser's encode: one EncoderOutput per turn, as EncoderPass keeps it
        def encode(self, pcm):
            return outputs.setdefault(len(pcm), EncoderOutput(np.ones((500, 384), np.float32), 135, mel, n))

    pcm = np.zeros(n, np.float32)
    ear = EarListener(head, None)
    prefetch: Future = Future()
    ear.warm_after(Asr(), pcm, prefetch)
    assert outputs == {}  # nothing before the transcript prefetch is done
    prefetch.set_result("transcript")
    out = outputs[n]
    assert (head.features, id(head.stem)) in out.memo
    cold = Ear(head).hear(EncoderOutput(out.frames, 135, mel, n), head.baseline())
    warm = ear.hear_turn(Asr(), pcm)
    assert warm.probabilities == cold.probabilities
    failed: Future = Future()
    ear.warm_after(Asr(), np.zeros(10, np.float32), failed)
    failed.set_exception(RuntimeError("decoder failed"))
    assert 10 not in outputs  # a failed prefetch pools nothing
