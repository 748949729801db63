"""`cogaudio-train eips annotate`: add EIPS steps and a response to every row of a LIME dataset.

    cogaudio-train eips annotate --data data/lime-tiny --out data/lime-tiny-eips    # the bundled SmolLM2 writes the replies
    cogaudio-train eips annotate --data data/lime-tiny --out data/lime-tiny-eips --teacher gguf \\
        --model path/to/teacher.gguf --writes full --retries 2 --fallback template
    cogaudio-train eips annotate --data DIR --out OUT --teacher openai \\
        --base-url http://gpu-box:8000/v1 --api-model Qwen/Qwen2.5-72B-Instruct
    cogaudio-train eips annotate --data DIR --out OUT --teacher template              # tables only (tests)

--writes: `full` (the teacher writes the four EIPS steps and the reply) or `reply` (it writes the
reply given the gold emotion and the template Strategy; the steps come from the validated
templates). `auto` (default): `reply` for a GGUF teacher, `full` for an endpoint.

Teacher calls are cached (content hash) under --cache (default OUT.cache), so a re-run is free.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _teacher(args: argparse.Namespace):
    from training.eips_annotate.teachers import GenerationParams, GGUFTeacher, OpenAITeacher

    reply_only = _writes(args) == "reply"
    params = GenerationParams(temperature=args.temperature, max_tokens=args.max_tokens or (56 if reply_only else 320),
                              stop=["\n\n"] if reply_only else None)
    if args.teacher == "template":
        return None
    if args.teacher == "gguf":
        model = args.model
        if model is None:
            from core.models.bundled import require_bundled

            model = require_bundled("llm")
        return GGUFTeacher(model, params, n_threads=args.threads)
    if not args.base_url or not args.api_model:
        raise ValueError("--teacher openai needs --base-url (ending in /v1) and --api-model")
    return OpenAITeacher(args.base_url, args.api_model, params, api_key=os.environ.get(args.api_key_env))


def _writes(args: argparse.Namespace) -> str:
    if args.writes != "auto":
        return args.writes
    return "reply" if args.teacher == "gguf" else "full"


def run_annotate(args: argparse.Namespace) -> int:
    from datasets import DatasetDict
    from tqdm import tqdm

    from training.eips_annotate.annotate import Cache, Stats, annotate_row, annotation_columns
    from training.lime.dataset import load_lime

    try:
        data = load_lime(Path(args.data))
        teacher = _teacher(args)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    cache = Cache(Path(args.cache) if args.cache else out.with_name(out.name + ".cache"))
    stats = Stats()
    result = {}
    for split, ds in data.items():
        meta_cols = [c for c in ("text", "emotion", "intensity", "text_emotion", "kind", "context") if c in ds.column_names]
        rows = ds.select_columns(meta_cols).to_list()
        if args.limit:
            rows, ds = rows[: args.limit], ds.select(range(min(args.limit, len(ds))))
        anns = [annotate_row(r, teacher, cache, args.retries, args.fallback, stats, writes=_writes(args))
                for r in tqdm(rows, desc=f"eips {split}", unit="row", disable=not sys.stderr.isatty())]
        cols = annotation_columns(anns)
        ds = ds.remove_columns([c for c in cols if c in ds.column_names])
        for name, values in cols.items():
            ds = ds.add_column(name, values)
        result[split] = ds
    if teacher is not None:
        teacher.close()
    DatasetDict(result).save_to_disk(str(out))
    report = {"rows": stats.rows, "teacher_calls": stats.teacher_calls, "cache_hits": stats.cache_hits,
              "accepted_by": stats.accepted, "rejected": stats.rejected, "fallback_to_template": stats.fallback,
              "problems": stats.problems, "writes": _writes(args) if teacher is not None else "template",
              "trimmed_to_3_sentences": stats.trimmed,
              "distinct_responses": len({a.strip().lower() for a in result_responses(result)}),
              "rejected_rows": stats.rejected_rows, "out": str(out)}
    (out / "eips_report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


def result_responses(result: dict) -> list[str]:
    return [r for ds in result.values() for r, ok in zip(ds["response"], ds["annotation_ok"], strict=True) if ok]


def add_parser(subparsers) -> None:
    eips = subparsers.add_parser("eips", help="EIPS reasoning annotation")
    sub = eips.add_subparsers(dest="eips_command", required=True)
    p = sub.add_parser("annotate", help="add EIPS steps + response to a LIME dataset", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="LIME dataset folder (from `cogaudio-train lime build`)")
    p.add_argument("--out", required=True, help="output dataset folder")
    p.add_argument("--teacher", choices=("template", "gguf", "openai"), default="gguf",
                   help="gguf (llama.cpp; default: the bundled SmolLM2 the app runs), openai (HTTP endpoint) "
                        "or template (deterministic tables, marked as such)")
    p.add_argument("--writes", choices=("auto", "full", "reply"), default="auto",
                   help="what the teacher writes: full (four steps + reply) or reply (steps from templates); "
                        "auto = reply for gguf, full for openai")
    p.add_argument("--model", help="GGUF path for --teacher gguf (default: the bundled SmolLM2)")
    p.add_argument("--base-url", help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1")
    p.add_argument("--api-model", help="model name sent to the endpoint")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
    p.add_argument("--retries", type=int, default=2, help="extra attempts (new seed) after an invalid reply")
    p.add_argument("--fallback", choices=("none", "template"), default="template",
                   help="what a rejected row gets: nothing (annotation_ok=False) or the template, marked as such")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--max-tokens", type=int, default=0, help="0: 56 when writing the reply only, else 320")
    p.add_argument("--threads", type=int, default=None, help="llama.cpp threads for --teacher gguf")
    p.add_argument("--cache", help="cache folder (default OUT.cache)")
    p.add_argument("--limit", type=int, default=0, help="annotate only the first N rows of each split")
    p.set_defaults(func=run_annotate)
