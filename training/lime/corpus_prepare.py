"""`corpora prepare`: real corpus folders -> 16 kHz mono float32 wav files, one manifest, a report.

Each corpus named in the config is scanned by its own naming (`training.lime.acted_corpora`),
every labelled file is decoded with the project's one loader (`core.audio.pcm.load_audio`:
libsndfile, FFmpeg for what libsndfile refuses, polyphase resampling to 16 kHz, channels
averaged) and written under `<out>/<corpus>/wav16k/` with its path inside the corpus kept.
The manifest (`<out>/manifest.jsonl`, one JSON object per line, fields in MANIFEST_FIELDS)
lists the files that were written; the report (`<out>/build_report.json`) accounts for
every file found: found = used + converted + skipped, skipped counted by reason.

Files are decoded one at a time in one process: the whole set (~5,500 clips) takes minutes,
and a second process would compete with the training on a 2-core machine.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
from pydantic import BaseModel, Field, field_validator

from core.audio.pcm import SAMPLE_RATE, AudioFileError, load_audio
from core.emotion.labels import EMOTION_ID, EMOTIONS
from training.config_files import read_yaml, resolve_from
from training.lime.acted_corpora import SCANNERS, SKIP_REASONS, CorpusRecord, Scan

MANIFEST_FIELDS = ("id", "path", "corpus", "speaker", "label", "label_id", "intensity", "language", "text",
                   "gender", "seconds", "sample_rate", "source", "source_label", "converted")


class CorpusSource(BaseModel):
    """One local corpus folder."""

    name: str | None = Field(None, description="Name in the manifest and output folder (default: kind).")
    kind: Literal["tess", "emodb", "urdu", "turev", "esd", "crema-d"] = Field(description="Which naming to read.")
    path: Path = Field(description="Root folder of the corpus as distributed (relative paths: against the config file).")
    licence: str = Field("", description="Licence of the corpus, copied into the report (see docs/corpora.md).")
    limit: int | None = Field(None, description="Use at most this many labelled files (after sorting), for tiny runs.")

    @field_validator("kind", mode="before")
    @classmethod
    def _not_ravdess(cls, value: str) -> str:
        if str(value).lower() == "ravdess":
            raise ValueError("RAVDESS is reserved for independent evaluation and must not be prepared for training")
        return value

    @property
    def label(self) -> str:
        return self.name or self.kind


class CorporaConfig(BaseModel):
    out: Path = Field(Path("data/corpora"), description="Output folder: <corpus>/wav16k/, manifest.jsonl, build_report.json.")
    min_seconds: float = Field(0.25, description="Skip files shorter than this (after decoding).")
    silence_dbfs: float = Field(-60.0, description="Skip files whose peak is below this level (dB full scale).")
    corpora: list[CorpusSource] = Field(default_factory=list)

    @field_validator("corpora")
    @classmethod
    def _unique(cls, value: list[CorpusSource]) -> list[CorpusSource]:
        names = [c.label for c in value]
        if len(set(names)) != len(names):
            raise ValueError(f"corpus names must be unique: {names}")
        return value


def load_corpora_config(path: Path) -> CorporaConfig:
    """Parse the YAML; relative paths resolve against the config file's folder (as LIME configs do)."""
    path = Path(path)
    cfg = CorporaConfig.model_validate(read_yaml(path, "configs/corpora.yaml"))
    base = path.resolve().parent
    cfg.out = resolve_from(base, cfg.out)
    for c in cfg.corpora:
        c.path = resolve_from(base, c.path)
    return cfg


@dataclass
class Outcome:
    """What happened to one file found in a corpus folder."""

    corpus: str
    source: str  # path inside the corpus folder
    status: Literal["used", "converted", "skipped"]
    reason: str = ""  # skipped: a SKIP_REASONS key
    detail: str = ""
    converted: list[str] = field(default_factory=list)
    row: dict | None = None


