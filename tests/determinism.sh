#!/usr/bin/env bash
# Cross-build determinism (docs/bitstream.md): build lwc three ways
#   A: gcc -O3 -march=native with OpenBLAS
#   B: clang -O0 with OpenBLAS
#   C: gcc -O2 without BLAS (the reference C float path)
# encode a set of images with every build (1 and 2 threads, two
# OPENBLAS_CORETYPE values), require byte-identical streams everywhere, then
# decode every stream with every build and require a clean decode and pixels
# within 1 code value of each other (float synthesis), identical within a build.
# Searched streams (-e 3) must be identical across thread counts within a build
# and decode with every build. With a model that has an integer synthesis
# (model version 4) the pixels must be identical everywhere: every build,
# thread count and kernel set (LWC_CPU_MASK 0: C, 1: SSE2, 3: SSE4.1, 7: AVX2,
# ffffffff: all the CPU has), compared by MD5.
#   bash tests/determinism.sh PATH_TO_LWC BUILD_DIR     (ctest passes these)
# Builds are cached under BUILD_DIR/determinism/.
set -u -o pipefail
BUILD=${2:?build dir}
SRC=$(cd "$(dirname "$0")/.." && pwd)
D=$BUILD/determinism
mkdir -p "$D"
command -v clang >/dev/null || { echo "SKIP: clang not installed"; exit 0; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

build() { # name cc flags blas
  local dir=$D/$1
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    CC=$2 cmake -S "$SRC" -B "$dir" -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$3" -DLWC_WITH_BLAS="$4" \
      -DLWC_BUILD_TESTS=OFF >"$dir.log" 2>&1 || { fail "configure $1 (see $dir.log)"; return; }
  fi
  cmake --build "$dir" -j2 --target lwc >>"$dir.log" 2>&1 || fail "build $1 (see $dir.log)"
}
build A gcc "-O3 -march=native" ON
build B clang "-O0" ON
build C gcc "-O2" OFF
[[ $fails = 0 ]] || { echo "0 passed, 1 failed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwc_det.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 5 32,16,32,32,4,16,32,32,2,4 || exit 1
export LWC_MODEL=$tmp/m.lwcm
# inputs: the sample, a noisy RGB PPM with odd size, a gray PGM
{ printf 'P6\n77 51\n255\n'; head -c $((77 * 51 * 3)) /dev/urandom; } >"$tmp/noise.ppm"
{ printf 'P5\n40 33\n255\n'; head -c $((40 * 33)) /dev/urandom; } >"$tmp/gray.pgm"
inputs=("$SRC/docs/sample.png" "$tmp/noise.ppm" "$tmp/gray.pgm")

# decode_everywhere STREAM TAG WHAT: every build decodes STREAM cleanly, and
# builds B and C land within 1 code value of A.
decode_everywhere() {
  local b diff
  for b in A B C; do
    "$D/$b/lwc" decode "$1" -o "$tmp/d$2$b.ppm" --quiet || fail "decode $3 with $b"
  done
  for b in B C; do
    diff=$("$D/A/lwc" compare "$tmp/d$2A.ppm" "$tmp/d$2$b.ppm" --csv | tail -1 | cut -d, -f5)
    [[ ${diff%.*} -le 1 ]] || fail "$3: builds A and $b decode $diff code values apart"
  done
}

cells=0
for i in "${!inputs[@]}"; do
  ref=""
  for b in A B C; do
    for th in 1 2; do
      for core in Haswell Prescott; do
        out=$tmp/s$i$b$th$core.lwc
        OPENBLAS_CORETYPE=$core "$D/$b/lwc" encode "${inputs[$i]}" -o "$out" -q 45 --threads $th --quiet ||
          { fail "encode $i with $b threads=$th core=$core"; continue; }
        cells=$((cells + 1))
        [[ -z $ref ]] && ref=$out
        cmp -s "$ref" "$out" || fail "stream differs: input $i build $b threads $th core $core"
      done
    done
  done
  decode_everywhere "$ref" "$i" "input $i"
done
# Searched streams (--effort above the default) run the float model, so they
# may differ between builds; they must not differ between thread counts of
# one build, and every build must decode every build's stream cleanly, to
# pixels within 1 code value of each other.
same_across=yes
for b in A B C; do
  for th in 1 2; do
    "$D/$b/lwc" encode "$tmp/noise.ppm" -o "$tmp/e$b$th.lwc" -q 45 -e 3 --threads $th --quiet ||
      fail "effort 3 encode with $b threads=$th"
  done
  cmp -s "$tmp/e${b}1.lwc" "$tmp/e${b}2.lwc" || fail "effort 3 stream of build $b depends on the thread count"
  cmp -s "$tmp/eA1.lwc" "$tmp/e${b}1.lwc" || same_across=no
  decode_everywhere "$tmp/e${b}1.lwc" "e$b" "build $b's effort 3 stream"
done
echo "effort 3: streams identical across thread counts; across builds: $same_across (allowed to differ)"
# Integer synthesis: identical pixels, not within one code value.
"$BUILD/tests/lwc_test_mkmodel" "$tmp/mi.lwcm" 5 32,16,32,32,4,16,32,32,2,4 int || exit 1
exact_cells=0
for i in "${!inputs[@]}"; do
  LWC_MODEL=$tmp/mi.lwcm "$D/A/lwc" encode "${inputs[$i]}" -o "$tmp/i$i.lwc" -q 45 --quiet || { fail "int-synthesis encode $i"; continue; }
  want=""
  for b in A B C; do
    for th in 1 2; do
      for mask in 0 1 3 7 ffffffff; do
        LWC_MODEL=$tmp/mi.lwcm LWC_CPU_MASK=$mask "$D/$b/lwc" decode "$tmp/i$i.lwc" -o "$tmp/di.ppm" --threads $th --quiet ||
          { fail "int-synthesis decode $i with $b threads=$th mask=$mask"; continue; }
        got=$(md5sum <"$tmp/di.ppm" | cut -d' ' -f1)
        [[ -z $want ]] && want=$got
        [[ $got == "$want" ]] || fail "int synthesis: input $i decodes to other pixels with $b threads=$th mask=$mask"
        exact_cells=$((exact_cells + 1))
      done
    done
  done
  echo "integer synthesis, input $i: pixels md5 $want in all $exact_cells decodes so far"
done
echo "determinism matrix: $cells encodes (3 inputs x 3 builds x 2 thread counts x 2 core types), all streams identical: $([[ $fails = 0 ]] && echo yes || echo NO)"
if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
