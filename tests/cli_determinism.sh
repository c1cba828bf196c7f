#!/usr/bin/env bash
# The entropy path is integer, so the coded bytes must not depend on the
# float kernels: encode under OpenBLAS core types, thread counts and the
# reference path, and require identical streams; then decode every stream
# with the decoder-only program and the CLI and require identical pixels.
#   bash tests/cli_determinism.sh PATH_TO_LWC BUILD_DIR
set -u -o pipefail
LWC=${1:?lwc path}; BUILD=${2:?build dir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_det.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 11 32,16,32,32,4,16,32,32,2,4 || exit 1
export LWC_MODEL=$tmp/m.lwcm
fails=0
n=0
for core in "" Prescott Haswell SkylakeX; do
  for th in 1 2 4; do
    for ref in "" --reference; do
      out=$tmp/s$n.lwc
      OPENBLAS_CORETYPE=$core "$LWC" encode docs/sample.png -o "$out" -q 40 --threads $th $ref --quiet || { echo "FAIL: encode core=$core threads=$th $ref"; fails=$((fails+1)); }
      cmp -s "$out" "$tmp/s0.lwc" || { echo "FAIL: stream differs: core=$core threads=$th $ref"; fails=$((fails+1)); }
      n=$((n+1))
    done
  done
done
echo "ok: $n encodes compared"
# --plain-rounding: the same under every thread count, and more bytes than
# the default rate-distortion choice
"$LWC" encode docs/sample.png -o "$tmp/p1.lwc" -q 40 --plain-rounding --quiet || fails=$((fails+1))
"$LWC" encode docs/sample.png -o "$tmp/p2.lwc" -q 40 --plain-rounding --threads 2 --quiet || fails=$((fails+1))
cmp -s "$tmp/p1.lwc" "$tmp/p2.lwc" || { echo "FAIL: --plain-rounding stream differs with 2 threads"; fails=$((fails+1)); }
(( $(stat -c %s "$tmp/p1.lwc") > $(stat -c %s "$tmp/s0.lwc") )) || { echo "FAIL: --plain-rounding is not larger"; fails=$((fails+1)); }
"$LWC" decode "$tmp/p1.lwc" -o "$tmp/p1.ppm" --quiet || fails=$((fails+1))
"$BUILD/lwc_decode_only" "$LWC_MODEL" "$tmp/s0.lwc" "$tmp/a.ppm" || fails=$((fails+1))
"$LWC" decode "$tmp/s0.lwc" -o "$tmp/b.ppm" --quiet || fails=$((fails+1))
"$LWC" compare "$tmp/a.ppm" "$tmp/b.ppm" --csv | tail -1 | awk -F, '{ if ($5 != 0) { print "FAIL: decoder-only program and CLI differ by " $5; exit 1 } }' || fails=$((fails+1))
"$LWC" decode "$tmp/s0.lwc" -o "$tmp/c.ppm" --reference --quiet || fails=$((fails+1))
# BLAS vs reference synthesis may differ by float rounding: at most 1 code value
"$LWC" compare "$tmp/b.ppm" "$tmp/c.ppm" --csv | tail -1 | awk -F, '{ if ($5 > 1) { print "FAIL: BLAS and reference decodes differ by " $5; exit 1 } }' || fails=$((fails+1))
if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
