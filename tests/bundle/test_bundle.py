"""The Linux desktop bundle, built and smoke-checked as a person would get it (opt-in: -m bundle).

`bash packaging/build_linux.sh` builds dist/cogaudio/ and runs packaging/smoke_bundle.sh,
which copies it out of the checkout and, with an empty environment, checks that doctor finds
every model inside the copy, that `reply` answers the bundled sample headless, and that the
window is drawn under Xvfb. COGAUDIO_BUNDLE_DIR=path/to/cogaudio checks an existing build
instead of building one.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.bundle

REPO = Path(__file__).resolve().parents[2]


def test_the_bundle_builds_and_passes_its_smoke_checks(tmp_path):
    out = tmp_path / "smoke"
    env = {**os.environ, "SMOKE_OUT": str(out)}
    existing = os.environ.get("COGAUDIO_BUNDLE_DIR")
    cmd = ["bash", "packaging/smoke_bundle.sh", existing] if existing else ["bash", "packaging/build_linux.sh"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600, env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "smoke: all passed" in run.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bundle_bytes"] > 200e6  # the four bundled models alone are ~240 MB
    reply = json.loads((out / "reply-cold.json").read_text().splitlines()[0])
    assert reply["error"] is None and reply["reply"].strip() and reply["transcript"].strip()
    png = (out / "window.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
