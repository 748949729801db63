"""ESD, CREMA-D and RAVDESS adapters read the corpora's real layouts and names and map their labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from training.lime.corpora import scan_crema_d, scan_esd, scan_ravdess


def _wav(path: Path, seconds: float = 0.5, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, 0.2 * np.sin(2 * np.pi * 150 * t), rate)


def test_esd_layout_transcripts_and_labels(tmp_path):
    root = tmp_path / "ESD"
    (root / "0011").mkdir(parents=True)
    (root / "0011" / "0011.txt").write_text(
        "0011_000001\tThe nine the eggs.\tNeutral\n0011_000351\tThe nine the eggs.\tAngry\n", encoding="utf-16")
    _wav(root / "0011" / "Neutral" / "train" / "0011_000001.wav")
    _wav(root / "0011" / "Angry" / "evaluation" / "0011_000351.wav")
    _wav(root / "0011" / "Surprise" / "0011_001401.wav")  # no transcript line: reported
    _wav(root / "0011" / "Bored" / "0011_002001.wav")  # not an ESD emotion: reported
    _wav(root / "0001" / "Happy" / "0001_000701.wav")  # a Chinese speaker: not in language "en"
    items, bad = scan_esd(root, "en")
    assert [(i.path.name, i.emotion, i.intensity, i.speaker, i.text) for i in items] == [
        ("0011_000351.wav", "angry", "medium", "0011", "The nine the eggs."),
        ("0011_000001.wav", "neutral", "medium", "0011", "The nine the eggs."),
    ]
    errors = sorted(b["error"] for b in bad)
    assert any("unknown ESD emotion folder 'Bored'" in e for e in errors)
    assert any("no transcript for 0011_001401" in e for e in errors)


def test_crema_d_names_codes_and_levels(tmp_path):
    audio = tmp_path / "CREMA-D" / "AudioWAV"
    for name in ["1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1002_TIE_FEA_LO", "1003_IWW_XYZ_MD", "1004_ABC_SAD_MD", "junk"]:
        _wav(audio / f"{name}.wav")
    items, bad = scan_crema_d(tmp_path / "CREMA-D")
    got = {(i.speaker, i.emotion, i.intensity, i.text) for i in items}
    assert got == {
        ("1001", "angry", "medium", "Don't forget a jacket."),
        ("1001", "happy", "high", "It's eleven o'clock."),
        ("1002", "fearful", "low", "That is exactly what happened."),
    }
    assert len(bad) == 3 and any("XYZ" in b["error"] for b in bad) and any("ABC" in b["error"] for b in bad)


def test_ravdess_fields_calm_is_neutral_and_song_is_skipped(tmp_path):
    actor = tmp_path / "RAVDESS" / "Actor_12"
    for name in ["03-01-02-01-01-01-12", "03-01-05-02-02-01-12", "03-01-08-01-01-02-12",
                 "03-02-03-01-01-01-12", "03-01-09-01-01-01-12"]:
        _wav(actor / f"{name}.wav")
    items, bad = scan_ravdess(tmp_path / "RAVDESS")
    got = sorted((i.path.stem, i.emotion, i.intensity, i.text) for i in items)
    assert got == [
        ("03-01-02-01-01-01-12", "neutral", "medium", "Kids are talking by the door."),
        ("03-01-05-02-02-01-12", "angry", "high", "Dogs are sitting by the door."),
        ("03-01-08-01-01-02-12", "surprised", "medium", "Kids are talking by the door."),
    ]
    assert {b["where"].split("/")[-1] for b in bad} == {"03-02-03-01-01-01-12.wav", "03-01-09-01-01-01-12.wav"}
