# shellcheck shell=bash
# tools/rdbench/job.sh: codes one image at one rate point (run by xargs from
# tools/rd-benchmark, several at once with -j).
#
#   bash job.sh "KEY<TAB>CODEC<TAB>SETTING<TAB>IMAGE<TAB>WIDTH<TAB>HEIGHT"
#
# Encodes, decodes with the codec's own decoder, measures with
# `lwc compare ORIGINAL DECODED --csv`, and writes one per_image.csv row to
# $RDB_OUT/cache/KEY.csv (through a temporary file and mv, so an interrupted
# job leaves no row and is redone next time).  Its only stdout is one status
# line for the progress bar: "ok" or "fail<TAB>message".  Tool output goes to
# $RDB_OUT/logs/KEY.log, kept only when the job fails.
set -u -o pipefail
# shellcheck source=tools/rdbench/codecs.sh
. "$RDB_DIR/codecs.sh"

IFS=$'\t' read -r key codec setting img width height <<<"$1"
name=${img##*/}
log=$RDB_OUT/logs/$key.log
work=$(mktemp -d "$RDB_OUT/tmp/$key.XXXXXX") || { printf 'fail\t%s %s %s: cannot make a temp dir\n' "$codec" "$setting" "$name"; exit 0; }
trap 'rm -rf "$work"' EXIT

fail() {
  printf '%s %s %s: %s\n' "$codec" "$setting" "$name" "$1" >>"$log"
  printf 'fail\t%s %s %s: %s (log: %s)\n' "$codec" "$setting" "$name" "$1" "${log#"$RDB_OUT"/}"
  exit 0
}

run() { # run RDB_ARGV, output to the log; non-zero status on failure
  { printf '+ %q' "${RDB_ARGV[0]}"; printf ' %q' "${RDB_ARGV[@]:1}"; echo; } >>"$log"
  "${RDB_ARGV[@]}" >>"$log" 2>&1 </dev/null
}

src=$img
if [[ $(rdb_enc_input_ext "$codec") == ppm ]]; then
  src=$work/src.ppm
  rdb_png_to_ppm "$img" "$src" >>"$log" 2>&1 || fail "cannot convert the input to PPM"
fi
bin=$work/out.$(rdb_bin_ext "$codec")
dec=$work/dec.$(rdb_dec_output_ext "$codec")

rdb_enc_argv "$codec" "$setting" "$src" "$bin"
t0=$EPOCHREALTIME
run || fail "encoder failed"
t1=$EPOCHREALTIME
[[ -s $bin ]] || fail "encoder wrote no output"
rdb_dec_argv "$codec" "$bin" "$dec"
t2=$EPOCHREALTIME
run || fail "decoder failed"
t3=$EPOCHREALTIME
[[ -s $dec ]] || fail "decoder wrote no output"
if [[ $dec == *.ppm ]]; then
  rdb_ppm_to_png "$dec" "$work/dec.png" >>"$log" 2>&1 || fail "cannot convert the decoded PPM to PNG"
  dec=$work/dec.png
fi
bytes=$(stat -c %s "$bin")

cmp=$("$RDB_LWC" compare "$img" "$dec" --csv 2>>"$log" </dev/null) || fail "lwc compare failed"
# Pick the columns by name from the header line; normalise inf/nan spellings.
row=$(awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  NR == 2 {
    if (!("psnr" in col)) exit 1
    p  = $(col["psnr"])
    py = ("psnr_y" in col) ? $(col["psnr_y"]) : "nan"
    m  = ("msssim" in col) ? $(col["msssim"]) : "nan"
    gsub(/[ \r]/, "", p); gsub(/[ \r]/, "", py); gsub(/[ \r]/, "", m)
    printf "%s,%s,%s", tolower(p), tolower(py), tolower(m); ok = 1
  }
  END { if (!ok) exit 1 }' <<<"$cmp") || fail "cannot parse lwc compare output: $cmp"

line=$(awk -v c="$codec" -v s="$setting" -v n="$name" -v w="$width" -v h="$height" \
           -v b="$bytes" -v q="$row" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" '
  BEGIN { printf "%s,%s,%s,%d,%d,%d,%.6f,%s,%.4f,%.4f\n", c, s, n, w, h, b,
                 8 * b / (w * h), q, t1 - t0, t3 - t2 }')
{ printf '%s\n' "$line" >"$work/row.csv" && mv -f "$work/row.csv" "$RDB_OUT/cache/$key.csv"; } ||
  fail "cannot write the cache row"
rm -f "$log"
echo ok
