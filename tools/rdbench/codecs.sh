# shellcheck shell=bash
# tools/rdbench/codecs.sh: one place that says how each codec of rd-benchmark
# is run. Sourced by tools/rd-benchmark and by tools/rdbench/job.sh.
#
# Every command is built as an argv array (RDB_ARGV) by rdb_enc_argv /
# rdb_dec_argv; the worker runs exactly that array and commands.txt prints the
# same array with placeholder file names, so the recorded command lines are
# the ones that ran.  Encoders and decoders are pinned to one thread so that
# enc_s/dec_s compare codecs rather than thread pools.
#
# Environment read here: RDB_LWC (lwc binary), RDB_MODEL (model file given
# with --model, empty when the bundled default is used).

# shellcheck disable=SC2034  # used by the scripts that source this file
RDB_ALL_CODECS="lwc lwc-e5 lwc-e9 jpeg jpeg444 webp avif jxl hevc jpeg2000"
# lwc-eN: lwc at encoder effort N (lwc encode -e N); any N in 1..9 is accepted.

# Default sweeps.  Anchors were tuned on kodim01 (busy) and kodim23 (smooth)
# so that the mean over Kodak spans about 0.1..1.5 bpp; see datasets/README.md.
# lwc is deliberately not tuned on Kodak: its grid is a plain spread of -q.
rdb_codec_settings() { # NAME QUICK(0|1)
  local q=$2
  case $1 in
    lwc|lwc-e[1-9])
              ((q)) && echo "10 35 60 85"        || echo "5 15 25 35 50 65 80 95" ;;
    jpeg|jpeg444)
              ((q)) && echo "10 30 60 85"        || echo "5 10 20 30 45 60 75 85" ;;
    webp)     ((q)) && echo "0 25 55 80"         || echo "0 10 25 40 55 70 80 88" ;;
    avif)     ((q)) && echo "56 44 32 20"        || echo "56 50 44 38 32 26 20 15" ;;
    jxl)      ((q)) && echo "20 8 3.8 1.7"       || echo "20 12 8 5.5 3.8 2.6 1.7 1.1" ;;
    hevc)     ((q)) && echo "46 39 33 27"        || echo "46 42 39 36 33 30 27 24" ;;
    jpeg2000) ((q)) && echo "0.1 0.3 0.7 1.5"    || echo "0.1 0.15 0.25 0.4 0.6 0.8 1.1 1.5" ;;
    *) return 1 ;;
  esac
}

# What the sweep value means, for --help and commands.txt.
rdb_codec_setting_doc() {
  case $1 in
    lwc)      echo "lwc encode -q Q (0..100, higher = better)" ;;
    lwc-e[1-9]) echo "lwc encode -e ${1#lwc-e} -q Q (encoder effort ${1#lwc-e})" ;;
    jpeg)     echo "cjpeg -quality Q, 4:2:0 (-sample 2x2), -optimize" ;;
    jpeg444)  echo "cjpeg -quality Q, 4:4:4 (-sample 1x1), -optimize" ;;
    webp)     echo "cwebp -m 6 -q Q (lossy, default 4:2:0)" ;;
    avif)     echo "avifenc (aom, speed 6, 4:4:4) --min Q --max Q, quantizer 0..63, lower = better" ;;
    jxl)      echo "cjxl -e 7 -d D, butteraugli distance, lower = better" ;;
    hevc)     echo "ffmpeg libx265 intra, yuv444p, -qp QP, raw Annex-B bitstream without the x265 info SEI" ;;
    jpeg2000) echo "opj_compress -I (9/7) -r 24/BPP, i.e. the setting is the target bpp" ;;
  esac
}

# Executables a codec needs besides lwc (which measures every codec).
rdb_codec_tools() {
  case $1 in
    lwc|lwc-e[1-9]) echo "" ;;
    jpeg|jpeg444) echo "cjpeg djpeg ffmpeg" ;;
    webp)         echo "cwebp dwebp" ;;
    avif)         echo "avifenc avifdec" ;;
    jxl)          echo "cjxl djxl" ;;
    hevc)         echo "ffmpeg" ;;
    jpeg2000)     echo "opj_compress opj_decompress ffmpeg" ;;
  esac
}

