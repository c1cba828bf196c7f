#!/usr/bin/env bash
# ThreadSanitizer: the "threads" case of tests/test_robust.c (two threads,
# each with its own context, so its own worker pool, on one shared model,
# encoding and decoding at once) and tests/test_pool.c (the pool alone),
# built with -fsanitize=thread in its own tree. Run by ctest (label
# "slow", so only the plain pass of `make test` runs it; about 20 s):
#   bash tests/cli_tsan.sh [LWC_PATH] [BUILD_DIR]
# Only BUILD_DIR is used: the tree is TSAN_BUILD, default BUILD_DIR-tsan.
# OpenBLAS is not instrumented, so its own worker threads are turned off
# (OPENBLAS_NUM_THREADS=1); the library's threads are what is checked.
# Skips (77) when the compiler cannot link a -fsanitize=thread program.
set -u -o pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${2:-$SRC/build}
TB=${TSAN_BUILD:-${BUILD%/}-tsan}
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_tsan.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
echo 'int main(void) { return 0; }' > "$tmp/p.c"
if ! "$CC" -fsanitize=thread "$tmp/p.c" -o "$tmp/p" 2> "$tmp/err" || ! "$tmp/p" 2>> "$tmp/err"; then
  echo "skipped: $CC cannot build and run -fsanitize=thread programs: $(head -c 300 "$tmp/err")"
  exit 77
fi
if [[ ! -f $TB/CMakeCache.txt ]]; then
  cmake -S "$SRC" -B "$TB" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLWC_WERROR=OFF \
        -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
        -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
        > "$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
fi
cmake --build "$TB" -j"${JOBS:-2}" --target test_robust test_pool > "$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log"; exit 1; }
cd "$SRC" || exit 1
OPENBLAS_NUM_THREADS=1 CK_RUN_CASE=threads CK_DEFAULT_TIMEOUT=600 \
  TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 exitcode=66 second_deadlock_stack=1}" \
  "$TB/tests/test_robust" > "$tmp/run.log" 2>&1
rc=$?
OPENBLAS_NUM_THREADS=1 CK_DEFAULT_TIMEOUT=600 \
  TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 exitcode=66 second_deadlock_stack=1}" \
  "$TB/tests/test_pool" >> "$tmp/run.log" 2>&1
rc=$(( rc ? rc : $? ))
cat "$tmp/run.log"
if (( rc != 0 )) || grep -q 'ThreadSanitizer' "$tmp/run.log"; then
  echo "FAIL: ThreadSanitizer run (exit $rc)"
  exit 1
fi
echo "ok: the threads case and the pool tests are clean under ThreadSanitizer"
