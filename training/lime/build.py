"""`lime build`: filter the texts, plan the groups, render them in parallel, write the dataset.

Every rendered row is cached on disk (cache/rows/<id>.flac + .json, the JSON written last
and atomically), so an interrupted build resumes where it stopped and a finished one is
assembled again without rendering. Groups run in a multiprocessing pool (spawn: each
worker loads its own TTS and ASR models once). A bad row or group is reported and skipped.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from training.lime.config import LimeConfig
from training.lime.corpora import ingest_corpora
from training.lime.plan import Group, Segment, plan_synthetic, rng_for
from training.lime.texts import DecouplingFilter, read_conflict_texts, read_lines


@dataclass
class BuildResult:
    out: Path
    rows_ok: int = 0
    rows_cached: int = 0
    bad: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    render_seconds: float = 0.0


def row_paths(out: Path, row_id: str) -> tuple[Path, Path]:
    folder = out / "cache" / "rows" / row_id[:2]
    return folder / f"{row_id}.flac", folder / f"{row_id}.json"


class GroupWorker:
    """Renders the rows of one group; holds this process's backend and aligner."""

    def __init__(self, cfg: LimeConfig, out: Path) -> None:
        self.cfg, self.out = cfg, out
        self._backend = None
        self._aligner = None
        self._voices = {v.name: v for v in cfg.voices}

    def aligner(self):
        if self._aligner is None:
            from training.lime.align import EvenAligner, WhisperAligner

            self._aligner = WhisperAligner(self.cfg.asr_model) if self.cfg.align == "whisper" else EvenAligner()
        return self._aligner

    def backend(self):
        if self._backend is None:
            from training.lime.backends import make_backend

            self._backend = make_backend(self.cfg, self.aligner())
        return self._backend

    def run(self, group: Group) -> list[dict]:
        todo = [r for r in group.rows if not row_paths(self.out, r.id)[1].exists()]
        outcomes = [{"id": r.id, "status": "cached"} for r in group.rows if r not in todo]
        if not todo:
            return outcomes
        try:
            if group.audio_path:
                from training.lime.corpora import render_corpus_file

                prepared, render = None, lambda _p, segs, _rng: render_corpus_file(group, segs, self.cfg, self.aligner())
            else:
                backend = self.backend()
                cache = self.out / "cache" / "groups" / f"{group.id}.words.json"
                prepared, render = backend.prepare(group.text, self._voices[group.voice], cache), backend.render
        except Exception as exc:  # a bad group must not end the build: report it
            return outcomes + [_bad(group, r.id, exc) for r in todo]
        for row in todo:
            try:
                rendered = render(prepared, row.segments, rng_for(self.cfg.seed, row.id))
                _write_row(self.out, group, row, rendered)
                outcomes.append({"id": row.id, "status": "ok"})
            except Exception as exc:
                outcomes.append(_bad(group, row.id, exc))
        return outcomes


def _bad(group: Group, row_id: str, exc: Exception) -> dict:
    where = group.audio_path or f"{group.voice}: {group.text!r}"
    return {"id": row_id, "status": "bad", "where": where, "error": f"{type(exc).__name__}: {exc}"}


def _write_row(out: Path, group: Group, row, rendered) -> None:
    samples = rendered.samples
    if not len(samples) or not np.all(np.isfinite(samples)):
        raise ValueError("rendered audio is empty or not finite")
    audio_path, meta_path = row_paths(out, row.id)
    audio_path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(audio_path, samples, rendered.rate, format="FLAC", subtype="PCM_16")
    meta = {
        "id": row.id, "text": group.text, "kind": row.kind, "emotion": row.emotion, "intensity": row.intensity,
        "text_emotion": row.text_emotion, "voice": group.voice, "source": group.source, "split": group.split,
        "group": group.text_id, "sample_rate": rendered.rate,
        "duration": len(samples) / rendered.rate,
        "words": [{"word": w.word, "start": w.start, "end": w.end, "emotion": w.emotion} for w in rendered.words],
        "segments": rendered.segments,
    }
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, meta_path)  # the JSON marks the row done, so write it last and atomically


# One GroupWorker per pool process: a process-local object the pool initializer sets, the
# standard multiprocessing pattern (arguments to the task function cannot hold models).
_PROCESS_WORKER: dict[str, GroupWorker] = {}