rdb_codec_package() { # Debian package that provides the tools, for error messages
  case $1 in
    jpeg|jpeg444) echo "libjpeg-turbo-progs ffmpeg" ;;
    webp) echo "webp" ;; avif) echo "libavif-bin" ;; jxl) echo "libjxl-tools" ;;
    hevc) echo "ffmpeg" ;; jpeg2000) echo "libopenjp2-tools ffmpeg" ;;
  esac
}

rdb_bin_ext() {
  case $1 in
    lwc|lwc-e[1-9]) echo lwc ;; jpeg|jpeg444) echo jpg ;; webp) echo webp ;; avif) echo avif ;;
    jxl) echo jxl ;; hevc) echo hevc ;; jpeg2000) echo j2k ;;
  esac
}

# The encoder reads the original PNG except cjpeg (libjpeg-turbo 2.1 has no
# PNG reader) and opj_compress (its PNG reader applies the gAMA chunk that the
# Kodak files carry: 12 dB "PSNR" on kodim01).  For those the worker converts
# to PPM (raw samples) with ffmpeg first, outside the timed region.
rdb_enc_input_ext() { case $1 in jpeg|jpeg444|jpeg2000) echo ppm ;; *) echo png ;; esac; }
# Native decoder output; PPM is converted to PNG for lwc compare, untimed.
rdb_dec_output_ext() { case $1 in jpeg|jpeg444) echo ppm ;; *) echo png ;; esac; }

_rdb_x265_version() {
  ffmpeg -hide_banner -nostdin -f lavfi -i color=c=gray:s=64x64 -frames:v 1 \
    -c:v libx265 -f null - 2>&1 | sed -n 's/.*\(HEVC encoder version [^ ]*\).*/\1/p' | head -n 1
}

# One line naming the exact tool versions; part of every cache key.
rdb_codec_version() {
  case $1 in
    lwc|lwc-e[1-9])
      local v
      v=$("$RDB_LWC" --version 2>/dev/null | head -n 1)
      echo "${v:-lwc unknown version} binary-sha256 $(sha256sum "$RDB_LWC" | cut -c1-16)" ;;
    jpeg|jpeg444) echo "$(cjpeg -version 2>&1 | head -n 1); $(ffmpeg -version 2>/dev/null | head -n 1 | cut -d' ' -f1-3)" ;;
    webp) echo "cwebp $(cwebp -version 2>&1 | head -n 1); dwebp $(dwebp -version 2>&1 | head -n 1)" ;;
    avif) echo "avifenc $(avifenc --version 2>&1 | head -n 1)" ;;
    jxl)  echo "$(cjxl --version 2>&1 | head -n 1); $(djxl --version 2>&1 | head -n 1)" ;;
    hevc) echo "$(ffmpeg -version 2>/dev/null | head -n 1 | cut -d' ' -f1-3); $(_rdb_x265_version)" ;;
    jpeg2000) opj_compress -h 2>&1 | grep -m1 -o 'openjp2 library v[0-9.]*' ;;
  esac
}

# avifenc 0.x takes the AV1 quantizer (--min/--max 0..63); later versions
# take -q 0..100 and deprecate, then drop, --min/--max.  The sweep is kept in
# quantizer units; rdb_avif_mode says which flags the installed avifenc has
# (the caller exports it as RDB_AVIF_MODE), and rdb_avif_quality inverts
# libavif's quality->quantizer map, q = ((100 - quality) * 63 + 50) / 100.
rdb_avif_mode() {
  local h
  h=$(avifenc --help 2>&1)   # not "| grep -q": an early exit + pipefail reads as "no"
  if [[ $h == *"--min Q"* ]]; then echo minmax; else echo quality; fi
}
rdb_avif_quality() { awk -v q="$1" 'BEGIN { v = 100 - q * 100 / 63; printf "%d", v + 0.5 }'; }

