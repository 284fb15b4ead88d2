#!/bin/sh
# Align, AlignSolve, Warp, Sync and `reel sync` end to end on real footage
# (vtest frames): a reference made from the source (moved by a keyframed
# corner pin, regraded, scaled to 640x480, letterboxed) registered back onto
# it; the transform against the one that made it; Warp of another stream
# equal to Align; residuals as metadata; the estimate cached (a second render
# and a changed warp filter solve nothing); key frames interpolated and
# measured; JSON and Nuke exports; errors that name the node and its line;
# `reel sync` on a reference that starts 8 frames earlier with a dropped
# frame. Numbers are checked with Debian's python3.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-align.XXXXXX)
trap 'rm -rf "$T"' EXIT
C="$T/cache"
PY=/usr/bin/python3

# the reference: the source moved by a corner pin that drifts over frames
# 1-5, graded, scaled to 640x480 and letterboxed (black bars of 40 rows)
cat > "$T/ref.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 5} }
local pin = reel.CornerPin { src, to = reel.keys { {1, {6, 4, 770, -3, 775, 580, -2, 573}},
                                                  {5, {10, 2, 772, 1, 771, 584, 3, 570}} } }
local g = reel.Grade { pin, gain = {1.1, 0.9, 0.8}, gamma = {1.2, 1.0, 0.9} }
local function dvd(x) -- 640x480; the format stays: outside the cropped data window is black
  return reel.Crop { reel.Reformat { x, width = 640, height = 480, resize = "distort" },
                     box = {0, 40, 640, 440} }
end
return { reel.Write { dvd(g), path = "$T/ref/r.####.png" },
         -- another stream of the reference: the same geometry, not regraded
         reel.Write { dvd(pin), path = "$T/ref/plain.####.exr" } }
LUA
reel render "$T/ref.lua" --no-cache > /dev/null 2> "$T/ref.txt" || cat "$T/ref.txt" >&2
check "reference frames made" [ "$(ls "$T/ref" | wc -l)" = 10 ]

cat > "$T/g.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 5} }
local ref = reel.Read { "$T/ref/r.####.png" }
local aligned = reel.Align { moving = ref, fixed = src, name = "aligned" }
local t = reel.AlignSolve { moving = ref, fixed = src }
local keyed = reel.AlignSolve { moving = ref, fixed = src, keys = {1, 5} }
local warped = reel.Warp { ref, transform = t }
local plain = reel.Warp { reel.Read { "$T/ref/plain.####.exr" }, transform = t }
return {
  reel.Write { aligned, path = "$T/out/a.####.exr" },
  reel.Write { warped, path = "$T/out/w.####.exr" },
  reel.Write { plain, path = "$T/out/p.####.exr" },
  reel.Write { t, path = "$T/out/t.json" },
  reel.Write { t, path = "$T/out/t.nk" },
  reel.Write { keyed, path = "$T/out/k.json" },
}
LUA
REEL_ALIGN_DEBUG=1 reel render "$T/g.lua" --cache "$C" --stats-json "$T/s1.json" > "$T/r1.txt" 2> "$T/d1.txt"
check "render succeeds" [ $? = 0 ]
check "5 aligned frames" [ "$(ls "$T"/out/a.*.exr 2>/dev/null | wc -l)" = 5 ]
check "each frame solved once (Align, AlignSolve and the key frames share estimates)" \
  [ "$(grep -c "align: build" "$T/d1.txt")" = 5 ]

