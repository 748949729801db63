"""Print llama.cpp's CMAKE_ARGS for a backend, read from packaging/llama_backends.sh (the one
place they live), for build scripts that cannot source bash (packaging/build_windows.ps1).

    python packaging/backend_flags.py cuda       # CUDA_ARCHS from the environment, else native
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "llama_backends.sh"


def flags(backend: str, env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    found = re.search(rf"^\s*{re.escape(backend)}\)\s+echo \"([^\"]*)\"", SCRIPT.read_text(), flags=re.M)
    if found is None:
        raise SystemExit(f"backend_flags: unknown backend {backend!r} (see {SCRIPT.name})")
    # the one shell expansion the table uses: ${NAME:-default}
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), found.group(1))


if __name__ == "__main__":
    print(flags(sys.argv[1] if len(sys.argv) > 1 else ""))
