#!/usr/bin/env bash
# The library's folders stand in floors (docs/architecture.md): no include or
# call from a lower floor to a higher one, none between two folders of one
# floor, no loops. tools/check-floors checks the tree and BUILD_DIR's
# objects; then it must catch violations planted in a scratch copy.
# Run by ctest: bash tests/cli_floors.sh LWC_PATH BUILD_DIR
set -u -o pipefail
BUILD=${2:?build dir}
SRC=$(cd "$(dirname "$0")/.." && pwd)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

bash "$SRC/tools/check-floors" "$BUILD" || fail "the tree breaks the floors (above)"

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/tools"
cp "$SRC/tools/check-floors" "$T/tools/"
cp -r "$SRC/include" "$SRC/common" "$SRC/entropy" "$SRC/transforms" "$SRC/codec" "$SRC/learn" "$SRC/encoder" "$SRC/imageio" "$T/"
bash "$T/tools/check-floors" > /dev/null || fail "the scratch copy should pass before anything is planted"

expect_fail() { # what, then the pattern the report must contain
  local out
  if out=$(bash "$T/tools/check-floors" "${3:-}" 2>&1); then fail "missed: $1"
  elif ! grep -q "$2" <<< "$out"; then fail "$1: report lacks '$2': $out"
  else echo "ok: catches $1"; fi
}
cp "$T/entropy/rans.c" "$T/rans.c.orig"
echo '#include "codec/model.h"' >> "$T/entropy/rans.c"
expect_fail "an upward include" "include upward or sideways: entropy/rans.c -> codec/model.h"
cp "$T/rans.c.orig" "$T/entropy/rans.c"
echo '#include "transforms/wpt.h"' >> "$T/entropy/rans.c"
expect_fail "a sideways include" "include upward or sideways: entropy/rans.c -> transforms/wpt.h"
cp "$T/rans.c.orig" "$T/entropy/rans.c"
printf '#include "b.h"\n' > "$T/codec/a.h"; printf '#include "a.h"\n' > "$T/codec/b.h"
expect_fail "an include loop" "includes form a loop"
rm "$T/codec/a.h" "$T/codec/b.h"

# calls, from objects: codec/x.c <-> codec/y.c in a loop, and entropy/u.c
# calling up into codec/x.c
O=$T/build/CMakeFiles/lwcdec.dir
mkdir -p "$O/codec" "$O/entropy"
echo 'int lwc_y(int); int lwc_x(int v) { return v ? lwc_y(v - 1) : 0; }' > "$T/x.c"
echo 'int lwc_x(int); int lwc_y(int v) { return lwc_x(v); }' > "$T/y.c"
echo 'int lwc_x(int); int lwc_u(int v) { return lwc_x(v); }' > "$T/u.c"
cc -c "$T/x.c" -o "$O/codec/x.c.o" && cc -c "$T/y.c" -o "$O/codec/y.c.o" && cc -c "$T/u.c" -o "$O/entropy/u.c.o" ||
  fail "cannot compile the planted objects"
expect_fail "an upward call" "call (lwc_x) upward or sideways: entropy/u.c -> codec/x.c" "$T/build"
expect_fail "a call loop" "files call each other in a loop" "$T/build"

(( fails == 0 )) || { echo "$fails failure(s)"; exit 1; }
echo "floors: all checks passed"
