"""How responsive the GUI stays while a reply is generated and spoken.

A 10 ms QTimer ticks on the GUI thread while the real window answers typed messages with the
bundled models (cascade engine, Piper voice, real-time sink). The gap between consecutive
ticks, minus the timer interval, is how long the event loop could not answer; we report the
longest gap and the 99th percentile per turn and overall. Nothing here asserts a time:
this is a measurement (run: `python bench/gui_stall.py [--turns N] [--json]`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

MESSAGES = [
    "I had a really long day and I'm exhausted.",
    "My sister is visiting this weekend and I'm excited!",
    "I'm nervous about my job interview tomorrow.",
    "Thanks for listening to me.",
]
INTERVAL_MS = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.bridge import PipelineParts
    from app.main_window import MainWindow
    from core.audio.sinks import ArraySink
    from core.engines.factory import create_engine
    from core.settings import EngineSettings, Settings
    from core.speech.tts import Speaker
    from core.store.session_store import SessionStore

    app = QApplication.instance() or QApplication([])
    settings = Settings(engine=EngineSettings(kind="cascade", max_tokens=128))
    t0 = time.perf_counter()
    engine, speaker = create_engine(settings, "cascade"), Speaker(settings.tts)
    load_s = time.perf_counter() - t0
    tmp = tempfile.TemporaryDirectory(prefix="cogaudio-bench-")
    store = SessionStore(Path(tmp.name) / "s.sqlite3")
    parts = PipelineParts(sink=lambda s: ArraySink(realtime=True), engine=engine, speaker=speaker, listen=False)
    window = MainWindow(settings, store, Path(tmp.name) / "settings.json", parts)
    window.show()
    window.start()
    while window.bridge.loading:
        app.processEvents()
        time.sleep(0.005)

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append(max(0.0, (now - last[0]) / 1e6 - INTERVAL_MS))
        last[0] = now

    timer = QTimer()
    timer.setInterval(INTERVAL_MS)
    timer.timeout.connect(tick)
    done: list[object] = []
    window.bridge.turn_complete.connect(lambda turn, record, row: done.append(record))

    per_turn = []
    for i in range(args.turns):
        gaps.clear()
        last[0] = clock.nsecsElapsed()
        timer.start()
        start = time.perf_counter()
        window.input.setText(MESSAGES[i % len(MESSAGES)])
        window.send_button.click()
        while len(done) <= i:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        record = done[i]
        per_turn.append({
            "turn_s": round(time.perf_counter() - start, 2),
            "ticks": len(gaps),
            "max_stall_ms": round(max(gaps, default=0.0), 1),
            "p99_stall_ms": round(statistics.quantiles(gaps, n=100)[98], 1) if len(gaps) >= 100 else None,
            "reply_chars": len(record.reply),
        })
    window.close()
    store.close()
    engine.close()
    tmp.cleanup()

    result = {
        "bench": "gui_stall",
        "platform": app.platformName(),
        "model_load_s": round(load_s, 2),
        "turns": per_turn,
        "max_stall_ms": max(t["max_stall_ms"] for t in per_turn),
        "cpu_count": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"GUI event-loop stall while replying ({result['platform']}, {os.cpu_count()} CPUs, "
              f"timer {INTERVAL_MS} ms)")
        print(f"{'turn':>4} {'duration s':>10} {'ticks':>6} {'max stall ms':>12} {'p99 ms':>7}")
        for n, t in enumerate(per_turn, 1):
            print(f"{n:>4} {t['turn_s']:>10} {t['ticks']:>6} {t['max_stall_ms']:>12} {t['p99_stall_ms']!s:>7}")
        print(f"longest stall: {result['max_stall_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
