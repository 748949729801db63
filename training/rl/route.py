"""The soft adaptive route weight of DR-SAPO: how much of each step's update goes to each route.

Every prompt is rolled out on both routes: explicit (the four EIPS steps, then the reply) and
direct (the emotion tag and the reply). Each route keeps an exponential moving average of
its recent mean reward (rewards are in [0, 1] before penalties, so 1 - average is how far
the route is from its goal, its *residual*). The weight of route k is a softmax over those
residuals with temperature tau, floored so no route is ever switched off:

    rbar_k <- (1 - alpha) * rbar_k + alpha * mean(R_k of this step)      (rbar_k = r0 at step 0)
    w_k     = exp((1 - rbar_k) / tau) / sum_j exp((1 - rbar_j) / tau)
    w_k     = w_min + (1 - 2 w_min) * w_k                                  (two routes)
    loss    = w_explicit * L_explicit + w_direct * L_direct

So the route that lags gets more of the update, and as it catches up the weights return to
1/2 each: the method's balance between logical rigour and empathy. tau -> infinity gives
fixed 1/2 weights; a small tau follows the gap sharply. The weight a step uses is computed
from the averages *before* that step's rewards, so it depends only on past steps, and the
state (two averages) is saved in every checkpoint so a resumed run continues with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ROUTES = ("explicit", "direct")


@dataclass
class RouteWeight:
    alpha: float = 0.3  # EMA rate of the recent mean reward
    tau: float = 0.25  # softmax temperature over the residuals
    w_min: float = 0.1  # floor of either route's weight
    r0: float = 0.5  # starting average of both routes
    averages: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1 or self.tau <= 0 or not 0 <= self.w_min < 0.5:
            raise ValueError("route weight needs 0 < alpha <= 1, tau > 0 and 0 <= w_min < 0.5")
        for r in ROUTES:
            self.averages.setdefault(r, self.r0)

    def weights(self) -> dict[str, float]:
        z = {r: (1.0 - self.averages[r]) / self.tau for r in ROUTES}
        m = max(z.values())
        e = {r: math.exp(v - m) for r, v in z.items()}
        s = sum(e.values())
        return {r: self.w_min + (1 - 2 * self.w_min) * e[r] / s for r in ROUTES}

    def update(self, mean_rewards: dict[str, float | None]) -> None:
        """Fold in this step's mean reward per route (None: the route had no scored sample)."""
        for r, v in mean_rewards.items():
            if v is not None and math.isfinite(v):
                self.averages[r] = (1 - self.alpha) * self.averages[r] + self.alpha * v

    def state(self) -> dict:
        return {"averages": dict(self.averages)}

    def load(self, state: dict) -> None:
        self.averages.update(state["averages"])
