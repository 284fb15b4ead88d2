#!/bin/sh
# Runs every benchmark in bench/ (bench_*.sh with sh, bench_*.py with
# Debian's python3). Each times Reel against a peer (OpenCV, oiiotool,
# PyTorch) in the same run and prints ratios; see docs/performance.md.
# BENCH_FILTER=substring runs only matching benchmarks.
set -u
cd "$(dirname "$0")/.."
export PATH="$(pwd)/bin:$PATH"
rc=0
for b in bench/bench_*.sh bench/bench_*.py; do
  [ -f "$b" ] || continue
  case "$b" in *"${BENCH_FILTER:-}"*) ;; *) continue ;; esac
  echo "== $b"
  case "$b" in
  *.sh) sh "$b" || rc=1 ;;
  *.py) /usr/bin/python3 "$b" || rc=1 ;;
  esac
done
exit $rc