# the transform against the one that made the reference: the corner pin's
# map from the source to the reference is known in closed form
$PY - "$T" > "$T/acc.txt" <<'PY'
import json, sys, numpy as np, cv2
t = json.load(open(sys.argv[1] + "/out/t.json"))
worst = 0
for e in t["frames"]:
    f = e["frame"]
    s = (f - 1) / 4
    a = np.array([6, 4, 770, -3, 775, 580, -2, 573], float)
    b = np.array([10, 2, 772, 1, 771, 584, 3, 570], float)
    to = (a + s * (b - a)).reshape(4, 2)
    src = np.array([[0, 0], [768, 0], [768, 576], [0, 576]], float)
    pin = cv2.getPerspectiveTransform(src.astype(np.float32), to.astype(np.float32)).astype(float)
    # reference pixels: the pin's output scaled to 640x480
    ref_from_src = np.array([[640 / 768, 0, 0], [0, 480 / 576, 0], [0, 0, 1]]) @ pin
    truth = np.linalg.inv(ref_from_src)  # moving (reference) -> fixed (source)
    m = np.array(e["matrix"]).reshape(3, 3)
    err = []
    for x, y in [(0, 0), (640, 0), (640, 480), (0, 480)]:
        p, q = m @ [x, y, 1], truth @ [x, y, 1]
        err.append(np.hypot(*(p[:2] / p[2] - q[:2] / q[2])))
    worst = max(worst, np.mean(err))
    print("frame %d corner error %.4f px residual %.4f" % (f, np.mean(err), e["residual"]))
print("worst %.4f" % worst)
PY
cat "$T/acc.txt" >&2
check "estimates within 0.25 px of the corner pin that made the reference" \
  $PY -c "import sys; sys.exit(0 if float(open('$T/acc.txt').read().split()[-1]) < 0.25 else 1)"
reel info "$T/out/a.0003.exr" > "$T/i.txt"
check "aligned frames carry the residual" grep -q "reel:align_residual *0\.0[0-9]" "$T/i.txt"
check "aligned frames carry the matrix" contains "$T/i.txt" "reel:align_matrix"
check "aligned frames have the source's format" contains "$T/i.txt" "768 x 576"
reel compare "$T/out/a.0003.exr" "$T/out/w.0003.exr" > "$T/c.txt"
check "Warp by AlignSolve's transform equals Align" grep -q "^psnr *inf" "$T/c.txt"
reel compare "$T/out/p.0003.exr" data/vtest/vtest.0003.png --region 40,80,728,496 > "$T/c2.txt"
check "another stream warped by the transform matches the source (PSNR > 28 dB)" \
  $PY -c "import sys; sys.exit(0 if float(open('$T/c2.txt').read().split('psnr ')[1].split()[0]) > 28 else 1)"
check "JSON export" $PY -c "import json; t = json.load(open('$T/out/t.json')); assert len(t['frames']) == 5 and t['moving_format'] == [0, 0, 640, 480]"
check "Nuke export, keyed per frame" grep -q "to1 {{curve x1 .* x5 " "$T/out/t.nk"
$PY -c "
import json
t = json.load(open('$T/out/k.json'))
st = [(e['frame'], e['status'], e['residual']) for e in t['frames']]
assert [s for _, s, _ in st] == ['solved', 'interpolated', 'interpolated', 'interpolated', 'solved'], st
assert all(r is not None and r < 0.2 for _, _, r in st), st
" 2> "$T/k.txt"
check "key frames: ends solved, between interpolated and measured" [ $? = 0 ]

# nothing is solved again: a second render, and Align with another filter
REEL_ALIGN_DEBUG=1 reel render "$T/g.lua" --cache "$C" --stats-json "$T/s2.json" > /dev/null 2> "$T/d2.txt"
check "second render computes nothing" [ "$(stat_of "$T/s2.json" computed)" = 0 ]
sed -i 's/name = "aligned" }/name = "aligned", filter = "lanczos3" }/' "$T/g.lua"
REEL_ALIGN_DEBUG=1 reel render "$T/g.lua" --cache "$C" > /dev/null 2> "$T/d3.txt"
check "another warp filter: the estimates come from the cache" [ "$(grep -c "align: build" "$T/d3.txt")" = 0 ]
reel render "$T/g.lua" --cache "$C" --verify > /dev/null 2> "$T/v.txt"
check "--verify agrees (transform files included)" [ $? = 0 ]

