"""The reliability benchmarks, run short: a soak of spoken turns and SIGKILLs inside `cogaudio talk`.

The full figures (200 turns, 50 kills) come from the same scripts run by hand (docs/reliability.md);
here they run small enough for the suite and are held to the issue's limits.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bench(script: str, *args: str, timeout: float = 1500) -> dict:
    out = subprocess.run([sys.executable, str(REPO / "bench" / script), *args, "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_a_short_soak_stores_every_turn_without_leaking():
    r = _bench("soak.py", "--turns", "16", "--warmup", "4", "--every", "4", "--max-tokens", "24")
    assert r["stored"] == 16 and r["timed_out"] == 0
    assert len(r["rows"]) == 4
    assert r["rss_growth_mb"] < 50
    assert r["thread_growth"] <= 0 and r["os_thread_growth"] <= 2  # a per-turn leak would show +12
    assert r["fd_growth"] <= 2


def test_sigkills_inside_talk_lose_no_completed_turn():
    r = _bench("kill_talk.py", "--kills", "3", "--seed", "1")
    assert r["killed"] >= 2  # a kill timed after the last turn finds talk already gone
    assert r["opened_cleanly"] == 3
    assert r["turns_lost"] == 0
    assert r["turns_stored"] >= r["turns_reported_saved"] >= 1
