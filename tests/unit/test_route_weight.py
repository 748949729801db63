"""The DR-SAPO route weight: the formula of docs/training.md, its update and its state."""

from __future__ import annotations

import math

import pytest

from training.rl.route import RouteWeight


def test_equal_averages_give_equal_weights_and_weights_sum_to_one():
    w = RouteWeight().weights()
    assert w["explicit"] == pytest.approx(0.5) and w["direct"] == pytest.approx(0.5)


def test_the_lagging_route_gets_the_weight_given_by_the_softmax_of_residuals():
    rw = RouteWeight(tau=0.25, w_min=0.1, averages={"explicit": 0.8, "direct": 0.4})
    w = rw.weights()
    soft = math.exp(0.6 / 0.25) / (math.exp(0.2 / 0.25) + math.exp(0.6 / 0.25))  # direct lags: residual 0.6
    assert w["direct"] == pytest.approx(0.1 + 0.8 * soft)
    assert w["explicit"] + w["direct"] == pytest.approx(1.0)
    assert w["direct"] > 0.5


def test_the_floor_keeps_both_routes_alive_and_a_large_tau_gives_halves():
    w = RouteWeight(tau=0.01, w_min=0.1, averages={"explicit": 1.0, "direct": -1.0}).weights()
    assert w["explicit"] == pytest.approx(0.1, abs=1e-9) and w["direct"] == pytest.approx(0.9, abs=1e-9)
    w = RouteWeight(tau=1e6, averages={"explicit": 1.0, "direct": 0.0}).weights()
    assert w["explicit"] == pytest.approx(0.5, abs=1e-5)


def test_update_is_an_ema_that_ignores_missing_rewards_and_state_round_trips():
    rw = RouteWeight(alpha=0.5, r0=0.5)
    rw.update({"explicit": 1.0, "direct": None})
    assert rw.averages == {"explicit": 0.75, "direct": 0.5}
    rw.update({"explicit": float("nan"), "direct": 0.0})
    assert rw.averages == {"explicit": 0.75, "direct": 0.25}
    again = RouteWeight(alpha=0.5)
    again.load(rw.state())
    assert again.weights() == rw.weights()
    # following the rewards: once the direct route catches up, the weights go back toward halves
    gap_before = abs(rw.weights()["direct"] - 0.5)
    rw.update({"explicit": 0.75, "direct": 0.75})
    assert abs(rw.weights()["direct"] - 0.5) < gap_before


@pytest.mark.parametrize("kw", [{"alpha": 0}, {"tau": 0}, {"w_min": 0.5}])
def test_bad_settings_are_refused(kw):
    with pytest.raises(ValueError):
        RouteWeight(**kw)
