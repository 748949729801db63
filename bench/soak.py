"""Soak: many consecutive spoken turns through the real pipeline; memory, threads and files over time.

The bundled sample utterances are answered one after another by the real ConversationPipeline
(engine, crisis check, sentence splitter, Piper, a sink that keeps nothing, the SQLite session
store). After a few warm-up turns (caches, lazily loaded models) the resident memory, the
thread count and the open file descriptors are taken as the baseline; the table shows them
every `--every` turns and the growth at the end, and the store is checked to hold every turn.
Nothing here asserts: it measures (run: `python bench/soak.py [--turns 200] [--json]`);
tests/integration/test_reliability_bench.py runs it short and holds it to its limits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

SAMPLES = ("hello", "tired", "worried", "good_news")


def snapshot(proc) -> dict:
    return {"rss_mb": proc.memory_info().rss / 2**20, "threads": threading.active_count(),
            "os_threads": proc.num_threads(), "fds": proc.num_fds()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5, help="turns before the baseline is taken")
    parser.add_argument("--every", type=int, default=20, help="table row every N turns")
    parser.add_argument("--engine", default="cascade", choices=["auto", "cascade", "audio-llm"])
    parser.add_argument("--max-tokens", type=int, default=48, help="reply length cap (keeps turns short)")
    parser.add_argument("--max-seconds", type=float, default=0, help="stop after this long (0 = no limit); the figures say how many turns ran")
    parser.add_argument("--no-ear", action="store_true", help="perceive without the calibrated ear (ablation)")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="N",
                        help="trace Python allocations from the baseline on and print the N lines that grew most")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

    import psutil

    from core.audio.pcm import load_audio
    from core.audio.sinks import ArraySink
    from core.conversation.orchestrator import ConversationPipeline
    from core.engines.factory import create_engine
    from core.models.bundled import ASSETS
    from core.settings import EarSettings, EngineSettings, Settings
    from core.speech.tts import Speaker
    from core.store.session_store import SessionStore

    proc = psutil.Process()
    if args.tracemalloc:
        import tracemalloc
    settings = Settings(engine=EngineSettings(kind=args.engine, max_tokens=args.max_tokens),
                        ear=EarSettings(enabled=not args.no_ear))
    audio = [load_audio(ASSETS / "samples" / f"{name}.wav") for name in SAMPLES]
    engine, speaker = create_engine(settings, args.engine), Speaker(settings.tts)
    tmp = tempfile.TemporaryDirectory(prefix="cogaudio-soak-")
    store = SessionStore(Path(tmp.name) / "s.sqlite3")
    sid = store.new_session("soak")
    sink = ArraySink()
    rows, base, failed, done = [], None, 0, 0
    t0 = time.perf_counter()
    if not args.json:  # rows are printed as they come, so a run cut short still leaves its figures
        print(f"{args.turns} spoken turns, engine {args.engine}, baseline after turn {args.warmup}")
        print(f"{'turn':>5} {'s':>7} {'RSS MB':>8} {'threads':>8} {'OS thr':>7} {'fds':>5}", flush=True)
    with ConversationPipeline(settings, engine, speaker, sink, store=store, session_id=sid) as pipeline:
        for n in range(1, args.turns + 1):
            turn = pipeline.submit_audio(audio[(n - 1) % len(audio)])
            if not pipeline.wait(turn, 300):
                failed += 1
            sink.clear()  # the sink stands for a sound card: it keeps nothing
            if n == args.warmup:
                base = snapshot(proc)
                if not args.json:  # the baseline row, so that a run cut short still shows its growth
                    print(f"{'base':>5} {round(time.perf_counter() - t0, 1):>7} {base['rss_mb']:>8.1f} {base['threads']:>8} "
                          f"{base['os_threads']:>7} {base['fds']:>5}", flush=True)
                if args.tracemalloc:
                    tracemalloc.start(8)
                    traced0 = tracemalloc.take_snapshot()
            done = n
            out_of_time = args.max_seconds and time.perf_counter() - t0 > args.max_seconds
            if n % args.every == 0 or n == args.turns or out_of_time:
                rows.append({"turn": n, "seconds": round(time.perf_counter() - t0, 1), **snapshot(proc)})
                if not args.json:
                    r = rows[-1]
                    print(f"{r['turn']:>5} {r['seconds']:>7} {r['rss_mb']:>8.1f} {r['threads']:>8} {r['os_threads']:>7} "
                          f"{r['fds']:>5}", flush=True)
            if out_of_time:
                break
        pipeline.wait_idle(30)
    time.sleep(1.0)  # let finished workers exit before the last count
    end = snapshot(proc)
    grown = []
    if args.tracemalloc and tracemalloc.is_tracing():
        diff = tracemalloc.take_snapshot().compare_to(traced0, "lineno")
        grown = [f"{d.size_diff / 2**20:+8.2f} MB {d.count_diff:+7d} blocks  {d.traceback[0]}" for d in diff[:args.tracemalloc]]
        tracemalloc.stop()
    stored = len(store.turns(sid))
    store.close()
    engine.close()
    base = base or end
    result = {"turns": done, "asked": args.turns, "stored": stored, "timed_out": failed, "engine": args.engine,
              "rss_growth_mb": round(end["rss_mb"] - base["rss_mb"], 1), "rss_end_mb": round(end["rss_mb"], 1),
              "thread_growth": end["threads"] - base["threads"], "os_thread_growth": end["os_threads"] - base["os_threads"],
              "fd_growth": end["fds"] - base["fds"], "baseline_after_turn": args.warmup, "rows": rows,
              "no_ear": args.no_ear, "python_growth": grown,
              "seconds": round(time.perf_counter() - t0, 1), "pid": os.getpid()}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"growth after the baseline: RSS {result['rss_growth_mb']:+.1f} MB, Python threads {result['thread_growth']:+d}, "
          f"OS threads {result['os_thread_growth']:+d}, open files {result['fd_growth']:+d}; "
          f"stored {stored}/{done} turns, {failed} timed out")
    if grown:
        print("Python allocations that grew most after the baseline (tracemalloc):")
        print("\n".join(grown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
