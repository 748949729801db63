"""Emotion accuracy of an exported pair, measured through the app: `cogaudio reply --engine audio-llm --json`.

The held-out rows are the ones training's own evaluation scores (training.eval.emotion_eval.
pick_rows with the same split, kinds and cap), written to wav files and answered by the real
CLI in a subprocess with a private settings file that points at the pair and decodes
greedily (temperature 0), so the number is the app's number and can be put next to the
PyTorch evaluation of the same model (eval.json of the stage that produced it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from core.models.manifest import resolve_manifest


@dataclass(frozen=True)
class EvalRows:
    wavs: list[Path]
    gold: list[str]
    kinds: list[str]


def held_out_rows(data: Path, out_dir: Path, split: str = "test", kinds: tuple[str, ...] = ("single", "conflict"),
                  max_rows: int = 70) -> EvalRows:
    """Write the evaluation rows of a LIME dataset as 16 kHz wavs (same rows as training's eval)."""
    from datasets import load_from_disk

    from core.audio.pcm import SAMPLE_RATE
    from training.eval.emotion_eval import pick_rows
    from training.stages.data import row_audio

    ds = load_from_disk(str(data))[split]
    idx = pick_rows(ds, list(kinds), max_rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    wavs, gold, kk = [], [], []
    for n, i in enumerate(idx):
        row = ds[i]
        path = out_dir / f"{n:04d}-{row['emotion']}-{row['kind']}.wav"
        sf.write(path, row_audio(row), SAMPLE_RATE)
        wavs.append(path)
        gold.append(row["emotion"])
        kk.append(row["kind"])
    return EvalRows(wavs, gold, kk)


def reply_settings(manifest: Path, max_tokens: int = 48, temperature: float = 0.0) -> dict:
    """Settings that make `cogaudio reply` run exactly this pair, greedily (or at `temperature`, seeded)."""
    files = resolve_manifest(manifest)
    return {"engine": {
        "kind": "audio-llm", "llm_path": str(files.llm), "mmproj_path": str(files.projector),
        "lora_path": str(files.adapter) if files.adapter else None, "temperature": temperature,
        "max_tokens": max_tokens, "explicit_reasoning": files.manifest.explicit_reasoning,
    }}


def run_reply_cli(manifest: Path, wavs: list[Path], max_tokens: int = 48) -> list[dict]:
    """One JSON object per wav from `cogaudio reply --engine audio-llm --json` (models load once)."""
    with tempfile.TemporaryDirectory(prefix="cogaudio-eval-") as tmp:
        cfg_dir = Path(tmp) / "config" / "cogaudio"
        cfg_dir.mkdir(parents=True)
        (cfg_dir / "settings.json").write_text(json.dumps(reply_settings(manifest, max_tokens)))
        env = {**os.environ, "XDG_CONFIG_HOME": str(Path(tmp) / "config"), "XDG_DATA_HOME": str(Path(tmp) / "data")}
        cmd = [sys.executable, "-m", "app.launcher", "reply", "--engine", "audio-llm", "--json", *map(str, wavs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    answers = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(answers) != len(wavs):
        raise RuntimeError(f"cogaudio reply failed (code {proc.returncode}, {len(answers)}/{len(wavs)} answers): "
                           f"{proc.stderr[-1500:]}")
    return answers


def score(answers: list[dict], rows: EvalRows) -> dict:
    pred = [(a.get("emotion") or {}).get("label") for a in answers]
    engines = {a.get("engine") for a in answers}
    ok = [p == g for p, g in zip(pred, rows.gold, strict=True)]
    conflict = [o for o, k in zip(ok, rows.kinds, strict=True) if k == "conflict"]
    return {
        "n_rows": len(ok), "engine": sorted(e for e in engines if e),
        "accuracy": sum(ok) / len(ok) if ok else 0.0,
        "conflict_accuracy": sum(conflict) / len(conflict) if conflict else None,
        "predicted": dict(Counter(p or "none" for p in pred)),
    }


def evaluate_pair(manifest: Path, data: Path, split: str = "test", kinds: tuple[str, ...] = ("single", "conflict"),
                  max_rows: int = 70, max_tokens: int = 48) -> dict:
    with tempfile.TemporaryDirectory(prefix="cogaudio-rows-") as tmp:
        rows = held_out_rows(data, Path(tmp), split, kinds, max_rows)
        answers = run_reply_cli(manifest, rows.wavs, max_tokens)
    result = score(answers, rows)
    if "audio-llm" not in result["engine"]:
        raise RuntimeError(f"cogaudio reply fell back to {result['engine']}: the pair did not load")
    return result
