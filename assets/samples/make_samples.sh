#!/usr/bin/env bash
# Regenerates the bundled sample utterances (16 kHz mono 16-bit wav, each < 200 KB) with espeak-ng.
# Needs: espeak-ng and sox (apt-get install espeak-ng sox). The texts are listed in samples.tsv.
set -euo pipefail
cd "$(dirname "$0")"
while IFS=$'\t' read -r name voice speed pitch text; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "/tmp/$name.raw.wav" "$text"
  # resample to 16 kHz mono and add 0.2 s of silence at both ends (a real microphone has some)
  sox "/tmp/$name.raw.wav" -r 16000 -c 1 -b 16 "$name.wav" pad 0.2 0.2
  rm -f "/tmp/$name.raw.wav"
  echo "$name.wav: $text"
done < samples.tsv
