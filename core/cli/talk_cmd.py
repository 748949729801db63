"""`cogaudio talk`: a spoken conversation in the terminal.

Listens on the microphone (or plays `--input FILE` recordings as if spoken, one turn each,
each after the previous reply has finished), prints what it heard, the emotion it
perceived and the reply as it streams, and speaks the reply (or writes it to `--out`).
Speaking while it answers interrupts it (barge-in). Every completed turn is saved to the
session history at once, unless `--no-store`. Ctrl-C ends the conversation.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import datetime

from core.cli.common import (
    EXIT_ERROR,
    CliError,
    add_common_args,
    err,
    load_runtime,
    quiet_native_logs,
    settings_from,
)
from core.conversation.frames import (
    Backchannel,
    EngineEvent,
    Interrupted,
    SafetyOverride,
    TurnComplete,
    UserSpeechEnded,
    UserSpeechStarted,
    VoicePaused,
)
from core.conversation.stage_framework import StageError
from core.engines.events import Done, Perceived, Reasoning, ReplyDelta
from core.engines.events import Error as EngineError

PROG = "cogaudio talk"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("talk", help="hold a spoken conversation in the terminal",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", action="append", metavar="FILE", default=None,
                   help="play this recording as your turn instead of using the microphone (repeatable)")
    p.add_argument("--out", metavar="OUT.wav", default=None, help="write what the companion says to a wav instead of the speaker")
    p.add_argument("--speed", type=float, default=1.0, help="with --input: play recordings this many times faster (default 1)")
    p.add_argument("--no-store", action="store_true", help="do not save this conversation in the session history")
    p.add_argument("--reasoning", action="store_true", help="ask for the four EIPS reasoning steps before each reply and print them "
                   "(engine.explicit_reasoning; slower)")
    add_common_args(p)
    p.set_defaults(func=run)


class Printer:
    """Observer that writes the conversation to the terminal as it happens."""

    def __init__(self, out=sys.stdout, reasoning: bool = False) -> None:
        self.out = out
        self.reasoning = reasoning
        self._in_reply = False
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        if self._in_reply:
            self.out.write("\n")
            self._in_reply = False
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, frame) -> None:
        with self._lock:
            self._show(frame)

    def _show(self, frame) -> None:
        if isinstance(frame, UserSpeechStarted):
            self._line("  (listening...)")
        elif isinstance(frame, UserSpeechEnded):
            self._line(f"  (heard {frame.duration_s:.1f} s of speech; thinking...)")
        elif isinstance(frame, EngineEvent):
            ev = frame.event
            if isinstance(ev, Perceived):
                if ev.transcript:
                    self._line(f"you:       {ev.transcript}")
                self._line(f"perceived: {ev.label} ({ev.intensity}, confidence {ev.confidence:.2f})")
            elif isinstance(ev, Reasoning) and self.reasoning:
                self._line(f"  {ev.step:<11}{ev.text}")
            elif isinstance(ev, ReplyDelta):
                if not self._in_reply:
                    self.out.write("companion:")
                    self._in_reply = True
                    text = ev.text if ev.text.startswith(" ") else " " + ev.text.lstrip()
                else:
                    text = ev.text
                self.out.write(text.replace("\n", " "))
                self.out.flush()
            elif isinstance(ev, Done) and self._in_reply:
                self.out.write("\n")
                self._in_reply = False
            elif isinstance(ev, EngineError):
                self._line(f"  [error] {ev.message}")
        elif isinstance(frame, SafetyOverride):
            self._line(f"companion: {frame.text}")
        elif isinstance(frame, Interrupted):
            self._line(f"  [interrupted: {frame.reason}]")
        elif isinstance(frame, Backchannel):
            self._line(f"companion: ({frame.text.rstrip('.').lower()}, and keeps listening)")
        elif isinstance(frame, VoicePaused) and not frame.paused:
            self._line(f"  (the reply goes on: {frame.reason})")
        elif isinstance(frame, StageError):
            self._line(f"  [error] {frame.message}")
        elif isinstance(frame, TurnComplete):
            saved = f"saved as turn {frame.turn_id}" if frame.turn_id is not None else "not saved"
            decided = (getattr(frame.record, "turn_taking", None) or {}).get("silence_ms")
            after = f", your turn ended after {decided:.0f} ms of silence" if decided is not None else ""
            self._line(f"  (turn {frame.turn} complete, {saved}{after})")


def run(args) -> int:
    try:
        return _run(args)
    except CliError as exc:
        err(PROG, str(exc))
        return exc.code
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        err(PROG, f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR


def _open_sink(args, settings):
    from core.audio.sinks import ArraySink, AudioDeviceError, SpeakerSink, WavFileSink

    if args.out:
        return WavFileSink(args.out, realtime=True)
    try:
        return SpeakerSink(settings.audio.output_device, on_status=lambda message: err(PROG, message))
    except AudioDeviceError as exc:
        if not args.input:
            raise CliError(str(exc)) from None
        err(PROG, f"note: {exc} The replies are printed but not played.")
        return ArraySink(realtime=True)


def _run(args) -> int:
    from core.audio.pcm import AudioFileError, load_audio
    from core.audio.sinks import AudioDeviceError
    from core.audio.sources import MicrophoneSource, QueueSource
    from core.cli.spoken_input import speak_clips
    from core.conversation.orchestrator import ConversationPipeline

    quiet_native_logs()
    settings = settings_from(args.settings)
    if args.reasoning:
        settings.engine.explicit_reasoning = True
    clips = []
    for name in args.input or []:
        try:
            clips.append(load_audio(name))
        except AudioFileError as exc:
            raise CliError(f"error: {exc}", code=2) from None
    if clips:
        source = QueueSource(settings.audio.frame_ms, speed=args.speed)
    else:
        try:
            source = MicrophoneSource(settings.audio.input_device, settings.audio.frame_ms,
                                      on_status=lambda message: err(PROG, message))
        except AudioDeviceError as exc:
            raise CliError(str(exc)) from None
    sink = _open_sink(args, settings)
    store = session_id = None
    if not args.no_store:
        from core.store.session_store import SessionStore, default_store_path

        store = SessionStore(default_store_path(settings.resolved_data_dir()))
        session_id = store.new_session(f"Terminal conversation {datetime.now():%Y-%m-%d %H:%M}")
    print("loading models...", flush=True)
    runtime = load_runtime(settings, args.engine, PROG)
    printer = Printer(reasoning=args.reasoning)
    pipeline = ConversationPipeline(settings, runtime.engine, runtime.speaker, sink, store=store,
                                    session_id=session_id, observers=[printer])
    try:
        with pipeline:
            pipeline.listen(source)
            if clips:
                print(f"playing {len(clips)} recording(s) as your turns", flush=True)
                if not speak_clips(pipeline, source, clips):
                    print("  (no speech found in the recordings)", flush=True)
            else:
                print("listening: speak any time (Ctrl-C to end)", flush=True)
                while pipeline.listener_error is None:
                    time.sleep(0.2)
            if pipeline.listener_error is not None:
                raise CliError(f"listening stopped: {pipeline.listener_error}")
    finally:
        source.close()
        if hasattr(sink, "save") and args.out:
            paths = sink.save()
            print(f"the companion's voice was written to {paths[0]}", flush=True)
        sink.close()
        runtime.close()
        if store is not None:
            store.close()
    return 0
