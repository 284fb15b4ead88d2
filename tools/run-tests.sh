#!/bin/sh
# Runs the whole suite: C unit tests (build/tests/test_*), Lua tests
# (tests/lua/*.lua under LuaJIT), graph tests (tests/graph/*.sh: end-to-end
# renders on real footage) and conformance scripts (tests/conformance/*.py,
# checks against OpenImageIO, OpenCV, numpy...). Each prints
# "N passed, N failed" last; this script adds them up and prints the total.
# REEL_TEST_FILTER=substring runs only matching tests.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export REEL_CACHE="${REEL_TEST_CACHE:-$ROOT/build/test-cache}"
export REEL_ROOT="$ROOT"
export LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/tests/lua/?.lua;;"
export PATH="$ROOT/bin:$PATH"
# unit tests link libreel.a, so the decoder helper is not found beside a
# shared library: name it (bin/reel and LuaJIT find it themselves)
UNIT_ENV="REEL_DECODER=$ROOT/lib/reel/reel-decode"
rm -rf "$REEL_CACHE"
mkdir -p build/test-logs
total_p=0
total_f=0
failed=""

run() { # name, command...
  name=$1
  shift
  case "$name" in *"${REEL_TEST_FILTER:-}"*) ;; *) return 0 ;; esac
  log="build/test-logs/$(echo "$name" | tr '/' '_').log"
  start=$(date +%s.%N)
  "$@" >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
  f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
  [ -n "$p" ] || p=0
  [ -n "$f" ] || f=0
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
  total_p=$((total_p + p))
  total_f=$((total_f + f))
  secs=$(awk "BEGIN{printf \"%.1f\", $end - $start}")
  if [ "$f" != 0 ]; then
    failed="$failed $name"
    printf 'FAIL %-40s %s passed, %s failed (%ss)\n' "$name" "$p" "$f" "$secs"
    sed 's/^/    | /' "$log" | tail -n 40
  else
    printf 'ok   %-40s %s passed (%ss)\n' "$name" "$p" "$secs"
  fi
}

for t in build/tests/test_*; do
  [ -x "$t" ] && run "unit/$(basename "$t")" env "$UNIT_ENV" "$t"
done
for t in tests/lua/test_*.lua; do
  [ -f "$t" ] && run "lua/$(basename "$t")" luajit "$t"
done
for t in tests/graph/test_*.sh; do
  [ -f "$t" ] && run "graph/$(basename "$t")" sh "$t"
done
for t in tests/conformance/test_*.py; do
  [ -f "$t" ] && run "conformance/$(basename "$t")" /usr/bin/python3 "$t"
done

echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$total_p passed, $total_f failed"
[ "$total_f" = 0 ]
