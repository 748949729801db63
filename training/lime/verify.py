"""`lime verify DIR`: the checks a LIME folder must pass before anyone trains on it.

Duplicates (ids, identical audio), leakage across splits (a text or a lexically-identical
group in two splits; no test voice held out), label balance (emotions and intensities of
single-emotion rows) and audio sanity (undecodable, wrong rate, NaN/inf, clipping, silence,
word times outside the audio). Each check lists a few offending rows so they can be found.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from core.audio.pcm import SAMPLE_RATE
from core.emotion.labels import EMOTIONS
from training.lime.dataset import decode_audio, load_lime

CLIP_LEVEL, CLIP_FRACTION = 0.999, 0.001  # more than 0.1 % of samples at full scale is clipping
SILENCE_DB = -50.0  # whole-row RMS below this (dBFS) is silence
MIN_SECONDS = 0.3


@dataclass
class VerifyOptions:
    min_balance: float = 0.5  # rarest / commonest count among non-neutral emotions (and intensities)
    examples: int = 8


@dataclass
class Check:
    name: str
    problems: list[str] = field(default_factory=list)
    info: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    path: Path
    rows: int
    checks: list[Check]
    examples: int = 8

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def render(self) -> str:
        lines = [f"lime verify {self.path}: {self.rows} rows"]
        for c in self.checks:
            status = "ok  " if c.ok else "FAIL"
            lines.append(f"[{status}] {c.name}" + (f": {c.info}" if c.info else ""))
            for p in c.problems[: self.examples]:
                lines.append(f"         - {p}")
            if len(c.problems) > self.examples:
                lines.append(f"         ... and {len(c.problems) - self.examples} more")
        lines.append("PASSED" if self.ok else f"FAILED: {sum(not c.ok for c in self.checks)} check(s) failed")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"path": str(self.path), "rows": self.rows, "ok": self.ok,
                "checks": [{"name": c.name, "ok": c.ok, "info": c.info, "problems": c.problems} for c in self.checks]}


def _audio_problems(row: dict, rate_expected: int) -> list[str]:
    where = f"{row['id']} ({row['voice']}, {row['split']})"
    try:
        samples, rate = decode_audio(row["audio"])
    except Exception as exc:
        return [f"{where}: audio does not decode: {exc}"]
    out = []
    if rate != rate_expected:
        out.append(f"{where}: rate {rate} Hz, expected {rate_expected} Hz")
    if samples.ndim != 1:
        out.append(f"{where}: {samples.shape[1]} channels, expected mono")
        samples = samples.mean(axis=1)
    if not np.all(np.isfinite(samples)):
        return out + [f"{where}: NaN or infinite samples"]
    seconds = len(samples) / max(rate, 1)
    if seconds < MIN_SECONDS:
        out.append(f"{where}: only {seconds:.2f} s long")
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL)) if len(samples) else 0.0
    if clipped > CLIP_FRACTION:
        out.append(f"{where}: {100 * clipped:.2f} % of samples clipped")
    level = 10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20) if len(samples) else -np.inf
    if level < SILENCE_DB:
        out.append(f"{where}: silent (RMS {level:.1f} dBFS)")
    words = row["words"]
    if len(row["word_emotions"]) != len(words):
        out.append(f"{where}: {len(words)} words but {len(row['word_emotions'])} word labels")
    for w in words:
        if not (0.0 <= w["start"] <= w["end"] <= seconds + 0.05):
            out.append(f"{where}: word {w['word']!r} at {w['start']:.2f}-{w['end']:.2f} s outside 0-{seconds:.2f} s")
            break
    if [w["word"] for w in words] != row["text"].split():
        out.append(f"{where}: words do not spell the text")
    return out


def _balance(name: str, counts: Counter, min_balance: float) -> list[str]:
    if not counts:
        return []
    lo, hi = min(counts.values()), max(counts.values())
    if hi and lo / hi < min_balance:
        return [f"{name}: rarest {lo} / commonest {hi} = {lo / hi:.2f} < {min_balance} ({dict(counts)})"]
    return []


def verify(path: Path, options: VerifyOptions | None = None) -> VerifyReport:
    options = options or VerifyOptions()
    data = load_lime(path)
    dup, leak, balance, audio = Check("duplicates"), Check("split leakage"), Check("label balance"), Check("audio sanity")
    ids: Counter = Counter()
    digests: dict[str, str] = {}
    text_splits, group_splits, voice_splits = defaultdict(set), defaultdict(set), defaultdict(set)
    emotions, intensities = Counter(), Counter()
    rows = 0
    for split, ds in data.items():
        rate = ds.features["audio"].sampling_rate or SAMPLE_RATE
        for row in tqdm(ds, desc=f"verify {split}", unit="row"):
            rows += 1
            ids[row["id"]] += 1
            if row["split"] != split:
                leak.problems.append(f"{row['id']}: stored in {split} but labelled {row['split']}")
            digest = hashlib.sha1(row["audio"]["bytes"] or b"").hexdigest()
            if digest in digests:
                dup.problems.append(f"{row['id']}: same audio as {digests[digest]}")
            digests.setdefault(digest, row["id"])
            text_splits[row["text"]].add(split)
            group_splits[row["group"]].add(split)
            voice_splits[row["voice"]].add(split)
            if row["kind"] == "single":
                emotions[row["emotion"]] += 1
                if row["emotion"] != "neutral":
                    intensities[row["intensity"]] += 1
            audio.problems.extend(_audio_problems(row, rate))
    dup.problems[:0] = [f"id {i} appears {n} times" for i, n in ids.items() if n > 1]
    leak.problems += [f"text {t!r} in {sorted(s)}" for t, s in text_splits.items() if len(s) > 1]
    leak.problems += [f"group {g} in {sorted(s)}" for g, s in group_splits.items() if len(s) > 1]
    held_out = sorted(v for v, s in voice_splits.items() if s == {"test"})
    if any("test" in s for s in voice_splits.values()) and not held_out:
        leak.problems.append("no voice is held out: every test voice also appears in train or validation")
    leak.info = f"held-out test voices: {', '.join(held_out) or 'none'}"
    missing = [e for e in EMOTIONS if emotions[e] == 0]
    if missing:
        balance.problems.append(f"no single-emotion rows for {', '.join(missing)}")
    balance.problems += _balance("emotions (non-neutral)", Counter({e: n for e, n in emotions.items() if e != "neutral"}),
                                 options.min_balance)
    balance.problems += _balance("intensities (non-neutral)", intensities, options.min_balance)
    balance.info = ", ".join(f"{e} {emotions[e]}" for e in EMOTIONS)
    audio.info = f"{rows} rows decoded"
    return VerifyReport(Path(path), rows, [dup, leak, balance, audio], options.examples)
