# shellcheck shell=bash
# tools/rdbench/report.sh: turns OUT/per_image.csv into the summaries, the
# BD-rate table and the RD plots.  Sourced by tools/rd-benchmark.
#
# Needs: RDB_LWC (for `lwc bdrate`), LC_ALL=C (awk number formatting).

RDB_SUMMARY_HEADER="codec,setting,bpp,psnr,msssim,enc_s,dec_s"

# rdb_summarize PER_IMAGE_CSV NIMAGES "CODEC..." > summary.csv
# Mean over images of per-image bpp, PSNR, MS-SSIM and times for each rate
# point (CompressAI convention).  A per-image PSNR of inf (lossless) counts as
# 100 dB.  A rate point that lacks some images (a job failed) is left out and
# named on stderr, so every curve averages the same images.  Rows are sorted
# by codec (in the order given) and then by bpp.
rdb_summarize() {
  local csv=$1 n=$2 order=$3
  echo "$RDB_SUMMARY_HEADER"
  awk -F, -v n="$n" -v order="$order" '
    function num(v) { v = tolower(v); if (v == "inf" || v == "+inf") return 100; return v + 0 }
    BEGIN { k = split(order, o, " "); for (i = 1; i <= k; i++) rank[o[i]] = i }
    NR == 1 { next }
    {
      g = $1 SUBSEP $2
      if (!(g in cnt)) { groups[++ng] = g }
      cnt[g]++; bpp[g] += $7; ps[g] += num($8); en[g] += $11; de[g] += $12
      m = tolower($10)
      if (m == "" || m ~ /nan/) bad[g] = 1; else ms[g] += m
    }
    END {
      for (i = 1; i <= ng; i++) {
        g = groups[i]; split(g, cs, SUBSEP); c = cnt[g]
        if (c < n) {
          printf "rd-benchmark: %s %s has %d of %d images; left out of the summary\n", cs[1], cs[2], c, n > "/dev/stderr"
          continue
        }
        msv = (g in bad) ? "nan" : sprintf("%.6f", ms[g] / c)
        printf "%d,%s,%s,%.6f,%.4f,%s,%.4f,%.4f\n", rank[cs[1]], cs[1], cs[2], bpp[g] / c, ps[g] / c, msv, en[g] / c, de[g] / c
      }
    }' "$csv" | sort -t, -k1,1n -k4,4g | cut -d, -f2-
}

