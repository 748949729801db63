"""Ingestion of real emotional speech corpora (ESD, CREMA-D, RAVDESS) by their own file naming.

- ESD: `<root>/<speaker>/<Emotion>/[train|evaluation|test/]<speaker>_<utt>.wav`, transcripts in
  `<root>/<speaker>/<speaker>.txt` as `utt<TAB>text<TAB>Emotion` (speakers 0001-0010 Chinese,
  0011-0020 English).
- CREMA-D: `AudioWAV/<actor>_<sentence>_<EMO>_<LEVEL>.wav`, e.g. `1001_DFA_ANG_XX.wav`; the 12
  sentence codes stand for fixed sentences.
- RAVDESS: `Actor_NN/<modality>-<channel>-<emotion>-<intensity>-<statement>-<rep>-<actor>.wav`;
  audio-only (03) speech (01) files are used, statement 01/02 are two fixed sentences.
Labels map through core.emotion.labels; a file with an unknown label, no transcript or unreadable
audio is reported and skipped. Rows get word times from faster-whisper like synthetic ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from core.emotion.labels import (
    CREMA_D_INTENSITY,
    CREMA_D_LABELS,
    ESD_LABELS,
    RAVDESS_INTENSITY,
    RAVDESS_LABELS,
)
from training.lime.config import CorpusConfig, LimeConfig
from training.lime.plan import Group, RowSpec, Segment, assign_splits, stable_hash

CREMA_D_SENTENCES = {
    "IEO": "It's eleven o'clock.", "TIE": "That is exactly what happened.", "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.", "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.", "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.", "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.", "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}
RAVDESS_SENTENCES = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}


@dataclass(frozen=True)
class CorpusItem:
    path: Path
    text: str
    emotion: str
    intensity: str
    speaker: str
    source: str


def _bad(path: Path, source: str, why: str) -> dict:
    return {"id": stable_hash("corpus", path), "status": "bad", "where": f"{source}: {path}", "error": why}


def _read_esd_transcripts(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16", "gbk"):  # ESD ships its .txt files in mixed encodings
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"cannot decode {path}")
    out = {}
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2:
            out[parts[0].strip()] = parts[1].strip()
    return out


def scan_esd(root: Path, language: str = "en") -> tuple[list[CorpusItem], list[dict]]:
    items, bad = [], []
    for spk_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        n = int(spk_dir.name)
        if (language == "en" and not 11 <= n <= 20) or (language == "zh" and not 1 <= n <= 10):
            continue
        txt = spk_dir / f"{spk_dir.name}.txt"
        transcripts = _read_esd_transcripts(txt) if txt.exists() else {}
        for emo_dir in sorted(p for p in spk_dir.iterdir() if p.is_dir()):
            for wav in sorted(emo_dir.rglob("*.wav")):
                if emo_dir.name not in ESD_LABELS:
                    bad.append(_bad(wav, "esd", f"unknown ESD emotion folder {emo_dir.name!r}"))
                elif not transcripts.get(wav.stem):
                    bad.append(_bad(wav, "esd", f"no transcript for {wav.stem} in {txt}"))
                else:
                    items.append(CorpusItem(wav, transcripts[wav.stem], ESD_LABELS[emo_dir.name], "medium",
                                            spk_dir.name, "esd"))
    return items, bad


def scan_crema_d(root: Path) -> tuple[list[CorpusItem], list[dict]]:
    items, bad = [], []
    for wav in sorted(root.rglob("*.wav")):
        parts = wav.stem.split("_")
        if len(parts) != 4:
            bad.append(_bad(wav, "crema-d", "name is not <actor>_<sentence>_<EMO>_<LEVEL>.wav"))
        elif parts[2] not in CREMA_D_LABELS:
            bad.append(_bad(wav, "crema-d", f"unknown CREMA-D emotion code {parts[2]!r}"))
        elif parts[1] not in CREMA_D_SENTENCES:
            bad.append(_bad(wav, "crema-d", f"unknown CREMA-D sentence code {parts[1]!r}"))
        elif parts[3] not in CREMA_D_INTENSITY:
            bad.append(_bad(wav, "crema-d", f"unknown CREMA-D level {parts[3]!r}"))
        else:
            items.append(CorpusItem(wav, CREMA_D_SENTENCES[parts[1]], CREMA_D_LABELS[parts[2]],
                                    CREMA_D_INTENSITY[parts[3]], parts[0], "crema-d"))
    return items, bad


def scan_ravdess(root: Path) -> tuple[list[CorpusItem], list[dict]]:
    items, bad = [], []
    for wav in sorted(root.rglob("*.wav")):
        parts = wav.stem.split("-")
        if len(parts) != 7:
            bad.append(_bad(wav, "ravdess", "name is not MM-VV-EE-II-SS-RR-AA.wav"))
            continue
        modality, channel, emotion, intensity, statement, _rep, actor = parts
        if modality != "03" or channel != "01":
            bad.append(_bad(wav, "ravdess", "not audio-only speech (modality 03, channel 01): skipped"))
        elif emotion not in RAVDESS_LABELS:
            bad.append(_bad(wav, "ravdess", f"unknown RAVDESS emotion code {emotion!r}"))
        elif intensity not in RAVDESS_INTENSITY or statement not in RAVDESS_SENTENCES:
            bad.append(_bad(wav, "ravdess", f"unknown intensity {intensity!r} or statement {statement!r}"))
        else:
            label = RAVDESS_LABELS[emotion]
            items.append(CorpusItem(wav, RAVDESS_SENTENCES[statement], label,
                                    "medium" if label == "neutral" else RAVDESS_INTENSITY[intensity], actor, "ravdess"))
    return items, bad


SCANNERS = {"esd": lambda c: scan_esd(c.path, c.language), "crema-d": lambda c: scan_crema_d(c.path),
            "ravdess": lambda c: scan_ravdess(c.path)}


def scan(corpus: CorpusConfig) -> tuple[list[CorpusItem], list[dict]]:
    if not corpus.path.is_dir():
        raise FileNotFoundError(f"{corpus.kind} corpus folder {corpus.path} does not exist; fix `corpora[].path` in the config")
    items, bad = SCANNERS[corpus.kind](corpus)
    return items[: corpus.limit] if corpus.limit else items, bad


def ingest_corpora(cfg: LimeConfig, known_splits: dict[str, str]) -> tuple[list[Group], list[dict]]:
    """One group (one row) per usable corpus file; splits by text like the synthetic rows.

    A corpus text that the synthetic part already uses keeps that split (`known_splits`).
    """
    groups, bad = [], []
    for corpus in cfg.corpora:
        items, problems = scan(corpus)
        bad.extend(problems)
        splits = {**assign_splits(sorted({i.text for i in items} - set(known_splits)), cfg.split_ratios, cfg.seed),
                  **known_splits}
        for item in items:
            gid = stable_hash(cfg.seed, item.source, item.path.relative_to(corpus.path))
            row = RowSpec(stable_hash(gid, "row"), "single", (Segment(0, item.emotion, item.intensity),), "neutral")
            groups.append(Group(gid, item.text, f"{item.source}-{item.speaker}", splits.get(item.text, "train"),
                                item.source, (row,), str(item.path)))
    return groups, bad


def render_corpus_file(group: Group, segments: tuple[Segment, ...], cfg: LimeConfig, aligner):
    """A corpus file as a row: mono, resampled, with word times and its one label."""
    from training.lime.backends import LabelledWord, Rendered, to_rate

    samples, rate = sf.read(group.audio_path, dtype="float32", always_2d=True)
    samples = to_rate(samples.mean(axis=1), rate, cfg.sample_rate)
    if not len(samples):
        raise ValueError("empty audio file")
    seg = segments[0]
    words = [LabelledWord(w.word, w.start, w.end, seg.emotion) for w in aligner.align(group.text, samples, cfg.sample_rate)]
    seconds = len(samples) / cfg.sample_rate
    return Rendered(samples, cfg.sample_rate, words, [{"start": 0.0, "end": seconds, "emotion": seg.emotion,
                                                       "intensity": seg.intensity}])
