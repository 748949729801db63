"""The speaker baseline: its statistics against numpy's, reset, and the profile file."""

import json

import numpy as np
import pytest

from core.ear.baseline import VoiceBaseline


def _prior(d=4):
    return np.array([1.0, -2.0, 0.5, 3.0])[:d], np.array([4.0, 1.0, 0.25, 9.0])[:d]


def test_no_turns_reads_against_the_population():
    mu0, var0 = _prior()
    b = VoiceBaseline(mu0, var0, k=3)
    x = np.array([3.0, -1.0, 1.0, 6.0])
    np.testing.assert_allclose(b.normalise(x), (x - mu0) / np.sqrt(var0 + 1e-4), rtol=1e-5)


def test_many_turns_converge_to_the_speakers_own_statistics():
    mu0, var0 = _prior()
    rng = np.random.default_rng(0)
    voice = rng.normal([10, 0, 5, -3], [2, 0.5, 1, 3], size=(4000, 4))
    b = VoiceBaseline(mu0, var0, k=3)
    for x in voice:
        b.add(x)
    mu, var = b.stats()
    np.testing.assert_allclose(mu, voice.mean(0), rtol=0.01, atol=0.01)
    np.testing.assert_allclose(var, voice.var(0), rtol=0.02)


def test_prior_blend_matches_the_formula_for_two_turns():
    mu0, var0 = _prior()
    k = 2.0
    xs = np.array([[2.0, 0.0, 1.0, 1.0], [4.0, -4.0, 0.0, 5.0]])
    b = VoiceBaseline(mu0, var0, k=k)
    for x in xs:
        b.add(x)
    mu, var = b.stats()
    want_mu = (k * mu0 + xs.sum(0)) / (k + 2)
    want_var = (k * (var0 + (mu0 - want_mu) ** 2) + ((xs - want_mu) ** 2).sum(0)) / (k + 2)
    np.testing.assert_allclose(mu, want_mu)
    np.testing.assert_allclose(var, want_var)


def test_observe_adds_then_reads_and_reset_forgets():
    mu0, var0 = _prior()
    b = VoiceBaseline(mu0, var0, k=1)
    x = np.array([5.0, 5.0, 5.0, 5.0])
    z = b.observe(x)
    assert b.n == 1
    mu, var = b.stats()
    np.testing.assert_allclose(z, (x - mu) / np.sqrt(var + 1e-4), rtol=1e-5)
    b.reset()
    assert b.n == 0 and not b.sum_x.any()


def test_wrong_width_is_refused():
    b = VoiceBaseline(*_prior())
    with pytest.raises(ValueError, match="expects 4"):
        b.add(np.zeros(3))


def test_profile_round_trip_holds_statistics_only(tmp_path):
    mu0, var0 = _prior()
    b = VoiceBaseline(mu0, var0)
    for x in np.random.default_rng(1).normal(size=(5, 4)):
        b.add(x)
    path = b.save(tmp_path / "profile" / "voice-baseline.json", encoder="whisper-tiny.en")
    data = json.loads(path.read_text())
    assert set(data) == {"format", "version", "encoder", "n", "sum_x", "sum_x2"}  # no audio, no frames
    c = VoiceBaseline(mu0, var0)
    assert c.load(path, encoder="whisper-tiny.en")
    assert c.n == 5
    np.testing.assert_allclose(c.stats()[0], b.stats()[0])
    d = VoiceBaseline(mu0, var0)
    assert not d.load(path, encoder="whisper-base")  # another encoder's statistics do not apply
    assert d.n == 0


def test_damaged_profile_is_ignored(tmp_path):
    path = tmp_path / "voice-baseline.json"
    path.write_text('{"format": "cogaudio-voice-baseline", "encoder": "e", "n": 2, "sum_x": [1, 2]')
    b = VoiceBaseline(*_prior())
    assert not b.load(path, encoder="e")
    assert not b.load(tmp_path / "missing.json", encoder="e")
    assert b.n == 0
