#!/usr/bin/env bash
# GPU check: build llama.cpp for CUDA, then `doctor`, `reply` and `bench latency` on a 7B-class model.
#
#   bash packaging/gpu_check.sh --llm MODEL.gguf [--mmproj MMPROJ.gguf] [--wheel WHEEL] [--runs N]
#
#   --llm     a 7B-class instruct GGUF, e.g. Qwen2.5-7B-Instruct-Q4_K_M.gguf (~4.7 GB), or the
#             merged Q4_K_M that `cogaudio-train pipeline --config configs/gpu-7b.yaml` exports
#   --mmproj  its audio projector (the same pipeline's mmproj): the audio-llm engine; without
#             it the cascade engine (faster-whisper + the LLM) answers
#   --wheel   a CUDA llama-cpp-python wheel built before (skips the 10-30 min build)
#   --runs    passes of `bench latency` over the bundled samples (default 2)
#
# The CUDA build goes to dist/wheels/cuda/ and is installed into build/gpu-check/site, which
# is put first on PYTHONPATH for the checks: the venv's CPU build stays as it is. The 7B-class
# run-time settings (engine.llm_path / mmproj_path, every layer offloaded, n_ctx 4096) are
# written to build/gpu-check/settings.json; the outputs go to build/gpu-check/*.json.
#
# Exit codes: 0 all checks passed; 1 a check failed; 2 bad usage; 3 no GPU here (nothing was
# built or run); 4 the CUDA toolkit is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
EXIT_NO_GPU=3

llm="" mmproj="" wheel="" runs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --llm) llm=${2:?--llm needs a file}; shift 2 ;;
    --mmproj) mmproj=${2:?--mmproj needs a file}; shift 2 ;;
    --wheel) wheel=${2:?--wheel needs a file}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

# 1. Is there an NVIDIA GPU? nvidia-smi comes with the driver; without a driver or a card
#    there is nothing to check, and that is said plainly, with its own exit code.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu_check: no GPU here: nvidia-smi not found (no NVIDIA driver on this machine)." \
    "Nothing was built or run. Run this script on a machine with an NVIDIA GPU, its driver and the" \
    "CUDA toolkit; see packaging/README.md (GPU builds)." >&2
  exit $EXIT_NO_GPU
fi
if ! gpus=$(nvidia-smi -L 2>&1) || ! grep -q '^GPU ' <<<"$gpus"; then
  echo "gpu_check: no GPU here: nvidia-smi found no usable GPU ($(head -1 <<<"$gpus"))." \
    "Nothing was built or run; see packaging/README.md (GPU builds)." >&2
  exit $EXIT_NO_GPU
fi
echo "[gpu] $gpus"

[ -n "$llm" ] || { echo "gpu_check.sh: --llm MODEL.gguf is required (a 7B-class GGUF; see --help)" >&2; exit 2; }
[ -f "$llm" ] || { echo "gpu_check.sh: --llm $llm: no such file" >&2; exit 2; }
[ -z "$mmproj" ] || [ -f "$mmproj" ] || { echo "gpu_check.sh: --mmproj $mmproj: no such file" >&2; exit 2; }
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "gpu_check.sh: no python at $PY (run 'bash dev.sh setup' or set PYTHON)" >&2; exit 2; }
work=build/gpu-check
rm -rf "$work" && mkdir -p "$work"

# 2. The CUDA wheel (flags: packaging/llama_backends.sh).
if [ -z "$wheel" ]; then
  bash packaging/build_llama.sh cuda || exit $?
  source packaging/llama_backends.sh
  wheel=$(ls -t dist/wheels/cuda/llama_cpp_python-"$(llama_version)"-*.whl | head -1)
fi
"$PY" -m pip install -q --no-deps --target "$work/site" "$wheel"
export PYTHONPATH="$PWD/$work/site${PYTHONPATH:+:$PYTHONPATH}"

# 3. The 7B-class run-time settings.
"$PY" - "$work/settings.json" "$(realpath "$llm")" "${mmproj:+$(realpath "$mmproj")}" <<'EOF'
import json, sys
out, llm, mmproj = sys.argv[1], sys.argv[2], sys.argv[3]
engine = {"llm_path": llm, "gpu_offload": "auto", "n_ctx": 4096, "kind": "audio-llm" if mmproj else "cascade"}
if mmproj:
    engine["mmproj_path"] = mmproj
json.dump({"schema_version": 1, "engine": engine}, open(out, "w"), indent=2)
EOF
cog() { "$PY" -m app.launcher "$@"; }
engine=$([ -n "$mmproj" ] && echo audio-llm || echo cascade)

# 4. doctor: the CUDA backend runs and every layer is offloaded.
cog doctor --json --quick --settings "$work/settings.json" > "$work/doctor.json" || true
"$PY" - "$work/doctor.json" <<'EOF' || exit 1
import json, sys
lc = json.load(open(sys.argv[1]))["llama_cpp"]
off = lc.get("offload") or {}
print(f"[gpu] doctor: backend {lc.get('backend')}, {off.get('offloaded')}/{off.get('total')} layers on the GPU ({off.get('model')})")
if lc.get("backend") != "CUDA":
    sys.exit(f"gpu_check: FAIL: llama.cpp runs on {lc.get('backend')}, not CUDA ({lc.get('error') or lc.get('system_info')})")
if not off.get("total") or off.get("offloaded") != off.get("total"):
    sys.exit(f"gpu_check: FAIL: not every layer is offloaded: {off}")
EOF

# 5. reply on the bundled samples, 6. bench latency.
cog reply assets/samples/*.wav --json --engine "$engine" --settings "$work/settings.json" --out "$work/reply.wav" \
  > "$work/reply.json" || { echo "gpu_check: FAIL: reply exited $?" >&2; exit 1; }
"$PY" - "$work/reply.json" <<'EOF' || exit 1
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
for r in rows:
    t = r.get("timings_ms") or {}
    print(f"[gpu] reply {r['input']}: {r.get('reply')!r} (first audio {t.get('first_audio_ms')} ms, error {r.get('error')})")
if not rows or any(r.get("error") or not (r.get("reply") or "").strip() for r in rows):
    sys.exit("gpu_check: FAIL: a reply is missing or failed")
EOF
cog bench latency --json --runs "$runs" --engine "$engine" --settings "$work/settings.json" > "$work/bench.json" \
  || { echo "gpu_check: FAIL: bench latency exited $?" >&2; exit 1; }
"$PY" -c 'import json,sys; print("[gpu] bench latency:", json.dumps(json.load(open(sys.argv[1])))[:800])' "$work/bench.json"
echo "gpu_check: all passed (outputs in $work/)"
