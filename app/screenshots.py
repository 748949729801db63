"""`cogaudio screenshots OUTDIR`: render the app's main views as PNGs, in a real window.

It holds a real conversation on the bundled models: the bundled sample utterances are spoken
into a file-backed microphone one after another, and the windows are captured mid-conversation
(a reply streaming and being spoken), then settings, the model manager, the session history
with its mood timeline (therapist mode) and the export preview. Everything is written to a
temporary data folder, never to the user's own sessions or settings.

With no display it starts Xvfb itself (apt `xvfb`; the xcb plugin also needs `libxcb-icccm4`
and `libxcb-keysyms1`), so the capture goes through the real xcb window system.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLES = ("hello", "tired", "good_news", "worried")


def _die_with_parent() -> None:
    """Linux: Xvfb gets SIGTERM if this process dies without cleaning up (e.g. a native crash)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start_xvfb() -> subprocess.Popen | None:
    """Start Xvfb on a free display and point DISPLAY at it; None when Xvfb is not installed."""
    exe = shutil.which("Xvfb")
    if exe is None:
        return None
    for n in range(99, 140):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen([exe, f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{n}").exists():
                os.environ["DISPLAY"] = f":{n}"
                os.environ["QT_QPA_PLATFORM"] = "xcb"
                return proc
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.kill()
        proc.wait()
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cogaudio screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--turns", type=int, default=4, help="sample utterances to speak (1-4)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the conversation")
    args = parser.parse_args(argv)
    xvfb = None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        xvfb = _start_xvfb()
        if xvfb is None and not os.environ.get("QT_QPA_PLATFORM"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            print("Xvfb not found (apt install xvfb); rendering offscreen instead", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="cogaudio-shots-") as tmp:
        # keep the user's own settings and sessions out of it
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            os.environ[var] = str(Path(tmp) / var.lower())
        try:
            return _capture(args.outdir, max(1, min(4, args.turns)), args.timeout, Path(tmp))
        finally:
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait(5)


def _capture(outdir: Path, n_turns: int, timeout: float, tmp: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.bridge import PipelineParts
    from app.main_window import MainWindow
    from app.theme import apply_theme
    from core.audio.pcm import load_audio
    from core.audio.sinks import ArraySink
    from core.audio.sources import QueueSource
    from core.models.bundled import ASSETS
    from core.settings import EngineSettings, Settings
    from core.store.session_store import SessionStore

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["cogaudio-screenshots"])
    settings = Settings(engine=EngineSettings(max_tokens=160), theme="light")
    apply_theme(app, settings.theme, settings.font_scale)
    store = SessionStore(tmp / "sessions.sqlite3")
    mic = QueueSource()
    parts = PipelineParts(source=lambda s: mic, sink=lambda s: ArraySink(realtime=True), listen=True)
    window = MainWindow(settings, store, tmp / "settings.json", parts)
    window.resize(1280, 800)
    window.show()
    window.start()

    clips = [load_audio(ASSETS / "samples" / f"{name}.wav") for name in SAMPLES[:n_turns]]
    state = {"done": 0, "shot_mid": False}
    deadline = time.monotonic() + timeout

    def wait(cond, what: str) -> None:
        while not cond():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")

    def on_complete(turn, record, row) -> None:
        state["done"] += 1
        if state["done"] < len(clips):
            QTimer.singleShot(600, lambda: mic.push(clips[state["done"]]))

    window.bridge.turn_complete.connect(on_complete)
    wait(lambda: not window.bridge.loading, "the models to load")
    window.therapist_mode = False
    mic.push(clips[0])
    # mid-conversation: the last reply is being spoken; earlier turns show their chips
    wait(lambda: state["done"] >= len(clips) - 1 and window.state.state == "speaking", "the last reply")
    replies = window.conversation.replies()
    if len(replies) > 1 and replies[-2].why_button.isVisible():
        replies[-2].why_button.setChecked(True)  # show one "why this reply" opened
        window.conversation.scroll_to_end()
    _settle(app)
    shots = {"main-window.png": window.grab()}
    wait(lambda: state["done"] >= len(clips), "the conversation to finish")

    dialog = window.open_settings()
    dialog.tabs.setCurrentIndex(1)
    _settle(app)
    shots["settings.png"] = dialog.grab()
    dialog.reject()

    models = window.open_models()
    _settle(app, 1.0)
    shots["model-manager.png"] = models.grab()
    models.reject()

    from app.dialogs import ConsentDialog

    ConsentDialog.exec = lambda self: ConsentDialog.DialogCode.Accepted  # consent given for the capture
    store.set_consent(window.session_id, True)
    window.therapist_action.setChecked(True)
    window.show_session(window.session_id)
    store.set_session_note(window.session_id, "Calmer by the end; follow up on sleep and the exam.")
    window._refresh_therapist()
    _settle(app)
    shots["session-history.png"] = window.grab()

    preview = window.preview_export()
    _settle(app)
    shots["export-preview.png"] = preview.grab()
    preview.close()

    for name, pixmap in shots.items():
        path = outdir / name
        pixmap.save(str(path))
        print(f"{path}  {pixmap.width()}x{pixmap.height()}  {path.stat().st_size // 1024} KB")
    window.close()
    store.close()
    return 0


def _settle(app, seconds: float = 0.4) -> None:
    """Let layouts, deferred shows and repaints finish before grabbing."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
