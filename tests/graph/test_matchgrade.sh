#!/bin/sh
# MatchGrade and ApplyGrade end to end on real footage (vtest, 768x576):
# a known grade (kdenlive's TEAL_ORANGE.cube from ../shared/conformance when
# present, and a CDL written here) is applied to the shot; each method fits
# it from 4 frames and is measured on 3 held-out frames by mean CIEDE2000
# (Compare); the Grade is cached on disk and refitted only when its inputs
# or parameters change; written .cube/.cc files apply as the Grade does;
# masks; and the errors a restorer meets, naming node, graph line and file.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-matchgrade.XXXXXX)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
CONF=${REEL_CONFORMANCE:-../shared/conformance}
FIT="{100, 300, 500, 700}"
HELD="{50, 790}"

# de FILE...: mean of reel:de2000_mean over the files
de() {
  $PY -c '
import sys
import OpenImageIO as oiio
v = [float(oiio.ImageInput.open(f).spec().getattribute("reel:de2000_mean")) for f in sys.argv[1:]]
print("%.3f" % (sum(v) / len(v)))' "$@"
}
below() { $PY -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }
# maxdiff A B: largest absolute difference of two images
maxdiff() {
  $PY -c '
import sys
import OpenImageIO as oiio
a = oiio.ImageBuf(sys.argv[1]).get_pixels(oiio.FLOAT)
b = oiio.ImageBuf(sys.argv[2]).get_pixels(oiio.FLOAT)
print("%.3g" % abs(a - b).max())' "$1" "$2"
}

cat > "$T/look.cc" <<'CC'
<ColorCorrection id="look">
  <SOPNode><Slope>0.95 1.02 1.1</Slope><Offset>0.02 0 -0.03</Offset><Power>1.1 0.95 1</Power></SOPNode>
  <SatNode><Saturation>1.2</Saturation></SatNode>
</ColorCorrection>
CC

# The figures: each method fitted from 4 frames to kdenlive's
# TEAL_ORANGE.cube (or, without the conformance material, to the CDL
# above), measured on 2 held-out frames; and the cdl method on the known
# CDL, which it must recover. One render: the frames are read once.
if [ -f "$CONF/luts/TEAL_ORANGE.cube" ]; then
  TRUTH="$CONF/luts/TEAL_ORANGE.cube"
else
  echo "skip: no $CONF/luts/TEAL_ORANGE.cube: the figures use the CDL" >&2
  TRUTH="$T/look.cc"
fi
cat > "$T/fig.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 795} }
local out = {}
local function measure(name, truth, method)
  local g = reel.MatchGrade { source = src, target = truth, frames = $FIT, method = method }
  local c = reel.Compare { reel.ApplyGrade { src, grade = g }, truth }
  out[name] = reel.Write { reel.FrameHold { c, frames = $HELD }, path = "$T/fig/" .. name .. ".####.exr" }
end
local truth = reel.ApplyGrade { src, file = "$TRUTH" }
for _, m in ipairs { "lut3d", "cdl", "matrix" } do measure(m, truth, m) end
measure("known_cdl", reel.ApplyGrade { src, file = "$T/look.cc" }, "cdl")
return out
LUA
reel render "$T/fig.lua" --cache "$T/cache" --frames 1-2 2> "$T/fig.err" > /dev/null
rc=$?
check "fit and apply on real footage: render" [ $rc = 0 ]
[ $rc = 0 ] || tail -5 "$T/fig.err" >&2
check "each fit reports samples and rms" [ "$(grep -c 'MatchGrade .* from [0-9]* samples of 4 frames: rms' "$T/fig.err")" -ge 3 ]
l=$(de "$T"/fig/lut3d.*.exr)
c=$(de "$T"/fig/cdl.*.exr)
m=$(de "$T"/fig/matrix.*.exr)
k=$(de "$T"/fig/known_cdl.*.exr)
echo "$(basename "$TRUTH"), mean CIEDE2000 on held-out frames: lut3d $l, cdl $c, matrix $m" >&2
echo "a known CDL, fitted by the cdl method: $k" >&2
check "lut3d within 1.0 CIEDE2000 of the truth ($l)" below "$l" 1.0
check "the cdl method recovers a known CDL ($k)" below "$k" 0.05

