#!/usr/bin/env bash
# CLI behaviour on good and bad input: one-line errors, exit codes, no partial
# output, input never overwritten, stdin/stdout pipes. Run by ctest:
#   bash tests/cli_errors.sh PATH_TO_LWC BUILD_DIR
set -u -o pipefail
LWC=${1:?lwc path}; BUILD=${2:?build dir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_errors.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 7 || { echo "FAIL: cannot make a test model"; exit 1; }
"$BUILD/tests/lwc_test_mkmodel" "$tmp/other.lwcm" 8 || exit 1
export LWC_MODEL=$tmp/m.lwcm

# A 48x40 RGB PPM, a gray PGM and a 16-bit PPM made with printf.
ppm() { # w h maxval channels file
  local w=$1 h=$2 mx=$3 ch=$4 f=$5 magic=P6; [[ $ch = 1 ]] && magic=P5
  local bytes=$(( w * h * ch * (mx > 255 ? 2 : 1) ))
  { printf '%s\n%d %d\n%d\n' "$magic" "$w" "$h" "$mx"; head -c "$bytes" /dev/urandom; } > "$f"
}
ppm 48 40 255 3 "$tmp/rgb.ppm"; ppm 33 17 255 1 "$tmp/gray.pgm"; ppm 20 10 65535 3 "$tmp/deep.ppm"

# expect CODE NAME -- command...: exit code, and exactly one stderr line on failure
expect() {
  local code=$1 name=$2; shift 3
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"; local rc=$?
  [[ $rc = "$code" ]] || { fail "$name: exit $rc, wanted $code ($(head -c 300 "$tmp/err.txt"))"; return; }
  if [[ $code != 0 ]]; then
    local n; n=$(wc -l < "$tmp/err.txt")
    [[ $n = 1 ]] || fail "$name: $n stderr lines, wanted 1: $(cat "$tmp/err.txt")"
    grep -q '^lwc[ :]' "$tmp/err.txt" || fail "$name: message does not start with 'lwc ': $(cat "$tmp/err.txt")"
  fi
  echo "ok: $name"
}

expect 0 "encode ppm" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/rgb.lwc" -q 30
expect 0 "decode png" -- "$LWC" decode "$tmp/rgb.lwc" -o "$tmp/rgb.png"
expect 0 "encode png" -- "$LWC" encode "$tmp/rgb.png" -o "$tmp/rgb2.lwc" --quiet
[[ -s $tmp/out.txt ]] && fail "--quiet printed: $(cat "$tmp/out.txt")"
expect 0 "info" -- "$LWC" info "$tmp/rgb.lwc"
grep -q "48x40" "$tmp/out.txt" || fail "info does not show the size"
expect 0 "gray" -- "$LWC" encode "$tmp/gray.pgm" -o "$tmp/gray.lwc"
expect 0 "gray decode" -- "$LWC" decode "$tmp/gray.lwc" -o "$tmp/gray.png"
grep -q "1 channel" "$tmp/out.txt" || fail "gray did not decode to one channel: $(cat "$tmp/out.txt")"
expect 0 "16-bit" -- "$LWC" encode "$tmp/deep.ppm" -o "$tmp/deep.lwc"
grep -q "8-bit precision" "$tmp/err.txt" || fail "no note for 16-bit input"
expect 0 "pipes" -- bash -c "cat '$tmp/rgb.ppm' | '$LWC' encode - -o - -q 30 --quiet | '$LWC' decode - -o '$tmp/pipe.png' --quiet"
cmp -s "$tmp/pipe.png" "$tmp/rgb.png" || fail "pipe decode differs from file decode"
expect 0 "bpp target" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/t.lwc" --bpp 2

expect 1 "missing input" -- "$LWC" encode "$tmp/nope.png" -o "$tmp/x.lwc"
echo "hello" > "$tmp/text.png"
expect 1 "not an image" -- "$LWC" encode "$tmp/text.png" -o "$tmp/x.lwc"
head -c 300 docs/sample.png > "$tmp/trunc.png"
expect 1 "truncated png" -- "$LWC" encode "$tmp/trunc.png" -o "$tmp/x.lwc"
if command -v cjpeg >/dev/null; then
  cjpeg -quality 80 "$tmp/rgb.ppm" > "$tmp/a.jpg"
  expect 0 "jpeg input" -- "$LWC" encode "$tmp/a.jpg" -o "$tmp/j.lwc"
  head -c 400 "$tmp/a.jpg" > "$tmp/trunc.jpg"
  expect 1 "truncated jpeg" -- "$LWC" encode "$tmp/trunc.jpg" -o "$tmp/x.lwc"
fi
[[ -e $tmp/x.lwc ]] && fail "a failed encode left an output file"
expect 2 "unknown option" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" --frobnicate
expect 2 "bad -q text" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" -q abc
expect 2 "bad -q range" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" -q 101
expect 2 "bad -q negative" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" -q -1
expect 2 "missing -o" -- "$LWC" encode "$tmp/rgb.ppm"
expect 2 "effort 0" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" --effort 0
expect 2 "effort 10" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" -e 10
expect 2 "effort text" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/x.lwc" --effort abc
expect 2 "unknown command" -- "$LWC" frobnicate
expect 2 "train: bad schedule" -- "$LWC" train --data "$tmp" --schedule step
expect 2 "train: cosine without budget" -- "$LWC" train --data "$tmp" --schedule cosine --warmup 10
expect 2 "train: budget without schedule" -- "$LWC" train --data "$tmp" --budget 100
expect 2 "train: floor above peak" -- "$LWC" train --data "$tmp" --schedule cosine --budget 10 --lr 1e-4 --lr-min 1e-3
expect 2 "train: bad val-crops" -- "$LWC" train --data "$tmp" --val-crops 0
expect 2 "train: diagnose without export-only" -- "$LWC" train --data "$tmp" --diagnose
expect 2 "train: grow without resume" -- "$LWC" train --data "$tmp" --grow-analysis 48
expect 2 "train: bad grow width" -- "$LWC" train --data "$tmp" --resume --grow-analysis 0
expect 1 "output dir missing" -- "$LWC" encode "$tmp/rgb.ppm" -o "$tmp/no/such/dir/x.lwc"
cp "$tmp/rgb.ppm" "$tmp/keep.ppm"
expect 2 "output is input" -- "$LWC" encode "$tmp/keep.ppm" -o "$tmp/keep.ppm"
cmp -s "$tmp/keep.ppm" "$tmp/rgb.ppm" || fail "the input was overwritten"

# decoder side
head -c 100 "$tmp/rgb.lwc" > "$tmp/trunc.lwc"
echo "previous" > "$tmp/prev.png"
expect 1 "truncated stream" -- "$LWC" decode "$tmp/trunc.lwc" -o "$tmp/prev.png"
[[ $(cat "$tmp/prev.png") = previous ]] || fail "a failed decode clobbered the existing output"
expect 1 "garbage stream" -- "$LWC" decode "$tmp/text.png" -o "$tmp/y.png"
expect 1 "wrong model" -- "$LWC" decode "$tmp/rgb.lwc" -o "$tmp/y.png" --model "$tmp/other.lwcm"
grep -q "needs model" "$tmp/err.txt" || fail "wrong-model message does not name the model: $(cat "$tmp/err.txt")"
expect 1 "missing model" -- "$LWC" decode "$tmp/rgb.lwc" -o "$tmp/y.png" --model "$tmp/none.lwcm"
expect 1 "bad model file" -- "$LWC" decode "$tmp/rgb.lwc" -o "$tmp/y.png" --model "$tmp/rgb.ppm"
[[ -e $tmp/y.png ]] && fail "a failed decode left an output file"
ls "$tmp" | grep -q tmp && fail "temporary files left behind: $(ls "$tmp")"

# The CLI's threads default to the CPU cores online (the library's stay 1).
cores=$(getconf _NPROCESSORS_ONLN); ((cores > 64)) && cores=64
for cmd in encode decode; do
  "$LWC" $cmd --help | grep -q "default: the CPU cores ($cores here)" || fail "$cmd --help: threads default is not $cores"
done
if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
