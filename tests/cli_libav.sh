#!/usr/bin/env bash
# Video through FFmpeg's libraries in the lwc CLI (tools/cli/cli_libav.c):
# colour conversion of tagged H.264 clips (matrix, range), PNG sequences
# coded exactly like single PNGs, frame rates kept into .lwcv and back out to
# MKV / NUT / MP4 / image patterns, truncated and corrupt inputs, and the Y4M
# pipes. Inputs are made with the system ffmpeg (with libx264); without it
# the test is skipped (exit 77). Run by ctest:
#   bash tests/cli_libav.sh PATH_TO_LWC BUILD_DIR
set -u -o pipefail
LWC=${1:?lwc path}; BUILD=${2:?build dir}
[[ $LWC = /* ]] || LWC=$PWD/$LWC
[[ $BUILD = /* ]] || BUILD=$PWD/$BUILD
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  echo "SKIP: no ffmpeg/ffprobe"; exit 77
fi
if [[ $(ffmpeg -hide_banner -encoders 2>/dev/null) != *libx264* ]]; then
  echo "SKIP: the system ffmpeg has no libx264 encoder"; exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_libav.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
FF=(ffmpeg -nostdin -v error -y)

"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 7 || { echo "FAIL: cannot make a test model"; exit 1; }
export LWC_MODEL=$tmp/m.lwcm

# expect CODE NAME -- command...: exit code, and exactly one stderr line on failure
expect() {
  local code=$1 name=$2; shift 3
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"; local rc=$?
  [[ $rc = "$code" ]] || { fail "$name: exit $rc, wanted $code ($(head -c 300 "$tmp/err.txt"))"; return; }
  if [[ $code != 0 ]]; then
    local n; n=$(wc -l < "$tmp/err.txt")
    [[ $n = 1 ]] || fail "$name: $n stderr lines, wanted 1: $(cat "$tmp/err.txt")"
  fi
  ok "$name"
}

# maxdiff A B: the largest difference between bytes of two equal-sized files
maxdiff() {
  [[ $(stat -c %s "$1") = $(stat -c %s "$2") ]] || { echo 999; return; }
  cmp -l "$1" "$2" | awk 'function o(s,  v, i) { v = 0; for (i = 1; i <= length(s); i++) v = v * 8 + substr(s, i, 1); return v }
    { d = o($2) - o($3); if (d < 0) d = -d; if (d > m) m = d } END { print m + 0 }'
}

# packets FILE PREFIX: each frame's lwc image stream of a .lwcv into PREFIX1, PREFIX2, ...
packets() {
  local f=$1 pre=$2 pos=48 i=1 size n
  size=$(stat -c %s "$f")
  while ((pos < size)); do
    n=$(od -An -tu4 --endian=little -j "$pos" -N 4 "$f" | tr -d ' ')
    tail -c +$((pos + 5)) "$f" | head -c "$n" > "$pre$i"
    pos=$((pos + 4 + n)); i=$((i + 1))
  done
}

# ---------------------------------------------------------------- (a) colour
# Eight 16-pixel bars of known RGB (75% colours, near-black), 128x16: every
# 2x2 chroma block lies inside one bar, so bar centres survive 4:2:0.
cols="bfbfbf bfbf00 00bfbf 00bf00 bf00bf bf0000 0000bf 101010"
{ printf 'P6\n128 16\n255\n'
  for ((y = 0; y < 16; y++)); do for c in $cols; do for ((i = 0; i < 16; i++)); do
    printf "\\x${c:0:2}\\x${c:2:2}\\x${c:4:2}"; done; done; done; } > "$tmp/bars.ppm"
tail -c $((128 * 16 * 3)) "$tmp/bars.ppm" > "$tmp/bars.rgb"
# The reference conversion: ffmpeg told the matrix and range explicitly, with
# the flags lwc uses (bit-exact, accurate rounding, full chroma interpolation).
SWS=(-sws_flags bicubic+accurate_rnd+bitexact+full_chroma_int)
# colour TAG_MATRIX TAG_RANGE SWS_MATRIX SWS_RANGE WANT: a lossless x264 clip
# made with SWS_MATRIX/SWS_RANGE, tagged TAG_* ('-' = untagged)
colour() {
  local tm=$1 tr=$2 sm=$3 sr=$4 want=$5 tags=() name="matrix $1, range $2"
  [[ $tm != - ]] && tags+=(-colorspace "$tm")
  [[ $tr != - ]] && tags+=(-color_range "$tr")
  "${FF[@]}" -loop 1 -framerate 25 -i "$tmp/bars.ppm" -frames:v 3 "${SWS[@]}" \
    -vf "scale=out_color_matrix=$sm:out_range=$sr,format=yuv420p" -c:v libx264 -qp 0 "${tags[@]}" "$tmp/c.mp4" ||
    { fail "$name: ffmpeg cannot make the clip"; return; }
  expect 0 "$name: encode" -- "$LWC" encode "$tmp/c.mp4" -o "$tmp/c.lwcv" --dump-rgb "$tmp/c.rgb"
  grep -q "$want" "$tmp/out.txt" || fail "$name: summary does not say '$want': $(cat "$tmp/out.txt")"
  "${FF[@]}" -i "$tmp/c.mp4" "${SWS[@]}" -vf "scale=in_color_matrix=$sm:in_range=$sr,format=rgb24" -f rawvideo "$tmp/ref.rgb"
  local d; d=$(maxdiff "$tmp/c.rgb" "$tmp/ref.rgb")
  ((d <= 1)) && ok "$name: within $d of ffmpeg's $sm/$sr conversion" || fail "$name: differs by $d from ffmpeg's $sm/$sr conversion"
  head -c $((128 * 16 * 3)) "$tmp/c.rgb" > "$tmp/c0.rgb"
  local x k a b worst=0
  for ((x = 8; x < 128; x += 16)); do for k in 0 1 2; do
    a=$(od -An -tu1 -j $((3 * (8 * 128 + x) + k)) -N 1 "$tmp/c0.rgb")
    b=$(od -An -tu1 -j $((3 * (8 * 128 + x) + k)) -N 1 "$tmp/bars.rgb")
    d=$((a > b ? a - b : b - a)); ((d > worst)) && worst=$d
  done; done
  ((worst <= 2)) && ok "$name: bar centres within $worst of the RGB source" || fail "$name: bar centres off by $worst"
}
colour bt709 tv bt709 tv "matrix BT.709, range limited"
colour bt470bg tv bt601 tv "matrix BT.601, range limited"
colour bt709 pc bt709 pc "matrix BT.709, range full"
colour bt2020nc tv bt2020 tv "matrix BT.2020, range limited"
colour - - bt601 tv "matrix BT.601 (unspecified, SD), range limited"

# ---------------------------------------------------------------- (b) PNG sequences
"${FF[@]}" -f lavfi -i testsrc2=s=64x48:r=25 -frames:v 4 -start_number 0 "$tmp/f%03d.png"
expect 0 "png sequence" -- "$LWC" encode "$tmp/f%03d.png" -o "$tmp/seq.lwcv"
grep -q "4 frame(s) at 25/1 fps" "$tmp/out.txt" || fail "png sequence summary: $(cat "$tmp/out.txt")"
packets "$tmp/seq.lwcv" "$tmp/pkt"
for i in 0 1 2 3; do
  "$LWC" encode "$tmp/f00$i.png" -o "$tmp/one$i.lwc" --quiet
  cmp -s "$tmp/one$i.lwc" "$tmp/pkt$((i + 1))" || fail "png sequence frame $i differs from encoding f00$i.png alone"
done
[[ -e $tmp/pkt5 ]] && fail "png sequence: more than 4 packets"
ok "png sequence frames are byte-identical to single-image encodes"
"${FF[@]}" -f lavfi -i testsrc2=s=40x30:r=25 -frames:v 2 -pix_fmt gray "$tmp/g%02d.png"
expect 0 "gray png sequence" -- "$LWC" encode "$tmp/g%02d.png" -o "$tmp/g.lwcv"
"$LWC" info "$tmp/g.lwcv" | grep -q "source mono (coded as gray)" || fail "gray sequence not coded as gray: $("$LWC" info "$tmp/g.lwcv" | head -n 2)"

# ---------------------------------------------------------------- (c) frame rates
for rate in 25 30000/1001; do
  "${FF[@]}" -f lavfi -i "testsrc2=s=64x48:r=$rate" -frames:v 6 -c:v libx264 -pix_fmt yuv420p "$tmp/r.mp4"
  expect 0 "$rate fps: encode" -- "$LWC" encode "$tmp/r.mp4" -o "$tmp/r.lwcv"
  want=$rate; [[ $want = */* ]] || want=$want/1
  "$LWC" info "$tmp/r.lwcv" | grep -q "64x48 at $want fps" || fail "$rate fps: info: $("$LWC" info "$tmp/r.lwcv" | head -n 2)"
  expect 0 "$rate fps: decode to raw" -- "$LWC" decode "$tmp/r.lwcv" -o "$tmp/r.rgb"
  for out in r.mkv r.nut r.mp4; do
    expect 0 "$rate fps: decode to $out" -- "$LWC" decode "$tmp/r.lwcv" -o "$tmp/$out"
    probe=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=r_frame_rate,nb_read_frames -of csv=p=0 "$tmp/$out")
    [[ $probe = "$want,6" ]] || fail "$rate fps: ffprobe reads $out as '$probe', wanted '$want,6'"
    "${FF[@]}" -i "$tmp/$out" -f rawvideo -pix_fmt rgb24 "$tmp/back.rgb"
    cmp -s "$tmp/back.rgb" "$tmp/r.rgb" || fail "$rate fps: $out does not hold the decoded frames exactly"
  done
