"""The stage-3 learning curve: mean training reward per route and step, held-out rewards before/after (PNG)."""

from __future__ import annotations

import json
from pathlib import Path

from training.rl.route import ROUTES


def plot_learning_curve(metrics_jsonl: Path, png: Path, before: dict | None = None, after: dict | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in Path(metrics_jsonl).read_text().splitlines() if line.strip()]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.6))
    for r, color in zip(ROUTES, ("tab:blue", "tab:orange"), strict=True):
        steps = [m["step"] for m in rows if m.get(f"reward_{r}") == m.get(f"reward_{r}")]  # NaN != NaN
        vals = [m[f"reward_{r}"] for m in rows if m.get(f"reward_{r}") == m.get(f"reward_{r}")]
        ax.plot(steps, vals, ".-", color=color, alpha=0.5, label=f"{r} (training samples)")
        k = max(1, len(vals) // 5)
        if len(vals) >= k:  # moving mean over ~a fifth of the run
            smooth = [sum(vals[max(0, i - k + 1):i + 1]) / len(vals[max(0, i - k + 1):i + 1]) for i in range(len(vals))]
            ax.plot(steps, smooth, "-", color=color, linewidth=2)
        held = [(m["step"], m[f"heldout_{r}"]) for m in rows if m.get(f"heldout_{r}") is not None]
        if before and after:
            held = [(0, before[r]["mean_reward"]), *held, (rows[-1]["step"] if rows else 0, after[r]["mean_reward"])]
        if held:
            bx.plot([h[0] for h in held], [h[1] for h in held], "o-", color=color, label=r)
        bx.plot([m["step"] for m in rows], [m.get(f"weight_{r}") for m in rows], ":", color=color,
                label=f"route weight {r}")
    ax.set(xlabel="step", ylabel="mean reward", title="DR-SAPO training rewards")
    bx.set(xlabel="step", ylabel="reward / weight", title="held-out mean reward (greedy) and route weight")
    ax.legend(fontsize=7)
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png
