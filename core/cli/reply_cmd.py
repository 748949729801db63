"""`cogaudio reply IN.wav [IN2.wav ...] [--out OUT.wav] [--engine ...] [--session] [--json]`: answer recorded turns.

Each input is one spoken turn, answered independently (no shared history) by the same
loaded models, through the same streaming pipeline the live conversation uses (engine ->
sentences -> TTS), with the spoken reply captured instead of played. With `--json`, one
JSON object per input is printed per line, in input order:

  {"input", "transcript", "emotion": {"label", "intensity", "confidence"}, "cues",
   "eips": {"emotion", "intent", "psychology", "strategy"} | null, "reply", "engine", "model",
   "safety_triggered", "out", "timings_ms", "error"}

`--session` treats the inputs as successive turns of one speaker: the ear (core.ear) hears each
against the statistics of that voice's earlier inputs; without it every input is heard alone.
The replies answer each input on its own either way.

`--out OUT.wav` writes the spoken reply; with several inputs the files are OUT-1.wav,
OUT-2.wav ... numbered by input position. A bad input (missing, unreadable, empty, not
audio) prints one line to stderr, the other inputs are still answered, and the exit code
is 2. An engine failure on an input gives exit code 1.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from core.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    add_common_args,
    err,
    load_runtime,
    quiet_native_logs,
    run_guarded,
    settings_from,
)

PROG = "cogaudio reply"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("reply", help="answer recorded turns (wav/flac/mp3) and optionally write the spoken reply",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="IN.wav", help="one audio file per turn")
    p.add_argument("--out", metavar="OUT.wav", default=None,
                   help="write the spoken reply here (several inputs: OUT-1.wav, OUT-2.wav, ...)")
    p.add_argument("--json", action="store_true", help="one JSON object per input per line")
    p.add_argument("--reasoning", action="store_true",
                   help="ask for the four EIPS steps before the reply (the `eips` field; slower)")
    p.add_argument("--session", action="store_true",
                   help="the inputs are successive turns of one speaker: each is heard against that voice's "
                        "baseline so far (without it, each input is heard alone, as a first turn)")
    add_common_args(p)
    p.set_defaults(func=run)


def out_paths(out: str | None, n: int) -> list[Path | None]:
    if out is None:
        return [None] * n
    path = Path(out)
    if n == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i}{path.suffix or '.wav'}") for i in range(1, n + 1)]


def run(args) -> int:
    return run_guarded(PROG, lambda: _run(args))


def _run(args) -> int:
    from core.audio.pcm import AudioFileError, load_audio, save_wav
    from core.audio.sinks import ArraySink
    from core.conversation.orchestrator import ConversationPipeline

    quiet_native_logs()
    settings = settings_from(args.settings)
    if args.reasoning:
        settings.engine.explicit_reasoning = True
    # Read every input first: bad files are reported before minutes of model work, and
    # models are not loaded at all if nothing is usable.
    audios, code = [], 0
    for name in args.inputs:
        try:
            audios.append(load_audio(name))
        except AudioFileError as exc:
            err(PROG, f"error: {exc}")
            audios.append(None)
            code = EXIT_BAD_INPUT
    if all(a is None for a in audios):
        return code
    runtime = load_runtime(settings, args.engine, PROG)
    ear = runtime.engine.ear
    if ear is not None:
        ear.profile = None  # recordings are not the user's own voice: their baseline stays out of the profile
        ear.new_session()
    sink = ArraySink(realtime=False)
    outs = out_paths(args.out, len(args.inputs))
    try:
        with ConversationPipeline(settings, runtime.engine, runtime.speaker, sink, barge_in=False) as pipeline:
            for name, audio, out in zip(args.inputs, audios, outs, strict=True):
                if audio is None:
                    continue
                pipeline.conversation.clear()  # each input is answered on its own
                if ear is not None and not args.session:
                    ear.new_session()  # ... and heard on its own
                t0 = time.perf_counter()
                turn = pipeline.submit_audio(audio)
                if not pipeline.wait(turn, timeout=600):
                    err(PROG, f"error: {name}: no answer within 10 minutes")
                    code = code or EXIT_ERROR
                    continue
                record = pipeline.recorder.records[-1]
                errors = pipeline.recorder.errors.get(turn, [])
                written = None
                if out is not None:
                    wav, rate = sink.audio(turn)
                    written = str(save_wav(out, wav, rate))
                if errors:
                    err(PROG, f"error: {name}: {errors[0]}")
                    code = code or EXIT_ERROR
                result = _result(name, record, written, errors, runtime.load_ms, (time.perf_counter() - t0) * 1000)
                print(json.dumps(result, ensure_ascii=False) if args.json else _human(result), flush=True)
    finally:
        runtime.close()
    return code


def _result(name: str, record, out: str | None, errors: list[str], load_ms: float, wall_ms: float) -> dict:
    timings = dict(record.timings_ms)
    timings["turn_ms"] = round(wall_ms, 1)
    timings["load_ms"] = load_ms
    return {
        "input": name,
        "transcript": record.transcript or "",
        "emotion": {"label": record.label, "intensity": record.intensity, "confidence": record.confidence},
        "cues": record.cues,
        "eips": record.eips,
        "reply": record.reply,
        "engine": record.engine,
        "model": record.model,
        "safety_triggered": record.safety_triggered,
        "out": out,
        "timings_ms": timings,
        "error": errors[0] if errors else None,
    }


def _human(r: dict) -> str:
    e = r["emotion"]
    lines = [f"{r['input']}", f"  heard:   {r['transcript']!r}",
             f"  emotion: {e['label']} ({e['intensity']}, confidence {e['confidence']})"]
    if r["eips"]:
        for step in ("emotion", "intent", "psychology", "strategy"):
            lines.append(f"  {step:<10} {r['eips'][step]}")
    lines.append(f"  reply:   {r['reply']}")
    if r["out"]:
        lines.append(f"  spoken reply written to {r['out']}")
    return "\n".join(lines)

