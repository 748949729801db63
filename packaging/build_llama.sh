#!/usr/bin/env bash
# Build llama-cpp-python (the pinned version) for one llama.cpp backend, as a wheel.
#
#   bash packaging/build_llama.sh cuda              # -> dist/wheels/cuda/llama_cpp_python-*.whl
#   bash packaging/build_llama.sh metal --install   # build, then install into .venv in place of the CPU build
#   CUDA_ARCHS="80;86;89;90" bash packaging/build_llama.sh cuda   # a wheel for other machines' GPUs
#
# Backends and their CMAKE_ARGS: packaging/llama_backends.sh (cpu, portable, cuda, metal).
# CUDA needs the toolkit (nvcc on PATH or CUDACXX set) and takes 10-30 min; Metal needs
# Xcode's command-line tools. Exit codes: 0 built, 1 build failed, 2 bad usage,
# 4 the backend's toolchain is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source packaging/llama_backends.sh

backend=${1:-}
install=0
[ "${2:-}" = "--install" ] && install=1
[ -n "$backend" ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
args=$(llama_cmake_args "$backend") || exit 2
version=$(llama_version)
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "build_llama.sh: no python at $PY (run 'bash dev.sh setup' or set PYTHON)" >&2; exit 2; }

case "$backend" in
  cuda)
    if ! command -v nvcc >/dev/null && [ -z "${CUDACXX:-}" ]; then
      echo "build_llama.sh: the CUDA toolkit is missing (no nvcc on PATH, CUDACXX unset);" \
        "install it (e.g. apt install nvidia-cuda-toolkit, or NVIDIA's cuda-toolkit-12-x) and retry" >&2
      exit 4
    fi ;;
  metal)
    [ "$(uname -s)" = Darwin ] || { echo "build_llama.sh: Metal builds only on macOS" >&2; exit 4; } ;;
esac

out=dist/wheels/$backend
mkdir -p "$out"
echo "[llama] llama-cpp-python==$version, CMAKE_ARGS=\"$args\" -> $out/"
started=$(date +%s)
# --no-binary: compile here, never a prebuilt CPU wheel; --no-cache-dir: pip's wheel cache is
# keyed by version only and would hand back the CPU build.
CMAKE_ARGS="$args" "$PY" -m pip wheel --no-deps --no-binary llama-cpp-python --no-cache-dir \
  -w "$out" "llama-cpp-python==$version"
wheel=$(ls -t "$out"/llama_cpp_python-"$version"-*.whl | head -1)
echo "[llama] built $wheel in $(( $(date +%s) - started )) s"
if [ "$install" = 1 ]; then
  "$PY" -m pip install --no-deps --force-reinstall "$wheel"
  echo "[llama] installed; check with: cogaudio doctor"
fi
