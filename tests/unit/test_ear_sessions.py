"""Replayed speaker sessions use the run-time baseline exactly."""

import numpy as np

from core.ear.baseline import VoiceBaseline
from training.ear.sessions import in_session, population_prior, single_turn


def test_in_session_replays_each_speaker_through_one_baseline():
    rng = np.random.default_rng(0)
    pooled = rng.normal(size=(9, 3))
    speakers = np.array(["a", "b", "a", "a", "b", "c", "a", "b", "c"])
    mu0, var0 = population_prior(pooled)
    prior = VoiceBaseline(mu0, var0, k=2)
    z, turn = in_session(pooled, speakers, prior, seed=5)
    assert sorted(turn[speakers == "a"].tolist()) == [1, 2, 3, 4]
    # replay speaker a by hand in the order the turn numbers give
    idx = np.flatnonzero(speakers == "a")
    order = idx[np.argsort(turn[idx])]
    base = prior.fresh()
    for i in order:
        np.testing.assert_allclose(z[i], base.observe(pooled[i]), rtol=1e-5)


def test_single_turn_is_a_session_of_one():
    pooled = np.random.default_rng(1).normal(size=(4, 3))
    prior = VoiceBaseline(np.zeros(3), np.ones(3), k=3)
    z = single_turn(pooled, prior)
    for i, x in enumerate(pooled):
        np.testing.assert_allclose(z[i], prior.fresh().observe(x), rtol=1e-5)
    assert prior.n == 0  # the prior itself is never changed


def test_short_sessions_restart_the_baseline():
    pooled = np.random.default_rng(2).normal(size=(10, 2))
    z, turn = in_session(pooled, np.array(["s"] * 10), VoiceBaseline(np.zeros(2), np.ones(2)), seed=0, max_turns=4)
    assert sorted(turn.tolist()) == [1, 1, 1, 2, 2, 2, 3, 3, 4, 4]
