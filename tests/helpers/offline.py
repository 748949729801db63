"""Run a command with every network attempt refused and logged (tests/helpers/netguard/sitecustomize.py).

Used by tests/integration/test_no_network.py and bench/no_network.py. HF_HUB_OFFLINE and
friends are removed from the environment on purpose: a library that would phone home on its
own must be caught, not hidden by the flag.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NETGUARD = Path(__file__).resolve().parent / "netguard"
OFFLINE_FLAGS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")

# Starts the real app (offscreen), waits until its models are loaded, then quits.
APP_START = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.gui_main import run_gui

def poll():
    app = QApplication.instance()
    wins = [w for w in app.topLevelWidgets() if type(w).__name__ == 'MainWindow']
    if wins and not wins[0].bridge.loading:
        print('app loaded', flush=True)
        app.quit()
        return
    QTimer.singleShot(200, poll)

app = QApplication([sys.argv[0]])
QTimer.singleShot(200, poll)
sys.exit(run_gui([]))
"""


@dataclass
class OfflineRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    attempts: list[str]


def run_offline(name: str, args: list[str], workdir: Path, timeout: float = 900, gui: bool = False) -> OfflineRun:
    """Run `python <args>` in the repository with the network blocked; its data and config go to `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "net.log"
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_FLAGS}
    env.update(COGAUDIO_NETLOG=str(log), PYTHONPATH=os.pathsep.join([str(NETGUARD), str(REPO)]),
               XDG_DATA_HOME=str(workdir / "data"), XDG_CONFIG_HOME=str(workdir / "config"))
    if gui:
        env["QT_QPA_PLATFORM"] = "offscreen"
        (workdir / "config" / "cogaudio").mkdir(parents=True, exist_ok=True)
        settings = workdir / "config" / "cogaudio" / "settings.json"
        if not settings.exists():
            settings.write_text("{}")  # not a first run: no modal welcome dialog
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    attempts = log.read_text().splitlines() if log.exists() else []
    return OfflineRun(name, out.returncode, out.stdout, out.stderr, time.perf_counter() - t0, attempts)


def commands(workdir: Path) -> list[tuple[str, list[str], bool]]:
    """(name, python args, gui) of what must run without the network: a whole turn, doctor, the app start."""
    return [
        ("reply (a whole turn)", ["-m", "core.cli.main", "reply", str(REPO / "assets/samples/hello.wav"), "--json",
                                  "--out", str(workdir / "reply.wav")], False),
        ("doctor", ["-m", "core.cli.main", "doctor", "--json"], False),
        ("app start", ["-c", APP_START], True),
    ]