def _conversions(path: Path) -> tuple[list[str], int | None]:
    """What turning this file into 16 kHz mono float32 changes, read from its header."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return ["decoded with FFmpeg (libsndfile cannot read it)"], None
    out = []
    if info.format != "WAV":
        out.append(f"container {info.format}" + (f" in a {path.suffix} file" if path.suffix.lower() == ".wav" else ""))
    if info.subtype != "PCM_16":
        out.append(f"sample format {info.subtype}")
    if info.channels != 1:
        out.append(f"downmixed {info.channels} channels")
    if info.samplerate != SAMPLE_RATE:
        out.append(f"resampled {info.samplerate} -> {SAMPLE_RATE} Hz")
    return out, info.frames


def convert_file(rec: CorpusRecord, corpus_root: Path, dest: Path, cfg: CorporaConfig) -> Outcome:
    """Decode, check and write one file; never raises for bad audio (the outcome says why)."""
    source = rec.path.relative_to(corpus_root).as_posix()
    name = rec.corpus

    def skipped(reason: str, detail: str) -> Outcome:
        return Outcome(name, source, "skipped", reason, detail)

    if rec.path.stat().st_size == 0:
        return skipped("empty", "the file is 0 bytes")
    converted, frames = _conversions(rec.path)
    if frames == 0:
        return skipped("empty", "the file header says 0 samples")
    try:
        audio = load_audio(rec.path, SAMPLE_RATE)
    except AudioFileError as exc:
        kind = "empty" if "no audio samples" in str(exc) else "unreadable"
        return skipped(kind, str(exc))
    seconds = len(audio) / SAMPLE_RATE
    if seconds < cfg.min_seconds:
        return skipped("too-short", f"{seconds:.3f} s < min_seconds {cfg.min_seconds}")
    peak = float(np.max(np.abs(audio)))
    if peak <= 10 ** (cfg.silence_dbfs / 20):
        level = "-inf" if peak == 0 else f"{20 * np.log10(peak):.1f}"
        return skipped("silent", f"peak {level} dBFS <= silence_dbfs {cfg.silence_dbfs}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    sf.write(str(tmp), audio, SAMPLE_RATE, subtype="FLOAT", format="WAV")
    os.replace(tmp, dest)  # a crash mid-write never leaves a truncated file under the final name
    row = {
        "id": f"{name}/{Path(source).with_suffix('').as_posix()}",
        "path": dest.relative_to(cfg.out).as_posix(),
        "corpus": name, "speaker": rec.speaker, "label": rec.label, "label_id": EMOTION_ID[rec.label],
        "intensity": rec.intensity, "language": rec.language, "text": rec.text, "gender": rec.gender,
        "seconds": round(seconds, 4), "sample_rate": SAMPLE_RATE, "source": source,
        "source_label": rec.source_label, "converted": converted,
    }
    return Outcome(name, source, "converted" if converted else "used", converted=converted, row=row)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scan(source: CorpusSource) -> Scan:
    if not source.path.is_dir():
        raise FileNotFoundError(f"{source.label}: corpus folder {source.path} does not exist; fetch it (docs/corpora.md) "
                                "or fix `corpora[].path` in the config")
    scan = SCANNERS[source.kind](source.path)
    if source.name and source.name != source.kind:  # a renamed corpus: its rows carry the new name
        scan.records = [CorpusRecord(r.path, source.name, r.speaker.replace(source.kind, source.name, 1), r.label,
                                     r.intensity, r.language, r.text, r.gender, r.source_label) for r in scan.records]
    if source.limit is not None:
        scan.records = scan.records[: source.limit]
    return scan


def prepare(cfg: CorporaConfig, progress=None) -> dict:
    """Convert every corpus of `cfg`; write the manifest and the report; return the report."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    notes: dict[str, list[str]] = {}
    fingerprints: dict[str, str] = {}
    seen: dict[str, str] = {}  # sha256 of the file -> the first corpus/source with those bytes
    for source in cfg.corpora:
        scan = _scan(source)
        notes[source.label] = scan.notes
        hashes = hashlib.sha256()  # over (path, content) of every labelled file: same copy, same value
        for s in scan.skipped:
            outcomes.append(Outcome(source.label, s.path.relative_to(source.path).as_posix(), "skipped", s.reason, s.detail))
        for i, rec in enumerate(scan.records):
            rel = rec.path.relative_to(source.path)
            try:
                digest = _sha256(rec.path)
            except OSError as exc:
                outcomes.append(Outcome(source.label, rel.as_posix(), "skipped", "unreadable", f"cannot read the file: {exc}"))
                continue
            hashes.update(f"{rel.as_posix()}\t{digest}\n".encode())
            if digest in seen:
                outcomes.append(Outcome(source.label, rel.as_posix(), "skipped", "duplicate", f"same bytes as {seen[digest]}"))
                continue
            dest = cfg.out / source.label / "wav16k" / rel.with_suffix(".wav")
            outcome = convert_file(rec, source.path, dest, cfg)
            if outcome.status != "skipped":
                seen[digest] = f"{source.label}/{rel.as_posix()}"
            outcomes.append(outcome)
            if progress and (i + 1) % 250 == 0:
                progress(f"{source.label}: {i + 1}/{len(scan.records)}")
        fingerprints[source.label] = hashes.hexdigest()
    rows = [o.row for o in outcomes if o.row is not None]
    _write_jsonl(cfg.out / "manifest.jsonl", rows)
    report = build_report(cfg, outcomes, rows, notes, fingerprints)
    (cfg.out / "build_report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def build_report(cfg: CorporaConfig, outcomes: list[Outcome], rows: list[dict], notes: dict[str, list[str]],
                 fingerprints: dict[str, str]) -> dict:
    """Counts per corpus (found/used/converted/skipped by reason) and the balance of what was kept."""
    corpora = {}
    for source in cfg.corpora:
        mine = [o for o in outcomes if o.corpus == source.label]
        kept = [r for r in rows if r["corpus"] == source.label]
        status = Counter(o.status for o in mine)
        corpora[source.label] = {
            "kind": source.kind, "path": str(source.path), "licence": source.licence,
            "found": len(mine), "used": status["used"], "converted": status["converted"], "skipped": status["skipped"],
            "skipped_by_reason": dict(sorted(Counter(o.reason for o in mine if o.status == "skipped").items())),
            "conversions": dict(sorted(Counter(c for o in mine for c in o.converted).items())),
            "by_label": _by_label(kept), "speakers": len({r["speaker"] for r in kept}),
            "speakers_with_every_label": _speakers_with_every_label(kept),
            "hours": round(sum(r["seconds"] for r in kept) / 3600, 3), "notes": notes.get(source.label, []),
            "fingerprint": fingerprints.get(source.label, ""),
        }
    speakers: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        speakers[r["speaker"]][r["label"]] += 1
    return {
        "out": str(cfg.out), "manifest": "manifest.jsonl", "manifest_fields": list(MANIFEST_FIELDS),
        "sample_rate": SAMPLE_RATE,
        "totals": {"found": len(outcomes), **{k: sum(c[k] for c in corpora.values()) for k in ("used", "converted", "skipped")},
                   "rows": len(rows), "hours": round(sum(r["seconds"] for r in rows) / 3600, 3)},
        "corpora": corpora,
        "by_label": _by_label(rows),
        "by_language": dict(sorted(Counter(r["language"] for r in rows).items())),
        "by_gender": dict(sorted(Counter(r["gender"] or "unknown" for r in rows).items())),
        "by_speaker": {spk: {"total": sum(c.values()), **_by_label_counter(c)} for spk, c in sorted(speakers.items())},
        "skipped": [{"corpus": o.corpus, "source": o.source, "reason": o.reason, "detail": o.detail}
                    for o in outcomes if o.status == "skipped"],
        "skip_reasons": SKIP_REASONS,
    }


