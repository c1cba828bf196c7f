#!/usr/bin/env bash
# liblwc.so exports exactly the functions include/lwc.h declares with LWC_API
# (the library is built with -fvisibility=hidden), all with the lwc_ prefix;
# every global definition in liblwc.a carries the project prefix (lwc_, or
# Lwc for data), as dav1d checks in CI. Run by ctest:
#   bash tests/cli_symbols.sh LWC_PATH BUILD_DIR
# Linker-made markers (_init, _fini, _edata, _end, __bss_start) and
# sanitizer/profiling instrumentation (__asan*, __odr_asan*, __ubsan*,
# __tsan*, __sancov*, __llvm*, __gcov*) are not ours and are ignored.
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

# The LWC_API declarations of lwc.h: one function name per line (the
# identifier just before the first '(').
public=$(grep -E '^LWC_API ' "$SRC/include/lwc.h" | sed -E 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)\s*\(.*/\1/' | sort -u)
n_api=$(echo "$public" | grep -c .)
if (( n_api < 10 )); then
  echo "FAIL: found only $n_api LWC_API declarations in include/lwc.h"; fails=$((fails + 1))
fi
bad=$(echo "$public" | grep -v '^lwc_')
[[ -z $bad ]] || { echo "FAIL: LWC_API functions without the lwc_ prefix: $bad"; fails=$((fails + 1)); }
exported=$(grep -Ev "$ignore" "${TMPDIR:-/tmp}/lwc_syms.$$" | sort -u)
extra=$(comm -13 <(echo "$public") <(echo "$exported"))
missing=$(comm -23 <(echo "$public") <(echo "$exported"))
rm -f "${TMPDIR:-/tmp}/lwc_syms.$$"
if [[ -n $extra || -n $missing ]]; then
  [[ -n $extra ]] && { echo "FAIL: liblwc.so exports symbols not declared LWC_API in lwc.h:"; echo "$extra" | sed 's/^/  /'; }
  [[ -n $missing ]] && { echo "FAIL: LWC_API functions missing from liblwc.so:"; echo "$missing" | sed 's/^/  /'; }
  fails=$((fails + 1))
else
  echo "ok: liblwc.so exports exactly the $n_api LWC_API functions of lwc.h"
fi
# The FFmpeg filter links the installed library: it may call only LWC_API
# functions (its own static helpers are named lwc_* too, and left out).
vf=$SRC/tools/ffmpeg/vf_lwc.c
if [[ -f $vf ]]; then
  own=$(grep -oE '^(static )?[a-zA-Z].*[^a-z_](lwc_[a-z0-9_]+)\(' "$vf" | grep -oE 'lwc_[a-z0-9_]+\($' | sed 's/($//' | sort -u)
  used=$(grep -oE '\blwc_[a-z0-9_]+\s*\(' "$vf" | sed 's/\s*($//' | sort -u | comm -23 - <(echo "$own"))
  nonpub=$(comm -23 <(echo "$used") <(echo "$public"))
  if [[ -n $nonpub ]]; then
    echo "FAIL: tools/ffmpeg/vf_lwc.c calls functions outside the LWC_API:"; echo "$nonpub" | sed 's/^/  /'
    fails=$((fails + 1))
  else
    echo "ok: tools/ffmpeg/vf_lwc.c calls only LWC_API functions ($(echo "$used" | grep -c .) of them)"
  fi
fi
# The decoder-only program (lwcdec's objects alone) holds no encoder, search,
# float-model or trainer code: each module's encoder half (<name>_enc.c) and
# the encoder/ and learn/ folders stay out of lwcdec. The same pattern must
# find such code in liblwc.a, or it would be checking nothing.
dec=$BUILD/lwc_decode_only
not_dec='^lwc_(encode|yencode|ystripe_(rows|symbols)|rans_enc_|cdf_(encode_value|from_pmf)|gaussian_pmf|scale_levels'
not_dec+='|alpha_encode|stream_write|image_to_planes_rows|model_(lambda|zgains)|wpt_forward|.*_(backward|adjoint)'
not_dec+='|conv2d_forward$|upsample2_|gain_(forward|backward)|concat_|relu_cap_|mw_|graph_|net_|adam_|gauss_rate'
not_dec+='|factorized_|latents_|set_search|set_rdo|train|rd_)'
if [[ -f $dec ]]; then
  leaked=$(nm --defined-only "$dec" | awk 'NF == 3 { print $3 }' | grep -E "$not_dec" | sort -u)
  if [[ -n $leaked ]]; then
    echo "FAIL: lwc_decode_only holds encoder, search or training code:"; echo "$leaked" | sed 's/^/  /'
    fails=$((fails + 1))
  else
    echo "ok: lwc_decode_only holds no encoder, search or training symbols"
  fi
  n_full=$(nm --defined-only "$ar" 2> /dev/null | awk 'NF == 3 { print $3 }' | grep -E "$not_dec" | sort -u | grep -c .)
  if (( n_full < 40 )); then
    echo "FAIL: the decoder-only pattern finds only $n_full encoder/trainer symbols in liblwc.a"; fails=$((fails + 1))
  else
    echo "ok: the same pattern finds $n_full encoder/trainer symbols in liblwc.a"
  fi
else
  echo "FAIL: $dec not found"; fails=$((fails + 1))
fi
exit $(( fails > 0 ))
