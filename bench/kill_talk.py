"""SIGKILL `cogaudio talk` at random points of a turn, again and again; the session store must keep up.

Each round starts the real `cogaudio talk` (cascade engine, the bundled sample recordings as
the user's turns, the voice written to a wav) on one shared data folder, waits for a random
turn to be heard, then for a random moment inside its answer (thinking, speaking, being
saved), and kills the process with SIGKILL. Then the store is opened as the app would open
it: it must open cleanly (SQLite integrity check "ok"), and every turn that talk had reported
as saved, in this round and all before, must be in it. The table lists the rounds; nothing
here asserts (run: `python bench/kill_talk.py [--kills 50] [--seed 0] [--json]`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("hello", "worried", "good_news")


def one_round(data_home: Path, rng: random.Random, out_wav: Path, timeout_s: float = 600) -> dict:
    """Start talk, kill it at a random point of a random turn; report what talk said it had saved."""
    cmd = [sys.executable, "-m", "core.cli.main", "talk", "--engine", "cascade", "--speed", "4", "--out", str(out_wav)]
    for name in INPUTS:
        cmd += ["--input", str(REPO / "assets" / "samples" / f"{name}.wav")]
    env = dict(os.environ, XDG_DATA_HOME=str(data_home))
    target_turn = rng.randint(1, len(INPUTS))
    delay = rng.uniform(0.0, 4.0)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    saved, heard, lines = 0, 0, []
    timer = None
    t0 = time.monotonic()

    def kill() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)

    try:
        for line in proc.stdout:
            lines.append(line)
            saved += "complete, saved as turn" in line
            if "(heard" in line:
                heard += 1
                if heard == target_turn and timer is None:
                    timer = threading.Timer(delay, kill)  # somewhere inside this turn's answer
                    timer.start()
            if time.monotonic() - t0 > timeout_s:
                kill()
        proc.wait(30)
    finally:
        if timer is not None:
            timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    return {"killed": proc.returncode == -signal.SIGKILL, "turn": target_turn, "delay_s": round(delay, 2),
            "saved_reported": saved, "heard": heard, "exit": proc.returncode, "tail": "".join(lines[-3:])}


def open_store(path: Path) -> tuple[bool, int, str]:
    """(opened cleanly, turns stored, integrity check) with the app's own SessionStore."""
    sys.path.insert(0, str(REPO))
    from core.store.session_store import SessionStore

    try:
        store = SessionStore(path)
        turns = sum(len(store.turns(s.id)) for s in store.sessions())
        store.close()
    except Exception as exc:  # the figure we are here for: any failure to open counts
        return False, -1, f"{type(exc).__name__}: {exc}"
    with sqlite3.connect(path) as db:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
    return True, turns, check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from core.store.session_store import default_store_path

    rng = random.Random(args.seed)
    tmp = tempfile.TemporaryDirectory(prefix="cogaudio-kill-")
    data_home = Path(tmp.name) / "data"
    store_path = default_store_path(data_home / "cogaudio")
    rounds, reported = [], 0
    t0 = time.perf_counter()
    for k in range(1, args.kills + 1):
        r = one_round(data_home, rng, Path(tmp.name) / "voice.wav")
        reported += r["saved_reported"]
        opened, stored, check = open_store(store_path) if store_path.exists() else (True, 0, "ok (no store yet)")
        r.update(round=k, opened=opened, stored=stored, integrity=check, reported_total=reported,
                 lost=max(0, reported - stored) if stored >= 0 else reported)
        rounds.append(r)
        if not args.json:
            print(f"round {k:>3}: killed {'yes' if r['killed'] else 'NO '} in turn {r['turn']} after {r['delay_s']:.2f} s; "
                  f"talk saved {r['saved_reported']}, store holds {stored} of {reported} reported; "
                  f"opens {'cleanly' if opened else 'NOT'} ({check})", flush=True)
    summary = {"kills": args.kills, "killed": sum(r["killed"] for r in rounds),
               "opened_cleanly": sum(r["opened"] and r["integrity"].startswith("ok") for r in rounds),
               "turns_reported_saved": reported, "turns_stored": rounds[-1]["stored"] if rounds else 0,
               "turns_lost": max((r["lost"] for r in rounds), default=0), "seconds": round(time.perf_counter() - t0, 1),
               "seed": args.seed}
    if args.json:
        print(json.dumps({**summary, "rounds": rounds}))
        return 0
    print(f"{summary['killed']}/{args.kills} SIGKILLs landed mid-run; store opened cleanly {summary['opened_cleanly']}/"
          f"{args.kills} times; {summary['turns_stored']} turns stored, {summary['turns_reported_saved']} reported saved, "
          f"{summary['turns_lost']} lost; {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
