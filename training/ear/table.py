"""The feature table: one row per clip (and augmented copy) with its cached pooled features.

Sources: a LIME dataset folder (synthetic, lexically identical rows with splits, intensities
and conflict rows) and the real-corpus manifest written by `cogaudio-train corpora prepare`
(one JSON object per clip: path, corpus, speaker, label, intensity, language, text). Every
clip goes through the feature cache (training/ear/features.py); the table itself is a small
.npz of numbers and fixed-width strings (no pickle) that head training and evaluation reload
in a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio.pcm import SAMPLE_RATE, load_audio
from core.emotion.labels import EMOTION_ID
from training.ear.features import FeatureCache

ONE_EMOTION_SPEAKERS = {"urdu"}  # no URDU speaker acted all four of its emotions
STR_COLUMNS = ("id", "corpus", "speaker", "label", "intensity", "language", "split", "kind", "text",
               "text_emotion", "augment")


@dataclass
class Table:
    pooled: np.ndarray  # (N, D) float32
    cols: dict[str, np.ndarray] = field(default_factory=dict)  # STR_COLUMNS -> (N,) str arrays

    def __len__(self) -> int:
        return int(self.pooled.shape[0])

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols", {})
        if name in cols:
            return cols[name]
        raise AttributeError(name)

    @property
    def y(self) -> np.ndarray:
        return np.array([EMOTION_ID[x] for x in self.cols["label"]], dtype=np.int64)

    def subset(self, mask: np.ndarray) -> Table:
        return Table(self.pooled[mask], {k: v[mask] for k, v in self.cols.items()})

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, pooled=self.pooled, **{k: v.astype(str) for k, v in self.cols.items()})
        return path

    @classmethod
    def load(cls, path: Path) -> Table:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["pooled"], {k: data[k] for k in STR_COLUMNS})


@dataclass(frozen=True)
class Clip:
    load: Callable[[], np.ndarray]
    meta: dict[str, str]


def lime_clips(folder: Path) -> Iterator[Clip]:
    """Rows of a LIME dataset folder (every split)."""
    import io

    from training.lime.dataset import load_lime

    ds = load_lime(Path(folder))
    for split in ds:
        rows = ds[split].remove_columns([c for c in ("words", "segments", "word_emotions") if c in ds[split].column_names])
        for row in rows:
            audio = row["audio"]

            def load(audio=audio) -> np.ndarray:
                samples, rate = sf.read(io.BytesIO(audio["bytes"]), dtype="float32")
                from core.audio.pcm import resample, to_mono

                return resample(to_mono(samples), rate, SAMPLE_RATE) if rate != SAMPLE_RATE else to_mono(samples)

            yield Clip(load, {
                "id": row["id"], "corpus": "lime", "speaker": f"lime/{row['voice']}", "label": row["emotion"],
                "intensity": row["intensity"], "language": "en", "split": row["split"], "kind": row["kind"],
                "text": row["text"], "text_emotion": row.get("text_emotion") or "", "augment": "",
            })


def corpus_clips(manifest: Path) -> Iterator[Clip]:
    """Clips of the real-corpus manifest (JSON lines; paths relative to the manifest's folder)."""
    manifest = Path(manifest)
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        path = Path(rec["path"])
        if not path.is_absolute():
            path = manifest.parent / path
        corpus = str(rec["corpus"])
        # a corpus whose speakers each acted one or two emotions only: a per-speaker baseline would
        # subtract the emotion itself, so its clips share one corpus-wide baseline (docs/corpora.md)
        speaker = corpus if corpus in ONE_EMOTION_SPEAKERS else str(rec["speaker"])
        yield Clip(lambda path=path: load_audio(path), {
            "id": str(rec.get("id") or f"{corpus}/{Path(rec['path']).stem}"), "corpus": corpus, "speaker": speaker,
            "label": rec["label"], "intensity": rec.get("intensity") or "", "language": rec.get("language") or "",
            "split": "corpus", "kind": "real", "text": rec.get("text") or "", "text_emotion": "", "augment": "",
        })


def build_table(clips: Iterator[Clip], cache: FeatureCache,
                augment: Callable[[np.ndarray, dict], list[tuple[str, np.ndarray]]] | None = None,
                progress: Callable[[int], None] | None = None) -> tuple[Table, list[dict]]:
    """Features for every clip (plus augmented copies from `augment(pcm, meta)`); unreadable or
    empty clips are skipped with a reason in the returned report."""
    pooled: list[np.ndarray] = []
    cols: dict[str, list[str]] = {k: [] for k in STR_COLUMNS}
    skipped: list[dict] = []
    for i, clip in enumerate(clips):
        try:
            pcm = clip.load()
        except Exception as exc:
            skipped.append({"id": clip.meta["id"], "reason": f"unreadable: {type(exc).__name__}: {exc}"})
            continue
        if pcm.size < SAMPLE_RATE // 10 or not np.any(pcm):
            skipped.append({"id": clip.meta["id"], "reason": "empty or shorter than 0.1 s"})
            continue
        variants = [("", pcm)] + (augment(pcm, clip.meta) if augment else [])
        for tag, audio in variants:
            pooled.append(cache.get(audio, tag).pooled)
            for k in STR_COLUMNS:
                cols[k].append(tag if k == "augment" else clip.meta[k])
        if progress:
            progress(i)
    table = Table(np.stack(pooled) if pooled else np.zeros((0, 0), np.float32),
                  {k: np.array(v, dtype=str) for k, v in cols.items()})
    return table, skipped
