#!/bin/sh
# The learning proof: Train and Infer (chroma mode) restore the colour of
# faded footage better than the faded frames and than a per-channel
# gain/offset fit. tools/fade-sim fades vtest frames 1-60 into
# build/test-data/learn/faded (once per tool version and seed);
# tests/graph/learn.lua trains on four frames spread over the clip (patch 64,
# batch 3, 1000 steps of the small network) and infers four held-out frames;
# tests/graph/learn_metrics.py measures chroma PSNR on the held-out frames
# and asserts ML >= faded + 3 dB, ML >= gain/offset + 2 dB, the ML's Y' equal
# to the source's bit for bit, a falling loss and a contact sheet. Budget:
# training well under a minute on two CPU cores (a ~30k-parameter network is
# about 0.5 GFLOP per step of 3 x 64 x 64 pixels). docs/fading.md has the
# figures.
. tests/graph/lib.sh
D=build/test-data/learn
SEED=7
RANGE=1-60
export LEARN_DIR="$D"
export LEARN_TRAIN="1,21,40,60"
export LEARN_HELD="8,14,30,50" # neither training frames nor next to one
export LEARN_STEPS=${LEARN_STEPS:-1000}
T=$(mktemp -d /tmp/reel-learn.XXXXXX)
trap 'rm -rf "$T"' EXIT

if [ ! -f data/vtest/vtest.0060.png ]; then
  echo "test_learn: data/vtest is missing: run tools/fetch-footage.sh" >&2
  check "vtest footage present" false
  finish
  exit
fi

# (a) the faded source, made again only when the tool, its seed or the range change
stamp="$(tools/fade-sim --version) $(sha256sum tools/fade-sim | cut -c1-16) seed $SEED range $RANGE"
if [ "$(cat "$D/faded/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$D/faded"
  start=$(date +%s)
  if tools/fade-sim data/vtest/vtest.####.png "$D/faded/faded.####.exr" --range $RANGE --seed $SEED; then
    echo "$stamp" > "$D/faded/.stamp"
    echo "faded frames $RANGE in $(($(date +%s) - start)) s" >&2
  fi
else
  echo "faded frames $RANGE already made ($stamp)" >&2
fi
check "fade-sim made the faded source" [ -f "$D/faded/.stamp" ]

# (b) train and infer
if ! reel nodes Train > /dev/null 2>&1 || ! reel nodes Infer > /dev/null 2>&1; then
  echo "test_learn: this build has no Train or Infer node (reel nodes lists the nodes);" \
    "the learning proof needs both and cannot run" >&2
  check "Train and Infer nodes exist" false
  finish
  exit
fi
rm -rf "$D/out" "$D/run"
start=$(date +%s)
reel render tests/graph/learn.lua --cache "$T/cache" > "$T/render.txt" 2>&1
rc=$?
secs=$(($(date +%s) - start))
tail -n 5 "$T/render.txt" >&2
echo "train ($LEARN_STEPS steps) and infer (4 frames) in $secs s" >&2
check "learn.lua renders" [ $rc = 0 ]
if [ $rc != 0 ]; then
  finish
  exit
fi

# (c) the figures and the assertions
/usr/bin/python3 tests/graph/learn_metrics.py --dir "$D" --train "$LEARN_TRAIN" \
  --held "$LEARN_HELD" > "$T/metrics.txt" 2>&1
cat "$T/metrics.txt"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T/metrics.txt" | tail -n 1)
p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
check "learn_metrics.py ran to the end" [ -n "$line" ]
PASS=$((PASS + ${p:-0}))
FAIL=$((FAIL + ${f:-0}))
finish