def _speakers_with_every_label(rows: list[dict]) -> int:
    """Speakers heard in every label the corpus has: only their own statistics are label-neutral.

    A speaker heard in one emotion only (most URDU speakers) cannot be normalised by their own
    mean without removing the emotion itself.
    """
    labels = {r["label"] for r in rows}
    per_speaker: dict[str, set] = defaultdict(set)
    for r in rows:
        per_speaker[r["speaker"]].add(r["label"])
    return sum(1 for got in per_speaker.values() if got == labels)


def _by_label(rows: list[dict]) -> dict[str, int]:
    return _by_label_counter(Counter(r["label"] for r in rows))


def _by_label_counter(counter: Counter) -> dict[str, int]:
    return {label: counter.get(label, 0) for label in EMOTIONS}


def render_tables(report: dict) -> str:
    """The report as Markdown tables (pasted into docs/corpora.md)."""
    short = {"neutral": "neu", "happy": "hap", "sad": "sad", "angry": "ang", "fearful": "fea", "surprised": "sur",
             "disgusted": "dis"}
    head = ("| corpus | found | used | converted | skipped | speakers (with every label) | hours | "
            + " | ".join(short[e] for e in EMOTIONS) + " |")
    lines = [head, "|" + "---|" * (7 + len(EMOTIONS))]
    for name, c in report["corpora"].items():
        lines.append(f"| {name} | {c['found']} | {c['used']} | {c['converted']} | {c['skipped']} | "
                     f"{c['speakers']} ({c['speakers_with_every_label']}) | "
                     f"{c['hours']:.2f} | " + " | ".join(str(c["by_label"][e]) for e in EMOTIONS) + " |")
    t = report["totals"]
    lines.append(f"| **all** | {t['found']} | {t['used']} | {t['converted']} | {t['skipped']} | {len(report['by_speaker'])} | "
                 f"{t['hours']:.2f} | " + " | ".join(str(report["by_label"][e]) for e in EMOTIONS) + " |")
    lines += ["", "| corpus | skipped by reason | conversions | fingerprint |", "|---|---|---|---|"]
    for name, c in report["corpora"].items():
        skips = ", ".join(f"{k} {v}" for k, v in c["skipped_by_reason"].items()) or "none"
        conv = ", ".join(f"{k}: {v}" for k, v in c["conversions"].items()) or "none"
        lines.append(f"| {name} | {skips} | {conv} | {c['fingerprint'][:12]} |")
    lines += ["", "| speaker | clips | " + " | ".join(short[e] for e in EMOTIONS) + " |", "|" + "---|" * (2 + len(EMOTIONS))]
    for spk, c in report["by_speaker"].items():
        lines.append(f"| {spk} | {c['total']} | " + " | ".join(str(c[e]) for e in EMOTIONS) + " |")
    lines += ["", "languages: " + ", ".join(f"{k} {v}" for k, v in report["by_language"].items())
              + "; genders: " + ", ".join(f"{k} {v}" for k, v in report["by_gender"].items())]
    return "\n".join(lines)


def read_manifest(path: Path) -> list[dict]:
    """Manifest rows with `path` made absolute (it is stored relative to the manifest's folder)."""
    path = Path(path)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            missing = [f for f in MANIFEST_FIELDS if f not in row]
            if missing:
                raise ValueError(f"{path}:{n}: manifest row lacks {missing}; re-run `cogaudio-train corpora prepare`")
            row["path"] = str((path.parent / row["path"]).resolve())
            rows.append(row)
    return rows
