#!/bin/sh
# Reads of a 4096x3112 half RGBA EXR (none, ZIP, DWAA) and a 10-bit DPX made
# from a photo, then writes of that EXR (none, ZIP, PIZ, DWAA): Reel against
# OpenImageIO in process (bench_io.c) and oiiotool in the same run; and
# Reel's ZIP levels, time against size (the photo, and with film grain).
# Prints medians and ratios. Usage: bench/bench_io.sh [runs] (inputs in $BENCH_DIR)
set -eu
cd "$(dirname "$0")/.."
N=${1:-5}
DIR=${BENCH_DIR:-/tmp/reel-bench-io}
SRC=/usr/lib/python3/dist-packages/skimage/data/astronaut.png
mkdir -p "$DIR"
[ -f "$SRC" ] || { echo "bench_io: $SRC missing (apt-get install python3-skimage)"; exit 1; }

# inputs, each made once
[ -f "$DIR/none.exr" ] || oiiotool "$SRC" --ch R,G,B,A=1.0 --resize 4096x3112 -d half \
  --compression none -o "$DIR/none.exr" 2>/dev/null
[ -f "$DIR/zip.exr" ] || oiiotool "$DIR/none.exr" --compression zip -o "$DIR/zip.exr"
[ -f "$DIR/dwaa.exr" ] || oiiotool "$DIR/none.exr" --compression dwaa -o "$DIR/dwaa.exr"
[ -f "$DIR/rgb10.dpx" ] || oiiotool "$DIR/none.exr" --ch R,G,B -d uint10 -o "$DIR/rgb10.dpx"
# the photo with film-like grain: harder to compress
[ -f "$DIR/grain.exr" ] || oiiotool "$DIR/none.exr" --noise:type=gaussian:mean=0:stddev=0.02 \
  -d half --compression none -o "$DIR/grain.exr"

# the driver links only the I/O files, so it builds while the tree is in flux
cc -std=gnu11 -O2 -Iengine -c bench/bench_io.c -o "$DIR/bench_io.o"
c++ -std=c++17 -O2 -Iengine -c engine/io_oiio.cpp -o "$DIR/io_oiio.o"
cc -std=gnu11 -O2 -Iengine "$DIR/bench_io.o" engine/imageio.c engine/io_check.c engine/io_exr.c \
  engine/io_exr_write.c engine/io_sandbox.c engine/io_helper.c engine/io_decode.c \
  engine/io_select.c engine/meta.c engine/buf.c engine/error.c engine/pool.c "$DIR/io_oiio.o" \
  $(pkg-config --cflags --libs OpenImageIO OpenEXR) -lstdc++ -lpthread -lm -ldl -o "$DIR/bench_io"
# the decoder helper of this tree (the driver links no shared libreel to find it beside)
[ -x lib/reel/reel-decode ] || { echo "bench_io: build first (make)"; exit 1; }
export REEL_DECODER="$(pwd)/lib/reel/reel-decode"

ms() { # median wall ms of N runs of a command
  i=0
  while [ $i -lt "$N" ]; do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
    i=$((i + 1))
  done | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

start=$(ms oiiotool --echo x)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (timings are medians of $N)"
printf '%-10s %9s %12s %9s %9s %9s %16s\n' file reel_ms oiio_inproc oiiotool "x inproc" "x tool" \
  "min reel/oiio"
for f in none.exr zip.exr dwaa.exr rgb10.dpx; do
  set -- $("$DIR/bench_io" -n "$N" "$DIR/$f")
  tool=$(ms oiiotool "$DIR/$f" -o "$DIR/out.null")
  awk -v f="$f" -v r="$3" -v o="$5" -v t="$tool" -v rm="$7" -v om="$8" 'BEGIN {
    printf "%-10s %9.1f %12.1f %9.0f %8.1fx %8.1fx %8.1f/%.1f\n",
      f, r, o, t, o / r, t / r, rm, om }'
done
echo "(oiiotool startup alone: ${start} ms; x: how many times faster Reel is)"
echo "out-of-process fixed cost (reel_io_probe of the DPX: request to the decoder helper, OpenImageIO open, answer):"
"$DIR/bench_io" -n 1 --probe "$DIR/rgb10.dpx" | sed 's/$/  (first call: starts the helper)/'
"$DIR/bench_io" -n "$N" --probe "$DIR/rgb10.dpx"
"$DIR/bench_io" -n "$N" --probe --rss 4096 "$DIR/rgb10.dpx" | sed 's/$/  (process grown by 4 GiB)/'
REEL_BENCH_MALLOC=1 "$DIR/bench_io" -n "$N" --probe --rss 4096 "$DIR/rgb10.dpx" |
  sed 's/$/  (grown by 4 GiB of 4 KiB pages: the worst case)/'

echo
echo "EXR writes of none.exr (4096x3112 half RGBA; Reel: OpenEXRCore on 2 threads, DWAA through"
echo "OpenImageIO; oiiotool: its whole run minus the same run with a null output)"
printf '%-6s %9s %12s %14s %9s %9s %16s\n' comp reel_ms oiio_inproc oiiotool_write "x inproc" \
  "x tool" "MB reel/oiio"
for c in none zip piz dwaa; do
  set -- $("$DIR/bench_io" -n "$N" --write $c "$DIR/none.exr" "$DIR/w_$c.exr")
  tool=$(ms oiiotool "$DIR/none.exr" --compression $c -o "$DIR/t_$c.exr")
  rd=$(ms oiiotool "$DIR/none.exr" -o "$DIR/out.null")
  awk -v c="$c" -v r="$5" -v o="$7" -v t="$tool" -v rd="$rd" -v rb="$9" -v ob="${11}" 'BEGIN {
    w = t - rd; if (w < 1) w = 1
    printf "%-6s %9.1f %12.1f %14.0f %8.2fx %8.2fx %7.1f/%.1f\n", c, r, o, w, o / r, w / r,
      rb / 1048576, ob / 1048576 }'
done
echo "(oiiotool_write: its run minus a run with a null output, measured next to it; x: how many"
echo "times faster Reel is)"
echo
echo "ZIP level (Reel's writer): time and size"
printf '%-6s %6s %9s %9s\n' input level ms MB
for f in none grain; do
  for l in 1 4 6; do
    set -- $("$DIR/bench_io" -n "$N" --write zip --level $l --reel-only "$DIR/$f.exr" "$DIR/w_l.exr")
    awk -v f="$f" -v l="$l" -v r="$5" -v b="$9" 'BEGIN {
      printf "%-6s %6d %9.1f %9.2f\n", f, l, r, b / 1048576 }'
  done
done
