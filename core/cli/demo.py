"""One demo turn on a bundled sample utterance, the spoken reply written to a wav.

The app's launcher runs this when there is no display (a server, a container, CI), so that
the first Quick-start command still shows the whole loop working: the recording goes
through the same pipeline as a live conversation (engine -> sentences -> TTS) and the
reply's audio is written to a file whose path is printed.

    python -m core.cli.demo [--input FILE] [--out OUT.wav] [--engine auto|cascade|audio-llm]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.audio.pcm import SAMPLE_RATE
from core.cli.common import CliError, err, load_runtime, quiet_native_logs, settings_from
from core.models.bundled import ASSETS

DEMO_SAMPLE = ASSETS / "samples" / "tired.wav"
PROG = "cogaudio demo"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m core.cli.demo", description=__doc__.splitlines()[0])
    p.add_argument("--input", default=str(DEMO_SAMPLE), help="utterance to answer (default: a bundled sample)")
    p.add_argument("--out", default=None, help="where to write the spoken reply (default: <data dir>/demo/reply.wav)")
    p.add_argument("--engine", choices=["auto", "cascade", "audio-llm"], default=None)
    p.add_argument("--settings", default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        return _demo(args)
    except CliError as exc:
        err(PROG, str(exc))
        return exc.code
    except Exception as exc:
        err(PROG, f"error: {type(exc).__name__}: {exc}")
        return 1


def _demo(args) -> int:
    from core.audio.pcm import AudioFileError, load_audio, save_wav
    from core.audio.sinks import ArraySink
    from core.conversation.orchestrator import ConversationPipeline

    quiet_native_logs()
    settings = settings_from(args.settings)
    try:
        audio = load_audio(args.input)
    except AudioFileError as exc:
        raise CliError(f"error: {exc}", 2) from None
    out = Path(args.out) if args.out else settings.resolved_data_dir() / "demo" / "reply.wav"
    print(f"demo: answering {args.input} ({len(audio) / SAMPLE_RATE:.1f} s); loading models...", flush=True)
    runtime = load_runtime(settings, args.engine, PROG)
    sink = ArraySink()
    try:
        with ConversationPipeline(settings, runtime.engine, runtime.speaker, sink, barge_in=False) as pipeline:
            turn = pipeline.submit_audio(audio)
            pipeline.wait(turn, 600)
            record = pipeline.recorder.records[-1]
            errors = pipeline.recorder.errors.get(turn)
    finally:
        runtime.close()
    wav, rate = sink.audio(turn)
    save_wav(out, wav, rate)
    print(f"heard:     {record.transcript}")
    print(f"perceived: {record.label} ({record.intensity}, confidence {record.confidence})")
    if record.eips:
        print(f"strategy:  {record.eips['strategy']}")
    print(f"reply:     {record.reply}")
    if errors:
        print(f"error:     {errors[0]}")
    print(f"the spoken reply ({len(wav) / rate:.1f} s) was written to {out}", flush=True)
    return 1 if errors or len(wav) == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
