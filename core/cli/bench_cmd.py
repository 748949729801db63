"""`cogaudio bench latency [--json]`: voice-to-voice latency, streaming versus sequential.

Speaks the bundled sample utterances in real time into the conversation pipeline and
measures, from the last speech sample fed to the first reply sample written, the median and
p90 for the streaming pipeline and for a sequential baseline (whole reply, then whole TTS)
of the same models in the same run, their ratio, a per-stage breakdown, peak RSS and the
cold start (process start to models ready). See core/cli/latency_bench.py for the method.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from core.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    CliError,
    add_common_args,
    err,
    load_runtime,
    quiet_native_logs,
    settings_from,
)
from core.models.bundled import ASSETS

PROG = "cogaudio bench"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmarks (latency)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="bench", required=True)
    lat = sub.add_parser("latency", help="voice-to-voice latency: streaming vs sequential")
    lat.add_argument("--json", action="store_true", help="print only the JSON result")
    lat.add_argument("--runs", type=int, default=1, help="passes over the utterances per mode (default 1)")
    lat.add_argument("--samples", nargs="*", metavar="FILE", default=None,
                     help="utterances to use (default: the bundled assets/samples/*.wav)")
    lat.add_argument("--min-silence-ms", type=int, default=None,
                     help="end-of-turn silence for this run (default: settings vad.min_silence_ms)")
    lat.add_argument("--early-start-ms", type=int, default=None,
                     help="silence after which answering starts early (default: settings vad.early_start_ms; 0 = off)")
    lat.add_argument("--no-prefetch", action="store_true",
                     help="do not start the transcript at the first silent window (asr.prefetch=false; an ablation)")
    lat.add_argument("--direct", action="store_true",
                     help="ask the model for the direct reply (no four-step reasoning), as engine.explicit_reasoning=false")
    lat.add_argument("--reasoning", action="store_true",
                     help="ask for the four EIPS steps before the reply (engine.explicit_reasoning=true)")
    lat.add_argument("--baseline-early-start", action="store_true",
                     help="let the sequential baseline start early too (default: the baseline starts at the "
                          "endpoint decision, as a classic cascade does; this flag is an ablation)")
    lat.add_argument("--fixed-end", action="store_true",
                     help="end turns after a fixed silence (vad.min_silence_ms) instead of the end-of-turn decision "
                          "(turn.smart_end=false; an ablation: the latency before the decision)")
    lat.add_argument("--no-lm", action="store_true",
                     help="decide the end of a turn without the language model's reading of the words "
                          "(turn.lm_completion=false; an ablation)")
    lat.add_argument("--lm", action="store_true",
                     help="decide the end of a turn with the language model's reading of the words too "
                          "(turn.lm_completion=true)")
    lat.add_argument("--turn-rows", type=int, default=60, metavar="N",
                     help="held-out LIME rows for the end-of-turn figures (delay after complete turns, cut-offs with "
                          "inserted pauses; default 60, 0 = skip)")
    lat.add_argument("--turn-data", default=None, metavar="DIR",
                     help="the LIME dataset whose test split those rows come from (default: data/lime-turns when "
                          "it exists, else the figures are skipped; configs/lime-turns.yaml builds it)")
    add_common_args(lat)
    lat.set_defaults(func=run)


def run(args) -> int:
    started = _process_start()
    try:
        return _run(args, started)
    except CliError as exc:
        err(PROG, str(exc))
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        err(PROG, f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR


def _process_start() -> float:
    """perf_counter() value of the moment this process started (cold start includes imports)."""
    try:
        import psutil

        age = time.time() - psutil.Process().create_time()
        return time.perf_counter() - age
    except Exception:
        return time.perf_counter()


def _run(args, started: float) -> int:
    from core.audio.pcm import AudioFileError, load_audio
    from core.cli.latency_bench import run_bench

    quiet_native_logs()
    settings = settings_from(args.settings)
    if args.min_silence_ms is not None:
        settings.vad.min_silence_ms = args.min_silence_ms
    if args.early_start_ms is not None:
        settings.vad.early_start_ms = args.early_start_ms
    if args.no_prefetch:
        settings.asr.prefetch = False
    if args.fixed_end:
        settings.turn.smart_end = False
    if args.no_lm:
        settings.turn.lm_completion = False
    elif args.lm:
        settings.turn.lm_completion = True
    if args.direct:
        settings.engine.explicit_reasoning = False
    elif args.reasoning:
        settings.engine.explicit_reasoning = True
    samples = [Path(s) for s in args.samples] if args.samples else sorted((ASSETS / "samples").glob("*.wav"))
    for s in samples:
        try:
            load_audio(s)
        except AudioFileError as exc:
            raise CliError(f"error: {exc}", EXIT_BAD_INPUT) from None
    rows = []
    if args.turn_rows:
        from core.cli.turn_bench import DEFAULT_ROWS, TurnBenchError, load_rows

        data = Path(args.turn_data) if args.turn_data else DEFAULT_ROWS
        try:
            rows = load_rows(data, "test", args.turn_rows)
        except TurnBenchError as exc:
            if args.turn_data:
                raise CliError(f"error: {exc}", EXIT_BAD_INPUT) from None
            if not args.json:
                print(f"end-of-turn figures skipped: {exc}", flush=True)
    runtime = load_runtime(settings, args.engine, PROG)
    say = (lambda *a: None) if args.json else (lambda m: print(m, flush=True))
    say(f"models ready in {runtime.load_ms:.0f} ms; {len(samples)} utterances x {args.runs} run(s) x 2 modes (real time)")
    try:
        result = run_bench(settings, runtime.engine, runtime.speaker, samples, args.runs, started,
                           progress=lambda t: say(f"  {t.mode:<10} {t.sample:<12} {t.latency_ms:8.0f} ms"),
                           baseline_early_start=args.baseline_early_start)
        turn_figures = _turn_figures(settings, runtime, rows, say) if rows else None
    finally:
        runtime.close()
    data = result.as_dict()
    data["min_silence_ms"] = settings.vad.min_silence_ms
    data["early_start_ms"] = settings.vad.early_start_ms
    data["explicit_reasoning"] = runtime.engine.options.explicit_reasoning  # the effective value
    data["asr_prefetch"] = settings.asr.prefetch
    asr = getattr(runtime.engine, "asr", None)
    if asr is not None and hasattr(asr, "prefetch_started"):
        # how many background transcripts were started at a first silent window, and how many
        # of them a turn used (the rest were pauses inside a sentence, or sequential turns)
        data["asr_prefetch_runs"] = {"started": asr.prefetch_started, "used": asr.prefetch_hits}
    data["baseline_early_start"] = args.baseline_early_start
    data["models_load_ms"] = runtime.load_ms
    data["smart_end"] = settings.turn.smart_end
    data["lm_completion"] = settings.turn.lm_completion
    if turn_figures is not None:
        data["end_of_turn"] = turn_figures
    if args.json:
        print(json.dumps(data), flush=True)
    else:
        print(table(data))
        print(json.dumps({k: v for k, v in data.items() if k != "turns"}))
    return 0


def _turn_figures(settings, runtime, rows, say) -> dict:
    """The end-of-turn decision against the fixed window on held-out rows (core.cli.turn_bench)."""
    from core.cli.turn_bench import run_turn_bench
    from core.speech.asr import SpeechRecognizer

    asr = getattr(runtime.engine, "asr", None)
    own = asr is None
    asr = SpeechRecognizer(settings.asr) if own else asr
    say(f"end of turn: {len(rows)} held-out rows, as spoken and with a pause inserted, decision vs fixed window")
    try:
        return run_turn_bench(settings, rows, asr.transcribe,
                              progress=lambda name, kind, r: say(f"  {name:<10} {kind:<9} {r}"))
    finally:
        if own:
            asr.close()


def turn_table(t: dict) -> list[str]:
    fixed = f"fixed {t['fixed_window_ms']} ms"
    rows = [f"end of turn on {t['rows']} held-out LIME rows (test split; pauses of "
            f"{t['pause_range_ms'][0]}-{t['pause_range_ms'][1]} ms inserted mid-sentence)",
            f"{'':<40}{'decision':>12}{fixed:>16}{'+ mood':>10}"]

    def cell(name, kind, key, fmt=".0f"):
        v = (t.get(name) or {}).get(kind, {}).get(key)
        return "-" if v is None else format(v * 100 if key == "cut_off_rate" else v, fmt)

    for label, kind, key, fmt in (("delay after complete turns (ms, median)", "complete", "delay_median_ms", ".0f"),
                                  ("delay after complete turns (ms, p90)", "complete", "delay_p90_ms", ".0f"),
                                  ("cut-offs, turns with a pause (%)", "paused", "cut_off_rate", ".1f"),
                                  ("cut-offs, complete turns (%)", "complete", "cut_off_rate", ".1f")):
        rows.append(f"{'  ' + label:<40}{cell('smart', kind, key, fmt):>12}{cell('fixed', kind, key, fmt):>16}"
                    f"{cell('smart_mood', kind, key, fmt):>10}")
    rows.append("  (+ mood: the decision with each row's emotion taken as the perceived one: sad and fearful wait longer)")
    return rows


def table(d: dict) -> str:
    from core.cli.latency_bench import STAGES

    s, q = d["streaming"] or {}, d["sequential"] or {}
    end = "end of turn decided" if d.get("smart_end", True) else f"end-of-turn silence {d['min_silence_ms']} ms"
    rows = [f"engine: {d['engine']} ({d['model']}); {end}, "
            f"early start {d['early_start_ms']} ms, transcript prefetch {'on' if d.get('asr_prefetch') else 'off'}, "
            f"{'EIPS reasoning' if d['explicit_reasoning'] else 'direct reply'}",
            "baseline: " + ("early start too, then whole reply, whole TTS" if d.get("baseline_early_start")
                            else "endpoint, then ASR, whole reply, whole TTS (nothing overlapped)"),
            f"{'':<28}{'streaming':>12}{'sequential':>12}",
            f"{'median latency (ms)':<28}{s.get('median_ms', float('nan')):>12.0f}{q.get('median_ms', float('nan')):>12.0f}",
            f"{'p90 latency (ms)':<28}{s.get('p90_ms', float('nan')):>12.0f}{q.get('p90_ms', float('nan')):>12.0f}"]
    for st in STAGES:
        a, b = s.get("stages_median_ms", {}).get(st), q.get("stages_median_ms", {}).get(st)
        rows.append(f"{'  ' + st + ' (ms, median)':<28}{_num(a):>12}{_num(b):>12}")
    rows += [f"{'speed-up (sequential/streaming)':<28}{_num(d['speedup_median'], '.2f'):>12}",
             f"{'cold start to ready (ms)':<28}{d['cold_start_ms']:>12.0f}",
             f"{'peak RSS (MB)':<28}{d['peak_rss_mb']:>12.0f}",
             "stage rows are a timeline: ms from the last speech sample to the end of each stage"]
    if d.get("end_of_turn"):
        rows += turn_table(d["end_of_turn"])
    return "\n".join(rows)


def _num(v, fmt: str = ".0f") -> str:
    return "-" if v is None else format(v, fmt)

