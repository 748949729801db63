"""The frozen program `cogaudio`: the same commands as the `cogaudio` console script.

No arguments opens the desktop app (or one demo turn without a display); anything else is a
core subcommand (reply, talk, doctor, models, bench) or `screenshots` (app.launcher).
"""

import sys

from app.launcher import main

if __name__ == "__main__":
    sys.exit(main())
