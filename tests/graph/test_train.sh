#!/bin/sh
# Train and Infer end to end on vtest frames (small network, 64-pixel
# patches, tens of steps, so that it fits CI): the run directory's files,
# caching (an unchanged graph never retrains), a killed training resumed
# from its checkpoint reaching the same weights as an uninterrupted run,
# determinism, tiled inference equal to untiled, saved models used by path,
# and the errors a restorer meets.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-train.XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
# same_pixels A B: the two images are equal to the bit
same_pixels() {
  $PY -c '
import sys
import OpenImageIO as oiio
a = oiio.ImageBuf(sys.argv[1]).get_pixels(oiio.FLOAT)
b = oiio.ImageBuf(sys.argv[2]).get_pixels(oiio.FLOAT)
sys.exit(0 if a.size and a.shape == b.shape and (a == b).all() else 1)' "$1" "$2"
}

# graph(NAME, STEPS, MODE, TILE, EXTRA): a graph file; the target is a fixed
# regrade of the source (more saturation, warmer) that the network can learn
graph() {
  cat > "$T/$1.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 40} }
local rgb = reel.Shuffle { src, out = "R=a.R,G=a.G,B=a.B" }
local tgt = reel.Grade { reel.Saturation { rgb, saturation = 1.5 }, multiply = {1.08, 1.0, 0.9} }
local model = reel.Train { input = rgb, target = tgt, frames = {1, 20, 40}, steps = $2,
  batch = 2, patch = 64, size = "small", mode = "$3", lr = 3e-3, seed = 5,
  checkpoint_every = 20, contact_every = 20, run_dir = "$T/$1.run",
  preview = reel.FrameHold { rgb, frame = 30 } $5 }
local out = reel.Infer { rgb, model = model, tile = $4 }
return {
  model = reel.Write { model, path = "$T/$1.reelnet" },
  out = reel.Write { reel.FrameRange { out, range = {10, 11} }, path = "$T/$1.out/o.####.exr",
                     pixeltype = "float", compression = "none" },
}
LUA
}

graph a 60 rgb 4096
reel render "$T/a.lua" --cache "$T/ca" --stats-json "$T/a1.json" 2> "$T/a1.err" > /dev/null
rc=$?
check "train + infer render" [ $rc = 0 ]
[ $rc = 0 ] || tail -5 "$T/a1.err" >&2
check "progress on stderr (step, steps/s, loss, ETA)" grep -q "step 60/60 .*steps/s .*loss .*ETA" "$T/a1.err"
check "loss.csv has a line per step" [ "$(grep -c '^[0-9]' "$T/a.run/loss.csv")" = 60 ]
check "contact sheets every 20 steps" [ "$(ls "$T/a.run/contact" | wc -l)" = 3 ]
check "checkpoints at 20 and 40" [ -f "$T/a.run/checkpoint-00000020.reelnet" ] && [ -f "$T/a.run/checkpoint-00000040.reelnet" ]
check "final model in the run directory" [ -f "$T/a.run/model.reelnet" ]
check "Write saved the model" [ -f "$T/a.reelnet" ]
check "the contact sheet has 5 panels (input, output, target, preview in and out)" \
  sh -c "reel info '$T/a.run/contact/step-00000060.png' | grep -q '320 x 64'"
