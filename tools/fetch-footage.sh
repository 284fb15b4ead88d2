#!/bin/sh
# Extracts the real footage the demo and the tests use from Debian packages
# into data/ (git-ignored). Nothing is downloaded from anywhere else.
#   data/vtest/vtest.####.png  795 frames, 768x576 RGB, from opencv-doc's
#                              vtest.avi (a pedestrian street scene, BSD-3)
# python3-skimage's photos are used where they are installed.
set -eu
cd "$(dirname "$0")/.."
AVI=/usr/share/doc/opencv-doc/examples/data/vtest.avi
OUT=data/vtest
N=${REEL_FOOTAGE_FRAMES:-795}
if [ -f "$OUT/.done-$N" ]; then exit 0; fi
if [ ! -r "$AVI" ]; then
  echo "footage: $AVI is missing: apt-get install opencv-doc (or run make deps)" >&2
  exit 1
fi
mkdir -p "$OUT"
echo "footage: extracting $N frames of vtest.avi into $OUT (once)"
/usr/bin/python3 - "$AVI" "$OUT" "$N" <<'PY'
import os, sys
import OpenImageIO as oiio
avi, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
inp = oiio.ImageInput.open(avi)
if inp is None:
    sys.exit("footage: cannot open %s: %s" % (avi, oiio.geterror()))
spec = inp.spec()
for i in range(n):
    if not inp.seek_subimage(i, 0):
        break
    px = inp.read_image(i, 0, 0, 3, "uint8")  # (subimage, miplevel, chbegin, chend)
    if px is None:
        sys.exit("footage: cannot decode frame %d: %s" % (i + 1, inp.geterror()))
    path = "%s/vtest.%04d.png" % (out, i + 1)
    tmp = path + ".tmp.png"
    o = oiio.ImageOutput.create(tmp)
    o.open(tmp, oiio.ImageSpec(spec.width, spec.height, 3, "uint8"))
    o.write_image(px)
    o.close()
    os.replace(tmp, path)
inp.close()
PY
touch "$OUT/.done-$N"
