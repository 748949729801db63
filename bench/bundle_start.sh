#!/usr/bin/env bash
# Start times of the desktop bundle against the source install, interleaved (same machine, same moment).
#
#   bash bench/bundle_start.sh [dist/cogaudio] [RUNS]       # RUNS of the quick commands (default 3)
#
# Each command runs in an empty environment (env -i, fresh HOME/XDG folders per program) from an
# empty folder; `reply` runs twice per program: first ever (empty cache, includes the one-time
# adapter merge) and with the cache filled. Prints one line per run and a table of medians with
# the ratio bundle / source; the engine's own model-loading time (load_ms) is shown for `reply`.
set -u
cd "$(dirname "$0")/.."
bundle=$(realpath "${1:-dist/cogaudio}")
runs=${2:-3}
B=$bundle/cogaudio
V=$(realpath .venv/bin/cogaudio)
S=$bundle/_internal/assets/samples/tired.wav
[ -x "$B" ] && [ -x "$V" ] || { echo "need $B and $V" >&2; exit 2; }
W=$(mktemp -d /tmp/bundle-start.XXXXXX)
trap 'rm -rf "$W"' EXIT
declare -A times
run() { # label program args...
  local label=$1 prog=$2; shift 2
  local exe=$B; [ "$prog" = source ] && exe=$V
  local h=$W/home-$prog; mkdir -p "$h"
  local t0; t0=$(date +%s%3N)
  (cd "$W" && env -i HOME="$h" PATH=/usr/bin:/bin LANG=C.UTF-8 XDG_CONFIG_HOME="$h/config" XDG_DATA_HOME="$h/data" \
     XDG_CACHE_HOME="$h/cache" HF_HUB_OFFLINE=1 "$exe" "$@" > "$W/out.txt" 2>&1) || { echo "$label/$prog failed: $(tail -c 300 "$W/out.txt")" >&2; exit 1; }
  local ms=$(( $(date +%s%3N) - t0 ))
  local load; load=$(grep -o '"load_ms": [0-9.]*' "$W/out.txt" | head -1 | cut -d' ' -f2)
  echo "$label $prog ${ms} ms${load:+ (load_ms $load)}"
  times[$label/$prog]="${times[$label/$prog]:-} $ms"
}
for _ in $(seq "$runs"); do run "models-list" bundle models list; run "models-list" source models list; done
for _ in $(seq "$runs"); do run "doctor-quick" bundle doctor --quick --json; run "doctor-quick" source doctor --quick --json; done
for pass in reply-cold reply-warm; do
  run "$pass" bundle reply "$S" --json --out "$W/b.wav"; run "$pass" source reply "$S" --json --out "$W/s.wav"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo; printf '%-14s %10s %10s %8s\n' command bundle_ms source_ms ratio
for label in models-list doctor-quick reply-cold reply-warm; do
  b=$(echo "${times[$label/bundle]}" | median); s=$(echo "${times[$label/source]}" | median)
  awk -v l="$label" -v b="$b" -v s="$s" 'BEGIN {printf "%-14s %10s %10s %8.2f\n", l, b, s, b / s}'
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
