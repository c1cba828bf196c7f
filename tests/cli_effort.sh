#!/usr/bin/env bash
# lwc encode --effort: the default effort's stream is unchanged, a searched
# stream is the same for any thread count and decodes to the encoder's
# reconstruction, --bpp is met with a search, nothing reaches stderr when it
# is not a terminal. Shipped model, a 160x96 crop of the sample. Run by ctest:
#   bash tests/cli_effort.sh PATH_TO_LWC BUILD_DIR
set -u -o pipefail
LWC=${1:?lwc path}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_effort.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
export LWC_MODEL=models/lwc-default.lwcm
[[ -f $LWC_MODEL ]] || { echo "no shipped model: skipped"; exit 77; }
ffmpeg -nostdin -v error -y -i docs/sample.png -vf crop=160:96:300:200 "$tmp/c.png" ||
  { echo "FAIL: cannot crop the sample"; exit 1; }

"$LWC" encode "$tmp/c.png" -o "$tmp/plain.lwc" -q 40 --quiet || fail "default encode"
"$LWC" encode "$tmp/c.png" -o "$tmp/e2.lwc" -q 40 -e 2 --quiet || fail "effort 2 encode"
cmp -s "$tmp/plain.lwc" "$tmp/e2.lwc" || fail "-e 2 differs from the default"
"$LWC" encode "$tmp/c.png" -o "$tmp/e1.lwc" -q 40 -e 1 --quiet || fail "effort 1 encode"
"$LWC" encode "$tmp/c.png" -o "$tmp/pr.lwc" -q 40 --plain-rounding --quiet || fail "plain rounding encode"
cmp -s "$tmp/e1.lwc" "$tmp/pr.lwc" || fail "-e 1 is not --plain-rounding"

"$LWC" encode "$tmp/c.png" -o "$tmp/s1.lwc" -q 40 -e 3 --threads 1 > "$tmp/out1.txt" 2> "$tmp/err1.txt" ||
  fail "effort 3 encode: $(cat "$tmp/err1.txt")"
[[ -s $tmp/err1.txt ]] && fail "effort 3 wrote to a stderr that is not a terminal: $(cat "$tmp/err1.txt")"
grep -q "PSNR" "$tmp/out1.txt" || fail "no summary line: $(cat "$tmp/out1.txt")"
"$LWC" encode "$tmp/c.png" -o "$tmp/s2.lwc" -q 40 -e 3 --threads 2 --quiet || fail "effort 3, 2 threads"
cmp -s "$tmp/s1.lwc" "$tmp/s2.lwc" || fail "effort 3 stream depends on the thread count"
"$LWC" decode "$tmp/s1.lwc" -o "$tmp/s1.png" --quiet || fail "decoding the searched stream"
"$LWC" compare "$tmp/c.png" "$tmp/s1.png" > "$tmp/cmp.txt" || fail "compare"

"$LWC" encode "$tmp/c.png" -o "$tmp/b.lwc" --bpp 0.6 -e 3 > "$tmp/b.txt" || fail "--bpp with effort 3"
bpp=$(sed -n 's/.* \([0-9.]*\) bpp.*/\1/p' "$tmp/b.txt")
awk -v b="$bpp" 'BEGIN { exit !(b > 0.6 * 0.95 && b < 0.6 * 1.05) }' || fail "--bpp 0.6 -e 3 gave $bpp bpp"

if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
