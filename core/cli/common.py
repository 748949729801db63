"""Helpers the conversation commands (reply, talk, bench, demo) share: loading, errors, output.

Command-line errors are one line on stderr, never a traceback: `CliError` carries the
message and the exit code (2 for bad input, 1 for everything else).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:  # loaded lazily: `--help` must not import the models' libraries
    from core.engines.base import Engine
    from core.speech.tts import Speaker

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def err(prog: str, message: str) -> None:
    print(f"{prog}: {message}", file=sys.stderr, flush=True)


def run_guarded(prog: str, body: Callable[[], int]) -> int:
    """Run a command's body: a CliError is its own one-line message and exit code, anything else
    one clear line (no traceback) and EXIT_ERROR, Ctrl-C exit 130."""
    try:
        return body()
    except CliError as exc:
        err(prog, str(exc))
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last line of defence
        err(prog, f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR


def quiet_native_logs() -> None:
    """Keep library chatter (onnxruntime, llama.cpp, faster-whisper) off the user's terminal."""
    os.environ.setdefault("ORT_LOGGING_LEVEL", "3")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("faster_whisper", "piper", "httpx", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)


def settings_from(path: str | None) -> Settings:
    try:
        return load_settings(Path(path) if path else None)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


@dataclass
class Runtime:
    """The models of one command run, loaded once."""

    engine: Engine
    speaker: Speaker
    load_ms: float

    def close(self) -> None:
        self.engine.close()


def load_runtime(settings: Settings, engine_kind: str | None, prog: str) -> Runtime:
    """Engine (with auto/fallback) and TTS voice; a failure becomes a CliError saying what to install."""
    from core.engines.factory import create_engine
    from core.speech.tts import Speaker

    t0 = time.perf_counter()
    try:
        engine = create_engine(settings, engine_kind)
    except Exception as exc:
        raise CliError(f"cannot load the engine: {exc}") from None
    if engine.notice:
        err(prog, f"note: {engine.notice}")
    try:
        speaker = Speaker(settings.tts)
    except Exception as exc:
        engine.close()
        raise CliError(f"cannot load the voice: {exc}") from None
    return Runtime(engine, speaker, round((time.perf_counter() - t0) * 1000.0, 1))


def add_common_args(parser) -> None:
    parser.add_argument("--engine", choices=["auto", "cascade", "audio-llm"], default=None,
                        help="which engine answers (default: settings engine.kind, normally auto)")
    parser.add_argument("--settings", metavar="FILE", default=None, help="settings JSON (default: the user config file)")
