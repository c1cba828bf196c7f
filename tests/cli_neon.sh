#!/usr/bin/env bash
# NEON kernels of transforms/wpt.c and entropy/intconv.c vs the C reference,
# bit for bit, on AArch64 under user-mode emulation (and entropy/intwino.c's
# exact Winograd, the C set there, vs the NEON direct convolution). Cross-compiles
# tests/neon/neon_kernels.c with those two files (and wpt_enc.c),
# common/alloc.c and common/cpu.c only (no Check, libpng, libjpeg or
# OpenBLAS for arm64), with the main build's
# defines and warnings (CMakeLists.txt) as errors, at -O2 and at -O3 -DNDEBUG
# (the Release flags); checks that wpt.o holds no fused multiply-add (the
# kernels and the C reference must round after every multiply); runs each
# build under qemu-aarch64. The driver fails unless the NEON sets are the ones
# selected. Run by ctest (label "slow", so only the plain pass of `make test`
# runs it; about 40 s on two busy cores):
# Then the whole decoder (every decode-only source, no BLAS, and
# tools/decode_only.c) is cross-built and must decode the integer-synthesis
# streams (tests/golden/is-*, and one made here with the shipped model) to
# the same pixels as this machine's lwc_decode_only: conformance on AArch64.
#   bash tests/cli_neon.sh [LWC_PATH] [BUILD_DIR]
# Environment: CROSS_CC (default aarch64-linux-gnu-gcc), QEMU_AARCH64
# (default qemu-aarch64), NEON_SHAPES (random shapes per area, default 200).
# Skips (77) when the cross toolchain or qemu is missing or cannot build and
# run a static program (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross
# qemu-user; `make deps-test` installs them).
set -u -o pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
CROSS_CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU_AARCH64:-qemu-aarch64}
OBJDUMP=${CROSS_CC%gcc}objdump
for tool in "$CROSS_CC" "$OBJDUMP" "$QEMU"; do
  if ! command -v "$tool" > /dev/null 2>&1; then
    echo "skipped: $tool not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"
    exit 77
  fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_neon.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
echo 'int main(void) { return 0; }' > "$tmp/p.c"
if ! "$CROSS_CC" -static "$tmp/p.c" -o "$tmp/p" 2> "$tmp/err" || ! "$QEMU" "$tmp/p" 2>> "$tmp/err"; then
  echo "skipped: $CROSS_CC + $QEMU cannot build and run a static program: $(head -c 300 "$tmp/err")"
  exit 77
fi

CFLAGS=(-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow -Wstrict-prototypes
        -Wmissing-prototypes -Wno-unused-parameter -ffp-contract=off -Werror
        -I"$SRC/include" -I"$SRC")
SOURCES=(tests/neon/neon_kernels.c transforms/wpt.c transforms/wpt_enc.c entropy/intconv.c entropy/intwino.c
         common/alloc.c common/cpu.c)
# FMADD/FMSUB/FNMADD/FNMSUB (scalar), FMLA/FMLS (vector), by element too.
FUSED='[[:space:]](fmla|fmls|fmadd|fmsub|fnmadd|fnmsub)[[:space:]]'
fail=0
for opt in "-O2" "-O3 -DNDEBUG"; do
  dir="$tmp/${opt%% *}"
  mkdir -p "$dir"
  objs=()
  for src in "${SOURCES[@]}"; do
    obj="$dir/$(basename "$src" .c).o"
    # shellcheck disable=SC2086 # $opt is two flags
    if ! "$CROSS_CC" "${CFLAGS[@]}" $opt -c "$SRC/$src" -o "$obj" 2> "$dir/cc.log"; then
      cat "$dir/cc.log"
      echo "FAIL: $CROSS_CC $opt $src"
      exit 1
    fi
    objs+=("$obj")
  done
  "$CROSS_CC" -static "${objs[@]}" -o "$dir/neon_kernels" || { echo "FAIL: link ($opt)"; exit 1; }
  if "$OBJDUMP" -d "$dir/wpt.o" | grep -E "$FUSED" > "$dir/fused.txt"; then
    echo "FAIL ($opt): fused multiply-add in transforms/wpt.c (breaks bit-exactness):"
    head -5 "$dir/fused.txt"
    fail=1
  fi
  echo "== aarch64 $opt: $QEMU neon_kernels ${NEON_SHAPES:-200}"
  "$QEMU" "$dir/neon_kernels" "${NEON_SHAPES:-200}" 2>&1 || { echo "FAIL: neon_kernels ($opt)"; fail=1; }
done
if (( fail )); then exit 1; fi
echo "ok: NEON kernels bit-exact with the C reference at -O2 and -O3 (aarch64, qemu-user)"

# The whole decoder on AArch64: identical pixels for integer-synthesis models.
LWC=${1:-}
NATIVE=${2:-}/lwc_decode_only
if [[ -z $LWC || ! -x $LWC || ! -x $NATIVE ]]; then
  echo "whole-decoder check skipped: needs LWC_PATH and BUILD_DIR/lwc_decode_only"
  exit 0
fi
dir="$tmp/dec"
mkdir -p "$dir"
objs=()
cd "$SRC" || exit 1
for src in common/*.c entropy/*.c transforms/*.c codec/*.c tools/decode_only.c; do
  [[ $src == *_enc.c ]] && continue
  obj="$dir/$(echo "$src" | tr / _).o"
  "$CROSS_CC" "${CFLAGS[@]}" -O2 -c "$SRC/$src" -o "$obj" 2> "$dir/cc.log" || { cat "$dir/cc.log"; echo "FAIL: $CROSS_CC $src"; exit 1; }
  objs+=("$obj")
done
"$CROSS_CC" -static "${objs[@]}" -o "$dir/lwc_decode_only" -lm -pthread || { echo "FAIL: link the AArch64 decoder"; exit 1; }
# one stream of the shipped model (an integer synthesis) on a 96x64 test card
python3 - "$dir/card.ppm" <<'PY' || exit 1
import math, sys
w, h = 96, 64
px = bytes(max(0, min(255, int(128 + 80 * math.sin(0.1 * x + 0.07 * y + c) + 17 * math.sin(1.3 * x * y + c)))) for y in range(h) for x in range(w) for c in range(3))
open(sys.argv[1], 'wb').write(b'P6\n%d %d\n255\n' % (w, h) + px)
PY
"$LWC" encode "$dir/card.ppm" -o "$dir/card.lwc" -q 70 --model models/lwc-default.lwcm --quiet || { echo "FAIL: encode the card"; exit 1; }
checks=0
check() { # model stream
  "$NATIVE" "$1" "$2" "$dir/native.pnm" || { echo "FAIL: native decode of $2"; fail=1; return; }
  "$QEMU" "$dir/lwc_decode_only" "$1" "$2" "$dir/arm.pnm" || { echo "FAIL: AArch64 decode of $2"; fail=1; return; }
  cmp -s "$dir/native.pnm" "$dir/arm.pnm" || { echo "FAIL: $2 decodes to other pixels on AArch64"; fail=1; }
  checks=$((checks + 1))
}
for s in tests/golden/is-*.lwc; do check tests/golden/tiny-is.lwcm "$s"; done
grep -q "synthesis: integer" <("$LWC" info --model models/lwc-default.lwcm) && check models/lwc-default.lwcm "$dir/card.lwc"
if (( fail )); then exit 1; fi
echo "ok: $checks integer-synthesis streams decode to the same pixels on AArch64 (qemu) as here"
