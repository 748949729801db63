"""`cogaudio` with no arguments: open the desktop app (or, with no display, run one demo turn).

Also dispatches the GUI-side subcommands of app.launcher: `cogaudio gui` (same as no
arguments) and `cogaudio screenshots OUTDIR`.
"""

from __future__ import annotations

import os
import sys

from core.settings import Settings, SettingsError, default_settings_path, load_settings


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def run_gui(argv: list[str]) -> int:
    argv = list(argv)
    if argv and argv[0] == "screenshots":
        from app.screenshots import main as screenshots_main

        return screenshots_main(argv[1:])
    if argv and argv[0] == "gui":
        argv = argv[1:]
    if not has_display():
        return _headless_demo()
    return _run_app(argv)


def _headless_demo() -> int:
    """No screen here: answer one bundled sample utterance and say where the spoken reply went."""
    print("No display found (DISPLAY/WAYLAND_DISPLAY unset): running one demo turn instead of the window.")
    try:
        from core.cli import demo
    except ModuleNotFoundError as exc:
        print(f"the demo is not available in this build ({exc})", file=sys.stderr)
        return 1
    return int(demo.main([]) or 0)


def open_store(settings: Settings, ask_passphrase=None):
    """Open the session store; for an encrypted one, ask until the passphrase is right or the user gives up.

    `ask_passphrase(message) -> str | None` (None = continue without history). Returns (store, message).
    """
    from core.store.session_store import (
        SessionStore,
        SessionStoreError,
        WrongPassphraseError,
        default_store_path,
    )

    path = default_store_path(settings.resolved_data_dir())
    passphrase, message = None, ""
    for _ in range(10):
        try:
            return SessionStore(path, passphrase), ""
        except WrongPassphraseError as exc:
            if ask_passphrase is None:
                return None, str(exc)
            message = str(exc) if passphrase else ""
            passphrase = ask_passphrase(message)
            if passphrase is None:
                return None, "Session history is locked; this conversation is not being saved."
        except SessionStoreError as exc:
            return None, f"{exc} This conversation is not being saved."
    return None, "Too many wrong passphrases; this conversation is not being saved."


def _run_app(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    from app.dialogs import PassphraseDialog
    from app.first_run import FirstRunDialog
    from app.main_window import MainWindow
    from app.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("CogAudio Companion")
    app.setDesktopFileName("cogaudio")
    settings_path = default_settings_path()
    first_run = not settings_path.exists()
    problem = ""
    try:
        settings = load_settings(settings_path)
    except SettingsError as exc:  # shown, not silently replaced: the file stays as it is
        settings, problem = Settings(), f"{exc} Using defaults for now; saving settings will overwrite the file."
    apply_theme(app, settings.theme, settings.font_scale)

    def ask(message: str) -> str | None:
        dialog = PassphraseDialog(message)
        return dialog.passphrase() if dialog.exec() == PassphraseDialog.DialogCode.Accepted else None

    store, store_message = open_store(settings, ask)
    window = MainWindow(settings, store, settings_path)
    window.show()
    for message in (problem, store_message):
        if message:
            window.show_error(message)
    if first_run:
        FirstRunDialog(settings, window).exec()
    window.start()
    if not problem:  # a settings file that could not be read is not overwritten by the offer's flag
        from app.voice_enrol import offer_enrolment

        window.settings, _offer = offer_enrolment(window, window.settings, settings_path, lambda: window.bridge.engine)
    code = app.exec()
    if store is not None:
        store.close()
    return code