done
expect 0 "decode to an image pattern" -- "$LWC" decode "$tmp/r.lwcv" -o "$tmp/out_%03d.png"
[[ -e $tmp/out_001.png && -e $tmp/out_006.png && ! -e $tmp/out_007.png ]] || fail "pattern output: $(ls "$tmp" | grep out_)"
"${FF[@]}" -i "$tmp/out_%03d.png" -f rawvideo -pix_fmt rgb24 "$tmp/back.rgb"
cmp -s "$tmp/back.rgb" "$tmp/r.rgb" || fail "pattern output does not hold the decoded frames exactly"
expect 0 "gray to mkv" -- "$LWC" decode "$tmp/g.lwcv" -o "$tmp/g.mkv"
[[ $(ffprobe -v error -show_entries stream=pix_fmt -of csv=p=0 "$tmp/g.mkv") = gray ]] || fail "gray mkv is not gray"

# ---------------------------------------------------------------- (d) bad input
"${FF[@]}" -f lavfi -i testsrc2=s=128x96:r=25 -frames:v 10 -c:v libx264 -pix_fmt yuv420p -movflags +faststart "$tmp/fs.mp4"
"${FF[@]}" -f lavfi -i testsrc2=s=128x96:r=25 -frames:v 10 -c:v libx264 -pix_fmt yuv420p "$tmp/end.mp4"
size=$(stat -c %s "$tmp/fs.mp4")
head -c $((size * 2 / 3)) "$tmp/fs.mp4" > "$tmp/cut.mp4"
expect 1 "truncated mp4 (index first)" -- "$LWC" encode "$tmp/cut.mp4" -o "$tmp/x.lwcv"
grep -q "frame [0-9]*: " "$tmp/err.txt" || fail "truncated mp4: no frame named: $(cat "$tmp/err.txt")"
head -c $(($(stat -c %s "$tmp/end.mp4") / 2)) "$tmp/end.mp4" > "$tmp/cut2.mp4"
expect 1 "truncated mp4 (index last, lost)" -- "$LWC" encode "$tmp/cut2.mp4" -o "$tmp/x.lwcv"
# FFV1 slices carry CRCs: damage is certain to be seen (H.264 may decode it silently)
"${FF[@]}" -f lavfi -i testsrc2=s=128x96:r=25 -frames:v 10 -c:v ffv1 -level 3 -slicecrc 1 "$tmp/v.mkv"
size=$(stat -c %s "$tmp/v.mkv")
cp "$tmp/v.mkv" "$tmp/bad.mkv"
printf '\x55%.0s' {1..64} | dd of="$tmp/bad.mkv" bs=1 seek=$((size * 4 / 7)) conv=notrunc 2>/dev/null
expect 1 "corrupt ffv1/mkv" -- "$LWC" encode "$tmp/bad.mkv" -o "$tmp/x.lwcv"
grep -q "frame [0-9]*: damaged input: slice CRC mismatch" "$tmp/err.txt" || fail "corrupt mkv: $(cat "$tmp/err.txt")"
head -c $((size / 2)) "$tmp/v.mkv" > "$tmp/cut.mkv"
expect 1 "truncated ffv1/mkv" -- "$LWC" encode "$tmp/cut.mkv" -o "$tmp/x.lwcv"
grep -q "frame [0-9]*: .*ended prematurely" "$tmp/err.txt" || fail "truncated mkv: $(cat "$tmp/err.txt")"
# a Matroska header declaring 65535x65535 (PixelWidth/PixelHeight patched)
"${FF[@]}" -f lavfi -i color=s=256x256:r=5 -frames:v 1 -c:v ffv1 "$tmp/big.mkv"
for tag in '\xb0\x82\x01\x00' '\xba\x82\x01\x00'; do
  off=$(LC_ALL=C grep -obUaP "$tag" "$tmp/big.mkv" | head -n 1 | cut -d: -f1)
  [[ -n $off ]] && printf '\xff\xff' | dd of="$tmp/big.mkv" bs=1 seek=$((off + 2)) conv=notrunc 2>/dev/null
