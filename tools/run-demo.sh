#!/bin/sh
# The demo (make demo): chroma recovery of a faded shot from a degraded video
# reference, on real footage (opencv-doc's vtest.avi; graphs/demo.lua).
# 1. makes the footage (tools/make-demo-data.sh, once);
# 2. finds the reference's frame offset with `reel sync`;
# 3. renders the graph: alignment, training (a few minutes on a CPU), the
#    ML render of the whole clip, the MatchGrade baseline and the QC report;
# 4. fails unless the ML result beats the MatchGrade baseline on the
#    held-out frames (chroma PSNR and mean CIEDE2000 against the truth);
# 5. renders again: nothing changed, so nothing is recomputed.
# REEL_DEMO_LAST=N renders frames 1-N only (a quicker look).
set -eu
cd "$(dirname "$0")/.."
export PATH="$(pwd)/bin:$PATH"
tools/make-demo-data.sh
mkdir -p out/demo
echo "== sync: the reference's frame offset"
reel sync "data/demo/ref.####.png" "data/demo/faded.####.png" --json > out/demo/sync.json
offset=$(sed -n 's/^ *"timeoffset": \(-*[0-9]*\).*/\1/p' out/demo/sync.json)
echo "reference offset: $offset (reel.TimeOffset { ref, offset = $offset })"
export REEL_DEMO_OFFSET="$offset"
echo "== render"
reel render graphs/demo.lua --stats-json out/demo/stats-1.json
echo "== held-out frames against the truth"
tools/report-metrics out/demo/report.html --require-ml-beats-baseline
echo "== second render (nothing changed: nothing is recomputed)"
reel render graphs/demo.lua --stats-json out/demo/stats-2.json
computed=$(sed -n 's/^  "computed": \([0-9]*\).*/\1/p' out/demo/stats-2.json | head -n 1)
if [ "$computed" != 0 ]; then
  echo "demo: the second run recomputed $computed node-frames" >&2
  exit 1
fi
echo "demo: renders in out/demo/ml and out/demo/baseline, the QC page in out/demo/report.html"
