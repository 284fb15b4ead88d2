#!/bin/sh
# Makes the restoration demo's footage from opencv-doc's vtest.avi frames
# (tools/fetch-footage.sh): a faded source (tools/fade-sim: cyan dye faded,
# a yellow-brown stain, grain, flicker) and a degraded reference of the same
# shot (tools/make-reference: starts 2 frames earlier, slightly misaligned,
# stored small and re-upscaled, JPEG-compressed, regraded, letterboxed, with
# burned-in subtitles on frames 300-360 and 600-640), and the truth the demo
# measures against: the clean frames with only the reference's grade (what
# the reference would show without its damage, aligned). The print is faded
# twice as hard as fade-sim's documented default (--strength 2): so much
# colour is lost that a global LUT cannot bring it back from the grain.
# Made once; remade when a tool's version or the range changes.
set -eu
cd "$(dirname "$0")/.."
D=data/demo
RANGE=${REEL_DEMO_RANGE:-1-795}
stamp="fade-sim $(sed -n 's/^VERSION = "\(.*\)".*/\1/p' tools/fade-sim) make-reference $(sed -n 's/^VERSION = "\(.*\)".*/\1/p' tools/make-reference) range $RANGE strength 2"
if [ -f "$D/stamp" ] && [ "$(cat "$D/stamp")" = "$stamp" ]; then
  exit 0
fi
rm -rf "$D"
mkdir -p "$D"
echo "demo data: fading the source ($RANGE)"
tools/fade-sim data/vtest/vtest.####.png "$D/faded.####.png" --range "$RANGE" --seed 7 --strength 2 --jobs 2
echo "demo data: making the degraded reference"
tools/make-reference data/vtest/vtest.####.png "$D/ref.####.png" --range "$RANGE" --seed 11 \
  --subtitles "300-360:Where were you last night?;600-640:I waited for hours." \
  --truth-json "$D/ref.json" --jobs 2
echo "demo data: the truth (the reference's grade on the clean frames)"
tools/make-reference data/vtest/vtest.####.png "$D/graded.####.png" --range "$RANGE" --seed 11 \
  --skip offset,geometry,dirt,letterbox,subtitles,resolution,noise,jpeg --jobs 2
echo "$stamp" > "$D/stamp"
