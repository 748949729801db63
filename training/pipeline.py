"""`cogaudio-train pipeline --config configs/tiny-cpu.yaml`: from nothing to an installed model pair.

Stages, each a `cogaudio-train` command run as a subprocess (memory is freed between them and a
crash leaves the finished stages on disk):

    lime      lime build            -> data/lime-tiny              (skipped when build_report.json exists)
    annotate  eips annotate         -> data/lime-tiny-eips         (skipped when the dataset exists)
    stage1    sft                   -> runs/.../stage1/model       (skipped when model/cogaudio.json exists)
    stage2    implicit              -> runs/.../stage2/model
    stage3    rl (DR-SAPO)          -> runs/.../stage3/model       (when the config has a stage3: section)
    select    stage 3 is exported when it beats stage 2 on held-out rewards (both routes) and loses
              at most 2 points of emotion accuracy; otherwise stage 2 (the reason goes to pipeline.json)
    export    export (adapter form, and merged form for the quantization table when asked)
    quantize  quantize Q8_0 / Q4_K_M ...
    verify    parity PyTorch vs llama.cpp on held-out rows, emotion accuracy through
              `cogaudio reply --engine audio-llm --json`, then install into assets/models

Resumable: a stage whose output exists and checks out is skipped (the training stages also
resume from their own checkpoints when killed mid-run). The YAML is the stages' own config
(configs/tiny-cpu.yaml) plus a `pipeline:` section read here; wall time per stage goes to
RUN_DIR/pipeline.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from training.config_files import apply_overrides, read_yaml


@dataclass
class PipelineConfig:
    run_dir: str = field(default="runs/tiny-cpu", metadata={"help": "export, quantized pairs, pipeline.json"})
    lime_config: str = field(default="configs/lime-tiny.yaml", metadata={"help": "LIME builder config"})
    lime_data: str = field(default="data/lime-tiny", metadata={"help": "LIME dataset folder (built if missing)"})
    teacher: str = field(default="template", metadata={"help": "EIPS annotator: template | gguf | openai"})
    teacher_args: list[str] = field(default_factory=list, metadata={"help": "extra `eips annotate` arguments"})
    export_form: str = field(default="adapter", metadata={"help": "installed form: adapter (LoRA on the shipped base) | merged"})
    merged_variants: bool = field(default=False, metadata={"help": "also export the merged F16 LLM for the quantization table"})
    quantize: list[str] = field(default_factory=lambda: ["Q8_0"], metadata={"help": "LLM types (merged form)"})
    projector_type: str = field(default="Q8_0", metadata={"help": "projector type of the quantized pairs"})
    install_dir: str | None = field(default="assets/models", metadata={"help": "where the app finds the default pair"})
    parity_rows: int = field(default=3, metadata={"help": "held-out rows for the PyTorch vs llama.cpp parity check"})
    eval_rows: int = field(default=70, metadata={"help": "held-out rows scored through `cogaudio reply` (0 = skip)"})
    stage3: bool = field(default=True, metadata={"help": "run DR-SAPO (stage 3) when the config has a stage3: section"})
    max_accuracy_drop: float = field(default=0.02, metadata={"help": (
        "stage 3 is exported only if its emotion accuracy is at most this much below stage 2's")})
    stage_set: list[str] = field(default_factory=list, metadata={"help": (
        "`--set KEY=VALUE` overrides for the training stages: `max_steps=10` for both, "
        "`stage1.encoder_warmup_steps=100` for one")})


def load_pipeline_config(path: Path, overrides: list[str] | None = None) -> tuple[PipelineConfig, dict]:
    raw = read_yaml(path)
    section = apply_overrides(dict(raw.get("pipeline") or {}), overrides, "eval_rows=21")
    known = {f.name for f in dataclasses.fields(PipelineConfig)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ValueError(f"unknown pipeline field(s) {unknown} in {path}; known: {', '.join(sorted(known))}")
    return PipelineConfig(**section), raw


def _cli(*args: str) -> None:
    cmd = [sys.executable, "-m", "training.cli", *args]
    print("$ cogaudio-train " + " ".join(args), flush=True)
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        raise RuntimeError(f"`cogaudio-train {' '.join(args)}` failed with code {rc}; fix it and re-run the pipeline")


def _manifest_ok(folder: Path) -> bool:
    from core.models.manifest import ModelAssetError, resolve_manifest

    try:
        resolve_manifest(folder / "manifest.json")
        return True
    except ModelAssetError:
        return False


def _rl_fields() -> set[str]:
    from training.rl.config import RLConfig

    return {f.name for f in dataclasses.fields(RLConfig)}


class Pipeline:
    def __init__(self, config_path: Path, cfg: PipelineConfig, raw: dict) -> None:
        from training.stages.config import load_config

        self.config_path, self.cfg = Path(config_path), cfg
        self.run = Path(cfg.run_dir)
        self.data = Path(raw.get("data", "data/lime-tiny-eips"))
        # the pipeline owns its training outputs (RUN_DIR/stage1, RUN_DIR/stage2), so it never
        # collides with a stage run by hand into the config's own output_dir
        self.stage_dirs = {s: self.run / f"stage{s}" for s in (1, 2, 3)}
        self.has_stage3 = cfg.stage3 and bool(raw.get("stage3"))
        self.eval_cfg = load_config(config_path, self._stage_overrides(2), stage=2).eval
        self.report_path = self.run / "pipeline.json"
        self.report = json.loads(self.report_path.read_text()) if self.report_path.is_file() else {"stages": {}}

    def _stage(self, name: str, done, run) -> None:
        if done():
            print(f"[{name}] done already, skipped", flush=True)
            self.report["stages"].setdefault(name, {})["skipped"] = True
            return
        print(f"[{name}] running", flush=True)
        t0 = time.perf_counter()
        result = run() or {}
        self.report["stages"][name] = {"wall_s": round(time.perf_counter() - t0, 1), **result}
        self._save()

    def _save(self) -> None:
        self.run.mkdir(parents=True, exist_ok=True)
        self.report_path.write_text(json.dumps(self.report, indent=2, default=str) + "\n")

    def model_dir(self, stage: int) -> Path:
        return self.stage_dirs[stage] / "model"

    def run_all(self) -> dict:
        cfg, t0 = self.cfg, time.perf_counter()
        lime = Path(cfg.lime_data)
        self._stage("lime", lambda: (lime / "build_report.json").is_file(),
                    lambda: _cli("lime", "build", "--config", cfg.lime_config, "--out", str(lime)))
        self._stage("annotate", lambda: (self.data / "dataset_dict.json").is_file(),
                    lambda: _cli("eips", "annotate", "--data", str(lime), "--out", str(self.data),
                                 "--teacher", cfg.teacher, *cfg.teacher_args))
        for s, cmd in ((1, "sft"), (2, "implicit")):
            extra = [a for kv in self._stage_overrides(s) for a in ("--set", kv)]
            extra += ["--set", f"init_from={self.model_dir(1)}"] if s == 2 else []
            self._stage(f"stage{s}", lambda s=s: (self.model_dir(s) / "cogaudio.json").is_file(),
                        lambda s=s, cmd=cmd, extra=extra: _cli(
                            cmd, "--config", str(self.config_path), "--set", f"data={self.data}",
                            "--output-dir", str(self.stage_dirs[s]), *extra))
        if self.has_stage3:
            extra = [a for kv in self._stage_overrides(3) for a in ("--set", kv)]
            self._stage("stage3", lambda: (self.model_dir(3) / "cogaudio.json").is_file(),
                        lambda: _cli("rl", "--config", str(self.config_path), "--set", f"data={self.data}",
                                     "--set", f"init_from={self.model_dir(2)}", "--output-dir", str(self.stage_dirs[3]),
                                     *extra))
        self.report["stages"]["select"] = self.select()
        self._save()
        export = self.run / "export"
        self._stage("export", lambda: _manifest_ok(export), lambda: self._export(export, cfg.export_form))
        if cfg.merged_variants:
            merged = self.run / "export-merged"
            self._stage("export_merged", lambda: _manifest_ok(merged), lambda: self._export(merged, "merged"))
        self._stage("quantize", lambda: all(_manifest_ok(p) for p in self._quant_dirs()), self._quantize)
        self._stage("verify", self._verified, self._verify)
        self.report["total_wall_s_this_run"] = round(time.perf_counter() - t0, 1)
        self._save()
        return self.report

    def select(self) -> dict:
        """Which stage's model is exported: 3 when it beat stage 2 (see the module docstring), else 2."""
        if not self.has_stage3 or not (self.stage_dirs[3] / "result.json").is_file():
            return {"stage": 2, "why": "no stage 3 run"}
        r3 = json.loads((self.stage_dirs[3] / "result.json").read_text())
        r2 = json.loads((self.stage_dirs[2] / "result.json").read_text()) if (self.stage_dirs[2] / "result.json").is_file() else {}
        before, after = r3.get("eval_before") or {}, r3.get("eval_after") or {}
        gains = {r: (after.get(r, {}).get("mean_reward") or 0.0) - (before.get(r, {}).get("mean_reward") or 0.0)
                 for r in ("explicit", "direct")}
        acc2 = ((r2.get("eval") or {}).get("audio") or {}).get("accuracy")
        acc3 = ((r3.get("eval") or {}).get("audio") or {}).get("accuracy")
        drop = (acc2 - acc3) if acc2 is not None and acc3 is not None else None
        ok = bool(before and after) and all(g > 0 for g in gains.values()) and drop is not None \
            and drop <= self.cfg.max_accuracy_drop
        return {"stage": 3 if ok else 2, "reward_gain": gains, "accuracy_stage2": acc2, "accuracy_stage3": acc3,
                "why": "stage 3 beats stage 2" if ok else "stage 3 did not beat stage 2 on both routes within "
                f"{self.cfg.max_accuracy_drop:.0%} accuracy"}

    def export_model_dir(self) -> Path:
        return self.model_dir(self.report["stages"].get("select", {}).get("stage", 2))

    def _stage_overrides(self, stage: int) -> list[str]:
        """`stage_set` items for `stage`: `stageN.key=v` only for stage N, plain `key=v` for stages 1-2
        and for stage 3 when stage 3 has that field (max_steps, eval.max_rows)."""
        out = []
        for kv in self.cfg.stage_set:
            if kv.startswith(("stage1.", "stage2.", "stage3.")):
                if kv.startswith(f"stage{stage}."):
                    out.append(kv.split(".", 1)[1])
            elif stage in (1, 2) or kv.split("=", 1)[0].split(".")[0] in _rl_fields():
                out.append(kv)
        return out

    def _verified(self) -> bool:
        verify = self.report["stages"].get("verify", {})
        done = "parity" in verify and (self.cfg.eval_rows <= 0 or "reply_cli_eval" in verify
                                       and len(verify["reply_cli_eval"]) >= len(self._quant_dirs()) + 1)
        installed = self.cfg.install_dir is None or _manifest_ok(Path(self.cfg.install_dir))
        return done and installed

    def _export(self, out: Path, form: str) -> dict:
        _cli("export", "--model", str(self.export_model_dir()), "--out", str(out), "--form", form)
        return {"out": str(out), "form": form, "model": str(self.export_model_dir())}

    def _quant_dirs(self) -> list[Path]:
        tag = self.cfg.quantize[0] if self.cfg.export_form == "merged" else self.cfg.projector_type
        dirs = [self.run / f"{self.cfg.export_form}-{tag.lower()}"]
        if self.cfg.merged_variants:
            dirs += [self.run / f"merged-{q.lower()}" for q in self.cfg.quantize]
        return dirs

    def _quantize(self) -> dict:
        from training.export.cli import run_quantize

        first, *merged = self._quant_dirs()
        run_quantize(self.run / "export", first, self.cfg.quantize[0], self.cfg.projector_type)
        for q, out in zip(self.cfg.quantize, merged, strict=True):
            run_quantize(self.run / "export-merged", out, q, self.cfg.projector_type)
        return {"pairs": [str(p) for p in self._quant_dirs()]}

    def _verify(self) -> dict:
        """Parity, install, then emotion accuracy through `cogaudio reply` for every pair.

        Install comes before the (slow) accuracy runs so the app has its model as early as
        possible; each pair's score is saved as soon as it exists and is not recomputed when
        the pipeline is re-run."""
        prev = self.report["stages"].get("verify", {})
        result: dict = {"parity": prev.get("parity") or self._parity()}
        result_json = self.export_model_dir().parent / "result.json"  # the stage's own PyTorch evaluation
        if result_json.is_file():
            result["pytorch_eval"] = (json.loads(result_json.read_text()).get("eval") or {}).get("audio")
        if self.cfg.install_dir:
            from training.export.exporter import install

            dest = Path(self.cfg.install_dir)
            for old in dest.glob("*.gguf"):
                old.unlink()
            install(self._quant_dirs()[0], dest)
            if not _manifest_ok(dest):
                raise RuntimeError(f"the installed pair in {dest} does not verify")
            result["installed"] = {"dir": str(dest), "bytes": sum(p.stat().st_size for p in dest.iterdir() if p.is_file())}
        self.report["stages"]["verify"] = result
        self._save()
        if self.cfg.eval_rows > 0:
            from training.export.evaluate import evaluate_pair

            pairs = [self.run / "export", *self._quant_dirs()]
            if self.cfg.merged_variants:
                pairs.insert(1, self.run / "export-merged")
            ev = self.eval_cfg
            scores = result["reply_cli_eval"] = dict(prev.get("reply_cli_eval") or {})
            for p in pairs:
                if p.name in scores:
                    continue
                t0 = time.perf_counter()
                scores[p.name] = evaluate_pair(p / "manifest.json", Path(self.cfg.lime_data), ev.split,
                                               tuple(ev.kinds), self.cfg.eval_rows)
                scores[p.name]["wall_s"] = round(time.perf_counter() - t0, 1)
                self._save()
        return result

    def _parity(self) -> dict:
        """PyTorch model vs the F16 export through llama.cpp on a few held-out rows."""
        import tempfile

        import soundfile as sf

        from core.models.manifest import resolve_manifest
        from training.export.evaluate import held_out_rows
        from training.export.parity import LlamaCppAudio, check_parity
        from training.model.export_layout import load_model

        files = resolve_manifest(self.run / "export" / "manifest.json")
        model = load_model(self.export_model_dir())
        runner = LlamaCppAudio(files.llm, files.projector, files.adapter, files.adapter_scale)
        out = []
        try:
            with tempfile.TemporaryDirectory() as tmp:
                rows = held_out_rows(Path(self.cfg.lime_data), Path(tmp), self.eval_cfg.split, tuple(self.eval_cfg.kinds),
                                     self.cfg.parity_rows)
                for wav in rows.wavs:
                    audio, _ = sf.read(wav, dtype="float32")
                    out.append(check_parity(model, runner, audio, files.manifest.explicit_reasoning).as_dict())
        finally:
            runner.close()
        return {"form": files.manifest.form, "rows": out,
                "min_logits_cosine": min(r["logits_cosine"] for r in out),
                "tokens_equal": sum(r["tokens_equal"] for r in out)}


def _run(args: argparse.Namespace) -> int:
    try:
        cfg, raw = load_pipeline_config(Path(args.config), args.set or [])
        cfg.stage_set = [*cfg.stage_set, *(args.stage_set or [])]
        report = Pipeline(Path(args.config), cfg, raw).run_all()
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"pipeline stopped: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, default=str))
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("pipeline", help="LIME -> annotate -> stage 1 -> stage 2 -> export -> quantize -> verify/install",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="stages config with a pipeline: section (configs/tiny-cpu.yaml)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a pipeline field (run_dir=..., eval_rows=21)")
    p.add_argument("--stage-set", action="append", metavar="KEY=VALUE",
                   help="override a training-stage field in both stages (max_steps=10, eval.max_rows=21)")
    p.set_defaults(func=_run)