done
expect 1 "65535x65535 refused" -- "$LWC" encode "$tmp/big.mkv" -o "$tmp/x.lwcv"
grep -q "too big (65535x65535" "$tmp/err.txt" || fail "65535x65535: $(cat "$tmp/err.txt")"
expect 1 "no such pattern" -- "$LWC" encode "$tmp/none%03d.png" -o "$tmp/x.lwcv"
expect 1 "webm refused" -- "$LWC" decode "$tmp/r.lwcv" -o "$tmp/x.webm"
expect 2 "single png refused" -- "$LWC" decode "$tmp/r.lwcv" -o "$tmp/x.png"
head -c 300 "$tmp/r.lwcv" > "$tmp/cut.lwcv"
expect 1 "truncated lwcv to mkv" -- "$LWC" decode "$tmp/cut.lwcv" -o "$tmp/x.mkv"
expect 1 "truncated lwcv to a pattern" -- "$LWC" decode "$tmp/cut.lwcv" -o "$tmp/x_%03d.png"
ls "$tmp" | grep -q '^x[._]' && fail "a failed command left a file: $(ls "$tmp" | grep '^x[._]')"

# ---------------------------------------------------------------- (e) Y4M pipes
expect 0 "y4m pipe in" -- bash -c "ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=64x48:r=5 -frames:v 4 -pix_fmt yuv420p -f yuv4mpegpipe - | '$LWC' encode - -o '$tmp/p.lwcv' --quiet"
grep -q "Y4M" <("$LWC" encode - -o "$tmp/p2.lwcv" < <(ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=64x48:r=5 -frames:v 1 -pix_fmt yuv420p -f yuv4mpegpipe -)) ||
  fail "stdin Y4M is not read as Y4M"
expect 0 "y4m pipe out" -- bash -c "'$LWC' decode '$tmp/p.lwcv' -o - --quiet | ffmpeg -nostdin -v error -i - -f framemd5 '$tmp/p.md5'"
[[ $(grep -vc '^#' "$tmp/p.md5") = 4 ]] || fail "ffmpeg read back $(grep -vc '^#' "$tmp/p.md5") frames from the pipe, wanted 4"

if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
