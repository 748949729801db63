#!/usr/bin/env bash
# Smoke checks of a built bundle, run from a copy outside the checkout:
#
#   bash packaging/smoke_bundle.sh [dist/cogaudio] [--no-window]
#
# 1. the bundle is copied to a fresh temporary folder and every command runs there with an
#    empty environment (no PYTHONPATH, no venv on PATH, a fresh HOME / XDG folders), from an
#    empty working directory, so neither the source tree nor the venv can be imported;
# 2. `doctor --json`: every bundled model and the embedded audio model resolve to files
#    inside the copy (none in the checkout or the venv), llama.cpp loads;
# 3. `reply` answers the bundled sample assets/samples/tired.wav headless (transcript,
#    reply, a spoken wav of at least 0.3 s); timed twice: cold (empty cache, so the one-time
#    adapter merge is included) and again with the cache filled;
# 4. the window: `cogaudio` without arguments under Xvfb, captured with packaging/xshot.py
#    once it is drawn, and still running afterwards.
# Prints one "smoke: ..." line per check and a summary (size, start times); writes
# $SMOKE_OUT (default build/smoke/) with the JSON outputs and window.png.
# Exit codes: 0 all passed, 1 a check failed, 2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bundle=dist/cogaudio
window=1
for arg in "$@"; do
  case "$arg" in
    --no-window) window=0 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "smoke_bundle.sh: unknown option $arg" >&2; exit 2 ;;
    *) bundle=$arg ;;
  esac
done
[ -x "$bundle/cogaudio" ] || { echo "smoke_bundle.sh: $bundle/cogaudio not found; build it: bash packaging/build_linux.sh" >&2; exit 2; }
PY=${PYTHON:-.venv/bin/python}   # the checker's python (JSON checks, screenshot), never the bundle's
OUT=$(realpath -m "${SMOKE_OUT:-build/smoke}")
rm -rf "$OUT" && mkdir -p "$OUT"

tmp=$(mktemp -d /tmp/cogaudio-smoke.XXXXXX)
xvfb_pid=""
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
cp -a "$bundle" "$tmp/cogaudio"
mkdir -p "$tmp/home" "$tmp/work"
APP=$tmp/cogaudio/cogaudio

