"""`cogaudio voice enrol FILE.wav` and `cogaudio voice reset`: the user's voice profile (core.ear).

`enrol` takes a sentence read calmly (for instance "The weather today is mild, and I am sitting
comfortably at home.") into the speaker baseline that the ear reads each turn against, so that
the first conversations are heard against this voice rather than other people's. Only
statistics are stored, never audio, in <data dir>/profile/voice-baseline.json (beside it,
voice-enrolment.json counts the enrolment turns). `reset` deletes both.

Exit codes: 0 done; 2 bad input (missing, unreadable, too short or silent audio, settings that
keep no profile); 1 anything else (the speech model or the emotion head cannot be loaded).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import (
    EXIT_BAD_INPUT,
    CliError,
    quiet_native_logs,
    run_guarded,
    settings_from,
)
from core.settings import Settings

PROG = "cogaudio voice"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("voice", help="your voice profile: enrol a calm sentence, or forget your voice",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="voice_command", required=True)
    enrol = sub.add_parser("enrol", help="take a calmly read sentence (wav/flac/mp3) into your voice profile")
    enrol.add_argument("file", metavar="FILE.wav", help="a recording of you reading a sentence calmly (2-10 s)")
    reset = sub.add_parser("reset", help="forget your voice: delete the voice statistics from your profile")
    for q in (enrol, reset):
        q.add_argument("--settings", metavar="FILE", default=None, help="settings JSON (default: the user config file)")
        q.set_defaults(func=run)


def run(args) -> int:
    def body() -> int:
        settings = settings_from(args.settings)
        return _enrol(settings, Path(args.file)) if args.voice_command == "enrol" else _reset(settings)

    return run_guarded(PROG, body)


def _enrol(settings: Settings, path: Path) -> int:
    from core.audio.pcm import AudioFileError, load_audio

    ear = settings.ear
    if not ear.remember_voice:
        raise CliError("your voice is not remembered between sessions (ear.remember_voice is off), so an "
                       "enrolment would be lost; turn on 'Remember my voice' in Settings > Listening", EXIT_BAD_INPUT)
    if not path.is_file():
        raise CliError(f"{path}: no such file", EXIT_BAD_INPUT)
    try:
        pcm = load_audio(path)
    except AudioFileError as exc:
        raise CliError(str(exc), EXIT_BAD_INPUT) from None
    quiet_native_logs()
    from core.ear.head import HeadError
    from core.ear.listener import EarListener
    from core.speech.asr import SpeechRecognizer

    try:
        asr = SpeechRecognizer(settings.asr)
    except Exception as exc:
        raise CliError(f"cannot load the speech model: {exc}") from None
    try:
        listener = EarListener.load(ear.head_path, asr.encoder_name, settings.voice_profile_path(), ear.adapt_to_speaker)
        result = listener.enrol(asr, pcm)
    except HeadError as exc:
        raise CliError(f"cannot load the emotion head: {exc}") from None
    except ValueError as exc:
        raise CliError(f"{path}: {exc}", EXIT_BAD_INPUT) from None
    finally:
        asr.close()
    def turns(n: int) -> str:
        return f"{n} turn" if n == 1 else f"{n} turns"

    print(f"enrolled {result.voice_s:.1f} s of calm speech from {path}")
    print(f"your voice profile now holds {turns(result.enrolled)} of enrolment ({turns(result.turns)} in all), "
          f"statistics only, no audio: {result.profile}")
    return 0


def _reset(settings: Settings) -> int:
    from core.ear.enrolment import enrolment_path

    profile = settings.voice_profile_path()
    gone = [p for p in (profile, enrolment_path(profile)) if p.exists()]
    for p in gone:
        p.unlink()
    print(f"your voice was forgotten: deleted {', '.join(map(str, gone))}" if gone
          else f"no voice profile to forget (none at {profile})")
    return 0
