"""The LIME dataset on disk: typed features, assembly from the row cache, and reading back.

Layout of DIR: a `datasets.DatasetDict` (save_to_disk: train / validation / test), README.md
(the dataset card), build_report.json, and cache/ (the per-row renderings). The audio column
is `Audio(sampling_rate=16000, decode=False)`: rows hold FLAC bytes, which `decode_audio`
turns into float32 samples with soundfile (datasets' own decoder needs torchcodec, which
this project does not install).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import soundfile as sf
from datasets import Audio, Dataset, DatasetDict, DatasetInfo, Features, List, Value, load_from_disk
from datasets.arrow_writer import ArrowWriter
from tqdm import tqdm

from core.audio.pcm import SAMPLE_RATE
from core.emotion.labels import EMOTION_ID
from training.lime.config import LimeConfig
from training.lime.plan import SPLITS, Group

SCHEMA_VERSION = 1
_WORD = {"word": Value("string"), "start": Value("float32"), "end": Value("float32"), "emotion": Value("string")}
_SEGMENT = {"start": Value("float32"), "end": Value("float32"), "emotion": Value("string"), "intensity": Value("string")}


def lime_features(sample_rate: int = SAMPLE_RATE) -> Features:
    return Features({
        "id": Value("string"),
        "audio": Audio(sampling_rate=sample_rate, decode=False),
        "text": Value("string"),
        "words": List(_WORD),
        "word_emotions": List(Value("string")),
        "emotion": Value("string"),
        "emotion_id": Value("int32"),
        "intensity": Value("string"),
        "kind": Value("string"),
        "text_emotion": Value("string"),
        "segments": List(_SEGMENT),
        "voice": Value("string"),
        "voice_synthetic": Value("bool"),
        "source": Value("string"),
        "split": Value("string"),
        "group": Value("string"),
        "duration": Value("float32"),
    })


def _record(meta: dict, audio_bytes: bytes, synthetic: bool) -> dict:
    return {
        "id": meta["id"], "audio": {"bytes": audio_bytes, "path": f"{meta['id']}.flac"}, "text": meta["text"],
        "words": meta["words"], "word_emotions": [w["emotion"] for w in meta["words"]],
        "emotion": meta["emotion"], "emotion_id": EMOTION_ID[meta["emotion"]], "intensity": meta["intensity"],
        "kind": meta["kind"], "text_emotion": meta["text_emotion"], "segments": meta["segments"],
        "voice": meta["voice"], "voice_synthetic": synthetic, "source": meta["source"], "split": meta["split"],
        "group": meta["group"], "duration": meta["duration"],
    }


def write_dataset(cfg: LimeConfig, out: Path, groups: list[Group], batch: int = 256) -> list[dict]:
    """Assemble the cached rows of `groups` into DIR as a DatasetDict; returns the row metadata."""
    from training.lime.build import row_paths

    features = lime_features(cfg.sample_rate)
    synthetic = {v.name: v.engine != "piper" or v.synthetic_variant for v in cfg.voices}
    arrow_dir = out / "cache" / "arrow"
    arrow_dir.mkdir(parents=True, exist_ok=True)
    writers = {s: ArrowWriter(features=features, path=str(arrow_dir / f"{s}.arrow")) for s in SPLITS}
    pending: dict[str, list[dict]] = {s: [] for s in SPLITS}
    metas = []

    def flush(split: str) -> None:
        if pending[split]:
            writers[split].write_table(pa.Table.from_pylist(pending[split], schema=features.arrow_schema))
            pending[split] = []

    ordered = sorted({r.id for g in groups for r in g.rows})  # sorted: same seed, same order
    for row_id in tqdm(ordered, desc="lime assemble", unit="row"):
        audio_path, meta_path = row_paths(out, row_id)
        if not meta_path.exists():
            continue  # reported as bad by the build
        meta = json.loads(meta_path.read_text())
        metas.append(meta)
        pending[meta["split"]].append(_record(meta, audio_path.read_bytes(), synthetic.get(meta["voice"], False)))
        if len(pending[meta["split"]]) >= batch:
            flush(meta["split"])
    splits = {}
    for s in SPLITS:
        flush(s)
        written, _ = writers[s].finalize()
        # datasets 5.2 cannot load back an empty split it saved (IndexError in concat_tables),
        # so a split without rows is left out of the DatasetDict.
        if written:
            splits[s] = Dataset.from_file(str(arrow_dir / f"{s}.arrow"))
    DatasetDict(splits).save_to_disk(str(out))
    for s in SPLITS:  # the saved copy is self-contained; drop the staging files
        (arrow_dir / f"{s}.arrow").unlink(missing_ok=True)
    return metas


def records_to_dataset(records: list[dict], features: Features | None = None) -> Dataset:
    """A Dataset from row dicts, built through Arrow (datasets' own encoder needs torchcodec)."""
    features = features or lime_features()
    return Dataset(pa.Table.from_pylist(records, schema=features.arrow_schema), info=DatasetInfo(features=features))


def load_lime(path: Path) -> DatasetDict:
    """The dataset at `path` (as written by `lime build`)."""
    return load_from_disk(str(path))


def decode_audio(audio: dict) -> tuple[np.ndarray, int]:
    """Float32 mono samples and rate from a row's `audio` value ({"bytes", "path"})."""
    samples, rate = sf.read(io.BytesIO(audio["bytes"]), dtype="float32")
    return samples, rate
