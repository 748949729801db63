"""The SAPO loss and group advantages against values worked out by hand (math module, not the code under test)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from training.rl.sapo import ADV_EPS, group_advantages, sapo_gate, sapo_loss  # noqa: E402


def _f(r: float, tau: float) -> float:
    return 4 / tau / (1 + math.exp(-tau * (r - 1)))


def test_gate_is_two_over_tau_at_ratio_one_with_unit_slope_and_is_bounded():
    assert float(sapo_gate(torch.tensor(1.0), 1.0)) == pytest.approx(2.0)
    assert float(sapo_gate(torch.tensor(1.0), 2.0)) == pytest.approx(1.0)
    assert float(sapo_gate(torch.tensor(1.5), 1.0)) == pytest.approx(2.4898373, rel=1e-6)
    assert float(sapo_gate(torch.tensor(0.5), 1.05)) == pytest.approx(4 / 1.05 / (1 + math.exp(0.525)), rel=1e-6)
    r = torch.tensor(1.0, requires_grad=True)
    sapo_gate(r, 1.3).backward()
    assert float(r.grad) == pytest.approx(1.0)
    # soft, not clipped: far off-policy ratios still give a finite, bounded weight
    assert float(sapo_gate(torch.tensor(50.0), 1.0)) == pytest.approx(4.0, rel=1e-6)
    assert float(sapo_gate(torch.tensor(0.0), 1.0)) < float(sapo_gate(torch.tensor(0.5), 1.0))


def test_loss_matches_the_hand_computed_value_with_separate_temperatures():
    logp = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -1.5, -0.25]])
    old = torch.tensor([[-1.2, -2.0, -1.0], [-0.5, -1.0, -0.5]])
    adv = torch.tensor([1.0, -0.5])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    loss, stats = sapo_loss(logp, old, adv, mask, tau_pos=1.0, tau_neg=1.05)
    r0 = [math.exp(0.2), 1.0]  # third token masked
    r1 = [1.0, math.exp(-0.5), math.exp(0.25)]
    seq0 = sum(-_f(r, 1.0) * 1.0 for r in r0) / 2
    seq1 = sum(-_f(r, 1.05) * -0.5 for r in r1) / 3
    assert float(loss) == pytest.approx((seq0 + seq1) / 2, rel=1e-6)
    assert stats.kl == 0.0


def test_on_policy_gradient_is_the_plain_policy_gradient_per_token():
    logp = torch.tensor([[-1.0, -2.0, -3.0], [-0.5, -1.5, -0.25]], requires_grad=True)
    adv = torch.tensor([0.8, -1.2])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    loss, _ = sapo_loss(logp, logp.detach(), adv, mask, tau_pos=1.0, tau_neg=2.0)
    loss.backward()
    expected = torch.tensor([[-0.8 / 2, -0.8 / 2, 0.0], [1.2 / 3, 1.2 / 3, 1.2 / 3]]) / 2  # / B
    assert torch.allclose(logp.grad, expected, atol=1e-6)


def test_kl_term_is_the_k3_estimator_weighted_by_beta():
    logp = torch.tensor([[-1.0, -2.0]])
    ref = torch.tensor([[-1.5, -1.0]])
    mask = torch.ones(1, 2)
    base, _ = sapo_loss(logp, logp, torch.tensor([0.0]), mask)
    with_kl, stats = sapo_loss(logp, logp, torch.tensor([0.0]), mask, ref_logp=ref, beta=0.1)
    k3 = [math.exp(d) - d - 1 for d in (-0.5, 1.0)]
    assert float(base) == pytest.approx(0.0, abs=1e-7)
    assert float(with_kl) == pytest.approx(0.1 * sum(k3) / 2, rel=1e-6)
    assert stats.kl == pytest.approx(sum(k3) / 2, rel=1e-6)
    # off-policy, the KL is weighted by the token ratio (or not, when the correction is off)
    old = logp + torch.tensor([[0.5, -0.25]])
    ratios = [math.exp(-0.5), math.exp(0.25)]
    corrected, _ = sapo_loss(logp, old, torch.tensor([0.0]), mask, ref_logp=ref, beta=0.1)
    plain, _ = sapo_loss(logp, old, torch.tensor([0.0]), mask, ref_logp=ref, beta=0.1, kl_ratio_correction=False)
    # advantage 0: only the KL term is left (the gate times 0)
    assert float(corrected) == pytest.approx(0.1 * sum(k * r for k, r in zip(k3, ratios, strict=True)) / 2, rel=1e-6)
    assert float(plain) == pytest.approx(0.1 * sum(k3) / 2, rel=1e-6)


def test_group_advantages_normalise_within_each_group_and_skip_unscored_samples():
    adv = group_advantages([1.0, 2.0, 3.0, None, 5.0, 5.0, 5.0, 5.0], group_size=4)
    s = 1 + ADV_EPS  # unbiased std of (1, 2, 3) is 1
    assert adv.tolist() == pytest.approx([-1 / s, 0.0, 1 / s, 0.0, 0.0, 0.0, 0.0, 0.0], abs=1e-6)
    assert group_advantages([None, 4.0, None, None], 4).tolist() == [0.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="groups of 4"):
        group_advantages([1.0, 2.0, 3.0], 4)
