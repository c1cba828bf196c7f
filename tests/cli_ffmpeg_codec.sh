#!/usr/bin/env bash
# The liblwc FFmpeg codec (tools/ffmpeg/liblwc.c) in an FFmpeg built by
# tools/ffmpeg/build-ffmpeg.sh (cached in BUILD/ffmpeg; built on first use):
# testsrc2 -> -c:v liblwc -> MKV and NUT; ffprobe names the codec; every
# packet is byte-identical with `lwc encode` of the same frame; ffmpeg's
# decode equals `lwc decode` of the packets; damaged packets are reported
# and skipped; gray and RGBA frames; init errors. Run by ctest:
#   bash tests/cli_ffmpeg_codec.sh PATH_TO_LWC BUILD_DIR
# Exit 77 (skipped) when FFmpeg cannot be built here (no source) or for a
# sanitizer build. LWC_VIDEO_NO_FFMPEG_BUILD=1 skips building FFmpeg (uses
# it only if present).
set -u -o pipefail
LWC=${1:?lwc path}; BUILD=${2:?build dir}
[[ $LWC = /* ]] || LWC=$PWD/$LWC
[[ $BUILD = /* ]] || BUILD=$PWD/$BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_ffmpeg_codec.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
skip() { echo "SKIP: $*"; exit 77; }

# ---------------------------------------------------------------- FFmpeg
if grep -q '^LWC_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
  skip "sanitizer build (the codec is tested with the plain build)"
fi
FF=$BUILD/ffmpeg/ffmpeg
FP=$BUILD/ffmpeg/ffprobe
if [[ ${LWC_VIDEO_NO_FFMPEG_BUILD:-0} = 1 ]]; then
  [[ -x $FF ]] || skip "no $FF and LWC_VIDEO_NO_FFMPEG_BUILD=1"
else
  [[ -x $FF ]] || echo "building FFmpeg with lwc (first time only; log: $BUILD/ffmpeg/build.log)"
  t0=$SECONDS rc=0
  bash "$ROOT/tools/ffmpeg/build-ffmpeg.sh" --build "$BUILD" --quiet > "$tmp/ffbuild.txt" 2>&1 || rc=$?
  [[ $rc = 3 ]] && skip "$(tail -n 1 "$tmp/ffbuild.txt")"
  [[ $rc = 0 ]] || { echo "FAIL: build-ffmpeg.sh failed: $(tail -n 5 "$tmp/ffbuild.txt")"; exit 1; }
  echo "ffmpeg build step: $((SECONDS - t0)) s"
fi
[[ $("$FF" -hide_banner -h encoder=liblwc 2>&1) = *"Encoder liblwc"* ]] ||
  { echo "FAIL: $FF has no liblwc encoder (stale build? rerun tools/ffmpeg/build-ffmpeg.sh)"; exit 1; }

"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 7 || { echo "FAIL: cannot make a test model"; exit 1; }
"$BUILD/tests/lwc_test_mkmodel" "$tmp/other.lwcm" 8 || exit 1
M=$tmp/m.lwcm
export LWC_MODEL=$M
W=128 H=96 N=10 Q=60
fs=$((W * H * 3))
src="testsrc2=s=${W}x${H}:r=10"
ff() { "$FF" -nostdin -hide_banner -v error "$@"; }

# expect CODE NAME -- command...: the exit code (stdout/stderr kept in out.txt/err.txt)
expect() {
  local code=$1 name=$2; shift 3
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"; local rc=$?
  [[ $rc = "$code" ]] || { fail "$name: exit $rc, wanted $code ($(head -c 400 "$tmp/err.txt"))"; return 1; }
  ok "$name"
}

# ---------------------------------------------------------------- encode
# the input frames as PNG (what `lwc encode` reads) and as raw RGB24
expect 0 "testsrc2 frames to png" -- ff -f lavfi -i "$src" -frames:v $N -pix_fmt rgb24 "$tmp/f%02d.png"
expect 0 "encode to mkv" -- ff -f lavfi -i "$src" -frames:v $N -pix_fmt rgb24 -c:v liblwc -quality $Q -model "$M" "$tmp/out.mkv"
expect 0 "encode to nut" -- ff -f lavfi -i "$src" -frames:v $N -pix_fmt rgb24 -c:v liblwc -quality $Q -threads 2 "$tmp/out.nut"

for c in mkv nut; do
  probe=$("$FP" -v error -count_packets -select_streams v:0 \
    -show_entries stream=codec_name,codec_tag_string,width,height,pix_fmt,nb_read_packets -of csv=p=0 "$tmp/out.$c")
  case $c in
    mkv) want="lwc,[0][0][0][0],$W,$H,rgb24,$N" ;;
    nut) want="lwc,LWC1,$W,$H,rgb24,$N" ;;
  esac
  [[ $probe = "$want" ]] && ok "ffprobe $c: $probe" || fail "ffprobe reads out.$c as '$probe', wanted '$want'"
done
"$FP" -v error -show_entries stream=codec_long_name -of csv=p=0 "$tmp/out.mkv" | grep -q "lwc learned image codec" ||
  fail "ffprobe does not give the codec's long name"
# every packet a key frame
kf=$("$FP" -v error -select_streams v:0 -show_entries packet=flags -of csv=p=0 "$tmp/out.mkv" | grep -c '^K')
[[ $kf = "$N" ]] && ok "$N key frames" || fail "$kf of $N packets are key frames"

# ---------------------------------------------------------------- packets = lwc encode
# -c copy into image2 writes each packet to its own file: one .lwc stream each
mkdir -p "$tmp/pm" "$tmp/pn" "$tmp/cli"
expect 0 "mkv packets to files" -- ff -i "$tmp/out.mkv" -c copy -f image2 "$tmp/pm/p%02d.lwc"
expect 0 "nut packets to files" -- ff -i "$tmp/out.nut" -c copy -f image2 "$tmp/pn/p%02d.lwc"
same=0
for ((i = 1; i <= N; i++)); do
  n=$(printf %02d $i)
  "$LWC" encode "$tmp/f$n.png" -o "$tmp/cli/c$n.lwc" -q $Q --model "$M" --quiet || { fail "lwc encode f$n.png"; continue; }
  if cmp -s "$tmp/cli/c$n.lwc" "$tmp/pm/p$n.lwc" && cmp -s "$tmp/cli/c$n.lwc" "$tmp/pn/p$n.lwc"; then
    same=$((same + 1))
  else
    fail "frame $i: packet ($(stat -c %s "$tmp/pm/p$n.lwc" 2>/dev/null) bytes) differs from lwc encode ($(stat -c %s "$tmp/cli/c$n.lwc") bytes)"
  fi
done
[[ $same = "$N" ]] && ok "all $N MKV and NUT packets are byte-identical with lwc encode -q $Q"

# the lwc filter's .lwcv holds the same streams: u32 length + packet per frame
le32() { local n=$1 b=""; for s in 0 8 16 24; do b="$b\\$(printf %03o $(((n >> s) & 255)))"; done; printf "$b"; }
expect 0 "filter on the same frames" -- ff -f lavfi -i "$src" -frames:v $N -vf "format=rgb24,lwc=model=$M:quality=$Q:bitstream=$tmp/f.lwcv" -f null -
for ((i = 1; i <= N; i++)); do
  n=$(printf %02d $i); le32 "$(stat -c %s "$tmp/pm/p$n.lwc")"; cat "$tmp/pm/p$n.lwc"
done > "$tmp/packets.bin"
cmp -s <(tail -c +49 "$tmp/f.lwcv") "$tmp/packets.bin" && ok "the lwc filter's .lwcv carries the same $N streams" ||
  fail "the filter's .lwcv packets differ from the codec's"

# ---------------------------------------------------------------- decode = lwc decode
expect 0 "decode mkv" -- ff -i "$tmp/out.mkv" -f rawvideo -pix_fmt rgb24 "$tmp/mkv.rgb"
expect 0 "decode nut (-model)" -- ff -model "$M" -i "$tmp/out.nut" -f rawvideo -pix_fmt rgb24 "$tmp/nut.rgb"
: > "$tmp/cli.rgb"
for ((i = 1; i <= N; i++)); do
  n=$(printf %02d $i)
  "$LWC" decode "$tmp/pm/p$n.lwc" -o "$tmp/d.ppm" --model "$M" --quiet || fail "lwc decode p$n.lwc"
  tail -c $fs "$tmp/d.ppm" >> "$tmp/cli.rgb"
done
[[ $(stat -c %s "$tmp/cli.rgb") = $((N * fs)) ]] || fail "lwc decode gave $(stat -c %s "$tmp/cli.rgb") bytes"
cmp -s "$tmp/mkv.rgb" "$tmp/cli.rgb" && ok "ffmpeg's MKV decode = lwc decode of the packets ($N frames)" ||
  fail "ffmpeg's MKV decode differs from lwc decode"
cmp -s "$tmp/nut.rgb" "$tmp/cli.rgb" && ok "ffmpeg's NUT decode = lwc decode" || fail "ffmpeg's NUT decode differs from lwc decode"
# to FFV1 and back: the frames stay the same (a lossless hop)
expect 0 "mkv -> ffv1" -- ff -i "$tmp/out.mkv" -c:v ffv1 "$tmp/back.mkv"
ff -i "$tmp/back.mkv" -f rawvideo -pix_fmt rgb24 "$tmp/back.rgb"
cmp -s "$tmp/back.rgb" "$tmp/cli.rgb" && ok "ffv1 copy keeps the frames" || fail "ffv1 copy changed the frames"

# ---------------------------------------------------------------- damaged packets
# frame 4 cut in half, frame 7 with bytes flipped in the middle, frame 9 not an
# lwc stream at all: re-muxed from the packet files with the image2 demuxer
mkdir -p "$tmp/bad"; cp "$tmp"/pm/p*.lwc "$tmp/bad/"
s4=$(stat -c %s "$tmp/pm/p04.lwc"); head -c $((s4 / 2)) "$tmp/pm/p04.lwc" > "$tmp/bad/p04.lwc"
s7=$(stat -c %s "$tmp/pm/p07.lwc")
{ head -c $((s7 / 2)) "$tmp/pm/p07.lwc"; printf '\x55\xaa\x55\xaa'; tail -c +$((s7 / 2 + 5)) "$tmp/pm/p07.lwc"; } > "$tmp/bad/p07.lwc"
head -c 300 /dev/urandom > "$tmp/bad/p09.lwc"
expect 0 "re-mux damaged packets" -- ff -f image2 -framerate 10 -c:v liblwc -i "$tmp/bad/p%02d.lwc" -c copy "$tmp/bad.mkv"
expect 0 "re-mux good packets" -- ff -f image2 -framerate 10 -c:v liblwc -i "$tmp/pm/p%02d.lwc" -c copy "$tmp/good.mkv"
cmp -s <(ff -i "$tmp/good.mkv" -f rawvideo -pix_fmt rgb24 -) "$tmp/cli.rgb" || fail "re-muxed packets decode differently"
"$FF" -nostdin -hide_banner -v error -i "$tmp/bad.mkv" -fps_mode passthrough -f framemd5 "$tmp/bad.md5" 2> "$tmp/bad.err"
rc=$?
[[ $rc = 0 ]] || fail "damaged packets: ffmpeg exit $rc, wanted 0 (it goes on after a bad frame): $(head -c 400 "$tmp/bad.err")"
nerr=$(grep -c "Error while decoding\|Invalid data" "$tmp/bad.err")
[[ $nerr -ge 3 ]] || fail "damaged packets: $nerr errors reported, wanted 3: $(cat "$tmp/bad.err")"
grep -q "liblwc" "$tmp/bad.err" || fail "damaged packets: the decoder's own message is missing: $(cat "$tmp/bad.err")"
ff -i "$tmp/good.mkv" -fps_mode passthrough -f framemd5 "$tmp/good.md5"
diff <(grep -v '^#' "$tmp/bad.md5" | awk -F, '{ print $NF }') \
     <(grep -v '^#' "$tmp/good.md5" | awk -F, 'NR != 4 && NR != 7 && NR != 9 { print $NF }') > /dev/null &&
  [[ $(grep -vc '^#' "$tmp/bad.md5") = $((N - 3)) ]] && ok "3 damaged packets reported and skipped, the other $((N - 3)) frames exact" ||
  fail "damaged packets: the good frames do not come through intact ($(grep -vc '^#' "$tmp/bad.md5") frames)"
# a cut file: fewer frames, no crash
head -c $(( $(stat -c %s "$tmp/out.nut") * 2 / 3 )) "$tmp/out.nut" > "$tmp/cut.nut"
"$FF" -nostdin -v error -i "$tmp/cut.nut" -f null - 2> "$tmp/cut.err"; rc=$?
[[ $rc -lt 128 ]] && ok "cut file: exit $rc, no crash" || fail "cut file: ffmpeg died (exit $rc)"
# another model: every frame refused with a clear message, no crash
"$FF" -nostdin -v error -model "$tmp/other.lwcm" -i "$tmp/out.mkv" -f null - 2> "$tmp/model.err"; rc=$?
[[ $rc -lt 128 ]] && grep -q "coded with model" "$tmp/model.err" && ok "wrong model refused ($rc)" ||
  fail "wrong model: exit $rc: $(head -c 400 "$tmp/model.err")"

# ---------------------------------------------------------------- gray, RGBA
expect 0 "encode gray" -- ff -f lavfi -i "$src" -frames:v 2 -pix_fmt gray -c:v liblwc -quality $Q "$tmp/gray.nut"
expect 0 "decode gray" -- ff -i "$tmp/gray.nut" -f rawvideo "$tmp/gray.raw"
[[ $(stat -c %s "$tmp/gray.raw") = $((2 * W * H)) ]] && ok "gray frames stay 1 channel" || fail "gray decode: $(stat -c %s "$tmp/gray.raw") bytes"
ff -f lavfi -i "$src" -frames:v 1 -pix_fmt gray "$tmp/g.png"
ff -i "$tmp/gray.nut" -frames:v 1 -c copy -f image2 "$tmp/g.lwc"
"$LWC" encode "$tmp/g.png" -o "$tmp/gc.lwc" -q $Q --quiet && cmp -s "$tmp/g.lwc" "$tmp/gc.lwc" && ok "gray packet = lwc encode" ||
  fail "gray packet differs from lwc encode"
expect 0 "encode rgba" -- ff -f lavfi -i "$src" -frames:v 2 -pix_fmt rgba -c:v liblwc -quality $Q "$tmp/rgba.mkv"
expect 0 "decode rgba" -- ff -i "$tmp/rgba.mkv" -f rawvideo "$tmp/rgba.raw"
[[ $(stat -c %s "$tmp/rgba.raw") = $((2 * W * H * 4)) ]] && ok "rgba frames stay 4 channels" || fail "rgba decode: $(stat -c %s "$tmp/rgba.raw") bytes"

# ---------------------------------------------------------------- options and init errors
expect 0 "effort 1" -- ff -f lavfi -i "$src" -frames:v 1 -pix_fmt rgb24 -c:v liblwc -quality $Q -effort 1 "$tmp/e1.nut"
ff -i "$tmp/e1.nut" -c copy -f image2 "$tmp/e1.lwc"
"$LWC" encode "$tmp/f01.png" -o "$tmp/e1c.lwc" -q $Q -e 1 --quiet && cmp -s "$tmp/e1.lwc" "$tmp/e1c.lwc" && ok "effort 1 packet = lwc encode -e 1" ||
  fail "effort 1 packet differs from lwc encode -e 1"
expect_err() { # NAME PATTERN -- args
  local name=$1 pat=$2; shift 3
  "$FF" -nostdin -hide_banner -v error "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"; local rc=$?
  [[ $rc != 0 && $rc -lt 128 ]] || { fail "$name: exit $rc"; return; }
  grep -q "$pat" "$tmp/err.txt" && ok "$name" || fail "$name: no '$pat' in: $(head -c 400 "$tmp/err.txt")"
}
LWC_MODEL='' expect_err "missing model" "cannot load the lwc model" -- -f lavfi -i "$src" -frames:v 1 -c:v liblwc -model "$tmp/none.lwcm" -f null -
expect_err "bad model file" "cannot load the lwc model" -- -f lavfi -i "$src" -frames:v 1 -c:v liblwc -model "$tmp/f01.png" -f null -
expect_err "quality range" "quality" -- -f lavfi -i "$src" -frames:v 1 -c:v liblwc -quality 101 -f null -
expect_err "effort range" "effort" -- -f lavfi -i "$src" -frames:v 1 -c:v liblwc -effort 10 -f null -

# ---------------------------------------------------------------- valgrind
# encode, decode with damaged packets, a failing init: no errors, no definite leaks
if command -v valgrind >/dev/null && [[ -x $BUILD/ffmpeg/ffmpeg_g ]]; then
  vg=(env OPENBLAS_NUM_THREADS=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
      "$BUILD/ffmpeg/ffmpeg_g" -nostdin -v error)
  "${vg[@]}" -f lavfi -i testsrc2=s=48x32:r=5 -frames:v 2 -c:v liblwc -threads 2 "$tmp/vg.nut" > "$tmp/vg.txt" 2>&1
  [[ $? = 0 ]] && ok "valgrind: encode" || fail "valgrind: encode: $(head -c 1500 "$tmp/vg.txt")"
  "${vg[@]}" -i "$tmp/bad.mkv" -f null - > "$tmp/vg.txt" 2>&1
  [[ $? = 0 ]] && ok "valgrind: decode with damaged packets" || fail "valgrind: decode: $(head -c 1500 "$tmp/vg.txt")"
  "${vg[@]}" -f lavfi -i testsrc2=s=48x32:r=5 -frames:v 1 -c:v liblwc -model "$tmp/none.lwcm" -f null - > "$tmp/vg.txt" 2>&1
  [[ $? != 99 ]] && ok "valgrind: failing init" || fail "valgrind: failing init: $(head -c 1500 "$tmp/vg.txt")"
else
  echo "SKIP valgrind: valgrind or ffmpeg_g not available"
fi

echo "$SECONDS s"
if [[ $fails = 0 ]]; then echo "1 passed, 0 failed"; exit 0; fi
echo "0 passed, 1 failed ($fails checks)"; exit 1
