#!/bin/sh
# `reel model init` and `reel model info` on .reelnet files: text and JSON
# output, exit codes (0 ok, 2 bad or foreign file, 3 unreadable), corrupt,
# truncated and foreign files refused with a message naming the file.
. tests/graph/lib.sh
T=$(mktemp -d /tmp/reel-model.XXXXXX)
trap 'rm -rf "$T"' EXIT

reel model init --size small --mode chroma --seed 7 "$T/m.reelnet" > "$T/init.txt"
check "init: exit 0" [ $? = 0 ]
check "init: says what it wrote" contains "$T/init.txt" "small chroma"
check "init: no temporary left" [ "$(ls -A "$T" | grep -c reelnet)" = 1 ]
reel model init --size small --mode chroma --seed 7 "$T/m2.reelnet" > /dev/null
check "init: same seed, same bytes" cmp -s "$T/m.reelnet" "$T/m2.reelnet"
reel model init --size small --mode chroma --seed 8 "$T/m3.reelnet" > /dev/null
check "init: another seed, other weights" [ -n "$(cmp "$T/m.reelnet" "$T/m3.reelnet")" ]
reel model init --size huge "$T/x.reelnet" > /dev/null 2> "$T/e0.txt"
check "init: unknown size: exit 2" [ $? = 2 ]
reel model init --size small --mode rgb "$T/no/such/dir/x.reelnet" > /dev/null 2> "$T/e0b.txt"
check "init: missing directory: exit 2" [ $? = 2 ]

reel model info "$T/m.reelnet" > "$T/info.txt"
check "info: exit 0" [ $? = 0 ]
check "info: size name" contains "$T/info.txt" "small U-Net"
check "info: mode" contains "$T/info.txt" "chroma"
check "info: parameter count" grep -q "parameters    [0-9]" "$T/info.txt"
check "info: channels" contains "$T/info.txt" "R G B"
check "info: checksum ok" grep -q "checksum [0-9a-f]\{16\} ok" "$T/info.txt"
check "info: provenance" contains "$T/info.txt" "seed: 7"
check "info: no optimiser state" contains "$T/info.txt" "checkpoint    no"

reel model info --json "$T/m.reelnet" > "$T/info.json"
check "info --json: exit 0" [ $? = 0 ]
check "info --json parses" /usr/bin/python3 -m json.tool "$T/info.json" > /dev/null
check "info --json: fields" /usr/bin/python3 -c "
import json, sys
d = json.load(open('$T/info.json'))
assert d['size'] == 'small' and d['mode'] == 'chroma' and d['out_channels'] == 2, d
assert d['parameters'] > 0 and d['checksum_ok'] is True and d['checkpoint'] is False, d
assert d['bytes'] == $(wc -c < "$T/m.reelnet"), d
assert len(d['widths']) == d['levels'] + 1, d
assert 'seed: 7' in d['provenance'], d
"
reel model info --json "$T/m.reelnet" "$T/m3.reelnet" > "$T/two.json"
check "info --json on two files: a list of two" /usr/bin/python3 -c "
import json; assert len(json.load(open('$T/two.json'))) == 2"

# a corrupt byte in the middle (the parameters): the checksum catches it
cp "$T/m.reelnet" "$T/bad.reelnet"
size=$(wc -c < "$T/bad.reelnet")
printf 'X' | dd of="$T/bad.reelnet" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
reel model info "$T/bad.reelnet" > /dev/null 2> "$T/e1.txt"
check "corrupt: exit 2" [ $? = 2 ]
check "corrupt: checksum mismatch" contains "$T/e1.txt" "checksum mismatch: the file is corrupt"
check "corrupt: names the file" contains "$T/e1.txt" "bad.reelnet"

head -c 1000 "$T/m.reelnet" > "$T/short.reelnet"
reel model info "$T/short.reelnet" > /dev/null 2> "$T/e2.txt"
check "truncated: exit 2" [ $? = 2 ]
check "truncated: says how much" contains "$T/e2.txt" "truncated (1000 of $size bytes)"

CONF=${REEL_CONFORMANCE:-../shared/conformance}
if [ -f "$CONF/images/Tree.exr" ]; then
  reel model info "$CONF/images/Tree.exr" > /dev/null 2> "$T/e3.txt"
  check "EXR given as a model: exit 2" [ $? = 2 ]
  check "EXR given as a model: says so" contains "$T/e3.txt" "not a Reel model file (starts with OpenEXR signature)"
else
  echo "skip: no $CONF/images/Tree.exr" >&2
fi
printf '\211PNG\r\n\032\n0000000000000000' > "$T/fake.png"
reel model info "$T/fake.png" > /dev/null 2> "$T/e4.txt"
check "PNG given as a model: exit 2" [ $? = 2 ]
check "PNG given as a model: says so" contains "$T/e4.txt" "not a Reel model file (starts with PNG signature)"
: > "$T/empty.reelnet"
reel model info "$T/empty.reelnet" > /dev/null 2> "$T/e5.txt"
check "empty file: exit 2" [ $? = 2 ]
reel model info "$T/none.reelnet" > /dev/null 2> "$T/e6.txt"
check "missing file: exit 2" [ $? = 2 ]

# unreadable: exit 3 (a permission error for other users; as root, a file
# whose read fails with EIO)
if [ "$(id -u)" != 0 ]; then
  cp "$T/m.reelnet" "$T/locked.reelnet" && chmod 000 "$T/locked.reelnet"
  reel model info "$T/locked.reelnet" > /dev/null 2> "$T/e7.txt"
  check "unreadable file: exit 3" [ $? = 3 ]
fi
if [ -e /proc/self/mem ]; then
  reel model info /proc/self/mem > /dev/null 2> "$T/e8.txt"
  check "read error: exit 3" [ $? = 3 ]
  check "read error: says so" contains "$T/e8.txt" "cannot read"
fi

# one bad file among good ones: the good ones are shown, the exit code is 2
reel model info "$T/m.reelnet" "$T/bad.reelnet" "$T/m3.reelnet" > "$T/mix.txt" 2> /dev/null
check "mixed: exit 2" [ $? = 2 ]
check "mixed: both good files shown" [ "$(grep -c 'checksum [0-9a-f]* ok' "$T/mix.txt")" = 2 ]

reel model > /dev/null 2>&1
check "no subcommand: exit 2" [ $? = 2 ]
reel nodes Write > "$T/nodes.txt"
check "reel nodes shows Write's port as any" grep -q "input  img *any" "$T/nodes.txt"
finish
