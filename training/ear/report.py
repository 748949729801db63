"""The ear's evaluation report: tables in Markdown, the confusion matrix as a PNG beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.emotion.labels import EMOTIONS
from training.ear.metrics import Scores


def plot_confusion(scores: Scores, title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    idx = [EMOTIONS.index(lab) for lab in scores.labels]
    m = scores.confusion[np.ix_(idx, idx)].astype(float)
    rows = m / np.clip(m.sum(1, keepdims=True), 1, None)
    fig, ax = plt.subplots(figsize=(1.1 * len(idx) + 2, 1.0 * len(idx) + 1.5), dpi=110)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(idx)), scores.labels, rotation=40, ha="right")
    ax.set_yticks(range(len(idx)), scores.labels)
    ax.set_xlabel("heard")
    ax.set_ylabel("gold")
    for i in range(len(idx)):
        for j in range(len(idx)):
            ax.text(j, i, f"{rows[i, j]:.2f}\n({int(m[i, j])})", ha="center", va="center", fontsize=7,
                    color="white" if rows[i, j] > 0.5 else "black")
    ax.set_title(f"{title}\naccuracy {scores.accuracy:.1%}, n={scores.n}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def pct(x: float | None) -> str:
    return "-" if x is None or x != x else f"{100 * x:.1f} %"


def scores_table(rows: list[tuple[str, Scores]]) -> str:
    labels = list(EMOTIONS)
    out = ["| set | n | accuracy | macro-F1 | ECE | " + " | ".join(f"recall {lab}" for lab in labels) + " |",
           "|---|---:|---:|---:|---:|" + "---:|" * len(labels)]
    for name, s in rows:
        rec = " | ".join(pct(s.recall.get(lab)) for lab in labels)
        out.append(f"| {name} | {s.n} | {pct(s.accuracy)} | {pct(s.macro_f1)} | {s.ece:.3f} | {rec} |")
    return "\n".join(out)


def group_table(title: str, groups: dict[str, tuple[int, float]]) -> str:
    out = [f"| {title} | n | accuracy |", "|---|---:|---:|"]
    out += [f"| {g} | {n} | {pct(a)} |" for g, (n, a) in groups.items()]
    return "\n".join(out)
