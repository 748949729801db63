"""The encoder pass and the feature cache, on the bundled faster-whisper tiny.en."""

import numpy as np
import pytest

from core.audio.pcm import SAMPLE_RATE, load_audio
from core.ear.pooling import stats_pool
from core.speech.encoder_pass import EncoderPass, valid_frames, window_frames
from training.ear.features import FeatureCache

SAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "assets" / "samples"


@pytest.fixture(scope="module")
def encoder():
    from faster_whisper import WhisperModel

    from core.models.bundled import require_bundled

    return EncoderPass(WhisperModel(str(require_bundled("asr")), device="cpu", compute_type="int8", cpu_threads=2))


def test_window_rule():
    assert window_frames(3 * SAMPLE_RATE) == 1000  # at least 10 s
    assert window_frames(7 * SAMPLE_RATE) == 1400  # twice the turn
    assert window_frames(20 * SAMPLE_RATE) == 3000  # never more than 30 s
    assert valid_frames(SAMPLE_RATE, 500) == 50  # 20 ms per encoder frame
    assert valid_frames(SAMPLE_RATE * 100, 500) == 500


def test_encoder_output_covers_the_turn(encoder):
    pcm = load_audio(SAMPLES / "hello.wav")
    out = encoder.encode(pcm)
    assert out.frames.shape == (window_frames(pcm.size) // 2, 384)  # tiny.en: 384 wide, stride 2
    assert out.n_valid == -(-pcm.size // 320)
    assert np.isfinite(out.frames).all() and out.frames.std() > 0.1


def test_a_prefetched_prefix_is_reused_and_other_audio_is_not(encoder):
    pcm = load_audio(SAMPLES / "tired.wav")
    first = encoder.encode(pcm)
    passes = encoder.passes
    padded = np.concatenate([pcm, np.zeros(SAMPLE_RATE // 2, np.float32)])
    assert encoder.encode(padded, reuse_prefix_s=1.0) is first
    assert encoder.passes == passes
    other = encoder.encode(padded)  # without reuse: its own pass
    assert other is not first and encoder.passes == passes + 1


def test_cache_hit_miss_stale_and_damaged(tmp_path, encoder):
    pcm = load_audio(SAMPLES / "worried.wav")
    cache = FeatureCache(tmp_path, encoder, "tiny.en|int8|v1")
    a = cache.get(pcm)
    assert (cache.misses, cache.hits) == (1, 0)
    out = encoder.encode(pcm)
    np.testing.assert_allclose(a.pooled, stats_pool(out.speech), rtol=1e-5)
    assert a.frames.shape == (out.n_valid, 384) and a.frames.dtype == np.float16
    b = cache.get(pcm)
    assert (cache.misses, cache.hits) == (1, 1)
    np.testing.assert_array_equal(a.pooled, b.pooled)
    cache.get(pcm, augment="noise:20dB")  # another view of the clip: another entry
    assert cache.misses == 2
    stale = FeatureCache(tmp_path, encoder, "tiny.en|int8|v2")  # the encoder changed: old entries do not apply
    stale.get(pcm)
    assert stale.misses == 1 and stale.hits == 0
    key = cache.key(pcm)
    cache.path(key).write_bytes(b"cut short")
    c = cache.get(pcm)  # damaged entry: recomputed, not an error
    np.testing.assert_allclose(c.pooled, a.pooled, rtol=1e-5)
    assert cache.misses == 3


def test_stem_features_are_cached_apart_and_joined_after_the_last_layer(tmp_path, encoder):
    from training.ear.features import JoinedCache
    from training.ear.stem import load_stem
    from training.model.whisper_ct2 import locate_ct2_whisper

    stem = load_stem(locate_ct2_whisper("tiny.en").folder, 1)
    last = FeatureCache(tmp_path, encoder, "tiny.en|int8|v1")
    own = FeatureCache(tmp_path, encoder, "tiny.en|int8|v1", stem)
    pcm = (0.1 * np.sin(np.linspace(0, 900, 2 * 16000))).astype(np.float32)
    assert own.key(pcm) != last.key(pcm)  # another feature space: never read for the other
    got = own.get(pcm)
    np.testing.assert_allclose(got.pooled, stats_pool(stem.speech_frames(encoder.features(pcm), pcm.size)), rtol=1e-6)
    assert got.pooled.shape == (768,) and not np.allclose(got.pooled, last.get(pcm).pooled, atol=1e-2)
    joined = JoinedCache(last, own).get(pcm)
    np.testing.assert_array_equal(joined.pooled, np.concatenate([last.get(pcm).pooled, own.get(pcm).pooled]))
    assert own.misses == 1 and own.hits >= 2
