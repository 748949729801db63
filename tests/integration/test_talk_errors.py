"""`cogaudio talk` refuses unusable setups with one clear line and no traceback (no models loaded)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def talk(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli.main", "talk", *args], capture_output=True, text=True, timeout=120)


def test_unreadable_input_exits_2(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    proc = talk("--input", str(bad), "--no-store")
    assert proc.returncode == 2
    assert "not a readable audio file" in proc.stderr and "Traceback" not in proc.stderr


def test_no_microphone_says_how_to_go_on():
    import sounddevice as sd

    try:
        sd.check_input_settings(channels=1, samplerate=16000)
        pytest.skip("this machine has a microphone")
    except Exception:
        pass
    proc = talk("--no-store")
    assert proc.returncode == 1
    assert "no usable microphone" in proc.stderr and "--input FILE" in proc.stderr
    assert "Traceback" not in proc.stderr
