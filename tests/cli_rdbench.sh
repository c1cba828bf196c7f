#!/usr/bin/env bash
# tests/cli_rdbench.sh LWC: end-to-end test of tools/rd-benchmark (run by ctest
# from the repo root).  Two small images (crops of Kodak when the shared copy
# is there, else ffmpeg test patterns), jpeg and webp at 3 settings each, lwc
# at 2 settings when a model file is available, plus one unreadable file.
# Checks the CSV rows, bpp, summary means, bdrate.md, the cache and the usage
# errors.  Exit 0 = pass, 0 with "SKIP: ..." = an anchor tool is missing.
# shellcheck disable=SC2015,SC2054  # "check && ok || fail" is meant; commas are inside values
set -u -o pipefail
export LC_ALL=C

LWC=${1:?usage: bash tests/cli_rdbench.sh PATH_TO_LWC}
BENCH=tools/rd-benchmark
KODAK=${LWC_KODAK:-kodak} # datasets/fetch-kodak.sh puts it there; LWC_KODAK=DIR for another copy

for t in cjpeg djpeg cwebp dwebp ffmpeg awk sha256sum; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed (Debian: libjpeg-turbo-progs webp ffmpeg)"; exit 0; }
done
[[ -x $LWC ]] || { echo "FAIL: lwc '$LWC' is not executable"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_rdbench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# --- two small images: 256x192 and 192x256 (MS-SSIM's 5 scales need >= 176 px)
mkdir -p "$tmp/ds"
if [[ -f $KODAK/kodim23.png && -f $KODAK/kodim04.png ]]; then
  ffmpeg -nostdin -v error -y -i "$KODAK/kodim23.png" -vf crop=256:192:300:150 -pix_fmt rgb24 "$tmp/ds/a.png" &&
  ffmpeg -nostdin -v error -y -i "$KODAK/kodim04.png" -vf crop=192:256:100:200 -pix_fmt rgb24 "$tmp/ds/b.png"
  src="Kodak crops"
else
  ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=256x192 -frames:v 1 -pix_fmt rgb24 "$tmp/ds/a.png" &&
  ffmpeg -nostdin -v error -y -f lavfi -i mandelbrot=size=192x256 -frames:v 1 -pix_fmt rgb24 "$tmp/ds/b.png"
  src="ffmpeg patterns"
fi || { echo "FAIL: cannot make the test images"; exit 1; }
head -c 64 /dev/zero >"$tmp/ds/broken.png"
echo "images: $src"

codecs=jpeg,webp
settings=(--settings jpeg=20,50,80 --settings webp=20,50,80)
expect_rows=12
model_opt=()
if [[ -n ${LWC_MODEL:-} && -f ${LWC_MODEL:-} ]]; then model_opt=(--model "$LWC_MODEL"); fi
if [[ ${#model_opt[@]} -gt 0 || -f models/lwc-default.lwcm ]]; then
  codecs=lwc,$codecs; settings+=(--settings lwc=30,70); expect_rows=16
else
  echo "note: no model file (models/lwc-default.lwcm or \$LWC_MODEL): lwc itself not benchmarked"
fi

out=$tmp/out
if ! bash "$BENCH" --dataset "$tmp/ds" --out "$out" --codecs "$codecs" --anchor jpeg "${settings[@]}" \
     --lwc "$LWC" "${model_opt[@]}" -j 2 >"$tmp/run1.log" 2>&1; then
  cat "$tmp/run1.log"; echo "FAIL: rd-benchmark exited non-zero"; exit 1
fi
[[ -f $out/errors.log ]] && grep -q 'broken.png' "$out/errors.log" && grep -q 'skipping broken.png' "$tmp/run1.log" &&
  ok "unreadable image reported and skipped" || fail "broken.png not reported"

# --- per_image.csv: header, one row per (codec, setting, image), bpp, sizes
pi=$out/per_image.csv
[[ $(head -n 1 "$pi" 2>/dev/null) == "codec,setting,image,width,height,bytes,bpp,psnr,psnr_y,msssim,enc_s,dec_s" ]] ||
  fail "per_image.csv header"
rows=$(awk 'NR > 1' "$pi" | wc -l)
[[ $rows -eq $expect_rows ]] && ok "per_image.csv has $rows rows" || fail "per_image.csv has $rows rows, want $expect_rows"
want=$(for c in ${codecs//,/ }; do
  case $c in lwc) s="30 70" ;; *) s="20 50 80" ;; esac
  for v in $s; do for i in a.png b.png; do echo "$c,$v,$i"; done; done
done | sort)
have=$(awk -F, 'NR > 1 { print $1 "," $2 "," $3 }' "$pi" | sort)
[[ $want == "$have" ]] && ok "rows are exactly the expected (codec, setting, image)" ||
  fail "rows differ from the expected set: $(diff <(echo "$want") <(echo "$have") | tr '\n' ' ')"
awk -F, 'NR > 1 {
    if (!(($3 == "a.png" && $4 == 256 && $5 == 192) || ($3 == "b.png" && $4 == 192 && $5 == 256))) { print "size " $0; bad = 1 }
    if ($6 <= 0) { print "bytes " $0; bad = 1 }
    d = $7 - 8 * $6 / ($4 * $5); if (d < 0) d = -d
    if (d > 1e-5) { print "bpp " $0; bad = 1 }
    # Anchors must look sane; lwc may run an untrained model, so only a number is required.
    if ($1 != "lwc" && !($8 == "inf" || ($8 + 0 > 15 && $8 + 0 < 100))) { print "psnr " $0; bad = 1 }
    if ($1 == "lwc" && !($8 == "inf" || $8 ~ /^[0-9]+(\.[0-9]*)?$/)) { print "psnr " $0; bad = 1 }
    if ($11 < 0 || $12 < 0) { print "time " $0; bad = 1 }
  } END { exit bad }' "$pi" >"$tmp/bad_rows" && ok "bpp = 8*bytes/(w*h), sizes, PSNR values" ||
  fail "bad rows: $(tr '\n' ' ' <"$tmp/bad_rows")"
# Higher setting = more bytes for jpeg and webp, per image.
awk -F, 'NR > 1 && ($1 == "jpeg" || $1 == "webp") { b[$1, $3, $2] = $6 }
  END { for (k in b) { split(k, p, SUBSEP)
          if (p[3] == 20 && !(b[p[1], p[2], 20] < b[p[1], p[2], 50] && b[p[1], p[2], 50] < b[p[1], p[2], 80])) bad = 1 }
        exit bad }' "$pi" && ok "bytes grow with quality" || fail "bytes do not grow with quality"

# --- summary.csv = means over the two images of per_image.csv
sm=$out/summary.csv
[[ $(head -n 1 "$sm" 2>/dev/null) == "codec,setting,bpp,psnr,msssim,enc_s,dec_s" ]] || fail "summary.csv header"
awk -F, '
  FNR == 1 { f++; next }
  f == 1 { k = $1 "," $2; n[k]++; bpp[k] += $7; ps[k] += ($8 == "inf" ? 100 : $8); ms[k] += $10; en[k] += $11; de[k] += $12; next }
  f == 2 { k = $1 "," $2; seen++
    if (n[k] != 2) { print "points " k; bad = 1; next }
    if (abs($3 - bpp[k] / 2) > 1e-5 || abs($4 - ps[k] / 2) > 1e-3 || abs($6 - en[k] / 2) > 1e-3 || abs($7 - de[k] / 2) > 1e-3) { print "mean " $0; bad = 1 }
    if ($5 != "nan" && abs($5 - ms[k] / 2) > 1e-5) { print "msssim " $0; bad = 1 }
  }
  function abs(x) { return x < 0 ? -x : x }
  END { if (seen != length(n)) { print "rows " seen " vs " length(n); bad = 1 } exit bad }' "$pi" "$sm" >"$tmp/bad_sum" &&
  ok "summary.csv rows are the per-image means" || fail "summary mismatch: $(tr '\n' ' ' <"$tmp/bad_sum")"
for c in ${codecs//,/ }; do
  n=$(awk -F, -v c="$c" 'NR > 1 && $1 == c' "$out/summary_$c.csv" 2>/dev/null | wc -l)
  want_n=3; [[ $c == lwc ]] && want_n=2
  [[ $n -eq $want_n ]] || fail "summary_$c.csv has $n rows, want $want_n"
done
awk -F, 'NR > 2 && $1 == prev && $3 + 0 < pb { bad = 1 } { prev = $1; pb = $3 + 0 } END { exit bad }' "$sm" ||
  fail "summary.csv not sorted by bpp within a codec"

# --- bdrate.md with a number for webp against jpeg
bd=$out/bdrate.md
if [[ -f $bd ]] && grep -Eq '^\| webp \| [0-9]+ \| [-+][0-9]+\.[0-9]+ %' "$bd"; then
  ok "bdrate.md: $(grep -E '^\| webp \|' "$bd" | head -n 1)"
else
  fail "bdrate.md missing or has no numeric BD-rate for webp"; [[ -f $bd ]] && cat "$bd"
fi
for f in commands.txt versions.txt; do [[ -s $out/$f ]] || fail "$f missing"; done
grep -q 'cjpeg -quality 50 -optimize -sample 2x2' "$out/commands.txt" || fail "commands.txt lacks the cjpeg command"
if command -v gnuplot >/dev/null; then
  for f in rd_psnr.png rd_psnr.svg rd_msssim.png rd_msssim.svg; do [[ -s $out/$f ]] || fail "$f missing"; done
fi

# --- rerun: everything comes from the cache, same per_image.csv
cp "$pi" "$tmp/pi1.csv"
bash "$BENCH" --dataset "$tmp/ds" --out "$out" --codecs "$codecs" --anchor jpeg "${settings[@]}" \
  --lwc "$LWC" "${model_opt[@]}" -j 2 >"$tmp/run2.log" 2>&1 || fail "rerun exited non-zero"
grep -q "$expect_rows cached, 0 to code" "$tmp/run2.log" && cmp -s "$pi" "$tmp/pi1.csv" &&
  ok "rerun uses the cache" || { fail "rerun did not use the cache"; cat "$tmp/run2.log"; }

# --- usage errors: one line, exit 2
for args in "--bogus" "--dataset $tmp/ds" "--dataset $tmp/ds --out $out --codecs nosuch" "--dataset $tmp/ds --out $out -j 0"; do
  # shellcheck disable=SC2086  # split on purpose
  bash "$BENCH" $args --lwc "$LWC" >"$tmp/err.out" 2>"$tmp/err.log"; rc=$?
  if [[ $rc -eq 2 && $(wc -l <"$tmp/err.log") -eq 1 && ! -s $tmp/err.out ]]; then ok "usage error ($args): $(cat "$tmp/err.log")"
  else fail "'$args' gave rc=$rc and $(wc -l <"$tmp/err.log") stderr lines"; fi
done
help=$(bash "$BENCH" --help) && [[ $help == *"--settings CODEC="* ]] || fail "--help"

if ((fails)); then echo "cli_rdbench: $fails failures"; exit 1; fi
echo "cli_rdbench: all passed"
