#!/usr/bin/env bash
# FFmpeg's libraries come through the plugin lwc-libav.so, loaded on demand
# (tools/cli/cli_libav_load.c): lwc itself links no libav*; coding PNGs loads
# neither the plugin nor libav* (glibc's LD_DEBUG=libs lists every library
# loaded); a PNG sequence in and MKV out find the plugin beside lwc in the
# build tree; with LWC_LIBAV_PLUGIN pointing at nothing, at a library that is
# not the plugin, or at a plugin of another interface version, video fails
# with one line and exit 1 while images still work; the plugin exports only
# its entry point. Run by ctest:
#   bash tests/cli_libav_plugin.sh PATH_TO_LWC BUILD_DIR
set -u -o pipefail
LWC=${1:?lwc path}; BUILD=${2:?build dir}
[[ $LWC = /* ]] || LWC=$PWD/$LWC
[[ $BUILD = /* ]] || BUILD=$PWD/$BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PLUGIN=$(dirname "$LWC")/lwc-libav.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_libav_plugin.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
unset LWC_LIBAV_PLUGIN

"$BUILD/tests/lwc_test_mkmodel" "$tmp/m.lwcm" 7 || { echo "FAIL: cannot make a test model"; exit 1; }
export LWC_MODEL=$tmp/m.lwcm
cp "$ROOT/docs/sample.png" "$tmp/f1.png"
cp "$ROOT/docs/sample.png" "$tmp/f2.png"

# expect CODE NAME PATTERN -- command...: exit code; on failure exactly one
# stderr line, matching the glob PATTERN
expect() {
  local code=$1 name=$2 pat=$3; shift 4
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"; local rc=$?
  [[ $rc = "$code" ]] || { fail "$name: exit $rc, wanted $code ($(head -c 300 "$tmp/err.txt"))"; return; }
  if [[ $code != 0 ]]; then
    local n; n=$(wc -l < "$tmp/err.txt")
    [[ $n = 1 ]] || { fail "$name: $n stderr lines, wanted 1: $(cat "$tmp/err.txt")"; return; }
    # shellcheck disable=SC2053
    [[ $(cat "$tmp/err.txt") = $pat ]] || { fail "$name: '$(cat "$tmp/err.txt")' does not match '$pat'"; return; }
  fi
  ok "$name${pat:+: $(head -c 200 "$tmp/err.txt")}"
}

# ---- lwc links no libav*, the plugin does
[[ -f $PLUGIN ]] || { echo "FAIL: no $PLUGIN beside $LWC"; exit 1; }
if command -v readelf > /dev/null; then
  needed=$(readelf -d "$LWC" | grep NEEDED)
  [[ $needed != *libav* && $needed != *libswscale* ]] || fail "lwc links FFmpeg's libraries: $needed"
  [[ $(readelf -d "$PLUGIN" | grep NEEDED) = *libavformat* ]] || fail "$PLUGIN does not link libavformat"
fi
if command -v ldd > /dev/null; then
  n=$(ldd "$LWC" | grep -c -e libav -e libswscale)
  [[ $n = 0 ]] && ok "ldd: lwc loads no libav* at start-up" || fail "ldd lists $n libav*/libswscale libraries for lwc"
fi
if command -v nm > /dev/null; then # sanitizer and linker symbols aside, only the entry point
  syms=$(nm -D --defined-only "$PLUGIN" | awk 'NF == 3 { print $3 }' | sed 's/@.*//' |
         grep -Ev '^(_init|_fini|_edata|_end|__bss_start|__(asan|odr_asan|ubsan|sancov|llvm|gcov).*)$')
  [[ $syms = lwc_av_plugin_api ]] && ok "the plugin exports lwc_av_plugin_api only" ||
    fail "the plugin exports: $(echo $syms)"
fi

# ---- the libraries each command loads (LD_DEBUG=libs: "calling init: PATH")
# loaded NAME -- command...: 0 and the libraries initialised, one per line, in $tmp/libs.txt
loaded() {
  local name=$1; shift 2
  LD_DEBUG=libs "$@" > "$tmp/out.txt" 2> "$tmp/ld.txt" ||
    { fail "$name: exit $? ($(grep -v '^ *[0-9]*:' "$tmp/ld.txt" | head -c 300))"; return 1; }
  sed -n 's/^ *[0-9]*:[[:space:]]*calling init: //p' "$tmp/ld.txt" > "$tmp/libs.txt"
}
loaded "PNG sequence in" -- "$LWC" encode "$tmp/f%d.png" -o "$tmp/v.lwcv"
[[ -s $tmp/v.lwcv ]] || fail "lwc encode 'f%d.png' wrote no .lwcv"
if [[ ! -s $tmp/libs.txt ]]; then
  echo "skipped: LD_DEBUG=libs lists nothing here (not glibc?): the load checks need it"
else
  grep -q 'lwc-libav\.so' "$tmp/libs.txt" && grep -q 'libavformat' "$tmp/libs.txt" &&
    ok "a PNG sequence loads the plugin beside lwc and libavformat ($(grep -c . "$tmp/libs.txt") libraries)" ||
    fail "a PNG sequence did not load lwc-libav.so and libavformat: $(tr '\n' ' ' < "$tmp/libs.txt")"
  cp "$tmp/f1.png" "$tmp/png.dat" # a PNG by its bytes, not its name
  for cmd in "encode $tmp/f1.png -o $tmp/a.lwc" "encode $tmp/png.dat -o $tmp/b.lwc" "decode $tmp/a.lwc -o $tmp/a.png" "decode $tmp/v.lwcv -o $tmp/v.y4m" \
             "encode $tmp/v.y4m -o $tmp/v2.lwcv" "info $tmp/v.lwcv" "compare $tmp/f1.png $tmp/a.png"; do
    # shellcheck disable=SC2086
    loaded "lwc $cmd" -- "$LWC" $cmd || continue
    if grep -q -e 'libav' -e 'libswscale' -e 'lwc-libav' "$tmp/libs.txt"; then
      fail "lwc $cmd loaded: $(grep -e libav -e libswscale "$tmp/libs.txt" | tr '\n' ' ')"
    else
      ok "lwc $cmd: $(grep -c . "$tmp/libs.txt") libraries, no plugin, no libav*"
    fi
  done
fi

# ---- video through the plugin in the build tree
expect 0 "PNG sequence in" "" -- "$LWC" encode "$tmp/f%d.png" -o "$tmp/v.lwcv" --quiet
expect 0 "MKV out" "" -- "$LWC" decode "$tmp/v.lwcv" -o "$tmp/v.mkv" --quiet
[[ -s $tmp/v.mkv ]] || fail "no v.mkv"

# ---- without the plugin: video fails in one line, images still work
export LWC_LIBAV_PLUGIN=$tmp/nonexistent.so
miss="*video needs the FFmpeg plugin lwc-libav.so, which was not found (LWC_LIBAV_PLUGIN=$tmp/nonexistent.so)"
expect 1 "no plugin: PNG sequence in" "lwc encode: cannot read '$tmp/f%d.png': $miss" -- \
  "$LWC" encode "$tmp/f%d.png" -o "$tmp/n.lwcv"
expect 1 "no plugin: MKV in" "lwc encode: cannot read '$tmp/v.mkv': unrecognised image format*; not tried as video: $miss" -- \
  "$LWC" encode "$tmp/v.mkv" -o "$tmp/n.lwcv"
expect 1 "no plugin: MKV out" "lwc decode: cannot write '$tmp/n.mkv': $miss" -- "$LWC" decode "$tmp/v.lwcv" -o "$tmp/n.mkv"
expect 1 "no plugin: PNG pattern out" "lwc decode: cannot write '$tmp/n_%03d.png': $miss" -- \
  "$LWC" decode "$tmp/v.lwcv" -o "$tmp/n_%03d.png"
[[ ! -e $tmp/n.lwcv && ! -e $tmp/n.mkv && ! -e $tmp/n_001.png ]] || fail "a failed command left output behind"
expect 0 "no plugin: PNG in" "" -- "$LWC" encode "$tmp/f1.png" -o "$tmp/n.lwc" --quiet
expect 0 "no plugin: PNG out" "" -- "$LWC" decode "$tmp/n.lwc" -o "$tmp/n.png" --quiet
expect 0 "no plugin: .lwcv to Y4M" "" -- "$LWC" decode "$tmp/v.lwcv" -o "$tmp/n.y4m" --quiet
expect 0 "no plugin: .lwcv to a name without extension (Y4M)" "" -- "$LWC" decode "$tmp/v.lwcv" -o "$tmp/n_y4m" --quiet
cmp -s "$tmp/n.y4m" "$tmp/n_y4m" || fail "the name without extension did not get the same Y4M"
expect 0 "no plugin: Y4M in" "" -- "$LWC" encode "$tmp/n.y4m" -o "$tmp/n2.lwcv" --quiet
printf 'not an image' > "$tmp/t.xyz"
expect 1 "no plugin: unknown file" "lwc encode: cannot read '$tmp/t.xyz': unrecognised image format*; not tried as video: $miss" -- \
  "$LWC" encode "$tmp/t.xyz" -o "$tmp/n.lwc"

# ---- a library that is not the plugin, and a plugin of another interface version
export LWC_LIBAV_PLUGIN=$BUILD/liblwc.so
expect 1 "not the plugin" "lwc encode: cannot read '$tmp/f%d.png': $BUILD/liblwc.so is not lwc's FFmpeg plugin (no lwc_av_plugin_api)" -- \
  "$LWC" encode "$tmp/f%d.png" -o "$tmp/n.lwcv"
printf 'not ELF' > "$tmp/bad.so"
export LWC_LIBAV_PLUGIN=$tmp/bad.so
expect 1 "not a library" "lwc encode: cannot read '$tmp/f%d.png': cannot load the FFmpeg plugin $tmp/bad.so: *" -- \
  "$LWC" encode "$tmp/f%d.png" -o "$tmp/n.lwcv"
CC=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
printf 'const void *lwc_av_plugin_api(int v);\nconst void *lwc_av_plugin_api(int v) { return v == -1 ? &v : 0; }\n' > "$tmp/old.c"
if "${CC:-cc}" -shared -fPIC -o "$tmp/old.so" "$tmp/old.c" 2> "$tmp/cc.txt"; then
  export LWC_LIBAV_PLUGIN=$tmp/old.so
  expect 1 "another interface version" "lwc decode: cannot write '$tmp/n.mkv': the FFmpeg plugin $tmp/old.so is from another version of lwc*" -- \
    "$LWC" decode "$tmp/v.lwcv" -o "$tmp/n.mkv"
else
  fail "cannot build a test plugin: $(head -c 300 "$tmp/cc.txt")"
fi
export LWC_LIBAV_PLUGIN=$PLUGIN
expect 0 "LWC_LIBAV_PLUGIN naming the plugin" "" -- "$LWC" decode "$tmp/v.lwcv" -o "$tmp/e.mkv" --quiet
cmp -s "$tmp/v.mkv" "$tmp/e.mkv" || fail "the MKV through LWC_LIBAV_PLUGIN differs"

if [[ $fails = 0 ]]; then echo "all passed"; exit 0; fi
echo "$fails failed"; exit 1
