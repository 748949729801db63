"""Entry point of `cogaudio`: no arguments opens the desktop app, anything else is a core subcommand."""

from __future__ import annotations

import sys

GUI_COMMANDS = {"gui", "screenshots"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in GUI_COMMANDS:
        from app.gui_main import run_gui  # Qt is imported only on this path

        return run_gui(argv)
    from core.cli.main import main as core_main

    return core_main(argv)


if __name__ == "__main__":
    sys.exit(main())
