# The CMake flags of llama.cpp's backends: the one place the scripts and the docs take them from.
# Sourced by packaging/build_llama.sh and packaging/gpu_check.sh; packaging/README.md shows the
# same table (tests/unit/test_packaging.py keeps the two in step).
#
#   source packaging/llama_backends.sh
#   llama_cmake_args cuda      # -> -DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=native
#
# llama-cpp-python is a source package: pip compiles llama.cpp (and libmtmd, which the audio
# model needs) for the machine it installs on, with these flags in CMAKE_ARGS.

# The llama-cpp-python version the app pins (pyproject.toml, the `app` extra).
llama_version() {
  grep -o 'llama-cpp-python==[0-9.]*' "${COGAUDIO_ROOT:-.}/pyproject.toml" | head -1 | cut -d= -f3
}

# CUDA: `native` builds for the GPUs of the build machine only (CMake >= 3.24, a GPU present),
# which is what a local build wants and saves most of the build time; a wheel for other machines
# lists its architectures instead: CUDA_ARCHS="75;80;86;89;90" (Turing to Hopper).
llama_cmake_args() {
  case "${1:-}" in
    cpu)      echo "" ;;                                                         # this machine's SIMD (GGML_NATIVE)
    portable) echo "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" ;;  # any x86-64 since 2013
    cuda)     echo "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-native}" ;;
    metal)    echo "-DGGML_METAL=on -DGGML_METAL_EMBED_LIBRARY=on" ;;           # shader library inside the dylib
    *) echo "llama_cmake_args: unknown backend '${1:-}' (cpu, portable, cuda, metal)" >&2; return 2 ;;
  esac
}