# errors name the node and its line, and say what to do
cat > "$T/bad.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 2} }
local other = reel.Read { "/usr/lib/python3/dist-packages/skimage/data/coffee.png" }
return reel.Write { reel.Align { moving = other, fixed = src }, path = "$T/bad.####.exr" }
LUA
reel render "$T/bad.lua" --cache "$C" > /dev/null 2> "$T/e1.txt"
check "unrelated pictures: exit 2" [ $? = 2 ]
check "unrelated pictures: names the node and line" grep -q "Align (.*bad.lua:4): frame 1: did not converge" "$T/e1.txt"
check "unrelated pictures: says what to do" grep -q "larger analysis region (box).*manual path" "$T/e1.txt"
sed -i 's/fixed = src }/fixed = src, strict = false }/' "$T/bad.lua"
reel render "$T/bad.lua" --cache "$C" > /dev/null 2> "$T/e2.txt"
check "strict = false: the render goes on" [ $? = 0 ]
check "strict = false: a warning per frame" [ "$(grep -c "reel: warning: Align (.*bad.lua:4): frame" "$T/e2.txt")" = 2 ]
printf 'local reel = require "reel"\nlocal s = reel.Read { "data/vtest/vtest.####.png", range = {1, 2} }\nreturn reel.AlignSolve { moving = s, fixed = s, box = {0, 0, 4, 4} }\n' > "$T/box.lua"
reel render "$T/box.lua" --cache "$C" > /dev/null 2> "$T/e3.txt"
check "tiny box: names the node and line" grep -q "AlignSolve (.*box.lua:3): box {0, 0, 4, 4} is under 8x8" "$T/e3.txt"
printf 'local reel = require "reel"\nlocal s = reel.Read { "data/vtest/vtest.####.png", range = {1, 2} }\nreturn reel.AlignSolve { moving = s, fixed = s, keys = {1, 9} }\n' > "$T/keys.lua"
reel render "$T/keys.lua" --cache "$C" > /dev/null 2> "$T/e4.txt"
check "key frame outside the frames: says so" contains "$T/e4.txt" "key frame 9 is outside"
printf 'local reel = require "reel"\nlocal s = reel.Read { "data/vtest/vtest.####.png", range = {1, 2} }\nreturn reel.Write { reel.AlignSolve { moving = s, fixed = s }, path = "t.png" }\n' > "$T/w.lua"
reel render "$T/w.lua" --cache "$C" > /dev/null 2> "$T/e5.txt"
check "a Transform written as .png: says .json or .nk" contains "$T/e5.txt" "written as .json or .nk"

# reel sync: b starts 8 frames into a, then drops a's frame 42
cat > "$T/b.lua" <<LUA
local reel = require "reel"
local a = reel.Read { "data/vtest/vtest.####.png", range = {1, 70} }
local g = reel.Grade { a, gain = {1.1, 0.9, 0.8}, gamma = {1.2, 1.0, 0.9} }
local c = reel.Crop { reel.Reformat { g, width = 720, height = 540 }, box = {10, 8, 700, 530}, reformat = true }
local b = reel.AppendClip { reel.FrameRange { c, range = {9, 41} }, reel.FrameRange { c, range = {43, 70} } }
return reel.Write { reel.TimeOffset { b, offset = -8 }, path = "$T/b/b.####.jpg", quality = 70 }
LUA
reel render "$T/b.lua" --no-cache > /dev/null 2>&1
check "b made (61 frames)" [ "$(ls "$T/b" | wc -l)" = 61 ]
reel sync "data/vtest/vtest.####.png" "$T/b/b.####.jpg" --search -20,20 > "$T/sync.txt"
check "reel sync: exit 0" [ $? = 0 ]
cat "$T/sync.txt" >&2
check "reel sync: offset +8" grep -q "^offset *+8 " "$T/sync.txt"
check "reel sync: the drop found" grep -q "b 34-61: +9" "$T/sync.txt"
check "reel sync: the TimeOffset to use" contains "$T/sync.txt" "reel.TimeOffset { a, offset = -8 }"
reel sync "data/vtest/vtest.####.png" "$T/b/b.####.jpg" --search -20,20 --json > "$T/sync.json"
check "reel sync --json" $PY -c "
import json; s = json.load(open('$T/sync.json'))
assert s['offset'] == 8 and s['confidence'] > 0.2, s
assert [(g['first'], g['last'], g['offset']) for g in s['segments']] == [(1, 33, 8), (34, 61, 9)], s"
reel sync "data/vtest/vtest.####.png" > /dev/null 2>&1
check "reel sync with one pattern: exit 2" [ $? = 2 ]

finish
