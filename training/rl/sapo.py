"""The SAPO loss of stage 3, in one place: group-normalised advantages and the soft token gate.

SAPO (Soft Adaptive Policy Optimization, Gao et al. 2025) replaces PPO/GRPO's hard clip of the
importance ratio r = pi_theta / pi_old with a smooth, temperature-controlled gate per token:

    f_tau(r) = sigmoid(tau * (r - 1)) * 4 / tau          (f(1) = 2 / tau, f'(1) = 1)
    loss_t   = - f_tau(r_t) * A                           tau = tau_pos if A > 0 else tau_neg
    loss     = mean over sequences of (sum_t mask * loss_t / sum_t mask)   (+ beta * KL_t inside)

so an on-policy token gets exactly the policy gradient A * grad log pi, and a token whose
ratio drifts away from 1 is attenuated smoothly instead of being cut off. tau_neg > tau_pos
damps negative-advantage updates faster (the paper's stability finding). Advantages are the
rewards normalised within a group (one prompt, one route, G samples): (R - mean) / (std + eps),
with torch's unbiased std, as TRL's GRPOTrainer does with scale_rewards="group". A sample
whose reward could not be computed (None) gets advantage 0 and is left out of its group's
mean and std. The optional KL term is the k3 estimator against the stage-2 model,
exp(ref - logp) - (ref - logp) - 1, times the ratio r when `kl_ratio_correction` (the
unbiased estimate under off-policy samples of DeepSeek-V3.2; TRL's `use_bias_correction_kl`,
on by default there and here), also as TRL computes it.

tests/unit/test_sapo.py checks these against hand-computed tensors, and
tests/integration/test_sapo_trl_parity.py against TRL's GRPOTrainer(loss_type="sapo").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

ADV_EPS = 1e-4  # TRL's epsilon in (R - mean) / (std + eps)


def sapo_gate(ratio: torch.Tensor, tau: float) -> torch.Tensor:
    """f_tau(r) = sigmoid(tau (r - 1)) * 4 / tau."""
    return torch.sigmoid(tau * (ratio - 1.0)) * (4.0 / tau)


def group_advantages(rewards: list[float | None], group_size: int) -> torch.Tensor:
    """Advantages of consecutive groups of `group_size` rewards; None rewards get 0 and are left out."""
    if len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    out = torch.zeros(len(rewards), dtype=torch.float32)
    for g in range(0, len(rewards), group_size):
        idx = [i for i in range(g, g + group_size) if rewards[i] is not None]
        if len(idx) < 2:
            continue  # one scored sample has nothing to be compared with
        r = torch.tensor([rewards[i] for i in idx], dtype=torch.float32)
        a = (r - r.mean()) / (r.std() + ADV_EPS)
        out[idx] = a
    return out


@dataclass
class SapoStats:
    loss: float
    pg_loss: float
    kl: float
    gate_mean: float
    ratio_mean: float


def sapo_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
              tau_pos: float = 1.0, tau_neg: float = 1.05, ref_logp: torch.Tensor | None = None,
              beta: float = 0.0, kl_ratio_correction: bool = True) -> tuple[torch.Tensor, SapoStats]:
    """SAPO loss of a batch of completions.

    logp, old_logp, ref_logp, mask: (B, T) per-token log-probs of the sampled tokens and the
    completion mask; advantages: (B,). Returns the scalar loss and detached statistics."""
    mask = mask.to(logp.dtype)
    ratio = torch.exp(logp - old_logp)
    adv = advantages.to(logp.dtype).unsqueeze(1).expand_as(logp)
    pos = adv > 0
    gate = torch.where(pos, sapo_gate(ratio, tau_pos), sapo_gate(ratio, tau_neg))
    per_token = -gate * adv
    kl = torch.zeros_like(logp)
    if beta and ref_logp is not None:
        d = ref_logp - logp
        kl = torch.exp(d) - d - 1.0
        if kl_ratio_correction:
            kl = kl * ratio
        per_token = per_token + beta * kl
    lengths = mask.sum(-1).clamp(min=1.0)
    loss = ((per_token * mask).sum(-1) / lengths).mean()
    with torch.no_grad():
        n = mask.sum().clamp(min=1.0)
        stats = SapoStats(loss=float(loss), pg_loss=float(((-gate * adv) * mask).sum(-1).div(lengths).mean()),
                          kl=float((kl * mask).sum() / n), gate_mean=float((gate * mask).sum() / n),
                          ratio_mean=float((ratio * mask).sum() / n))
    return loss, stats
