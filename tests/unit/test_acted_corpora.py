"""TESS, EmoDB, URDU and TurEV-DB scanners read each corpus's real naming and map its labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from training.lime.acted_corpora import (
    CorpusRecord,
    scan_crema_d,
    scan_emodb,
    scan_tess,
    scan_turev,
    scan_urdu,
)


def _wav(path: Path, seconds: float = 0.3, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, 0.2 * np.sin(2 * np.pi * 180 * t), rate)


def _fields(records: list[CorpusRecord]) -> set[tuple]:
    return {(r.path.name, r.speaker, r.label, r.language, r.text, r.gender) for r in records}


def _reasons(scan) -> dict[str, str]:
    return {s.path.name: s.reason for s in scan.skipped}


def test_tess_folders_names_and_pleasant_surprise(tmp_path):
    root = tmp_path / "TESS_Toronto_emotional_speech_set_data"
    for rel in ["OAF_angry/OAF_back_angry.wav", "YAF_pleasant_surprise/YAF_dog_ps.wav",
                "OAF_neutral/OA_bite_neutral.wav",  # the release's one short prefix
                "YAF_disgust/YAF_yes_disgust.wav", "OAF_Fear/OAF_bath_fear.wav",
                "OAF_sad/OAF_bar_happy.wav",  # folder and name disagree
                "YAF_fear/YAF_lot_bored.wav",  # not a TESS emotion
                "YAF_fear/notes.wav", "XYZ_sad/XYZ_bar_sad.wav"]:
        _wav(root / rel)
    scan = scan_tess(root)
    assert _fields(scan.records) == {
        ("OAF_back_angry.wav", "tess-OAF", "angry", "en", "Say the word back.", "f"),
        ("YAF_dog_ps.wav", "tess-YAF", "surprised", "en", "Say the word dog.", "f"),
        ("OA_bite_neutral.wav", "tess-OAF", "neutral", "en", "Say the word bite.", "f"),
        ("YAF_yes_disgust.wav", "tess-YAF", "disgusted", "en", "Say the word yes.", "f"),
        ("OAF_bath_fear.wav", "tess-OAF", "fearful", "en", "Say the word bath.", "f"),
    }
    assert _reasons(scan) == {"OAF_bar_happy.wav": "label-mismatch", "YAF_lot_bored.wav": "unknown-code",
                              "notes.wav": "bad-name", "XYZ_bar_sad.wav": "bad-name"}
    assert len(scan.notes) == 1 and "OA_bite_neutral.wav" in scan.notes[0]


def test_emodb_letters_speakers_texts_and_boredom(tmp_path):
    root = tmp_path / "wav"
    for name in ["03a01Wa", "08b10Fd", "09a05Eb", "13b03Ac", "14a07Tb", "15b09Na", "16a02Lb", "11a01Xa", "1a01Wa",
                 "10c01Wa"]:
        _wav(root / f"{name}.wav")
    scan = scan_emodb(root)
    assert _fields(scan.records) == {
        ("03a01Wa.wav", "emodb-03", "angry", "de", "Der Lappen liegt auf dem Eisschrank.", "m"),
        ("08b10Fd.wav", "emodb-08", "happy", "de", "Die wird auf dem Platz sein, wo wir sie immer hinlegen.", "f"),
        ("09a05Eb.wav", "emodb-09", "disgusted", "de",
         "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.", "f"),
        ("13b03Ac.wav", "emodb-13", "fearful", "de",
         "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.", "f"),
        ("14a07Tb.wav", "emodb-14", "sad", "de", "In sieben Stunden wird es soweit sein.", "f"),
        ("15b09Na.wav", "emodb-15", "neutral", "de", "Ich will das eben wegbringen und dann mit Karl was trinken gehen.", "m"),
    }
    assert _reasons(scan) == {"16a02Lb.wav": "label-not-used", "11a01Xa.wav": "unknown-code",
                              "1a01Wa.wav": "bad-name", "10c01Wa.wav": "bad-name"}
    assert "boredom" in next(s.detail for s in scan.skipped if s.reason == "label-not-used")


def test_urdu_speaker_gender_letter_and_folder(tmp_path):
    root = tmp_path / "URDU"
    for rel in ["Angry/SM1_F8_A08.wav", "Sad/SF3_F1_S090.wav", "Neutral/SM27_F2_N099.wav", "Happy/SF11_F3_H040.wav",
                "Happy/SM2_F1_N001.wav",  # folder Happy, name says Neutral
                "Neutral/SM5_F2_Q002.wav",  # no such emotion letter
                "Neutral/recording.wav"]:
        _wav(root / rel)
    scan = scan_urdu(root)
    assert _fields(scan.records) == {
        ("SM1_F8_A08.wav", "urdu-SM1", "angry", "ur", None, "m"),
        ("SF3_F1_S090.wav", "urdu-SF3", "sad", "ur", None, "f"),
        ("SM27_F2_N099.wav", "urdu-SM27", "neutral", "ur", None, "m"),
        ("SF11_F3_H040.wav", "urdu-SF11", "happy", "ur", None, "f"),
    }
    assert _reasons(scan) == {"SM2_F1_N001.wav": "label-mismatch", "SM5_F2_Q002.wav": "unknown-code",
                              "recording.wav": "bad-name"}


def test_turev_codes_calm_is_neutral(tmp_path):
    root = tmp_path / "Sound Source"
    for rel in ["Angry/1157_kz_acik.wav", "Calm/1234_sk_cay.wav", "Sad/7895_hl_ogul1.wav", "Happy/6783_mt_gezi.wav",
                "Happy/1234_kz_gezi.wav",  # folder Happy, code kz (angry)
                "Happy/1234_xx_gezi.wav", "Sad/hl_gezi.wav"]:
        _wav(root / rel)
    scan = scan_turev(root)
    assert _fields(scan.records) == {
        ("1157_kz_acik.wav", "turev-1157", "angry", "tr", None, None),
        ("1234_sk_cay.wav", "turev-1234", "neutral", "tr", None, None),
        ("7895_hl_ogul1.wav", "turev-7895", "sad", "tr", None, None),
        ("6783_mt_gezi.wav", "turev-6783", "happy", "tr", None, None),
    }
    assert {r.source_label for r in scan.records} == {"kz", "sk", "hl", "mt"}
    assert _reasons(scan) == {"1234_kz_gezi.wav": "label-mismatch", "1234_xx_gezi.wav": "unknown-code",
                              "hl_gezi.wav": "bad-name"}


def test_crema_d_through_the_lime_scanner_gets_uniform_records(tmp_path):
    audio = tmp_path / "CREMA-D" / "AudioWAV"
    for name in ["1001_DFA_ANG_XX", "1002_IEO_HAP_HI", "1003_IWW_XYZ_MD"]:
        _wav(audio / f"{name}.wav")
    scan = scan_crema_d(tmp_path / "CREMA-D")
    assert {(r.speaker, r.label, r.intensity, r.language) for r in scan.records} == {
        ("crema-d-1001", "angry", "medium", "en"), ("crema-d-1002", "happy", "high", "en")}
    assert [(s.path.name, s.reason) for s in scan.skipped] == [("1003_IWW_XYZ_MD.wav", "unknown-code")]


def test_a_record_with_a_label_outside_the_seven_is_refused():
    with pytest.raises(ValueError, match="unknown emotion label 'bored'"):
        CorpusRecord(Path("x.wav"), "tess", "tess-OAF", "bored", "medium", "en", None)
