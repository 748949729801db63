"""`cogaudio screenshots OUTDIR` renders the main views in a real (Xvfb) window."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]
VIEWS = ("main-window", "settings", "model-manager", "session-history", "export-preview")


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs apt xvfb (dev.sh installs it)")
def test_screenshots_command_renders_every_view(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "app.launcher", "screenshots", str(tmp_path / "shots"), "--turns", "1"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    for view in VIEWS:
        image = QImage(str(tmp_path / "shots" / f"{view}.png"))
        assert not image.isNull() and image.width() >= 500 and image.height() >= 400, view
        # not a blank capture: a real window has many distinct colours
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 20, view
