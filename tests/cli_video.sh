#!/usr/bin/env bash
# Video: Y4M <-> .lwcv with the CLI (files, pipes, every colour space, errors)
# and, with an FFmpeg built by tools/ffmpeg/build-ffmpeg.sh (cached in
# BUILD/ffmpeg; built on first use), the lwc filter: metadata on every frame,
# its PSNR against `lwc compare`, its .lwcv against `lwc decode`, an H.264
# file through the filter into FFV1/MKV, init errors, valgrind. Run by ctest:
#   bash tests/cli_video.sh PATH_TO_LWC BUILD_DIR
# LWC_VIDEO_NO_FFMPEG_BUILD=1 skips building FFmpeg (uses it only if present).
set -u -o pipefail
LWC=${1:?lwc path}; BUILD=${2:?build dir}
[[ $LWC = /* ]] || LWC=$PWD/$LWC
[[ $BUILD = /* ]] || BUILD=$PWD/$BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_video.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 7 || { echo "FAIL: cannot make a test model"; exit 1; }
"$BUILD/tests/lwc_test_mkmodel" "$tmp/other.lwcm" 8 || exit 1
export LWC_MODEL=$tmp/m.lwcm

# y4m W H C N FILE: a Y4M with N frames of pseudo-random samples (printf + head).
y4m() {
  local w=$1 h=$2 c=$3 n=$4 f=$5 cw ch
  case $c in
    mono) cw=0; ch=0 ;;
    444) cw=$w; ch=$h ;;
    422) cw=$(( (w + 1) / 2 )); ch=$h ;;
    *) cw=$(( (w + 1) / 2 )); ch=$(( (h + 1) / 2 )) ;;
  esac
  { printf 'YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C%s\n' "$w" "$h" "$c"
    for ((i = 0; i < n; i++)); do printf 'FRAME\n'; head -c $(( w * h + 2 * cw * ch )) /dev/urandom; done; } > "$f"
}

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

# ---------------------------------------------------------------- CLI
y4m 48 32 420jpeg 3 "$tmp/a.y4m"
expect 0 "encode y4m" -- "$LWC" encode "$tmp/a.y4m" -o "$tmp/a.lwcv" -q 40
grep -q "3 frame(s)" "$tmp/out.txt" || fail "encode summary does not count frames: $(cat "$tmp/out.txt")"
expect 0 "info lwcv" -- "$LWC" info "$tmp/a.lwcv"
grep -q "48x32 at 25/1 fps, source 420jpeg" "$tmp/out.txt" || fail "info: no sequence header: $(cat "$tmp/out.txt")"
[[ $(grep -c '^  frame [0-9]*: [0-9]* bytes' "$tmp/out.txt") = 3 ]] || fail "info: not 3 frame lines"
grep -q "frame count: 3$" "$tmp/out.txt" || fail "info: frame count not patched into the header"
expect 0 "info lwcv json" -- "$LWC" info "$tmp/a.lwcv" --json
grep -q '"frame_count": 3, "frames": 3' "$tmp/out.txt" || fail "info --json: $(cat "$tmp/out.txt")"
expect 0 "encode y4m effort 3" -- "$LWC" encode "$tmp/a.y4m" -o "$tmp/e3.lwcv" -q 40 -e 3
expect 0 "decode y4m effort 3" -- "$LWC" decode "$tmp/e3.lwcv" -o "$tmp/e3.y4m"
expect 0 "decode to y4m" -- "$LWC" decode "$tmp/a.lwcv" -o "$tmp/a_dec.y4m"
[[ $(head -n 1 "$tmp/a_dec.y4m") = "YUV4MPEG2 W48 H32 F25:1 Ip C420jpeg" ]] || fail "decoded header: $(head -n 1 "$tmp/a_dec.y4m")"
[[ $(stat -c %s "$tmp/a_dec.y4m") = $(( 36 + 3 * (6 + 48 * 32 * 3 / 2) )) ]] || fail "decoded y4m has the wrong size"
expect 0 "decode to raw rgb" -- "$LWC" decode "$tmp/a.lwcv" -o "$tmp/a.rgb"
[[ $(stat -c %s "$tmp/a.rgb") = $(( 3 * 48 * 32 * 3 )) ]] || fail "raw rgb has the wrong size"

# pipes both ways give the same bytes as files
expect 0 "pipes" -- bash -c "cat '$tmp/a.y4m' | '$LWC' encode - -o - -q 40 --quiet | '$LWC' decode - -o - --quiet > '$tmp/p.y4m'"
cmp -s "$tmp/p.y4m" "$tmp/a_dec.y4m" || fail "pipe round trip differs from the file round trip"
"$LWC" encode - -o - -q 40 --quiet < "$tmp/a.y4m" > "$tmp/p.lwcv"
expect 0 "info pipe-written" -- "$LWC" info "$tmp/p.lwcv"
grep -q "unknown" "$tmp/out.txt" || fail "a stream written to a pipe should have frame count 0 (unknown)"
cmp -s <(tail -c +49 "$tmp/p.lwcv") <(tail -c +49 "$tmp/a.lwcv") || fail "pipe and file streams differ beyond the header"

for c in mono 444 422 420mpeg2 420paldv 420; do
  y4m 17 9 "$c" 2 "$tmp/c.y4m"
  expect 0 "C$c round trip" -- bash -c "'$LWC' encode '$tmp/c.y4m' -o - --quiet | '$LWC' decode - -o '$tmp/c_dec.y4m' --quiet"
  [[ $(head -n 1 "$tmp/c_dec.y4m") = "YUV4MPEG2 W17 H9 F25:1 Ip C$c" ]] || fail "C$c: decoded header $(head -n 1 "$tmp/c_dec.y4m")"
  [[ $(stat -c %s "$tmp/c_dec.y4m") = $(( $(stat -c %s "$tmp/c.y4m") - 5 )) ]] || fail "C$c: decoded size differs (A1:1 is not written back)"
done
y4m 17 9 mono 1 "$tmp/g.y4m"; "$LWC" encode "$tmp/g.y4m" -o "$tmp/g.lwcv" --quiet
"$LWC" info "$tmp/g.lwcv" | grep -q "coded as gray" || fail "Cmono not coded as gray"
expect 0 "bpp target per frame" -- "$LWC" encode "$tmp/a.y4m" -o "$tmp/t.lwcv" --bpp 2 -v
[[ $(grep -c '^  frame' "$tmp/out.txt") = 3 ]] || fail "-v does not list every frame"

if command -v ffmpeg >/dev/null; then
  expect 0 "system ffmpeg y4m pipe in" -- bash -c "ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=64x48:r=5 -frames:v 4 -pix_fmt yuv420p -f yuv4mpegpipe - | '$LWC' encode - -o '$tmp/ff.lwcv' --quiet"
  expect 0 "system ffmpeg y4m pipe out" -- bash -c "'$LWC' decode '$tmp/ff.lwcv' -o - --quiet | ffmpeg -nostdin -v error -i - -f framemd5 '$tmp/ff.md5'"
  [[ $(grep -vc '^#' "$tmp/ff.md5") = 4 ]] || fail "ffmpeg read back $(grep -vc '^#' "$tmp/ff.md5") frames, wanted 4"
else
  echo "SKIP system ffmpeg pipes: ffmpeg not installed"
fi

# errors: one line, exit 1 (2 for usage), no output file left behind
head -c 300 "$tmp/a.lwcv" > "$tmp/trunc.lwcv"
expect 1 "truncated lwcv" -- "$LWC" decode "$tmp/trunc.lwcv" -o "$tmp/x.y4m"
grep -q "frame [0-9]*: truncated" "$tmp/err.txt" || fail "truncated: $(cat "$tmp/err.txt")"
head -c 48 "$tmp/a.lwcv" > "$tmp/hdronly.lwcv"
expect 1 "frames missing" -- "$LWC" decode "$tmp/hdronly.lwcv" -o "$tmp/x.y4m"
grep -q "announces 3 frames" "$tmp/err.txt" || fail "frames missing: $(cat "$tmp/err.txt")"
expect 1 "truncated lwcv info" -- "$LWC" info "$tmp/trunc.lwcv"
{ head -c 48 "$tmp/a.lwcv"; printf '\xff\xff\xff\x7f'; tail -c +53 "$tmp/a.lwcv"; } > "$tmp/len.lwcv"
expect 1 "packet length over the cap" -- "$LWC" decode "$tmp/len.lwcv" -o "$tmp/x.y4m"
{ head -c 9 "$tmp/a.lwcv"; printf '\x01'; tail -c +11 "$tmp/a.lwcv"; } > "$tmp/crc.lwcv"
expect 1 "header crc" -- "$LWC" decode "$tmp/crc.lwcv" -o "$tmp/x.y4m"
expect 1 "wrong model" -- "$LWC" decode "$tmp/a.lwcv" -o "$tmp/x.y4m" --model "$tmp/other.lwcm"
grep -q "needs model" "$tmp/err.txt" || fail "wrong model: $(cat "$tmp/err.txt")"
expect 2 "lwcv to png refused" -- "$LWC" decode "$tmp/a.lwcv" -o "$tmp/x.png"
"$LWC" encode "$ROOT/docs/sample.png" -o "$tmp/s.lwc" --quiet
expect 2 "--format y4m for an image" -- "$LWC" decode "$tmp/s.lwc" -o "$tmp/x.y4m" --format y4m
printf 'YUV4MPEG2 W16 H16 F25:1 C420p10\nFRAME\n' > "$tmp/deep.y4m"
expect 1 "10-bit y4m" -- "$LWC" encode "$tmp/deep.y4m" -o "$tmp/x.lwcv"
grep -q "not supported" "$tmp/err.txt" || fail "10-bit: $(cat "$tmp/err.txt")"
printf 'YUV4MPEG2 W16 H16 F25:1\n' > "$tmp/empty.y4m"
expect 1 "no frames" -- "$LWC" encode "$tmp/empty.y4m" -o "$tmp/x.lwcv"
head -c 1000 "$tmp/a.y4m" > "$tmp/cut.y4m"
expect 1 "cut y4m frame" -- "$LWC" encode "$tmp/cut.y4m" -o "$tmp/x.lwcv"
printf 'YUV4MPEG2 H16\n' > "$tmp/now.y4m"
expect 1 "y4m without W" -- bash -c "cat '$tmp/now.y4m' | '$LWC' encode - -o '$tmp/x.lwcv'"
ls "$tmp" | grep -q '^x\.' && fail "a failed command left a file: $(ls "$tmp" | grep '^x\.')"
# image input through stdin still works after the Y4M peek
expect 0 "png through stdin" -- bash -c "'$LWC' encode - -o '$tmp/s2.lwc' --quiet < '$ROOT/docs/sample.png'"
cmp -s "$tmp/s.lwc" "$tmp/s2.lwc" || fail "png from stdin codes differently"

# ---------------------------------------------------------------- FFmpeg filter
ffmpeg_part() {
  if grep -q '^LWC_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "SKIP filter: sanitizer build (the filter is tested with the plain build)"; return 0
  fi
  local FF=$BUILD/ffmpeg/ffmpeg
  if [[ ! -x $FF && ${LWC_VIDEO_NO_FFMPEG_BUILD:-0} = 1 ]]; then
    echo "SKIP filter: no $FF and LWC_VIDEO_NO_FFMPEG_BUILD=1"; return 0
  fi
  if [[ ${LWC_VIDEO_NO_FFMPEG_BUILD:-0} != 1 ]]; then
    [[ -x $FF ]] || echo "building FFmpeg with the lwc filter (first time only; log: $BUILD/ffmpeg/build.log)"
    local t0=$SECONDS rc=0
    bash "$ROOT/tools/ffmpeg/build-ffmpeg.sh" --build "$BUILD" --quiet > "$tmp/ffbuild.txt" 2>&1 || rc=$?
    if [[ $rc = 3 ]]; then echo "SKIP filter: $(tail -n 1 "$tmp/ffbuild.txt")"; return 0; fi
    if [[ $rc != 0 ]]; then fail "build-ffmpeg.sh failed: $(tail -n 5 "$tmp/ffbuild.txt")"; return 0; fi
    echo "ffmpeg build step: $((SECONDS - t0)) s"
  fi
  local M=$tmp/m.lwcm W=96 H=64 N=5 fs=$((96 * 64 * 3))
  local src="testsrc2=s=${W}x${H}:r=10"
  # reference input frames as the filter sees them, and the filter's output
  "$FF" -nostdin -v error -f lavfi -i "$src" -frames:v $N -vf format=rgb24 -f rawvideo "$tmp/in.rgb" ||
    { fail "ffmpeg cannot make testsrc2 frames"; return 0; }
  expect 0 "filter on testsrc2" -- "$FF" -nostdin -v error -f lavfi -i "$src" -frames:v $N \
    -vf "format=rgb24,lwc=model=$M:quality=60:bitstream=$tmp/f.lwcv:stats_file=$tmp/f.csv,metadata=mode=print:file=$tmp/meta.txt" \
    -f rawvideo -pix_fmt rgb24 "$tmp/filter.rgb"
  for k in bytes bpp psnr; do
    [[ $(grep -c "^lavfi.lwc.$k=" "$tmp/meta.txt") = $N ]] || fail "lavfi.lwc.$k is not on every frame: $(cat "$tmp/meta.txt")"
  done
  [[ $(wc -l < "$tmp/f.csv") = $((N + 1)) ]] || fail "stats_file has $(wc -l < "$tmp/f.csv") lines"
  # PSNR in the metadata = lwc compare on the same frames
  local i
  for ((i = 0; i < N; i++)); do
    { printf 'P6\n%d %d\n255\n' $W $H; tail -c +$((i * fs + 1)) "$tmp/in.rgb" | head -c $fs; } > "$tmp/in$i.ppm"
    { printf 'P6\n%d %d\n255\n' $W $H; tail -c +$((i * fs + 1)) "$tmp/filter.rgb" | head -c $fs; } > "$tmp/out$i.ppm"
    local want got
    want=$("$LWC" compare "$tmp/in$i.ppm" "$tmp/out$i.ppm" --csv | tail -n 1 | cut -d, -f1)
    got=$(awk -v f=$i '/^frame:/ { split($1, a, ":"); n = a[2] } /^lavfi.lwc.psnr=/ && n == f { sub(/.*=/, ""); print }' "$tmp/meta.txt")
    awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d < 0.001 && d > -0.001) }' ||
      fail "frame $i: metadata PSNR '$got' vs lwc compare '$want'"
  done
  ok "metadata PSNR matches lwc compare on $N frames"
  # the filter's .lwcv decodes to exactly the frames it output
  expect 0 "info filter lwcv" -- "$LWC" info "$tmp/f.lwcv"
  grep -q "frame count: $N$" "$tmp/out.txt" && grep -q "source rgb" "$tmp/out.txt" || fail "filter lwcv info: $(cat "$tmp/out.txt")"
  expect 0 "decode filter lwcv" -- "$LWC" decode "$tmp/f.lwcv" -o "$tmp/dec.rgb"
  "$FF" -nostdin -v error -f rawvideo -pix_fmt rgb24 -s ${W}x${H} -i "$tmp/dec.rgb" -f framemd5 "$tmp/dec.md5"
  "$FF" -nostdin -v error -f lavfi -i "$src" -frames:v $N -vf "format=rgb24,lwc=model=$M:quality=60" \
    -pix_fmt rgb24 -f framemd5 "$tmp/filt.md5"
  diff <(grep -v '^#' "$tmp/dec.md5" | awk -F, '{ print $NF }') <(grep -v '^#' "$tmp/filt.md5" | awk -F, '{ print $NF }') > /dev/null &&
    [[ $(grep -vc '^#' "$tmp/dec.md5") = $N ]] || fail "lwc decode of the filter's .lwcv differs from the filter output (framemd5)"
  cmp -s "$tmp/dec.rgb" "$tmp/filter.rgb" || fail "lwc decode of the filter's .lwcv differs from the filter output (raw bytes)"
  ok "filter .lwcv decodes to the filter's frames (framemd5 and raw bytes)"
  expect 0 "filter effort 3" -- "$FF" -nostdin -v error -f lavfi -i "$src" -frames:v 2 \
    -vf "format=rgb24,lwc=model=$M:quality=60:effort=3:bitstream=$tmp/e3.lwcv" -f rawvideo -pix_fmt rgb24 "$tmp/e3.rgb"
  expect 0 "decode filter effort 3" -- "$LWC" decode "$tmp/e3.lwcv" -o "$tmp/e3dec.rgb"
  cmp -s "$tmp/e3dec.rgb" "$tmp/e3.rgb" || fail "effort 3: lwc decode of the filter's .lwcv differs from the filter output"
  # a .lwcv written to a pipe-like path keeps frame count 0; a Y4M of it plays in ffmpeg
  expect 0 "filter lwcv to y4m" -- bash -c "'$LWC' decode '$tmp/f.lwcv' -o - --quiet | '$FF' -nostdin -v error -i - -f null -"
  # a real H.264 file through the filter into FFV1/MKV, played back by the system ffprobe
  if command -v ffmpeg >/dev/null && [[ $(ffmpeg -hide_banner -encoders 2>/dev/null) = *libx264* ]]; then
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=128x96:r=25 -frames:v 8 -c:v libx264 -pix_fmt yuv420p "$tmp/h264.mp4" ||
      fail "system ffmpeg could not make an H.264 file"
    expect 0 "h264 -> lwc -> ffv1/mkv" -- "$FF" -nostdin -v error -i "$tmp/h264.mp4" -vf "lwc=model=$M:quality=50" -c:v ffv1 "$tmp/out.mkv"
    local probe
    probe=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$tmp/out.mkv")
    [[ $probe = "ffv1,128,96,8" ]] || fail "system ffprobe reads the MKV as '$probe', wanted ffv1,128,96,8"
    expect 0 "system ffmpeg decodes the mkv" -- ffmpeg -nostdin -v error -i "$tmp/out.mkv" -f null -
  else
    echo "SKIP h264: the system ffmpeg has no libx264 encoder"
  fi
  # init errors fail the graph with one clear message
  expect_ff() { # NAME PATTERN -- args
    local name=$1 pat=$2; shift 3
    "$FF" -nostdin -v error -f lavfi -i "$src" -frames:v 1 "$@" -f null - > "$tmp/out.txt" 2> "$tmp/err.txt"
    local rc=$?
    [[ $rc != 0 ]] || { fail "$name: ffmpeg succeeded"; return; }
    grep -q "$pat" "$tmp/err.txt" || { fail "$name: no '$pat' in: $(head -c 400 "$tmp/err.txt")"; return; }
    ok "$name"
  }
  LWC_MODEL= expect_ff "filter: missing model" "cannot load the lwc model" -- -vf "lwc=model=$tmp/none.lwcm"
  expect_ff "filter: bad model" "cannot load the lwc model" -- -vf "lwc=model=$tmp/in.rgb"
  expect_ff "filter: quality range" "out of range" -- -vf "lwc=model=$M:quality=101"
  expect_ff "filter: effort range" "out of range" -- -vf "lwc=model=$M:effort=10"
  expect_ff "filter: unwritable bitstream" "cannot open the bitstream" -- -vf "lwc=model=$M:bitstream=$tmp/no/such/dir/x.lwcv"
  expect_ff "filter: unwritable stats" "cannot open the stats file" -- -vf "lwc=model=$M:stats_file=$tmp/no/such/dir/x.csv"
  # valgrind: a coding run and a failing init, no errors and no definite leaks
  if command -v valgrind >/dev/null && [[ -x $BUILD/ffmpeg/ffmpeg_g ]]; then
    local vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
    OPENBLAS_NUM_THREADS=1 "${vg[@]}" "$BUILD/ffmpeg/ffmpeg_g" -nostdin -v error -f lavfi -i testsrc2=s=48x32:r=5 -frames:v 2 \
      -vf "lwc=model=$M:bitstream=$tmp/vg.lwcv:stats_file=$tmp/vg.csv" -f null - > "$tmp/vg.txt" 2>&1
    [[ $? = 0 ]] && ok "valgrind: filter run" || fail "valgrind: filter run: $(head -c 1500 "$tmp/vg.txt")"
    OPENBLAS_NUM_THREADS=1 "${vg[@]}" "$BUILD/ffmpeg/ffmpeg_g" -nostdin -v error -f lavfi -i testsrc2=s=48x32:r=5 -frames:v 1 \
      -vf "lwc=model=$M:bitstream=$tmp/no/such/x.lwcv" -f null - > "$tmp/vg.txt" 2>&1
    [[ $? != 99 ]] && ok "valgrind: failing init" || fail "valgrind: failing init: $(head -c 1500 "$tmp/vg.txt")"
  else
    echo "SKIP valgrind: valgrind or ffmpeg_g not available"
  fi
}
ffmpeg_part

if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
