#!/bin/sh
# End-to-end behaviour of `reel render` on real footage (vtest frames):
# caching across processes, --explain, file changes, killed renders, two
# renders sharing a cache, corrupt cache entries, --verify, exit codes,
# malformed images, and the inspection commands.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
C="$T/cache"
mkdir -p "$T/src"
for i in 1 2 3 4 5 6 7 8; do cp "data/vtest/vtest.000$i.png" "$T/src/f.000$i.png"; done

cat > "$T/g.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "$T/src/f.####.png" }
local crop = reel.Crop { src, name = "crop", box = {8, 8, 700, 500} }
return reel.Write { crop, name = "out", path = "$T/out/o.####.exr" }
LUA

reel render "$T/g.lua" --cache "$C" --stats-json "$T/s1.json" > "$T/r1.txt"
check "first render computes every node-frame" [ "$(stat_of "$T/s1.json" computed)" = 24 ]
check "first render writes 8 frames" [ "$(ls "$T/out" | wc -l)" = 8 ]
check "last stdout line has the counts" grep -q "^reel: 8 frames: computed 24 node-frames" "$T/r1.txt"
reel render "$T/g.lua" --cache "$C" --stats-json "$T/s2.json" --explain > "$T/r2.txt"
check "second render computes nothing" [ "$(stat_of "$T/s2.json" computed)" = 0 ]
check "second render: 8 disk hits" [ "$(stat_of "$T/s2.json" disk_hits)" = 8 ]
check "explain says disk cache" contains "$T/r2.txt" "disk cache"

# an edited parameter: explain names it
sed -i 's/box = {8, 8, 700, 500}/box = {8, 8, 640, 500}/' "$T/g.lua"
reel render "$T/g.lua" --cache "$C" --explain --frames 1-2 > "$T/r3.txt"
check "explain names the changed parameter" contains "$T/r3.txt" "parameter 'box' changed (now {8, 8, 640, 500})"
check "explain names the changed input" contains "$T/r3.txt" "input 'img' changed"
reel render "$T/g.lua" --cache "$C" > /dev/null

# touching a source keeps its key; new pixels change it (only that frame)
touch "$T/src/f.0003.png"
reel render "$T/g.lua" --cache "$C" --stats-json "$T/s4.json" > /dev/null
check "touched source: nothing recomputed" [ "$(stat_of "$T/s4.json" computed)" = 0 ]
cp "data/vtest/vtest.0100.png" "$T/src/f.0003.png"
reel render "$T/g.lua" --cache "$C" --stats-json "$T/s5.json" --explain > "$T/r5.txt"
check "rewritten source: one frame recomputed (Read, Crop, Write)" [ "$(stat_of "$T/s5.json" computed)" = 3 ]
check "explain: frame 3 recomputed" grep -q "^explain  3 .*Write.*computed" "$T/r5.txt"

# a deleted output is rewritten
rm "$T/out/o.0005.exr"
reel render "$T/g.lua" --cache "$C" --stats-json "$T/s6.json" > /dev/null
check "deleted output frame is rendered again" [ -f "$T/out/o.0005.exr" ]
check "only that frame" [ "$(stat_of "$T/s6.json" computed)" = 3 ]

# --verify recomputes hits and agrees
reel render "$T/g.lua" --cache "$C" --verify --stats-json "$T/s7.json" > /dev/null
check "--verify passes" [ $? = 0 ]
check "--verify recomputed cached results" [ "$(stat_of "$T/s7.json" verified)" -gt 0 ]

# corrupt every cache object: detected, recomputed, render succeeds
for f in $(find "$C/objects" -type f); do printf 'garbage' | dd of="$f" bs=1 seek=40 conv=notrunc 2>/dev/null; done
rm -rf "$T/out"
reel render "$T/g.lua" --cache "$C" --stats-json "$T/s8.json" > /dev/null
rc=$?
check "corrupt cache entries: render still succeeds" [ $rc = 0 ]
check "corrupt cache entries: recomputed" [ "$(stat_of "$T/s8.json" computed)" = 24 ]

