"""MicrophoneSource and SpeakerSink through real PortAudio/ALSA, on a private ALSA `file` device.

A private ~/.asoundrc routes the default capture device to a file we write (a deterministic
microphone) and the default playback device to a file we read, so the sounddevice code paths
run for real without a sound card. Runs in a subprocess because ALSA reads its config once.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

ASOUNDRC = """
pcm.!default {{ type asym playback.pcm "fileout" capture.pcm "filein" }}
pcm.fileout {{ type file slave.pcm "null" file "{d}/out.raw" format "raw" }}
pcm.filein {{ type file slave.pcm "null" file "/dev/null" infile "{d}/in.raw" format "raw" }}
"""

SCRIPT = textwrap.dedent("""
    import numpy as np
    from core.audio.sinks import SpeakerSink
    from core.audio.sources import MicrophoneSource
    mic = MicrophoneSource(frame_ms=32)
    got = []
    for frame in mic.frames():
        got.append(frame)
        if len(got) == 25:
            mic.close()
    np.save("{d}/heard.npy", np.concatenate(got))
    sink = SpeakerSink()
    assert sink.play(np.full(22050, 0.25, np.float32), 22050)
    sink.close()
""")


@pytest.fixture()
def alsa_home(tmp_path):
    pytest.importorskip("sounddevice")
    t = np.arange(16000 * 2) / 16000
    # the file plugin hands the raw bytes to the stream as they are: write float32, as we ask for
    (0.3 * np.sin(2 * np.pi * 440 * t)).astype("<f4").tofile(tmp_path / "in.raw")
    (tmp_path / ".asoundrc").write_text(ASOUNDRC.format(d=tmp_path))
    return tmp_path


def test_microphone_frames_and_speaker_output_through_alsa(alsa_home):
    env = {"HOME": str(alsa_home), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(d=alsa_home)], env=env, capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    if "Error querying device" in proc.stderr or "no usable" in proc.stderr:
        pytest.skip("PortAudio was built without ALSA here: " + proc.stderr.splitlines()[-1])
    assert proc.returncode == 0, proc.stderr
    heard = np.load(alsa_home / "heard.npy")
    assert heard.dtype == np.float32 and len(heard) == 25 * 512
    spectrum = np.abs(np.fft.rfft(heard))
    assert abs(np.argmax(spectrum) * 16000 / len(heard) - 440) < 5  # the 440 Hz tone came through
    played = np.fromfile(alsa_home / "out.raw", dtype="<f4")
    assert len(played) == 22050 and np.allclose(played, 0.25)
