#!/bin/sh
# The workflow templates end to end on small real data (vtest frames faded
# by tools/fade-sim, a degraded reference from tools/make-reference): the
# renders, model, grade and report they promise, their option errors (named
# template, graph file:line, what to do), and spatial_recovery on a softened
# copy of the footage.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-templates.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=build/test-data/templates
if [ ! -f "$D/ok" ]; then
  rm -rf "$D"
  mkdir -p "$D"
  tools/fade-sim data/vtest/vtest.####.png "$D/faded.####.png" --range 1-24 --seed 7 --strength 2 --jobs 2 > /dev/null
  tools/make-reference data/vtest/vtest.####.png "$D/ref.####.png" --range 1-24 --seed 11 \
    --subtitles "10-12:Test" --jobs 2 > /dev/null
  touch "$D/ok"
fi

cat > "$T/chroma.lua" <<LUA
local reel = require "reel"
local chroma = require "reel.templates.chroma_recovery"
local src = reel.Read { "$D/faded.####.png", range = {1, 24} }
local ref = reel.Read { "$D/ref.####.png", range = {1, 24} }
return chroma {
  source = src, reference = ref, reference_offset = -2,
  crop = {8, 56, 760, 400},
  count = 3,
  align = { model = "affine" },
  train = { steps = 150, patch = 64, batch = 2, size = "small", run_dir = "$T/run" },
  output = "$T/ml/shot.####.exr",
  baseline = { method = "lut3d", size = 17, file = "$T/look.cube" },
  model_path = "$T/shot.reelnet",
}
LUA
reel render "$T/chroma.lua" --cache "$T/cache" > "$T/c.out" 2> "$T/c.err"
rc=$?
check "chroma_recovery renders" [ $rc = 0 ]
[ $rc = 0 ] || tail -5 "$T/c.err" >&2
check "ML render: every source frame" [ "$(ls "$T"/ml/shot.*.exr | wc -l)" = 24 ]
check "baseline render beside it" [ "$(ls "$T"/ml/shot_baseline.*.exr | wc -l)" = 24 ]
check "the model and the .cube were written" sh -c "[ -f '$T/shot.reelnet' ] && [ -f '$T/look.cube' ]"
check "the QC report beside the render" [ -f "$T/ml/shot_report.html" ]
reel info "$T/ml/shot.0005.exr" > "$T/info.txt" 2>&1
check "renders are EXR half DWAA" sh -c "grep -q 'half' '$T/info.txt' && grep -qi 'dwaa' '$T/info.txt'"
check "renders are tagged ACES 2065-1" grep -qi "colorspace *aces2065-1" "$T/info.txt"
check "renders carry provenance" grep -q "reel:lineage.*Train.*Infer" "$T/info.txt"
check "training on 3 frames picked by count (begin, middle, end)" \
  sh -c "reel model info '$T/shot.reelnet' | grep -q 'frames: 1 12 22'"
reel render "$T/chroma.lua" --cache "$T/cache" --stats-json "$T/c2.json" > /dev/null 2>&1
check "a second render computes nothing" [ "$(stat_of "$T/c2.json" computed)" = 0 ]

# option errors name the template and the graph line
err() { # NAME, SED-EXPRESSION, EXPECTED
  sed "$2" "$T/chroma.lua" > "$T/e.lua"
  reel render "$T/e.lua" --cache "$T/cache" > /dev/null 2> "$T/e.err"
  rc=$?
  check "$1: exit 2" [ $rc = 2 ]
  check "$1: message" grep -q "$3" "$T/e.err"
}
err "unknown option" 's/count = 3,/count = 3, steps = 100,/' "chroma_recovery (.*e.lua:[0-9]*): has no option 'steps'"
err "missing output" 's|output = .*||' "chroma_recovery (.*e.lua:[0-9]*): option 'output' is required"
err "wrong type" 's/count = 3,/count = 3, median = "big",/' "option 'median' must be a number"
err "unknown train field" 's/size = "small",/size = "small", stepz = 3,/' "option 'train' has no field 'stepz'"
err "frame without a reference" 's/count = 3,/frames = {1, 24},/' "training frame 24 has no reference frame (pairs exist for 1-22)"

# spatial_recovery: a softened, noisier copy of the footage, the sharp frames
# as the better source; detail only (luma mode)
cat > "$T/spatial.lua" <<LUA
local reel = require "reel"
local spatial = require "reel.templates.spatial_recovery"
local sharp = reel.Read { "data/vtest/vtest.####.png", range = {1, 24} }
local soft = reel.Blur { sharp, size = 4 }
return spatial {
  source = soft, better = sharp, truth = sharp, mode = "luma",
  count = 3, align = false,
  train = { steps = 200, patch = 64, batch = 3, size = "small", lr = 2e-3, run_dir = "$T/srun" },
  output = "$T/sharp/shot.####.exr", output_space = "srgb", report = "$T/spatial.html",
}
LUA
reel render "$T/spatial.lua" --cache "$T/cache" > /dev/null 2> "$T/s.err"
rc=$?
check "spatial_recovery renders" [ $rc = 0 ]
[ $rc = 0 ] || tail -5 "$T/s.err" >&2
check "spatial: every frame rendered" [ "$(ls "$T/sharp" | wc -l)" = 24 ]
tools/report-metrics "$T/spatial.html" > "$T/s.metrics" 2>&1
cat "$T/s.metrics" >&2
check "spatial: the ML render is closer to the sharp frames than the soft source (PSNR)" \
  awk '/^source/ {s = $4} /^ml/ {m = $4} END {exit !(m > s + 0.5)}' "$T/s.metrics"
finish
