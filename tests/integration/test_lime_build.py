"""`lime build` end to end on a handful of utterances (real Piper, espeak-ng and faster-whisper),
then `lime verify`, resuming from the cache, determinism, and corpora with a bad file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from training.cli import main as train_main
from training.lime.dataset import decode_audio, load_lime

CONFIG = {
    "seed": 7,
    "max_texts": 3,
    "max_conflict_texts": 1,
    "intensities": ["high"],
    "switch_rows_per_text": 1,
    "conflict_rows_per_text": 1,
    "workers": 1,
    "voices": [
        {"name": "joe", "engine": "piper"},
        {"name": "espeak-f", "engine": "espeak", "model": "en-us+f3"},
        {"name": "joe-deep", "engine": "piper", "formant_shift": 0.9, "pitch_shift": 0.85, "test_only": True},
    ],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("lime")
    cfg = root / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    out = root / "out"
    assert train_main(["lime", "build", "--config", str(cfg), "--out", str(out)]) == 0
    return cfg, out


def test_dataset_schema_and_rows(built):
    _, out = built
    data = load_lime(out)
    assert set(data) == {"train", "validation", "test"}  # (a split without rows would be left out)
    rows = [r for split in data.values() for r in split]
    report = json.loads((out / "build_report.json").read_text())
    assert report["stats"]["bad_rows"] == 0 and len(rows) == report["stats"]["rows_planned"]
    assert {r["kind"] for r in rows} == {"single", "switch", "conflict"}
    for r in rows:
        samples, rate = decode_audio(r["audio"])
        assert rate == 16000 and len(samples) / rate == pytest.approx(r["duration"], abs=1e-3)
        assert [w["word"] for w in r["words"]] == r["text"].split()
        starts = [w["start"] for w in r["words"]]
        assert starts == sorted(starts) and r["words"][-1]["end"] <= r["duration"] + 1e-3
        assert r["word_emotions"] == [w["emotion"] for w in r["words"]]
    switch = next(r for r in rows if r["kind"] == "switch")
    first, second = switch["segments"]
    assert switch["word_emotions"][0] == first["emotion"] and switch["word_emotions"][-1] == second["emotion"]
    conflict = next(r for r in rows if r["kind"] == "conflict")
    assert conflict["text_emotion"] != conflict["emotion"] != "neutral" or conflict["text_emotion"] != "neutral"
    assert {r["voice"] for r in data["test"]} >= {"joe-deep"}
    assert "joe-deep" not in {r["voice"] for s in ("train", "validation") for r in data[s]}


def test_card_names_voices_and_counts(built):
    _, out = built
    card = (out / "README.md").read_text()
    assert "synthetic variant of Piper" in card and "held out (test only)" in card
    for heading in ("### Emotion", "### Intensity", "### Voice", "### Split", "### Source"):
        assert heading in card


def test_verify_passes(built, capsys):
    _, out = built
    assert train_main(["lime", "verify", str(out), "--min-balance", "0.5"]) == 0
    assert "PASSED" in capsys.readouterr().out


def test_resume_rerenders_only_missing_rows_identically(built):
    cfg, out = built
    cached = sorted((out / "cache" / "rows").rglob("*.json"))
    removed = cached[::4]
    before = {p: p.with_suffix(".flac").read_bytes() for p in removed}
    metas = {p: p.read_text() for p in removed}
    for p in removed:
        p.unlink()
    assert train_main(["lime", "build", "--config", str(cfg), "--out", str(out)]) == 0
    stats = json.loads((out / "build_report.json").read_text())["stats"]
    assert stats["rows_rendered"] == len(removed) and stats["rows_from_cache"] == len(cached) - len(removed)
    for p, audio in before.items():
        assert p.read_text() == metas[p]  # same words, times and labels
        meta = json.loads(metas[p])
        assert p.with_suffix(".flac").read_bytes() == audio, (meta["voice"], meta["kind"], meta["emotion"])


def test_corpora_rows_and_bad_files_are_reported_not_fatal(tmp_path):
    crema = tmp_path / "CREMA-D" / "AudioWAV"
    crema.mkdir(parents=True)
    t = np.arange(16000) / 16000
    for name in ["1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1002_TIE_FEA_LO"]:
        sf.write(crema / f"{name}.wav", 0.3 * np.sin(2 * np.pi * 140 * t), 16000)
    (crema / "1003_IWW_SAD_MD.wav").write_bytes(b"not a wav file")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"align": "even", "corpora": [{"kind": "crema-d", "path": str(tmp_path / "CREMA-D")}]}))
    out = tmp_path / "out"
    assert train_main(["lime", "build", "--config", str(cfg), "--out", str(out)]) == 0
    report = json.loads((out / "build_report.json").read_text())
    assert report["stats"]["rows_written"] == 3 and len(report["bad"]) == 1
    assert "1003_IWW_SAD_MD.wav" in report["bad"][0]["where"]
    rows = [r for s in load_lime(out).values() for r in s]
    assert {(r["source"], r["emotion"]) for r in rows} == {("crema-d", "angry"), ("crema-d", "happy"), ("crema-d", "fearful")}
    assert all(r["voice"].startswith("crema-d-") for r in rows)


def test_verify_fails_with_a_readable_report(tmp_path, capsys):
    from datasets import DatasetDict

    from training.lime.dataset import records_to_dataset

    def flac(x, rate=16000, fmt="FLAC"):
        import io
        buf = io.BytesIO()
        sf.write(buf, x, rate, format=fmt, subtype="FLOAT" if fmt == "WAV" else "PCM_16")
        return buf.getvalue()

    t = np.arange(16000) / 16000
    tone = (0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    nan = tone.copy()
    nan[100] = np.nan
    audios = {"ok": flac(tone), "clip": flac(np.clip(tone * 20, -1, 1)), "silent": flac(tone * 1e-5),
              "rate": flac(tone, 22050), "nan": flac(nan, fmt="WAV")}

    def row(i, split, text, voice, audio):
        return {"id": i, "audio": {"bytes": audio, "path": None}, "text": text, "words": [], "word_emotions": [],
                "emotion": "happy", "emotion_id": 1, "intensity": "high", "kind": "single", "text_emotion": "neutral",
                "segments": [], "voice": voice, "voice_synthetic": False, "source": "test", "split": split,
                "group": text, "duration": 1.0}

    train = [row(k, "train", "a", "v1", a) for k, a in audios.items()] + [row("ok", "train", "b", "v1", audios["ok"])]
    test = [row("t", "test", "a", "v1", flac(tone * 0.5))]
    DatasetDict({"train": records_to_dataset(train), "test": records_to_dataset(test)}).save_to_disk(str(tmp_path / "bad"))
    assert train_main(["lime", "verify", str(tmp_path / "bad")]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] duplicates" in out and "id ok appears 2 times" in out
    assert "[FAIL] split leakage" in out and "text 'a' in ['test', 'train']" in out and "no voice is held out" in out
    assert "[FAIL] label balance" in out and "no single-emotion rows for neutral" in out
    assert "[FAIL] audio sanity" in out
    for needle in ("clipped", "silent", "rate 22050 Hz", "NaN"):
        assert needle in out, needle
    assert out.rstrip().endswith("4 check(s) failed")
