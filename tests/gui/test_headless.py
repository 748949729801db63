"""`cogaudio` with no display runs one demo turn instead of opening a window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_display_runs_the_demo_and_says_where_the_reply_went(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    out = subprocess.run([sys.executable, "-m", "app.launcher"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No display found" in out.stdout
    line = next(x for x in out.stdout.splitlines() if "was written to" in x)
    wav = Path(line.rsplit("written to ", 1)[1].strip())
    assert wav.is_file() and wav.stat().st_size > 10_000