reel model info "$T/a.reelnet" > "$T/info.txt" 2>&1
check "reel model info reads the written model" grep -q "small" "$T/info.txt"
check "reel model info: 60 steps and the graph line in the provenance" sh -c "grep -q '60' '$T/info.txt' && grep -q 'a.lua:5' '$T/info.txt'"
check "the loss went down" $PY - "$T/a.run/loss.csv" <<'PY'
import sys
rows = [l.split(",") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
loss = [float(r[1]) for r in rows]
q = len(loss) // 4
a, b = sum(loss[:q]) / q, sum(loss[-q:]) / q
print("loss first quarter %.5f, last quarter %.5f" % (a, b), file=sys.stderr)
sys.exit(0 if b < 0.8 * a else 1)
PY

reel render "$T/a.lua" --cache "$T/ca" --stats-json "$T/a2.json" 2> "$T/a2.err" > /dev/null
check "an unchanged graph never retrains" [ "$(stat_of "$T/a2.json" computed)" = 0 ]
check "no training progress the second time" sh -c "! grep -q 'steps/s' '$T/a2.err'"
reel render "$T/a.lua" --cache "$T/ca" --verify > /dev/null 2> "$T/a3.err"
check "--verify retrains and finds the same model" [ $? = 0 ]

# a killed training resumes from its last checkpoint and ends with the same
# weights as an uninterrupted run (b2: same graph, other cache and run dir)
graph b 400 rgb 4096
graph b2 400 rgb 4096
reel render "$T/b.lua" --cache "$T/cb" > "$T/b0.out" 2>&1 &
pid=$!
i=0
while [ ! -f "$T/b.run/checkpoint-00000040.reelnet" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
check "the first attempt was killed before the end" [ ! -f "$T/b.run/model.reelnet" ]
reel render "$T/b.lua" --cache "$T/cb" 2> "$T/b1.err" > /dev/null
check "the second attempt resumed" grep -q "resuming from step" "$T/b1.err"
check "loss.csv holds each step once after the resume" [ "$(grep -c '^[0-9]' "$T/b.run/loss.csv")" = 400 ]
reel render "$T/b2.lua" --cache "$T/cb2" > /dev/null 2>&1
check "resumed run infers exactly like the uninterrupted one" \
  same_pixels "$T/b2.out/o.0010.exr" "$T/b.out/o.0010.exr"

# tiled inference equals untiled: tile 64 (96-pixel tiles, 32 overlap) vs one tile
# (its own cache: Infer's results are cached on disk and tile is not in the key)
graph c 60 rgb 64
reel render "$T/c.lua" --cache "$T/cc" > /dev/null 2>&1
check "tiled inference equals the whole frame to 1e-5" $PY - "$T/a.out/o.0010.exr" "$T/c.out/o.0010.exr" <<'PY'
import sys
import OpenImageIO as oiio
import numpy as np
a = oiio.ImageBuf(sys.argv[1]).get_pixels(oiio.FLOAT)
b = oiio.ImageBuf(sys.argv[2]).get_pixels(oiio.FLOAT)
d = float(np.abs(a - b).max())
print("tiled vs untiled: max difference %.3g" % d, file=sys.stderr)
sys.exit(0 if a.shape == b.shape and d <= 1e-5 else 1)
PY

# the same inference from a cache that holds it: loaded from disk, not recomputed
rm -rf "$T/c.out"
reel render "$T/c.lua" --cache "$T/ca" --stats-json "$T/c2.json" > /dev/null 2>&1
check "cached Infer frames load from disk as the first thing a render does" [ $? = 0 ]
check "the loaded frames equal the computed ones" same_pixels "$T/a.out/o.0010.exr" "$T/c.out/o.0010.exr"

# a saved model used by path gives the same pixels
cat > "$T/d.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {10, 11} }
local rgb = reel.Shuffle { src, out = "R=a.R,G=a.G,B=a.B" }
return reel.Write { reel.Infer { rgb, model = "$T/a.reelnet" }, path = "$T/d.out/o.####.exr",
                    pixeltype = "float", compression = "none" }
LUA
reel render "$T/d.lua" --cache "$T/cd" > /dev/null 2>&1
check "Infer { model = \"file.reelnet\" } matches the Train input" \
  same_pixels "$T/a.out/o.0010.exr" "$T/d.out/o.0010.exr"

# chroma mode on an R,G,B image (converted to Y'CbCr inside) runs and keeps luma
graph e 20 chroma 4096
reel render "$T/e.lua" --cache "$T/ca" > /dev/null 2> "$T/e.err"
check "chroma mode on R,G,B trains and infers" [ -f "$T/e.out/o.0010.exr" ]
check "chroma mode keeps Rec.709 luma (R,G,B path: to float rounding)" $PY - "$T/e.out/o.0010.exr" <<'PY'
import sys
import OpenImageIO as oiio
import numpy as np
o = oiio.ImageBuf(sys.argv[1]).get_pixels(oiio.FLOAT)
s = oiio.ImageBuf("data/vtest/vtest.0010.png").get_pixels(oiio.FLOAT)[..., :3]
w = np.array([0.2126, 0.7152, 0.0722], np.float32)
d = float(np.abs((o[..., :3] * w).sum(-1) - (s * w).sum(-1)).max())
c = float(np.abs(o[..., :3] - s).max())
print("chroma mode: luma change %.3g, colour change %.3g" % (d, c), file=sys.stderr)
sys.exit(0 if d < 1e-5 and c > 1e-3 else 1)
PY

# errors name the node, its line, and what to do
graph f 10 rgb 4096 ", patch = 48"
sed -i 's/patch = 64, //' "$T/f.lua"
reel render "$T/f.lua" --cache "$T/ca" > /dev/null 2> "$T/f.err"
rc=$?
check "a patch that is not a multiple of 32 is refused (exit 2)" [ $rc = 2 ]
check "the error names Train, its line and the fix" grep -q "Train.*f.lua:5.*patch 48 is not a multiple of 32.*use 32 or 64" "$T/f.err"
graph g 10 rgb 4096
sed -i 's/frames = {1, 20, 40}/frames = {1, 20, 99}/' "$T/g.lua"
reel render "$T/g.lua" --cache "$T/ca" > /dev/null 2> "$T/g.err"
check "a dataset frame outside the clip is refused (exit 2)" [ $? = 2 ]
check "the error names the frame" grep -q "99 is not a frame of 'input' (1-40)" "$T/g.err"
sed -e "s|model = \"$T/a.reelnet\"|model = \"$T/missing.reelnet\"|" "$T/d.lua" > "$T/h.lua"
reel render "$T/h.lua" --cache "$T/ca" > /dev/null 2> "$T/h.err"
rc=$?
check "a missing model file is an error naming it" sh -c "[ $rc != 0 ] && grep -q 'missing.reelnet' '$T/h.err'"
cat > "$T/i.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {10, 11} }
return reel.Write { reel.Infer { src, model = "$T/a.run/contact/step-00000020.png" }, path = "$T/i.out/o.####.exr" }
LUA
reel render "$T/i.lua" --cache "$T/ca" > /dev/null 2> "$T/i.err"
check "a PNG given as a model is refused (exit 2)" [ $? = 2 ]
check "the error says it is not a model file" grep -qi "not a Reel model" "$T/i.err"
finish
