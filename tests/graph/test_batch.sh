#!/bin/sh
# Batch use: a graph with a Train node rendered as two --frames chunks by two
# processes at once against one shared cache (as two farm machines would):
# the model is trained once, each chunk writes its frames, the outputs equal
# a single render's, and exit codes tell a CI job what happened.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-batch.XXXXXX)
trap 'rm -rf "$T"' EXIT

cat > "$T/g.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 12} }
local rgb = reel.Shuffle { src, out = "R=a.R,G=a.G,B=a.B" }
local tgt = reel.Saturation { rgb, saturation = 1.4 }
local model = reel.Train { input = rgb, target = tgt, frames = {1, 6, 12}, steps = 40,
  batch = 2, patch = 64, size = "small", seed = 3, contact_every = 0, checkpoint_every = 0 }
return reel.Write { reel.Infer { rgb, model = model }, path = "$T/out/o.####.exr",
                    pixeltype = "float", compression = "zip" }
LUA

reel render "$T/g.lua" --cache "$T/shared" --frames 1-6 --stats-json "$T/a.json" > "$T/a.out" 2> "$T/a.err" &
pa=$!
reel render "$T/g.lua" --cache "$T/shared" --frames 7-12 --stats-json "$T/b.json" > "$T/b.out" 2> "$T/b.err" &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
check "chunk 1-6 exits 0" [ $ra = 0 ]
check "chunk 7-12 exits 0" [ $rb = 0 ]
check "all 12 frames written" [ "$(ls "$T/out" | wc -l)" = 12 ]
n=$(cat "$T/a.err" "$T/b.err" | grep -c "trained 40 steps")
check "the model was trained once for both chunks (trained $n times)" [ "$n" = 1 ]

# the same graph in one process, another cache: identical frames
sed "s|$T/out/|$T/one/|" "$T/g.lua" > "$T/one.lua"
reel render "$T/one.lua" --cache "$T/single" > /dev/null 2>&1
same=1
for f in 01 06 07 12; do
  /usr/bin/python3 -c '
import sys
import OpenImageIO as oiio
a = oiio.ImageBuf(sys.argv[1]).get_pixels(oiio.FLOAT)
b = oiio.ImageBuf(sys.argv[2]).get_pixels(oiio.FLOAT)
sys.exit(0 if a.size and (a == b).all() else 1)' "$T/out/o.00$f.exr" "$T/one/o.00$f.exr" || same=0
done
check "chunked frames equal a single render's, bit for bit" [ $same = 1 ]

# a third chunk finds everything in the cache
reel render "$T/g.lua" --cache "$T/shared" --frames 3-9 --stats-json "$T/c.json" > /dev/null 2> "$T/c.err"
check "a re-run chunk exits 0" [ $? = 0 ]
check "a re-run chunk computes nothing" [ "$(stat_of "$T/c.json" computed)" = 0 ]
check "a re-run chunk does not train" sh -c "! grep -q 'steps/s' '$T/c.err'"

# exit codes a CI job can act on
reel render "$T/g.lua" --cache "$T/shared" --frames 50-60 > /dev/null 2>&1
check "frames outside the clip: exit 2" [ $? = 2 ]
chmod 555 "$T/out"
rm -f "$T/out/o.0005.exr"
if [ "$(id -u)" != 0 ]; then
  reel render "$T/g.lua" --cache "$T/shared" --frames 5 > /dev/null 2>&1
  check "unwritable output: exit 3" [ $? = 3 ]
fi
chmod 755 "$T/out"
finish
