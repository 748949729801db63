"""`cogaudio reply` end to end on the real bundled models (espeak-ng speech in, spoken reply out)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jiwer
import numpy as np
import pytest

from core.audio.pcm import load_audio
from core.speech.vad import speech_seconds

SPOKEN = "I feel really lonely since my best friend moved away last month."
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z' ]+", " ", text.lower()).strip()


def wer(ref: str, hyp: str) -> float:
    return jiwer.wer(_norm(ref), _norm(hyp))


def cogaudio(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli.main", *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd)


@pytest.fixture(scope="module")
def reply_run(tmp_path_factory):
    """One `reply` run over a good input and three bad ones (models load once)."""
    d = tmp_path_factory.mktemp("reply")
    good = d / "lonely.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(good), SPOKEN], check=True)
    empty = d / "empty.wav"
    empty.write_bytes(b"")
    text = d / "notes.wav"
    text.write_text("this is not audio at all\n")
    missing = d / "missing.wav"
    proc = cogaudio("reply", str(good), str(empty), str(text), str(missing), "--out", str(d / "out.wav"), "--json")
    return d, proc


def test_reply_answers_the_good_input_in_json(reply_run):
    d, proc = reply_run
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    r = lines[0]
    assert wer(SPOKEN, r["transcript"]) <= 0.35, r["transcript"]
    assert r["emotion"]["label"] in ("neutral", "happy", "sad", "angry", "fearful", "surprised", "disgusted")
    assert r["emotion"]["intensity"] in ("low", "medium", "high")
    assert 0.0 <= r["emotion"]["confidence"] <= 1.0
    assert r["eips"] is None or set(r["eips"]) == {"emotion", "intent", "psychology", "strategy"}
    assert r["engine"] in ("cascade", "audio-llm") and r["model"]
    assert isinstance(r["timings_ms"], dict) and r["timings_ms"]
    # an English reply: words of ASCII letters, at least one of them a common English word
    # (the embedded audio model answers briefly, e.g. "That sounds interesting!")
    words = _norm(r["reply"]).split()
    assert len(words) >= 3, r["reply"]
    assert re.fullmatch(r"[A-Za-z0-9'’“” ,.!?;:\-\"()\n]+", r["reply"].strip()), r["reply"]  # Latin script only
    assert sum(w in {"i", "you", "your", "to", "the", "a", "that", "it", "is", "and", "so", "are", "be", "me",
                     "what", "how", "i'm", "it's", "that's", "can", "of", "about", "like", "with", "for", "do",
                     "this", "we", "my", "sounds", "here", "really", "very", "not", "have", "there", "please"}
               for w in words) >= 1, r["reply"]


def test_reply_wav_is_speech_that_says_the_reply(reply_run):
    from faster_whisper import WhisperModel

    from core.models.bundled import require_bundled

    d, proc = reply_run
    r = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("{")))
    out = Path(r["out"])
    assert out.name == "out-1.wav" and out.exists()  # several inputs: numbered by input position
    audio = load_audio(out)
    assert speech_seconds(audio) > 0.5
    model = WhisperModel(str(require_bundled("asr")), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(audio, language="en", beam_size=1)
    heard = " ".join(s.text for s in segments)
    assert wer(r["reply"], heard) <= 0.35, (r["reply"], heard)


def test_bad_inputs_get_one_line_each_and_exit_code_2(reply_run):
    _, proc = reply_run
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 3, proc.stderr
    assert "empty" in errors[0] and "not a readable audio file" in errors[1] and "no such file" in errors[2]
    assert "Traceback" not in proc.stderr


def test_only_bad_inputs_exit_2_without_loading_models(tmp_path):
    bad = tmp_path / "x.wav"
    bad.write_bytes(np.random.default_rng(0).bytes(1000))
    proc = cogaudio("reply", str(bad), "--json")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_reasoning_flag_gives_the_four_eips_steps(reply_run):
    """`--reasoning` asks the cascade for the four steps first; the default reply is direct."""
    d, _ = reply_run
    proc = cogaudio("reply", str(d / "lonely.wav"), "--engine", "cascade", "--reasoning", "--json")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and len(lines) == 1, proc.stderr[-2000:]
    r = lines[0]
    assert r["eips"] is not None and set(r["eips"]) == {"emotion", "intent", "psychology", "strategy"}
    assert all(v.strip() for v in r["eips"].values()), r["eips"]
    assert r["reply"] and "Strategy:" not in r["reply"] and "Emotion:" not in r["reply"]
