# Shell test helper: check NAME CMD... records pass/fail; finish prints
# "N passed, N failed". Tests run from the repository root with bin/ on PATH.
PASS=0
FAIL=0
check() {
  name=$1
  shift
  if "$@"; then
    PASS=$((PASS + 1))
    echo "ok $name" >&2
  else
    FAIL=$((FAIL + 1))
    echo "not ok $name" >&2
  fi
}
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]
}
# last_stat FILE KEY: a number from a --stats-json file
stat_of() { sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" "$1" | head -n 1; }
contains() { grep -q -- "$2" "$1"; }
