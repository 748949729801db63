"""The Markdown report and bar plot of the reply evaluation (training/eval/reply_eval.py)."""

from __future__ import annotations

from pathlib import Path

ROWS = [("distinct_ratio", "distinct replies / turns", "{:.0%}"), ("distinct_2", "distinct-2", "{:.2f}"),
        ("relevance", "relevance (MiniLM cosine)", "{:.3f}"), ("reaction", "EPITOME reaction", "{:.2f}"),
        ("interpretation", "EPITOME interpretation", "{:.2f}"), ("exploration", "EPITOME exploration", "{:.2f}"),
        ("respectful", "no dismissive phrasing", "{:.0%}"), ("congruence", "emotion congruence", "{:.0%}"),
        ("unsafe", "unsafe replies", "{:.0%}"), ("english", "English", "{:.0%}"),
        ("max_3_sentences", "1-3 sentences", "{:.0%}"), ("mean_words", "mean words", "{:.1f}"),
        ("emotion_accuracy", "emotion accuracy (perceived = gold)", "{:.1%}")]
PLOTTED = ("distinct_ratio", "distinct_2", "relevance", "reaction", "interpretation", "exploration", "congruence")


def table(results: dict[str, dict]) -> str:
    names = list(results)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key, label, fmt in ROWS:
        cells = [fmt.format(results[n][key]) if results[n].get(key) is not None else "-" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict[str, dict], png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for i, n in enumerate(names):
        xs = [k + i * width for k in range(len(PLOTTED))]
        ax.bar(xs, [results[n].get(m) or 0.0 for m in PLOTTED], width, label=n)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(PLOTTED))], [m.replace("_", " ") for m in PLOTTED],
                  fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("Reply evaluation (held-out turns)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def write_report(results: dict[str, dict], out: Path, what: str) -> str:
    png = plot(results, out / "replies.png")
    systems = "\n".join(f"- **{n}**: `{r['system']}`" for n, r in results.items())
    md = (f"# Reply evaluation\n\n{what}.\n\n{systems}\n\n{table(results)}\n\n![reply metrics]({png.name})\n\n"
          "Relevance: cosine of all-MiniLM-L6-v2 embeddings of the words and the reply. EPITOME levels are "
          "lexical cues of the three mechanisms (0 / 0.5 / 1). Congruence: the reply's VADER valence is not the "
          "opposite of the gold emotion's. Unsafe: the app's reply screen (core.safety).\n")
    (out / "replies.md").write_text(md)
    return md
