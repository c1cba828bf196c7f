#!/usr/bin/env bash
# libFuzzer runs (ASan + UBSan) of every harness in tests/fuzz, one at a time,
# FUZZ_SECONDS each (default 60). Run by ctest (label "slow") and `make fuzz`:
#   bash tests/cli_fuzz.sh [LWC_PATH] [BUILD_DIR]
# Only BUILD_DIR is used: the fuzz tree defaults to BUILD_DIR-fuzz.
# Environment:
#   FUZZ_SECONDS    seconds per harness; 0 skips (exit 77)
#   FUZZ_HARNESSES  which harnesses (default: decode model image roundtrip video y4m)
#   FUZZ_BUILD      clang build tree (configured with -DLWC_FUZZ=ON if new)
#   FUZZ_FLAGS      extra libFuzzer flags
# The growing corpus lives in FUZZ_BUILD/corpus/<harness> (seeded from
# tests/fuzz/corpus/<harness>, which is never written); a crash, leak,
# timeout (> 30 s per input) or failed check leaves its input in
# FUZZ_BUILD/artifacts/ and fails the run. Skips (77) without clang/libFuzzer.
set -u -o pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${2:-$SRC/build}
FB=${FUZZ_BUILD:-${BUILD%/}-fuzz}
SECS=${FUZZ_SECONDS:-60}
HARNESSES=${FUZZ_HARNESSES:-decode model image roundtrip video y4m}
[[ $SECS =~ ^[0-9]+$ ]] || { echo "FUZZ_SECONDS must be a number of seconds"; exit 2; }
(( SECS > 0 )) || { echo "FUZZ_SECONDS=0: fuzzing skipped"; exit 77; }

probe=$(mktemp -d "${TMPDIR:-/tmp}/cli_fuzz.XXXXXX") || exit 1
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2> "$probe/err"; then
  echo "skipped: clang with libFuzzer not available ($(head -c 200 "$probe/err"))"
  echo "install: apt-get install clang libclang-rt-14-dev"
  exit 77
fi

targets=""
for h in $HARNESSES; do targets="$targets fuzz_$h"; done
if [[ ! -f $FB/CMakeCache.txt ]]; then
  cmake -S "$SRC" -B "$FB" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DLWC_FUZZ=ON -DLWC_WERROR=OFF > "$probe/cmake.log" 2>&1 || { cat "$probe/cmake.log"; exit 1; }
fi
# shellcheck disable=SC2086
cmake --build "$FB" -j"${JOBS:-2}" --target $targets > "$probe/build.log" 2>&1 || { tail -40 "$probe/build.log"; exit 1; }

declare -A MAXLEN=([decode]=16384 [model]=524288 [image]=65536 [roundtrip]=18436 [video]=16384 [y4m]=16384)
fails=0
mkdir -p "$FB/artifacts"
for h in $HARNESSES; do
  work=$FB/corpus/$h; mkdir -p "$work"
  dict=(); [[ -f $SRC/tests/fuzz/$h.dict ]] && dict=(-dict="$SRC/tests/fuzz/$h.dict")
  log=$FB/fuzz_$h.log
  # shellcheck disable=SC2086
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$FB/tests/fuzz/fuzz_$h" -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2560 \
    -max_len="${MAXLEN[$h]:-65536}" -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$FB/artifacts/$h-" ${FUZZ_FLAGS:-} "$work" "$SRC/tests/fuzz/corpus/$h" > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -ao 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  echo "fuzz_$h: ${SECS}s, ${execs:-?} execs, ${cov:-no coverage line}, corpus $(ls "$work" | wc -l) files, exit $rc"
  if (( rc != 0 )); then
    fails=$((fails + 1))
    echo "FAIL: fuzz_$h (log $log):"; grep -aE 'ERROR|runtime error|check failed|SUMMARY|Test unit written' "$log" | head -20
  fi
done
(( fails == 0 )) && echo "all harnesses ran clean" || echo "$fails harness(es) failed"
exit $(( fails > 0 ))
