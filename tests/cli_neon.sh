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
#   bash tests/cli_neon.sh [LWC_PATH] [BUILD_DIR]      (both unused)
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