# rdb_bd ANCHOR.csv TEST.csv METRIC -> prints "bd_rate<TAB>bd_psnr<TAB>overlap",
# each "n/a" when lwc bdrate gives none (no overlap, too few points, error).
rdb_bd() {
  local js
  if js=$("$RDB_LWC" bdrate "$1" "$2" --json --metric "$3" 2>/dev/null); then
    awk -v js="$js" 'function field(k,   r) {
        if (match(js, "\"" k "\"[ \t\r\n]*:[ \t\r\n]*[^,}]*")) {
          r = substr(js, RSTART, RLENGTH); sub(/^[^:]*:[ \t\r\n]*/, "", r); gsub(/[" \t\r\n]/, "", r)
          if (r ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/) return r
        }
        return "n/a" }
      BEGIN { printf "%s\t%s\t%s\n", field("bd_rate"), field("bd_psnr"), field("overlap") }'
  else
    printf 'n/a\tn/a\tn/a\n'
  fi
}

_rdb_pct() { if [[ $1 == n/a ]]; then echo "n/a"; else awk -v v="$1" 'BEGIN { printf "%+.2f %%", v }'; fi; }
# lwc bdrate's overlap: the fraction of the smaller curve's quality range
# that both curves cover; it warns below 0.75, so do we ("!").
_rdb_overlap() {
  if [[ $1 == n/a ]]; then echo "n/a"
  else awk -v v="$1" 'BEGIN { printf "%.0f %%%s", 100 * v, (v < 0.75 ? " !" : "") }'; fi
}
_rdb_db()  { if [[ $1 == n/a ]]; then echo "n/a"; else awk -v v="$1" 'BEGIN { printf "%+.3f", v }'; fi; }

# A summary file can be used for MS-SSIM only if it has >= 2 numeric rows.
_rdb_has_msssim() { awk -F, 'NR > 1 && $5 != "nan" && $5 != "" { k++ } END { exit !(k >= 2) }' "$1"; }
_rdb_rows() { awk 'NR > 1 { k++ } END { print k + 0 }' "$1"; }

# rdb_bdrate_md OUTDIR ANCHOR "CODEC..." > bdrate.md
rdb_bdrate_md() {
  local out=$1 anchor=$2 codecs=$3 a t r p m
  local -a list
  read -r -a list <<<"$codecs"
  echo "# BD-rate"
  echo
  echo "Computed by \`lwc bdrate\` (PCHIP on log rate over the overlapping quality range)"
  echo "from the per-rate-point means in summary_<codec>.csv. Negative BD-rate = fewer"
  echo "bits than the anchor for the same quality; BD-PSNR is the quality gain at equal rate."
  echo "MS-SSIM BD-rate is on -10 log10(1 - MS-SSIM) (\`lwc bdrate --metric msssim\`)."
  echo "Overlap: share of the smaller curve's PSNR range covered by both; \"!\" below 75 %,"
  echo "where the BD numbers extrapolate little but rest on a short stretch of curve."
  echo
  echo "## Against the anchor ($anchor)"
  echo
  echo "| codec | points | BD-rate (PSNR) | BD-PSNR (dB) | BD-rate (MS-SSIM) | PSNR range overlap |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for t in "${list[@]}"; do
    [[ $t == "$anchor" ]] && continue
    IFS=$'\t' read -r r p o < <(rdb_bd "$out/summary_$anchor.csv" "$out/summary_$t.csv" psnr)
    m=n/a
    if _rdb_has_msssim "$out/summary_$anchor.csv" && _rdb_has_msssim "$out/summary_$t.csv"; then
      IFS=$'\t' read -r m _ _ < <(rdb_bd "$out/summary_$anchor.csv" "$out/summary_$t.csv" msssim)
    fi
    echo "| $t | $(_rdb_rows "$out/summary_$t.csv") | $(_rdb_pct "$r") | $(_rdb_db "$p") | $(_rdb_pct "$m") | $(_rdb_overlap "$o") |"
  done
  local metric
  for metric in psnr msssim; do
    echo
    echo "## Every pair, BD-rate on $([[ $metric == psnr ]] && echo PSNR || echo MS-SSIM) (row = anchor, column = test)"
    echo
    printf '| anchor \\ test |'; printf ' %s |' "${list[@]}"; echo
    printf '| --- |'; printf ' --- |%.0s' "${list[@]}"; echo
    for a in "${list[@]}"; do
      printf '| %s |' "$a"
      for t in "${list[@]}"; do
        if [[ $a == "$t" ]]; then printf ' - |'; continue; fi
        if [[ $metric == msssim ]] && ! { _rdb_has_msssim "$out/summary_$a.csv" && _rdb_has_msssim "$out/summary_$t.csv"; }; then
          printf ' n/a |'; continue
        fi
        IFS=$'\t' read -r r _ _ < <(rdb_bd "$out/summary_$a.csv" "$out/summary_$t.csv" "$metric")
        printf ' %s |' "$(_rdb_pct "$r")"
      done
      echo
    done
  done
}

# rdb_plots OUTDIR "CODEC..." : rd_psnr.{png,svg}, rd_msssim.{png,svg}.
# MS-SSIM is drawn in dB, -10 log10(1 - MS-SSIM), as is usual for RD curves.
rdb_plots() {
  local out=$1 codecs=$2 c term ext plot_p plot_m sep=""
  plot_p="plot"; plot_m="plot"
  for c in $codecs; do
    plot_p+="$sep 'summary_$c.csv' using 3:4 with linespoints title '$c'"
    plot_m+="$sep 'summary_$c.csv' using 3:(\$5 < 1 ? -10*log10(1-\$5) : 1/0) with linespoints title '$c'"
    sep=","
  done
  (
    cd "$out" || exit 1
    for ext in png svg; do
      if [[ $ext == png ]]; then term="pngcairo size 1000,700 noenhanced"; else term="svg size 1000,700 noenhanced"; fi
      gnuplot <<EOF || exit 1
set datafile separator ','
set datafile columnheaders
set datafile missing 'nan'
set terminal $term
set grid
set key top left
set xlabel 'bits per pixel'
set output 'rd_psnr.$ext'
set ylabel 'PSNR RGB (dB)'
set title 'Rate-distortion, PSNR (mean over images)'
$plot_p
set output 'rd_msssim.$ext'
set ylabel 'MS-SSIM (dB) = -10 log10(1 - MS-SSIM)'
set title 'Rate-distortion, MS-SSIM (mean over images)'
$plot_m
EOF
    done
  )
}
