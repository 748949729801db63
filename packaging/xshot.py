"""Screenshot of an X display once a window has been drawn on it (the bundle smoke check's camera).

    python packaging/xshot.py :99 OUT.png [--wait 180]

Runs outside the bundle, with the checkout's PySide6: Qt's xcb platform grabs the root window
of the display, which on Xvfb (no window manager) holds every mapped window. The display is
black until the app maps its window, so the picture is taken once at least `--min-drawn` of
the screen is not black and two grabs one second apart agree (the window has finished its
first paint). Exit 0 with the PNG written, 1 when nothing was drawn in time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def drawn_share(image) -> float:
    """Share of pixels that are not black, on a coarse grid (fast enough to poll)."""
    w, h = image.width(), image.height()
    step = 8
    total = drawn = 0
    for y in range(0, h, step):
        for x in range(0, w, step):
            total += 1
            c = image.pixelColor(x, y)
            drawn += (c.red() + c.green() + c.blue()) > 24
    return drawn / max(total, 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("display")
    p.add_argument("out")
    p.add_argument("--wait", type=float, default=180.0, help="seconds to wait for a window")
    p.add_argument("--min-drawn", type=float, default=0.2, help="share of the screen a window must cover")
    args = p.parse_args(argv)
    os.environ["DISPLAY"] = args.display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([sys.argv[0]])  # noqa: F841 (kept alive while grabbing)
    screen = QGuiApplication.primaryScreen()
    deadline = time.monotonic() + args.wait
    last = None
    while time.monotonic() < deadline:
        image = screen.grabWindow(0).toImage()
        share = drawn_share(image)
        if share >= args.min_drawn and last is not None and image == last:
            image.save(args.out)
            print(f"xshot: {args.out} ({image.width()}x{image.height()}, {share:.0%} of the screen drawn)")
            return 0
        last = image if share >= args.min_drawn else None
        time.sleep(1.0)
    print(f"xshot: no window drawn on {args.display} within {args.wait:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