# rdb_enc_argv CODEC SETTING IN OUT: sets RDB_ARGV to the encode command.
rdb_enc_argv() {
  local c=$1 s=$2 in=$3 out=$4
  case $c in
    lwc|lwc-e[1-9])
      RDB_ARGV=("$RDB_LWC" encode "$in" -o "$out" -q "$s" --quiet)
      [[ $c == lwc-e* ]] && RDB_ARGV+=(-e "${c#lwc-e}")
      [[ -n ${RDB_MODEL:-} ]] && RDB_ARGV+=(--model "$RDB_MODEL") ;;
    jpeg)    RDB_ARGV=(cjpeg -quality "$s" -optimize -sample 2x2 -outfile "$out" "$in") ;;
    jpeg444) RDB_ARGV=(cjpeg -quality "$s" -optimize -sample 1x1 -outfile "$out" "$in") ;;
    webp)    RDB_ARGV=(cwebp -quiet -m 6 -q "$s" "$in" -o "$out") ;;
    avif)
      if [[ ${RDB_AVIF_MODE:-minmax} == minmax ]]; then
        RDB_ARGV=(avifenc -c aom -s 6 -j 1 --yuv 444 --min "$s" --max "$s" "$in" -o "$out")
      else # avifenc without --min/--max: the quality that libavif maps to quantizer s
        RDB_ARGV=(avifenc -c aom -s 6 -j 1 --yuv 444 -q "$(rdb_avif_quality "$s")" "$in" -o "$out")
      fi ;;
    jxl)     RDB_ARGV=(cjxl "$in" "$out" -e 7 -d "$s" --num_threads=1 --quiet) ;;
    hevc)    RDB_ARGV=(ffmpeg -nostdin -v error -y -threads 1 -i "$in" -frames:v 1
                       -c:v libx265 -preset slow -pix_fmt yuv444p -qp "$s"
                       -x265-params keyint=1:info=0:pools=1:frame-threads=1:log-level=error
                       -f hevc "$out") ;;
    jpeg2000)
      local r
      r=$(awk -v b="$s" 'BEGIN { printf "%.4f", 24 / b }')
      RDB_ARGV=(opj_compress -i "$in" -o "$out" -I -r "$r") ;;
    *) return 1 ;;
  esac
}

# rdb_dec_argv CODEC IN OUT: sets RDB_ARGV to the decode command.
rdb_dec_argv() {
  local c=$1 in=$2 out=$3
  case $c in
    lwc|lwc-e[1-9])
      RDB_ARGV=("$RDB_LWC" decode "$in" -o "$out" --quiet)
      [[ -n ${RDB_MODEL:-} ]] && RDB_ARGV+=(--model "$RDB_MODEL") ;;
    jpeg|jpeg444) RDB_ARGV=(djpeg -ppm -outfile "$out" "$in") ;;
    webp)     RDB_ARGV=(dwebp -quiet "$in" -o "$out") ;;
    avif)     RDB_ARGV=(avifdec -j 1 -d 8 "$in" "$out") ;;
    jxl)      RDB_ARGV=(djxl "$in" "$out" --num_threads=1 --quiet) ;;
    hevc)     RDB_ARGV=(ffmpeg -nostdin -v error -y -threads 1 -i "$in" -frames:v 1
                        -pix_fmt rgb24 "$out") ;;
    jpeg2000) RDB_ARGV=(opj_decompress -quiet -i "$in" -o "$out") ;;
    *) return 1 ;;
  esac
}

# PNG <-> PPM conversions used around cjpeg/djpeg (never timed).
rdb_png_to_ppm() { ffmpeg -nostdin -v error -y -i "$1" -frames:v 1 -pix_fmt rgb24 -c:v ppm -f image2 "$2"; }
rdb_ppm_to_png() { ffmpeg -nostdin -v error -y -i "$1" -frames:v 1 -pix_fmt rgb24 -c:v png -f image2 "$2"; }
