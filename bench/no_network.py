"""No network traffic except an explicit model pull: what a turn, `doctor` and the app start try to reach.

Each command runs in a fresh process in which every IP connect, send and name lookup is
refused and logged (tests/helpers/netguard/sitecustomize.py), with HF_HUB_OFFLINE and
friends unset. The table shows, per command, its exit code, its time and how many network
attempts it made (all should be 0). Run: `python bench/no_network.py [--json]`;
tests/integration/test_no_network.py holds each command to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.helpers.offline import commands, run_offline

    rows = []
    with tempfile.TemporaryDirectory(prefix="cogaudio-offline-") as tmp:
        for name, cmd, gui in commands(Path(tmp)):
            run = run_offline(name, cmd, Path(tmp) / name.split()[0], gui=gui)
            rows.append({"command": name, "exit": run.returncode, "seconds": round(run.seconds, 1),
                         "network_attempts": len(run.attempts), "first_attempt": run.attempts[0] if run.attempts else None,
                         "stderr_tail": run.stderr.strip().splitlines()[-1:] if run.returncode not in (0, 1) else []})
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'command':<22} {'exit':>4} {'s':>7} {'network attempts':>17}")
    for r in rows:
        print(f"{r['command']:<22} {r['exit']:>4} {r['seconds']:>7} {r['network_attempts']:>17}")
        if r["first_attempt"]:
            print(f"  first attempt: {r['first_attempt']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