# An empty environment: what a person double-clicking the program has, minus a display.
run_app() {
  (cd "$tmp/work" && env -i HOME="$tmp/home" PATH=/usr/bin:/bin LANG=C.UTF-8 \
     XDG_CONFIG_HOME="$tmp/home/config" XDG_DATA_HOME="$tmp/home/data" XDG_CACHE_HOME="$tmp/home/cache" \
     HF_HUB_OFFLINE=1 ${EXTRA_ENV:-} "$APP" "$@")
}
fail() { echo "smoke: FAIL $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# 2. doctor: the models come from the copy
t0=$(now_ms)
run_app doctor --json > "$OUT/doctor.json" || fail "doctor exited $? ($(tail -c 400 "$OUT/doctor.json"))"
doctor_ms=$(( $(now_ms) - t0 ))
"$PY" -I - "$OUT/doctor.json" "$tmp/cogaudio" "$ROOT" <<'EOF' || fail "doctor: see above"
import json, sys
report, inside, checkout = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
paths = [f["path"] for m in report["models"] if m["source"] == "bundled" for f in m["files"]]
am = report["audio_model"]
paths += [am[k] for k in ("llm", "mmproj", "lora") if am.get(k)]
bad = [p for p in paths if not p or not p.startswith(inside + "/")]
assert len(paths) >= 6, f"expected 4 bundled models + the embedded audio model, got {paths}"
assert not bad, f"models outside the bundle copy: {bad}"
assert not [p for p in paths if p.startswith(checkout)], "a model came from the checkout"
assert report["llama_cpp"]["available"], report["llama_cpp"]
assert am["status"] == "ok", am
print(f"smoke: doctor ok: {len(paths)} model files, all inside the copy; llama.cpp backend "
      f"{report['llama_cpp']['backend']}")
EOF

# 3. reply, cold then warm
sample=$tmp/cogaudio/_internal/assets/samples/tired.wav
[ -f "$sample" ] || fail "the bundled sample $sample is missing"
for pass in cold warm; do
  t0=$(now_ms)
  run_app reply "$sample" --json --out "$tmp/work/reply-$pass.wav" > "$OUT/reply-$pass.json" 2> "$OUT/reply-$pass.err" \
    || fail "reply ($pass) exited $?: $(tail -c 600 "$OUT/reply-$pass.err")"
  eval "reply_${pass}_ms=$(( $(now_ms) - t0 ))"
  cp "$tmp/work/reply-$pass.wav" "$OUT/" 2>/dev/null || true
  "$PY" -I - "$OUT/reply-$pass.json" "$tmp/work/reply-$pass.wav" "$pass" <<'EOF' || fail "reply ($pass): see above"
import json, sys, wave
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert len(lines) == 1, lines
r = lines[0]
assert r["error"] is None, r["error"]
assert len(r["transcript"].split()) >= 3, r["transcript"]
assert r["reply"].strip(), "empty reply"
with wave.open(r["out"] or sys.argv[2]) as w:
    seconds = w.getnframes() / w.getframerate()
assert seconds >= 0.3, f"spoken reply only {seconds:.2f} s"
print(f"smoke: reply ({sys.argv[3]}) ok: heard {r['transcript']!r}, {r['emotion']['label']}; "
      f"replied {r['reply']!r} ({seconds:.1f} s of speech, engine {r['engine']}, load {r['timings_ms'].get('load_ms')} ms)")
EOF
done

# 4. the window under Xvfb
window_ms=""
if [ "$window" = 1 ]; then
  command -v Xvfb >/dev/null || fail "Xvfb not installed (apt install xvfb), or pass --no-window"
  for n in $(seq 120 160); do [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || break; done
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
  mkdir -p "$tmp/home/config/cogaudio"
  echo '{"schema_version": 1}' > "$tmp/home/config/cogaudio/settings.json"  # not a first run: no welcome dialog
  t0=$(now_ms)
  (cd "$tmp/work" && exec env -i HOME="$tmp/home" PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY=":$n" QT_QPA_PLATFORM=xcb \
     XDG_CONFIG_HOME="$tmp/home/config" XDG_DATA_HOME="$tmp/home/data" XDG_CACHE_HOME="$tmp/home/cache" \
     XDG_RUNTIME_DIR="$tmp/home" HF_HUB_OFFLINE=1 "$APP" > "$OUT/window.log" 2>&1) &
  app_pid=$!
  "$PY" packaging/xshot.py ":$n" "$OUT/window.png" --wait 240 || fail "no window: $(tail -c 800 "$OUT/window.log")"
  window_ms=$(( $(now_ms) - t0 ))
  sleep 3
  kill -0 "$app_pid" 2>/dev/null || fail "the app exited after drawing its window: $(tail -c 800 "$OUT/window.log")"
  echo "smoke: window ok: drawn after $window_ms ms, still running; $OUT/window.png"
fi

size=$(du -sb "$tmp/cogaudio" | cut -f1)
files=$(find "$tmp/cogaudio" -type f | wc -l)
echo "smoke: all passed. bundle $(( size / 1000000 )) MB in $files files;" \
  "doctor ${doctor_ms} ms, reply cold ${reply_cold_ms} ms, reply warm ${reply_warm_ms} ms${window_ms:+, window drawn ${window_ms} ms}"
printf '{"bundle_bytes": %s, "files": %s, "doctor_ms": %s, "reply_cold_ms": %s, "reply_warm_ms": %s, "window_ms": %s}\n' \
  "$size" "$files" "$doctor_ms" "$reply_cold_ms" "$reply_warm_ms" "${window_ms:-null}" > "$OUT/summary.json"