# killed render leaves no partial frame under a final name; a rerun completes
cat > "$T/k.lua" <<LUA
local reel = require "reel"
local src = reel.Read { "data/vtest/vtest.####.png", range = {1, 60} }
return reel.Write { src, path = "$T/kout/k.####.exr", compression = "zip" }
LUA
reel render "$T/k.lua" --cache "$C" --quiet > /dev/null 2>&1 &
pid=$!
# kill it once it has written a few frames (wait for them: the machine may be busy)
i=0
while [ "$(ls "$T"/kout/k.*.exr 2>/dev/null | wc -l)" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
bad=0
for f in "$T"/kout/k.*.exr; do
  [ -f "$f" ] || continue
  reel info "$f" > /dev/null 2>&1 || bad=$((bad + 1))
done
check "killed render: every final-named file is complete" [ $bad = 0 ]
reel render "$T/k.lua" --cache "$C" --stats-json "$T/s9.json" > /dev/null
check "rerun after kill completes" [ "$(ls "$T"/kout/k.*.exr | wc -l)" = 60 ]
check "rerun after kill: kept the frames already written" [ "$(stat_of "$T/s9.json" disk_hits)" -gt 0 ]

# two renders at once into one cache and one output directory
rm -rf "$T/kout"
reel render "$T/k.lua" --cache "$T/shared" --quiet > "$T/p1.txt" 2>&1 &
p1=$!
reel render "$T/k.lua" --cache "$T/shared" --quiet > "$T/p2.txt" 2>&1
rc2=$?
wait $p1
rc1=$?
check "two concurrent renders both succeed" [ $rc1 = 0 -a $rc2 = 0 ]
bad=0
for f in "$T"/kout/k.*.exr; do reel info "$f" > /dev/null 2>&1 || bad=$((bad + 1)); done
check "two concurrent renders: 60 valid frames" [ $bad = 0 -a "$(ls "$T"/kout/k.*.exr | wc -l)" = 60 ]

# exit codes and messages
printf 'local reel = require "reel"\nreel.Crop { box = {0, 0, 1, 1}\n' > "$T/syntax.lua"
reel render "$T/syntax.lua" --cache "$C" > /dev/null 2> "$T/e1.txt"
check "syntax error: exit 2" [ $? = 2 ]
printf 'local reel = require "reel"\nlocal s = reel.Read { "%s/src/f.####.png" }\nreturn reel.Write { reel.Crop { s, bx = {0, 0, 1, 1} }, path = "x.exr" }\n' "$T" > "$T/param.lua"
reel render "$T/param.lua" --cache "$C" > /dev/null 2> "$T/e2.txt"
check "unknown parameter: exit 2" [ $? = 2 ]
check "unknown parameter: names file:line" contains "$T/e2.txt" "param.lua:3"
printf 'local reel = require "reel"\nlocal s = reel.Read { "%s/src/f.####.png", range = {1, 9} }\nreturn reel.Write { s, path = "%s/m.####.exr" }\n' "$T" "$T" > "$T/missing.lua"
reel render "$T/missing.lua" --cache "$C" > /dev/null 2> "$T/e3.txt"
check "missing frame: exit 2" [ $? = 2 ]
check "missing frame: says what to do" contains "$T/e3.txt" "missing = \"hold\""
mkdir -p "$T/ro" && chmod 555 "$T/ro"
printf 'local reel = require "reel"\nlocal s = reel.Read { "%s/src/f.####.png" }\nreturn reel.Write { s, path = "%s/ro/x.####.exr" }\n' "$T" "$T" > "$T/ro.lua"
if [ "$(id -u)" != 0 ]; then
  reel render "$T/ro.lua" --cache "$C" > /dev/null 2> "$T/e4.txt"
  check "unwritable output: exit 3" [ $? = 3 ]
fi
printf 'local reel = require "reel"\nlocal s = reel.Read { "%s/src/f.####.png" }\nreturn reel.Write { s, path = "/proc/reel-cannot/x.####.exr" }\n' "$T" > "$T/proc.lua"
reel render "$T/proc.lua" --cache "$C" > /dev/null 2> "$T/e5.txt"
check "output directory cannot be made: exit 3" [ $? = 3 ]
reel render "$T/nonexistent.lua" > /dev/null 2>&1
check "missing graph file: exit 2" [ $? = 2 ]
reel render "$T/g.lua" --frames 500-600 --cache "$C" > /dev/null 2> "$T/e6.txt"
check "frames outside the range: exit 2" [ $? = 2 ]

# malformed images: a clear error and a normal exit, never a signal
CONF=${REEL_CONFORMANCE:-../shared/conformance}
if [ -d "$CONF/bad-images" ]; then
  n=0
  good=0
  for f in "$CONF"/bad-images/*; do
    n=$((n + 1))
    ext=${f##*.}
    printf 'local reel = require "reel"\nreturn reel.Write { reel.Read { "%s" }, path = "%s/bad.exr" }\n' "$f" "$T" > "$T/bad.lua"
    reel render "$T/bad.lua" --cache "$C" > /dev/null 2> "$T/bad.txt"
    rc=$?
    base=$(basename "$f")
    if [ $rc = 2 ] || [ $rc = 3 ]; then
      if grep -q "$base" "$T/bad.txt"; then good=$((good + 1)); else echo "  $base: message lacks the file name" >&2; fi
    else
      echo "  $base: exit $rc" >&2
      cat "$T/bad.txt" >&2
    fi
  done
  check "16 malformed images: 16 clear errors, no crash" [ "$n" = 16 -a "$good" = 16 ]
else
  echo "skip: no $CONF/bad-images" >&2
fi

# inspection commands
reel nodes Crop > "$T/n.txt"
check "reel nodes Crop documents box" contains "$T/n.txt" "box"
reel graph "$T/g.lua" --dot > "$T/g.dot"
check "reel graph --dot" contains "$T/g.dot" "digraph"
check "reel graph --dot has the edge label" contains "$T/g.dot" 'label="img"'
reel info "$T/out/o.0001.exr" > "$T/i.txt"
check "reel info shows the data window" contains "$T/i.txt" "data        (8, 8) - (640, 500)"
check "written files carry provenance" contains "$T/i.txt" "reel:lineage"
reel cache stats --cache "$C" > "$T/cs.txt"
check "reel cache stats" contains "$T/cs.txt" "entries"
reel cache gc --max 0 --cache "$C" > /dev/null
reel cache stats --cache "$C" > "$T/cs2.txt"
check "reel cache gc --max 0 empties it" grep -q "^entries        0" "$T/cs2.txt"
finish
