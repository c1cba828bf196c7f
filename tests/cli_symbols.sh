#!/usr/bin/env bash
# Every symbol liblwc exports carries the project prefix (lwc_, or Lwc for
# data), as dav1d checks in CI: the dynamic symbol table of liblwc.so and the
# global definitions of every object in liblwc.a. Run by ctest:
#   bash tests/cli_symbols.sh LWC_PATH BUILD_DIR
# Linker-made markers (_init, _fini, _edata, _end, __bss_start) and
# sanitizer/profiling instrumentation (__asan*, __odr_asan*, __ubsan*,
# __tsan*, __sancov*, __llvm*, __gcov*) are not ours and are ignored.
# Also prints, for information, how many exported lwc_ functions are not
# declared in the public header codec/lwc.h.
set -u -o pipefail
BUILD=${2:?build dir}
SRC=$(cd "$(dirname "$0")/.." && pwd)
so=$BUILD/liblwc.so; ar=$BUILD/liblwc.a
fails=0
command -v nm > /dev/null || { echo "skipped: nm not found"; exit 77; }
ignore='^(_init|_fini|_edata|_end|__bss_start|__(asan|odr_asan|ubsan|tsan|sancov|llvm|gcov|msan).*)$'
prefix='^(lwc_|Lwc)'

check() { # what, then symbol names on stdin
  local what=$1 bad
  bad=$(grep -Ev "$ignore" | grep -Ev "$prefix" | sort -u)
  if [[ -n $bad ]]; then
    echo "FAIL: $what exports symbols without the lwc_ prefix:"; echo "$bad" | sed 's/^/  /'
    fails=$((fails + 1))
  else
    echo "ok: $what"
  fi
}

[[ -f $so ]] || { echo "FAIL: $so not found"; exit 1; }
[[ -f $ar ]] || { echo "FAIL: $ar not found"; exit 1; }
# nm -D: the dynamic table; defined symbols have a non-U type (fields: addr type name)
nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' | sed 's/@.*//' > "${TMPDIR:-/tmp}/lwc_syms.$$" || fails=1
n_so=$(wc -l < "${TMPDIR:-/tmp}/lwc_syms.$$")
check "liblwc.so ($n_so dynamic symbols)" < "${TMPDIR:-/tmp}/lwc_syms.$$"
# global (upper-case type) definitions in each member of the archive
nm -g --defined-only "$ar" 2> /dev/null | awk 'NF == 3 && $2 ~ /[A-Z]/ { print $3 }' | check "liblwc.a (global definitions)"

public=$(grep -oE '\blwc_[a-z0-9_]+\s*\(' "$SRC/codec/lwc.h" | sed 's/\s*($//' | sort -u)
internal=$(grep -E '^lwc_' "${TMPDIR:-/tmp}/lwc_syms.$$" | sort -u | comm -23 - <(echo "$public"))
rm -f "${TMPDIR:-/tmp}/lwc_syms.$$"
echo "note: $(echo "$internal" | grep -c .) of $n_so exported lwc_ functions are internal (not in lwc.h)"
exit $(( fails > 0 ))
