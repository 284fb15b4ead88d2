#!/bin/sh
# The demo: renders graphs/demo.lua on real footage twice. The first run
# computes every node-frame; the second finds every output unchanged on disk
# and computes nothing.
set -eu
cd "$(dirname "$0")/.."
echo "== first run"
bin/reel render graphs/demo.lua --stats-json out/demo/stats-1.json
echo "== second run (nothing changed: nothing is recomputed)"
bin/reel render graphs/demo.lua --stats-json out/demo/stats-2.json
computed=$(sed -n 's/^  "computed": \([0-9]*\).*/\1/p' out/demo/stats-2.json | head -n 1)
if [ "$computed" != 0 ]; then
  echo "demo: the second run recomputed $computed node-frames" >&2
  exit 1
fi
echo "demo: outputs in out/demo/ (reel info out/demo/shot.0001.exr shows their metadata)"
