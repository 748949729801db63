"""`cogaudio-train corpora prepare`: bad files are converted or skipped with a reason, counts add up."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from training.cli import main
from training.lime.corpus_prepare import MANIFEST_FIELDS, _speakers_with_every_label, read_manifest


def _audio(path: Path, seconds: float = 0.5, rate: int = 16000, channels: int = 1, subtype: str = "PCM_16",
           fmt: str = "WAV", amp: float = 0.3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    freq = 150 + zlib.crc32(path.name.encode()) % 300  # a different tone per file: no accidental duplicates
    t = np.arange(int(seconds * rate)) / rate
    tone = amp * np.sin(2 * np.pi * freq * t)
    data = np.stack([tone, 0.5 * tone], axis=1) if channels == 2 else tone
    sf.write(str(path), data, rate, subtype=subtype, format=fmt)
    return path


def _corpora(root: Path) -> dict[str, Path]:
    """Four tiny corpora with each one's real naming, good files and every kind of bad one."""
    tess = root / "tess" / "TESS_Toronto_emotional_speech_set_data"
    _audio(tess / "OAF_angry/OAF_back_angry.wav")  # 16 kHz mono 16-bit: used as is
    _audio(tess / "OAF_angry/OAF_bar_angry.wav", rate=24414)  # TESS's own rate
    _audio(tess / "YAF_fear/YAF_neat_fear.wav", rate=24414, fmt="AIFF")  # an AIFF named .wav (as in TESS)
    _audio(tess / "YAF_happy/YAF_dog_happy.wav", rate=44100, subtype="FLOAT")
    _audio(tess / "YAF_pleasant_surprise/YAF_dog_ps.wav", channels=2)  # stereo
    (tess / "YAF_sad").mkdir(parents=True)
    (tess / "YAF_sad/YAF_bar_sad.wav").write_bytes(b"")  # empty
    (tess / "YAF_sad/YAF_bath_sad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(200))  # unreadable
    _audio(tess / "YAF_sad/YAF_bean_sad.wav", amp=0.0)  # silent
    _audio(tess / "YAF_sad/YAF_beg_sad.wav", seconds=0.05)  # too short
    shutil.copy(tess / "OAF_angry/OAF_back_angry.wav", tess / "OAF_angry/OAF_base_angry.wav")  # duplicate bytes
    _audio(tess / "YAF_sad/YAF_bite_bored.wav")  # mislabelled: no such TESS emotion

    emodb = root / "emodb" / "wav"
    _audio(emodb / "03a01Wa.wav", rate=22050)
    _audio(emodb / "08a02Fb.wav", rate=48000)  # 48 kHz
    _audio(emodb / "09b01Ta.wav", rate=8000, subtype="PCM_U8")  # 8-bit
    _audio(emodb / "10a04Lc.wav", rate=22050)  # boredom
    _audio(emodb / "11a05Qa.wav", rate=22050)  # unknown letter
    sf.write(str(emodb / "12a07Na.wav"), np.zeros((0,)), 22050)  # a header and no samples

    urdu = root / "urdu"
    _audio(urdu / "Angry/SM1_F8_A08.wav", rate=44100)
    _audio(urdu / "Happy/SF2_F1_H001.wav", rate=44100, channels=2, subtype="PCM_24")
    _audio(urdu / "Sad/SM2_F1_H002.wav", rate=44100)  # folder Sad, name Happy

    turev = root / "turev" / "Sound Source"
    _audio(turev / "Calm/1234_sk_cay.wav", rate=44100)
    _audio(turev / "Angry/1157_kz_acik.wav", rate=44100)
    _audio(turev / "Angry/1157_zz_acik.wav", rate=44100)  # unknown code
    return {"tess": tess, "emodb": emodb, "urdu": urdu, "turev": turev}


def _config(tmp_path: Path, corpora: dict[str, Path], extra: list[dict] | None = None) -> Path:
    cfg = {"out": "out", "corpora": [{"kind": k, "path": str(p.relative_to(tmp_path)), "licence": f"{k} licence"}
                                     for k, p in corpora.items()] + (extra or [])}
    path = tmp_path / "corpora.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture()
def prepared(tmp_path, capsys):
    corpora = _corpora(tmp_path / "raw")
    # corpora paths relative to the config file's folder
    cfg = _config(tmp_path, {k: p for k, p in corpora.items()})
    assert main(["corpora", "prepare", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "build_report.json").read_text())
    return tmp_path / "out", report, out, corpora


def test_every_file_found_is_accounted_for_with_a_reason(prepared):
    out, report, _, corpora = prepared
    c = report["corpora"]
    # the numbers below are the files _corpora() wrote, by what each one is
    assert {k: (v["found"], v["used"], v["converted"], v["skipped"]) for k, v in c.items()} == {
        "tess": (11, 1, 4, 6), "emodb": (6, 0, 3, 3), "urdu": (3, 0, 2, 1), "turev": (3, 0, 2, 1)}
    assert c["tess"]["skipped_by_reason"] == {"duplicate": 1, "empty": 1, "silent": 1, "too-short": 1, "unknown-code": 1,
                                              "unreadable": 1}
    assert c["emodb"]["skipped_by_reason"] == {"empty": 1, "label-not-used": 1, "unknown-code": 1}
    assert c["urdu"]["skipped_by_reason"] == {"label-mismatch": 1}
    assert c["turev"]["skipped_by_reason"] == {"unknown-code": 1}
    for v in c.values():
        assert v["found"] == v["used"] + v["converted"] + v["skipped"] == len(
            [p for p in Path(v["path"]).rglob("*") if p.is_file()])
    t = report["totals"]
    assert t["found"] == t["used"] + t["converted"] + t["skipped"] == 23 and t["rows"] == 12
    skipped = {(s["source"], s["reason"]) for s in report["skipped"]}
    assert ("YAF_sad/YAF_bath_sad.wav", "unreadable") in skipped and ("OAF_angry/OAF_base_angry.wav", "duplicate") in skipped


def test_conversions_are_named_and_the_output_is_16k_mono_float(prepared):
    out, report, _, _ = prepared
    conv = {k: v["conversions"] for k, v in report["corpora"].items()}
    assert conv["tess"]["container AIFF in a .wav file"] == 1
    assert conv["tess"]["downmixed 2 channels"] == 1 and conv["tess"]["sample format FLOAT"] == 1
    assert conv["emodb"]["resampled 48000 -> 16000 Hz"] == 1 and conv["emodb"]["sample format PCM_U8"] == 1
    assert conv["urdu"]["sample format PCM_24"] == 1
    rows = read_manifest(out / "manifest.jsonl")
    assert len(rows) == 12
    for row in rows:
        assert tuple(row) == MANIFEST_FIELDS
        info = sf.info(row["path"])
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "FLOAT")
        assert info.frames / 16000 == pytest.approx(row["seconds"], abs=1e-3)
        assert row["seconds"] == pytest.approx(0.5, abs=0.01)  # every good fixture is 0.5 s at its own rate
    by_id = {r["id"]: r for r in rows}
    stereo = by_id["tess/YAF_pleasant_surprise/YAF_dog_ps"]
    assert (stereo["label"], stereo["speaker"], stereo["text"]) == ("surprised", "tess-YAF", "Say the word dog.")
    # the stereo fixture is a tone at 0.3 in one channel and 0.15 in the other: the mean has peak 0.225
    assert np.max(np.abs(sf.read(stereo["path"])[0])) == pytest.approx(0.225, abs=0.01)
    assert by_id["tess/OAF_angry/OAF_back_angry"]["converted"] == []
    calm = by_id["turev/Calm/1234_sk_cay"]
    assert (calm["label"], calm["label_id"], calm["language"], calm["source_label"]) == ("neutral", 0, "tr", "sk")
    assert by_id["emodb/03a01Wa"]["text"] == "Der Lappen liegt auf dem Eisschrank."


