"""The ear in `cogaudio reply`: the shipped emotion head hears the bundled samples, alone and
as one speaker's session, and nothing is written to the user's voice profile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.emotion.labels import EMOTIONS
from core.settings import Settings, save_settings

ROOT = Path(__file__).resolve().parents[2]
HEAD = ROOT / "assets" / "models" / "emotion-head.gguf"
SAMPLES = [ROOT / "assets" / "samples" / n for n in ("tired.wav", "worried.wav", "good_news.wav", "hello.wav")]
pytestmark = pytest.mark.skipif(not HEAD.exists(), reason="no embedded emotion head (cogaudio-train ear train)")


def _reply(settings: Path, engine: str, *extra: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "core.cli.main", "reply", *map(str, SAMPLES), "--json",
                           "--engine", engine, "--settings", str(settings), *extra],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module", params=["audio-llm", "cascade"])
def runs(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("ear")
    settings = save_settings(Settings(data_dir=d / "data", cache_dir=d / "cache"), d / "settings.json")
    alone = _reply(settings, request.param)
    assert all(r["engine"] == request.param for r in alone)
    return d, alone, _reply(settings, request.param, "--session")


_REFERENCE = """
import json, sys
from faster_whisper import WhisperModel
from core.audio.pcm import load_audio
from core.ear.ear import Ear
from core.ear.head import EmotionHead
from core.models.bundled import require_bundled
from core.speech.encoder_pass import EncoderPass
enc = EncoderPass(WhisperModel(str(require_bundled("asr")), device="cpu", compute_type="int8", cpu_threads=2))
head = EmotionHead.load(sys.argv[1])
pooled = [Ear(head).pooled(enc.encode(load_audio(p))) for p in sys.argv[2:]]
alone = [head.probabilities(head.baseline().observe(x)).tolist() for x in pooled]
base = head.baseline()
print(json.dumps([alone, [head.probabilities(base.observe(x)).tolist() for x in pooled]]))
"""


@pytest.fixture(scope="module")
def expected():
    """The head's own reading of each sample, computed from the encoder frames in a fresh process
    as the CLI's is: the int8 encoder's last digits follow the process's BLAS/OpenMP thread state,
    which earlier tests in this process may have changed, and the session baseline carries them."""
    proc = subprocess.run([sys.executable, "-c", _REFERENCE, str(HEAD), *map(str, SAMPLES)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    alone, session = json.loads(proc.stdout.strip().splitlines()[-1])
    return [np.asarray(p) for p in alone], [np.asarray(p) for p in session]


def _check(rows: list[dict], probs: list[np.ndarray]) -> None:
    assert len(rows) == len(SAMPLES)
    for r, p in zip(rows, probs, strict=True):
        assert r["emotion"]["label"] == EMOTIONS[int(np.argmax(p))], r
        assert r["emotion"]["confidence"] == pytest.approx(float(p.max()), abs=0.002)
        assert r["reply"].strip()


def test_each_input_alone_is_heard_by_the_head(runs, expected):
    _, alone, _ = runs
    _check(alone, expected[0])


def test_session_hears_each_input_against_the_voice_so_far(runs, expected):
    _, alone, session = runs
    _check(session, expected[1])
    assert session[0]["emotion"] == alone[0]["emotion"]  # a first turn has no baseline yet
    assert any(s["emotion"]["confidence"] != a["emotion"]["confidence"] for s, a in zip(session[1:], alone[1:], strict=True))


def test_recordings_stay_out_of_the_voice_profile(runs):
    d, _, _ = runs
    assert not Settings(data_dir=d / "data").voice_profile_path().exists()
