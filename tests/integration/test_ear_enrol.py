"""Calm enrolment (issue 11): a sentence read calmly goes into the speaker's baseline through the
real tiny.en encoder and the shipped head, is kept in the profile, and bad clips are refused;
the same through `cogaudio voice enrol` / `voice reset`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.audio.pcm import SAMPLE_RATE, load_audio
from core.ear.ear import Ear
from core.ear.enrolment import enrolment_path
from core.ear.head import EmotionHead
from core.ear.listener import EarListener
from core.settings import EarSettings, Settings, save_settings

ROOT = Path(__file__).resolve().parents[2]
HEAD = ROOT / "assets" / "models" / "emotion-head.gguf"
CALM = ROOT / "assets" / "samples" / "hello.wav"
pytestmark = pytest.mark.skipif(not HEAD.exists(), reason="no embedded emotion head (cogaudio-train ear train)")


@pytest.fixture(scope="module")
def asr():
    from core.speech.asr import SpeechRecognizer

    rec = SpeechRecognizer(n_threads=2)
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def pooled_calm():
    """The clip's pooled encoder vector, computed here on a separate faster-whisper model."""
    from faster_whisper import WhisperModel

    from core.models.bundled import require_bundled
    from core.speech.encoder_pass import EncoderPass

    enc = EncoderPass(WhisperModel(str(require_bundled("asr")), device="cpu", compute_type="int8", cpu_threads=2))
    return Ear(EmotionHead.load(HEAD)).pooled(enc.encode(load_audio(CALM))).astype(np.float64)


def _listener(profile: Path | None, adapt: bool = True) -> EarListener:
    return EarListener(EmotionHead.load(HEAD), profile, adapt)


def test_enrol_starts_the_baseline_from_the_calm_voice_and_keeps_it(tmp_path, asr, pooled_calm):
    profile = tmp_path / "profile" / "voice-baseline.json"
    ear = _listener(profile)
    mu0, k = ear.baseline.mu0.copy(), ear.baseline.k
    before, _ = ear.baseline.stats()
    result = ear.enrol(asr, load_audio(CALM))
    assert (result.enrolled, result.turns, result.profile) == (1, 1, profile)
    assert 2.0 < result.voice_s <= 4.6  # hello.wav is 4.5 s, with pauses
    after, _ = ear.baseline.stats()
    # the mean moved from the population's towards this voice: (k mu0 + x) / (k + 1)
    np.testing.assert_allclose(after, (k * mu0 + pooled_calm) / (k + 1), rtol=1e-4, atol=1e-4)
    assert np.abs(after - before).max() > 0.01
    # statistics only, in the profile, and the enrolment count beside them
    data = json.loads(profile.read_text())
    assert data["n"] == 1 and set(data) == {"format", "version", "encoder", "n", "sum_x", "sum_x2"}
    np.testing.assert_allclose(data["sum_x"], pooled_calm, rtol=1e-4, atol=1e-4)
    assert json.loads(enrolment_path(profile).read_text())["enrolled"] == 1
    # the next start reads it back, and a second enrolment adds to it
    again = _listener(profile)
    assert (again.baseline.n, again.enrolled) == (1, 1)
    second = again.enrol(asr, load_audio(ROOT / "assets" / "samples" / "good_news.wav"))
    assert (second.enrolled, second.turns) == (2, 2)
    assert (_listener(profile).enrolled, json.loads(profile.read_text())["n"]) == (2, 2)
    again.reset()
    assert not profile.exists() and not enrolment_path(profile).exists()
    assert _listener(profile).enrolled == 0


def test_enrol_without_remember_keeps_it_for_this_session_only(tmp_path, asr):
    ear = _listener(None)
    result = ear.enrol(asr, load_audio(CALM))
    assert (result.enrolled, result.turns, result.profile) == (1, 1, None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("pcm, words", [
    (load_audio(CALM)[: SAMPLE_RATE], "1.0 s long"),  # the first second of the sentence
    (np.zeros(3 * SAMPLE_RATE, np.float32), "silent"),
    (np.r_[np.zeros(3 * SAMPLE_RATE, np.float32), load_audio(CALM)[SAMPLE_RATE: SAMPLE_RATE + SAMPLE_RATE // 2]],
     "of voice"),  # 3 s of silence and half a second of speech
])
def test_short_or_silent_audio_is_refused_and_nothing_is_kept(tmp_path, asr, pcm, words):
    profile = tmp_path / "voice-baseline.json"
    ear = _listener(profile)
    with pytest.raises(ValueError, match=words):
        ear.enrol(asr, pcm)
    assert (ear.baseline.n, ear.enrolled) == (0, 0)
    assert not profile.exists() and not enrolment_path(profile).exists()


def test_enrol_is_refused_when_the_ear_does_not_adapt(tmp_path, asr):
    with pytest.raises(ValueError, match="Hear me against my own voice"):
        _listener(tmp_path / "voice-baseline.json", adapt=False).enrol(asr, load_audio(CALM))


def _voice(settings: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli.main", "voice", *args, "--settings", str(settings)],
                          capture_output=True, text=True, timeout=300)


def test_cli_voice_enrol_and_reset(tmp_path):
    s = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    settings = save_settings(s, tmp_path / "settings.json")
    profile = s.voice_profile_path()
    done = _voice(settings, "enrol", str(CALM))
    assert done.returncode == 0, done.stderr
    assert f"from {CALM}" in done.stdout and str(profile) in done.stdout
    assert "1 turn of enrolment (1 turn in all)" in done.stdout
    assert json.loads(profile.read_text())["n"] == 1
    bad = _voice(settings, "enrol", str(tmp_path / "missing.wav"))
    assert bad.returncode == 2 and "no such file" in bad.stderr and "Traceback" not in bad.stderr
    quiet = tmp_path / "quiet.wav"
    import soundfile as sf

    sf.write(quiet, np.zeros(3 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    refused = _voice(settings, "enrol", str(quiet))
    assert refused.returncode == 2 and "silent" in refused.stderr
    assert json.loads(profile.read_text())["n"] == 1  # the refused clip cost nothing
    gone = _voice(settings, "reset")
    assert gone.returncode == 0 and str(profile) in gone.stdout
    assert not profile.exists() and not enrolment_path(profile).exists()
    assert "no voice profile" in _voice(settings, "reset").stdout


def test_cli_refuses_to_enrol_what_would_not_be_remembered(tmp_path):
    s = Settings(data_dir=tmp_path / "data", ear=EarSettings(remember_voice=False))
    done = _voice(save_settings(s, tmp_path / "settings.json"), "enrol", str(CALM))
    assert done.returncode == 2 and "Remember my voice" in done.stderr
    assert not s.voice_profile_path().exists()
