"""`cogaudio-train eval-replies`: reply metrics of several systems side by side on held-out LIME turns.

    cogaudio-train eval-replies --data data/lime-tiny --rows 105 --out reports/replies \\
        --system cascade=cascade --system stage2=assets/models/manifest.json \\
        --system stage3=runs/tiny-cpu-pipeline/export-stage3/manifest.json

A system is `cascade` (the plain cascade: faster-whisper + the bundled text LLM, through
`cogaudio reply --engine cascade`), a `manifest.json` of an exported pair (through
`cogaudio reply --engine audio-llm`, as the app runs it), or `torch:MODEL_DIR` (a training
model folder answered in PyTorch, direct route, its reply cut as the engines cut it). Every
system answers the same turns (training.eval.emotion_eval.pick_rows over the held-out split)
and decodes with the app's default `engine.decoding` (core.settings.DecodingSettings: repeat
penalty, DRY) at `--temperature` (0, the default: greedy; the app's own default is
settings.engine.temperature, seeded sampling). Writes OUT/replies.md (table + plot),
OUT/replies.png, OUT/replies.json and the raw answers per system (OUT/answers-NAME.jsonl).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from training.eval.reply_eval import ReplyTurn, reply_metrics


def _cli_answers(settings: dict, engine: str, wavs: list[Path]) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="cogaudio-replies-") as tmp:
        cfg_dir = Path(tmp) / "config" / "cogaudio"
        cfg_dir.mkdir(parents=True)
        (cfg_dir / "settings.json").write_text(json.dumps(settings))
        env = {**os.environ, "XDG_CONFIG_HOME": str(Path(tmp) / "config"), "XDG_DATA_HOME": str(Path(tmp) / "data")}
        cmd = [sys.executable, "-m", "app.launcher", "reply", "--engine", engine, "--json", *map(str, wavs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    answers = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if len(answers) != len(wavs):
        raise RuntimeError(f"cogaudio reply --engine {engine} answered {len(answers)}/{len(wavs)} turns "
                           f"(code {proc.returncode}): {proc.stderr[-1500:]}")
    return answers


def answer(system: str, rows: list[dict], wavs: list[Path], max_tokens: int, temperature: float = 0.0) -> list[dict]:
    """[{"reply", "perceived"}] for each row, from the system named by `system`."""
    if system == "cascade":
        settings = {"engine": {"kind": "cascade", "temperature": temperature, "max_tokens": max_tokens}}
        out = _cli_answers(settings, "cascade", wavs)
    elif system.startswith("torch:"):
        from core.emotion.eips import parse_reply
        from core.engines.turn_stream import cut_reply
        from core.settings import DecodingSettings
        from training.eval.emotion_eval import _audio_example
        from training.model.export_layout import load_model
        from training.stages.data import ExampleBuilder

        model = load_model(system[len("torch:"):])
        b = ExampleBuilder.for_model(model)
        texts: list[str] = []
        for s in range(0, len(rows), 7):
            texts += model.generate([_audio_example(b, b.prompts[False], r) for r in rows[s:s + 7]], max_tokens,
                                    DecodingSettings(), temperature)
        parsed = [parse_reply(t) for t in texts]
        return [{"reply": cut_reply(p.response), "perceived": p.label} for p in parsed]
    else:
        from training.export.evaluate import reply_settings

        out = _cli_answers(reply_settings(Path(system), max_tokens, temperature), "audio-llm", wavs)
        if any(a.get("engine") != "audio-llm" for a in out):
            raise RuntimeError(f"{system}: cogaudio reply fell back to another engine; the pair did not load")
    return [{"reply": a.get("reply") or "", "perceived": (a.get("emotion") or {}).get("label")} for a in out]


def evaluate_replies(data: Path, split: str, n_rows: int, systems: list[str], out: Path, max_tokens: int = 64,
                     fresh: bool = False, temperature: float = 0.0) -> tuple[dict[str, dict], str]:
    """Answer the same held-out turns with every system, score them, write OUT/replies.{md,png,json}."""
    from datasets import load_from_disk

    from training.eval.emotion_eval import pick_rows
    from training.eval.relevance import Embedder
    from training.eval.reply_report import write_report
    from training.export.evaluate import held_out_rows

    out.mkdir(parents=True, exist_ok=True)
    ds = load_from_disk(str(data))[split]
    kinds = ("single", "conflict")
    rows = [ds[i] for i in pick_rows(ds, list(kinds), n_rows)]
    embedder = Embedder()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="cogaudio-turns-") as tmp:
        wavs = held_out_rows(data, Path(tmp), split, kinds, n_rows).wavs
        for name, _, spec in (s.partition("=") for s in systems):
            path = out / f"answers-{name}.jsonl"
            if path.exists() and not fresh:  # answers are the slow part: reuse them
                answers = [json.loads(x) for x in path.read_text().splitlines()]
            else:
                print(f"[{name}] answering {len(rows)} turns with {spec}", file=sys.stderr, flush=True)
                answers = [{"text": r["text"], "gold": r["emotion"], **a}
                           for r, a in zip(rows, answer(spec, rows, wavs, max_tokens, temperature), strict=True)]
                path.write_text("".join(json.dumps(a) + "\n" for a in answers))
            turns = [ReplyTurn(a["text"], a["gold"], a["reply"], a["perceived"]) for a in answers]
            results[name] = {"system": spec, **reply_metrics(turns, embedder)}
    (out / "replies.json").write_text(json.dumps(results, indent=2))
    return results, write_report(results, out, f"{len(rows)} held-out turns of {data} ({split})")


def run(args: argparse.Namespace) -> int:
    try:
        _, md = evaluate_replies(Path(args.data), args.split, args.rows, args.system, Path(args.out), args.max_tokens,
                                 args.fresh, args.temperature)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(md)
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("eval-replies", help="reply metrics of systems side by side on held-out turns",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/lime-tiny", help="LIME dataset folder")
    p.add_argument("--split", default="test")
    p.add_argument("--rows", type=int, default=105, help="held-out turns, spread over kind x emotion")
    p.add_argument("--system", action="append", required=True, metavar="NAME=SPEC",
                   help="NAME=cascade | NAME=path/manifest.json | NAME=torch:MODEL_DIR (repeatable)")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--temperature", type=float, default=0.0,
                   help="0: greedy (default); > 0: seeded sampling with engine.decoding's seed, top-k and top-p")
    p.add_argument("--out", default="reports/replies")
    p.add_argument("--fresh", action="store_true", help="answer again even when OUT/answers-NAME.jsonl exists")
    p.set_defaults(func=run)