def test_balance_tables_count_the_manifest(prepared):
    out, report, printed, _ = prepared
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert all(not Path(r["path"]).is_absolute() for r in rows)  # relative to the manifest's folder
    assert report["by_label"] == {"neutral": 1, "happy": 3, "sad": 1, "angry": 5, "fearful": 1, "surprised": 1,
                                  "disgusted": 0}
    assert report["by_language"] == {"de": 3, "en": 5, "tr": 2, "ur": 2}
    assert sum(s["total"] for s in report["by_speaker"].values()) == 12
    assert report["by_speaker"]["emodb-08"]["happy"] == 1
    # every fixture speaker is heard in some of its corpus's labels only (tess: OAF angry, YAF three others)
    assert {k: (v["speakers"], v["speakers_with_every_label"]) for k, v in report["corpora"].items()} == {
        "tess": (2, 0), "emodb": (3, 0), "urdu": (2, 0), "turev": (2, 0)}
    assert "| tess | 11 | 1 | 4 | 6 | 2 (0) |" in printed and "| **all** | 23 | 1 | 11 | 11 |" in printed
    assert "found 23 = used 1 + converted 11 + skipped 11" in printed


def test_speakers_heard_in_every_label_are_counted():
    rows = [{"speaker": s, "label": lab} for s, lab in
            [("a", "sad"), ("a", "angry"), ("b", "sad"), ("c", "angry"), ("c", "sad"), ("c", "sad")]]
    assert _speakers_with_every_label(rows) == 2  # a and c; b is heard sad only


def test_a_second_run_writes_the_same_manifest_and_a_changed_file_changes_the_fingerprint(prepared, capsys):
    out, report, _, corpora = prepared
    first = (out / "manifest.jsonl").read_bytes()
    assert main(["corpora", "prepare", "--config", str(out.parent / "corpora.yaml")]) == 0
    assert (out / "manifest.jsonl").read_bytes() == first
    again = json.loads((out / "build_report.json").read_text())
    assert {k: v["fingerprint"] for k, v in again["corpora"].items()} == {
        k: v["fingerprint"] for k, v in report["corpora"].items()}
    _audio(corpora["urdu"] / "Angry/SM1_F8_A08.wav", rate=44100, amp=0.2)  # another take of the same file
    assert main(["corpora", "prepare", "--config", str(out.parent / "corpora.yaml")]) == 0
    changed = json.loads((out / "build_report.json").read_text())["corpora"]
    assert changed["urdu"]["fingerprint"] != report["corpora"]["urdu"]["fingerprint"]
    assert changed["tess"]["fingerprint"] == report["corpora"]["tess"]["fingerprint"]


def test_ravdess_is_refused(tmp_path, capsys):
    corpora = {"tess": _audio(tmp_path / "raw/tess/OAF_angry/OAF_back_angry.wav").parent.parent}
    cfg = _config(tmp_path, corpora, extra=[{"kind": "ravdess", "path": "raw/ravdess"}])
    assert main(["corpora", "prepare", "--config", str(cfg)]) == 2
    assert "RAVDESS is reserved for independent evaluation" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_corpus_folder_is_named(tmp_path, capsys):
    cfg = _config(tmp_path, {"emodb": tmp_path / "raw" / "nowhere"})
    assert main(["corpora", "prepare", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "docs/corpora.md" in err