# ---- written files apply as the Grade does; caching ----
# files SMOOTH: two grades fitted on one frame, written as files and applied
files() {
  cat > "$T/files.lua" <<LUA
local reel = require "reel"
local src = reel.FrameRange { reel.Read { "data/vtest/vtest.####.png", range = {1, 795} }, range = {420, 420} }
local truth = reel.ApplyGrade { src, file = "$T/look.cc" }
local g = reel.MatchGrade { source = src, target = truth, frames = {420}, size = 17, smooth = $1, name = "g" }
local c = reel.MatchGrade { source = src, target = truth, frames = {420}, method = "cdl", name = "c" }
return {
  reel.Write { g, path = "$T/g.cube" }, reel.Write { c, path = "$T/c.cc" },
  reel.Write { reel.ApplyGrade { src, grade = g }, path = "$T/f/g.####.exr", pixeltype = "float" },
  reel.Write { reel.ApplyGrade { src, grade = c }, path = "$T/f/c.####.exr", pixeltype = "float" },
}
LUA
  reel render "$T/files.lua" --cache "$T/cache" 2> "$T/files.err" > /dev/null
}
files 0.02
check "files: render" [ $? = 0 ]
check "the written files carry provenance" grep -q "reel:key" "$T/g.cube"
check "the fitted CDL is written as .cc" grep -q "<Slope>" "$T/c.cc"
cat > "$T/files2.lua" <<LUA
local reel = require "reel"
local src = reel.FrameRange { reel.Read { "data/vtest/vtest.####.png", range = {1, 795} }, range = {420, 420} }
return {
  reel.Write { reel.ApplyGrade { src, file = "$T/g.cube" }, path = "$T/f/gf.####.exr", pixeltype = "float" },
  reel.Write { reel.ApplyGrade { src, file = "$T/c.cc" }, path = "$T/f/cf.####.exr", pixeltype = "float" },
}
LUA
reel render "$T/files2.lua" --cache "$T/cache" 2>> "$T/files.err" > /dev/null
check "files applied: render" [ $? = 0 ]
d1=$(maxdiff "$T/f/g.0420.exr" "$T/f/gf.0420.exr")
d2=$(maxdiff "$T/f/c.0420.exr" "$T/f/cf.0420.exr")
echo "written .cube (Resolve shaper + 3D) vs the Grade: max diff $d1; .cc: $d2" >&2
check "the written .cube applies as the Grade ($d1)" below "$d1" 1e-3
check "the written .cc applies as the Grade ($d2)" below "$d2" 1e-5

files 0.02
check "unchanged graph: no fit" [ $? = 0 ] && [ "$(grep -c 'MatchGrade' "$T/files.err")" = 0 ]
rm -rf "$T/f" "$T/g.cube" "$T/c.cc"
files 0.02
check "outputs removed: the grades come from the disk cache" [ $? = 0 ] && [ "$(grep -c 'MatchGrade' "$T/files.err")" = 0 ]
check "outputs removed: written again" [ -f "$T/g.cube" ] && [ -f "$T/f/c.0420.exr" ]
files 0.05
check "smooth changed: only that fit runs" sh -c "[ \$(grep -c 'MatchGrade' '$T/files.err') = 1 ] && grep -q \"MatchGrade 'g'\" '$T/files.err'"
reel render "$T/files.lua" --cache "$T/cache" --verify > /dev/null 2> "$T/verify.err"
check "--verify: fresh fits equal the cached grades" [ $? = 0 ]

# ---- a mask: only its pixels are fitted ----
cat > "$T/mask.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 795} }
local truth = reel.ApplyGrade { src, file = "$T/look.cc" }
local mask = reel.Crop { reel.Shuffle { src, out = "A=1" }, box = {0, 0, 384, 288} }
local g = reel.MatchGrade { source = src, target = truth, mask = mask, frames = {100, 300}, method = "matrix" }
return { reel.Write { g, path = "$T/mask.cube" } }
LUA
reel render "$T/mask.lua" --cache "$T/cache" 2> "$T/mask.err" > /dev/null
check "mask: fits only its pixels (2 x 384 x 288)" grep -q "from 221184 samples of 2 frames" "$T/mask.err"