def _init_process(cfg_json: str, out: str) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _PROCESS_WORKER["w"] = GroupWorker(LimeConfig.model_validate_json(cfg_json), Path(out))


def _run_in_process(group_json: str) -> list[dict]:
    data = json.loads(group_json)
    return _PROCESS_WORKER["w"].run(group_from_json(data))


def group_from_json(data: dict) -> Group:
    from training.lime.plan import RowSpec

    rows = tuple(RowSpec(r["id"], r["kind"], tuple(Segment(**s) for s in r["segments"]), r["text_emotion"]) for r in data["rows"])
    return Group(**{**data, "rows": rows})


def plan_build(cfg: LimeConfig) -> tuple[list[Group], dict, list[dict]]:
    """All groups to render, the filter report and the corpus ingestion problems."""
    pool = read_lines(cfg.text_pool)
    report = DecouplingFilter(cfg.filter).run(pool)
    from training.lime.plan import stable_hash

    texts = sorted(report.kept, key=lambda t: stable_hash(cfg.seed, "pick", t))[: cfg.max_texts]
    conflicts = read_conflict_texts(cfg.conflict_texts) if cfg.conflict_rows_per_text > 0 else []
    conflicts = sorted(conflicts, key=lambda c: stable_hash(cfg.seed, "pick", c[1]))[: cfg.max_conflict_texts]
    groups = plan_synthetic(cfg, sorted(texts), conflicts) if cfg.voices else []
    corpus_groups, corpus_bad = ingest_corpora(cfg, {g.text: g.split for g in groups})
    return groups + corpus_groups, report.summary(), corpus_bad


def build(cfg: LimeConfig, out: Path, workers: int | None = None) -> BuildResult:
    from training.lime.backends import check_backend

    check_backend(cfg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    groups, filter_summary, corpus_bad = plan_build(cfg)
    result = BuildResult(out=out, bad=list(corpus_bad))
    workers = workers or cfg.workers
    n_rows = sum(len(g.rows) for g in groups)
    bar = tqdm(total=n_rows, desc="lime rows", unit="row")
    render_start, cpu_start = time.perf_counter(), _cpu_seconds()
    outcomes_iter, pool = _outcomes(cfg, out, groups, workers)
    try:
        for outcomes in outcomes_iter:
            for o in outcomes:
                if o["status"] == "ok":
                    result.rows_ok += 1
                elif o["status"] == "cached":
                    result.rows_cached += 1
                else:
                    result.bad.append(o)
            bar.update(len(outcomes))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    result.render_seconds = time.perf_counter() - render_start
    cpu = _cpu_seconds() - cpu_start
    from training.lime.dataset import write_dataset

    metas = write_dataset(cfg, out, groups)
    result.seconds = time.perf_counter() - start
    from training.lime.card import write_card

    stats = {
        "rows_planned": n_rows, "rows_rendered": result.rows_ok, "rows_from_cache": result.rows_cached,
        "rows_written": len(metas), "bad_rows": len(result.bad), "workers": workers,
        "render_seconds": round(result.render_seconds, 1), "total_seconds": round(result.seconds, 1),
        "utterances_per_second_per_core": round(result.rows_ok / result.render_seconds / workers, 3)
        if result.rows_ok and result.render_seconds > 0 else None,
        # CPU time of this process and its finished workers: the per-core rate on a shared machine
        "render_cpu_seconds": round(cpu, 1),
        "utterances_per_cpu_second": round(result.rows_ok / cpu, 3) if result.rows_ok and cpu > 0 else None,
    }
    (out / "build_report.json").write_text(json.dumps(
        {"config": json.loads(cfg.model_dump_json()), "stats": stats, "filter": filter_summary, "bad": result.bad},
        indent=2))
    write_card(cfg, out, metas, filter_summary, stats)
    return result


def _cpu_seconds() -> float:
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


def _outcomes(cfg: LimeConfig, out: Path, groups: list[Group], workers: int):
    if workers <= 1:
        worker = GroupWorker(cfg, out)
        return (worker.run(g) for g in groups), None
    ctx = mp.get_context("spawn")
    pool = ctx.Pool(workers, initializer=_init_process, initargs=(cfg.model_dump_json(), str(out)))
    jobs = [json.dumps(g.to_json()) for g in groups]
    return pool.imap_unordered(_run_in_process, jobs, chunksize=1), pool

