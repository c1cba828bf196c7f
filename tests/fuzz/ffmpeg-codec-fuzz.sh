#!/usr/bin/env bash
# Build and run fuzz_ffmpeg_codec.c, the harness of the FFmpeg decoder
# wrapper (tools/ffmpeg/liblwc.c), against the static FFmpeg of
# tools/ffmpeg/build-ffmpeg.sh (BUILD_DIR/ffmpeg/src, built on first use).
#
#   bash tests/fuzz/ffmpeg-codec-fuzz.sh [BUILD_DIR]
#
# FUZZ_SECONDS=0 (default): cc build linked with replay.c; replays the seed
#   corpus tests/fuzz/corpus/decode and the packets of a small MKV made with
#   -c:v liblwc (under valgrind when it is installed).
# FUZZ_SECONDS=N: clang libFuzzer + ASan + UBSan for N seconds. The wrapper
#   and liblwc are compiled instrumented (liblwc from the clang tree
#   BUILD_DIR-fuzz, as tests/cli_fuzz.sh makes it); FFmpeg's own code is not.
#   Corpus in BUILD_DIR-fuzz/corpus/ffmpeg_codec, crashes in
#   BUILD_DIR-fuzz/artifacts/ffmpeg_codec-*.
# Exit: 0 ok, 1 a failure, 77 skipped (no FFmpeg source, no clang/libFuzzer).
set -u -o pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$SRC/build}
[[ $BUILD = /* ]] || BUILD=$PWD/$BUILD
SECS=${FUZZ_SECONDS:-0}
FF=$BUILD/ffmpeg
FFSRC=$FF/src
MODEL=$SRC/tests/golden/tiny.lwcm
work=$(mktemp -d "${TMPDIR:-/tmp}/ffmpeg_codec_fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

rc=0
bash "$SRC/tools/ffmpeg/build-ffmpeg.sh" --build "$BUILD" --quiet > "$work/ffbuild.txt" 2>&1 || rc=$?
[[ $rc = 3 ]] && { echo "skipped: $(tail -n 1 "$work/ffbuild.txt")"; exit 77; }
[[ $rc = 0 ]] || { echo "FAIL: build-ffmpeg.sh: $(tail -n 5 "$work/ffbuild.txt")"; exit 1; }

export PKG_CONFIG_PATH=$FF/prefix/lib/pkgconfig
ffincs=(-I"$FFSRC")
fflibs=("$FFSRC/libavcodec/libavcodec.a" "$FFSRC/libavutil/libavutil.a")
read -ra syslibs <<< "$(pkg-config --libs-only-l --static lwc | sed 's/-llwc//') -lz -latomic -lm -pthread"
harness=(-I"$SRC/include" -I"$SRC" -I"$SRC/tests/fuzz" -DLWC_FUZZ_MODEL_PATH="\"$MODEL\""
         "$SRC/tests/fuzz/fuzz_ffmpeg_codec.c" "$SRC/tests/fuzz/fuzz_util.c")

# seed packets: a few frames of every layout the encoder takes
seeds=$work/seeds; mkdir -p "$seeds"
for fmt in rgb24 gray rgba; do
  LWC_MODEL=$MODEL "$FF/ffmpeg" -nostdin -v error -f lavfi -i testsrc2=s=40x24:r=5 -frames:v 2 -pix_fmt $fmt \
    -c:v liblwc -quality 40 -f image2 "$seeds/$fmt-%d.lwc" || { echo "FAIL: cannot make seed packets"; exit 1; }
done

if [[ $SECS = 0 ]]; then
  bin=$work/fuzz_ffmpeg_codec
  cc -std=c11 -O1 -g "${ffincs[@]}" "${harness[@]}" "$SRC/tests/fuzz/replay.c" \
     "${fflibs[@]}" "$FF/prefix/lib/liblwc.a" "${syslibs[@]}" -o "$bin" 2> "$work/cc.txt" ||
    { cat "$work/cc.txt"; echo "FAIL: cannot build the replay harness"; exit 1; }
  run=("$bin") how="natively"
  if command -v valgrind > /dev/null; then
    run=(env OPENBLAS_NUM_THREADS=1 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$bin")
    how="under valgrind"
  fi
  FUZZ_VERBOSE=1 "${run[@]}" "$SRC/tests/fuzz/corpus/decode" "$seeds" > "$work/run.txt" 2>&1 ||
    { cat "$work/run.txt"; echo "FAIL: replay"; exit 1; }
  # every liblwc packet must decode (FUZZ_VERBOSE makes the harness count frames)
  frames=$(sed -n 's/^fuzz_ffmpeg_codec: \([0-9]*\) frames.*/\1/p' "$work/run.txt")
  [[ ${frames:-0} -ge $(ls "$seeds" | wc -l) ]] || { cat "$work/run.txt"; echo "FAIL: only ${frames:-0} frames decoded"; exit 1; }
  echo "ok: replayed $(ls "$SRC/tests/fuzz/corpus/decode" | wc -l) seed inputs and $(ls "$seeds" | wc -l) liblwc packets $how: $frames frames"
  exit 0
fi

# ---- libFuzzer
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' > "$work/p.c"
clang -fsanitize=fuzzer,address,undefined "$work/p.c" -o "$work/p" 2> /dev/null ||
  { echo "skipped: clang with libFuzzer not available (apt-get install clang libclang-rt-14-dev)"; exit 77; }
FB=${FUZZ_BUILD:-${BUILD%/}-fuzz}
if [[ ! -f $FB/CMakeCache.txt ]]; then
  cmake -S "$SRC" -B "$FB" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DLWC_FUZZ=ON -DLWC_WERROR=OFF > "$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
fi
nice cmake --build "$FB" -j"${JOBS:-2}" --target lwc_static > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
lib=$(find "$FB" -maxdepth 2 -name liblwc.a | head -n 1)
[[ -n $lib ]] || { echo "FAIL: no liblwc.a in $FB"; exit 1; }
# shellcheck disable=SC2054
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -g -O1)
# The wrapper instrumented, with FFmpeg's own defines; linked before
# libavcodec.a it takes the place of the archive's uninstrumented liblwc.o.
clang "${san[@]}" -fsanitize=fuzzer-no-link -std=c11 -I"$FFSRC" -I"$FF/prefix/include" -DHAVE_AV_CONFIG_H \
  -DBUILDING_avcodec -D_ISOC99_SOURCE -D_FILE_OFFSET_BITS=64 -D_POSIX_C_SOURCE=200112 -D_XOPEN_SOURCE=600 \
  -c "$FFSRC/libavcodec/liblwc.c" -o "$work/liblwc_wrapper.o" 2> "$work/cc.txt" || { cat "$work/cc.txt"; exit 1; }
bin=$FB/fuzz_ffmpeg_codec
clang "${san[@]}" -fsanitize=fuzzer "${ffincs[@]}" "${harness[@]}" "$work/liblwc_wrapper.o" \
  "${fflibs[@]}" "$lib" "${syslibs[@]}" -o "$bin" 2> "$work/cc.txt" || { cat "$work/cc.txt"; exit 1; }
corpus=$FB/corpus/ffmpeg_codec; mkdir -p "$corpus" "$FB/artifacts"
cp -n "$seeds"/* "$corpus"/
log=$FB/fuzz_ffmpeg_codec.log
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
  "$bin" -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2560 -max_len=16384 -print_final_stats=1 \
  -dict="$SRC/tests/fuzz/decode.dict" -artifact_prefix="$FB/artifacts/ffmpeg_codec-" ${FUZZ_FLAGS:-} \
  "$corpus" "$SRC/tests/fuzz/corpus/decode" > "$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
echo "fuzz_ffmpeg_codec: ${SECS}s, ${execs:-?} execs, $(grep -ao 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1), exit $rc"
if [[ $rc != 0 ]]; then
  grep -aE 'ERROR|runtime error|check failed|SUMMARY|Test unit written' "$log" | head -20
  echo "FAIL (log $log)"; exit 1
fi