# ---- errors: node, graph line, file and line, what to do ----
# err NAME LUA-BODY: a graph that must fail with exit 2; stderr in NAME.err
err() {
  printf 'local reel = require "reel"\nlocal src = reel.Read { "data/vtest/vtest.####.png", range = {1, 795} }\n%s\n' "$2" > "$T/$1.lua"
  reel render "$T/$1.lua" --cache "$T/cache" > /dev/null 2> "$T/$1.err"
  [ $? = 2 ]
}
head -n 20 "$T/g.cube" > "$T/trunc.cube"
check "truncated LUT: exit 2" err e1 "return reel.Write { reel.ApplyGrade { src, file = \"$T/trunc.cube\" }, path = \"$T/x.####.exr\" }"
check "truncated LUT: names node and graph line" contains "$T/e1.err" "ApplyGrade (.*e1.lua:3)"
check "truncated LUT: names file and line" grep -q "trunc.cube:20: ends after .* entries the header announces" "$T/e1.err"
printf 'LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 nan 0\n' > "$T/nan.cube"
check "NaN in a LUT: exit 2" err e2 "return reel.Write { reel.ApplyGrade { src, file = \"$T/nan.cube\" }, path = \"$T/x.####.exr\" }"
check "NaN in a LUT: file and line" contains "$T/e2.err" "nan.cube:4: 'nan' is not a finite number"
if [ -f "$CONF/luts/cdl_test1.ccc" ]; then
  check "ccc without id: exit 2" err e3 "return reel.Write { reel.ApplyGrade { src, file = \"$CONF/luts/cdl_test1.ccc\" }, path = \"$T/x.####.exr\" }"
  check "ccc without id: lists the ids" contains "$T/e3.err" "holds 5 ColorCorrections (ids cc0001, cc0002, cc0003, (no id), (no id)): choose one with id"
  check "ccc with a wrong id: exit 2" err e4 "return reel.Write { reel.ApplyGrade { src, file = \"$CONF/luts/cdl_test1.ccc\", id = \"cc9\" }, path = \"$T/x.####.exr\" }"
  check "ccc with a wrong id: lists the ids" contains "$T/e4.err" 'no ColorCorrection with id "cc9"; the file holds cc0001, cc0002, cc0003'
fi
check "frames outside the clip: exit 2" err e5 "return reel.Write { reel.MatchGrade { source = src, target = src, frames = {1, 900} }, path = \"$T/x.cube\" }"
check "frames outside the clip: says which" contains "$T/e5.err" "MatchGrade (.*e5.lua:3): frames: 900 is not a frame of 'source' (1-795)"
check "a Grade to .exr: exit 2" err e6 "return reel.Write { reel.MatchGrade { source = src, target = src, frames = {1} }, path = \"$T/x.exr\" }"
check "a Grade to .exr: says what to use" contains "$T/e6.err" "written as .cube (3D LUT), .cc, .ccc or .cdl"
check "no grade and no file: exit 2" err e7 "return reel.Write { reel.ApplyGrade { src }, path = \"$T/x.####.exr\" }"
check "no grade and no file: says what to do" contains "$T/e7.err" "connect a MatchGrade node to .grade. or name a LUT file"
check "an empty mask: exit 2" err e8 "return reel.Write { reel.MatchGrade { source = src, target = src, frames = {1}, mask = reel.Shuffle { src, out = \"A=0\" } }, path = \"$T/x.cube\" }"
check "an empty mask: says to check it" contains "$T/e8.err" "only 0 usable samples .*check the mask"
check "a LUT grade as .cc: exit 2" err e9 "return reel.Write { reel.MatchGrade { source = src, target = src, frames = {1}, size = 5 }, path = \"$T/x.cc\" }"
check "a LUT grade as .cc: says why" contains "$T/e9.err" "write it as .cube, or fit with method = \"cdl\""
echo x > "$T/look.lut"
check "an unknown format: exit 2" err e10 "return reel.Write { reel.ApplyGrade { src, file = \"$T/look.lut\" }, path = \"$T/x.####.exr\" }"
check "an unknown format: lists the known ones" contains "$T/e10.err" "look.lut: unknown LUT format '.lut': Reel reads .cube, .3dl, .csp, .cc, .ccc and .cdl"
finish
