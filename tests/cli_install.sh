#!/usr/bin/env bash
# Installation: cmake --install into a fresh temporary prefix (the build tree
# is not reconfigured), the expected files, a program built with nothing but
# `pkg-config --cflags --libs lwc` (shared, and --static from a moved copy of
# the prefix: lwc.pc is relocatable), the installed CLI finding its model from
# another folder, then `make uninstall` on that install's manifest. Run by ctest:
#   bash tests/cli_install.sh PATH_TO_LWC BUILD_DIR
set -euo pipefail
BUILD=${2:?build dir}
[[ $BUILD = /* ]] || BUILD=$PWD/$BUILD
ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
for tool in pkg-config make readelf; do
  command -v "$tool" > /dev/null || { echo "skipped: $tool not found"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_install.XXXXXX")
P=$tmp/prefix
# cmake --install rewrites BUILD/install_manifest.txt: put the caller's back.
manifest=$BUILD/install_manifest.txt
[[ -f $manifest ]] && cp -p "$manifest" "$tmp/saved_manifest"
cleanup() {
  if [[ -f $tmp/saved_manifest ]]; then cp -p "$tmp/saved_manifest" "$manifest"; else rm -f "$manifest"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The build's compiler and flags: a sanitizer build's objects need its runtime.
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
on() { [[ ${1^^} =~ ^(ON|1|TRUE|YES|Y)$ ]]; }
CC=$(cache CMAKE_C_COMPILER); CC=${CC:-cc}
read -r -a cflags <<< "$(cache CMAKE_C_FLAGS) $(cache CMAKE_EXE_LINKER_FLAGS)"
on "$(cache LWC_SANITIZE)" && cflags+=(-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer)
on "$(cache LWC_FUZZ)" && cflags+=(-fsanitize=address,undefined)

# ---- install, and what it wrote
cmake --install "$BUILD" --prefix "$P" > "$tmp/install.log" 2>&1 ||
  die "cmake --install $BUILD --prefix $P: $(tail -n 3 "$tmp/install.log")"
cp "$manifest" "$tmp/manifest"
grep -qv "^$P/" "$tmp/manifest" && die "install manifest lists files outside $P (another install ran at the same time?)"
pc=$(find "$P" -name lwc.pc)
[[ -n $pc && $pc = "$P"/lib*/pkgconfig/lwc.pc ]] || die "no lib*/pkgconfig/lwc.pc under $P"
libdir=$(dirname "$(dirname "$pc")")
for f in bin/lwc include/lwc.h share/lwc/lwc-default.lwcm "${libdir#"$P/"}"/liblwc.a \
         "${libdir#"$P/"}"/liblwc.so "${libdir#"$P/"}"/liblwc.so.0 "${libdir#"$P/"}"/lwc/lwc-libav.so; do
  [[ -e $P/$f ]] || die "$f was not installed"
done
diff <(sort "$tmp/manifest") <(find "$P" \( -type f -o -type l \) | sort) > /dev/null ||
  die "the manifest does not list exactly the files under $P"
ok "installed $(grep -c . "$tmp/manifest") files under ${libdir#"$P/"}, bin, include, share"

# ---- pkg-config: version, OpenBLAS in Libs.private only for a BLAS build
export PKG_CONFIG_PATH=$libdir/pkgconfig
ver=$(pkg-config --modversion lwc) || die "pkg-config cannot read $pc"
inc=$(pkg-config --variable=includedir lwc)
[[ -f $inc/lwc.h ]] || die "lwc.pc's includedir $inc holds no lwc.h"
static_libs=$(pkg-config --libs --static lwc)
if on "$(cache LWC_WITH_BLAS)"; then
  [[ " $static_libs " = *" -lopenblas "* ]] || die "BLAS build, but no -lopenblas in: $static_libs"
else
  [[ " $static_libs " != *" -lopenblas "* ]] || die "build without BLAS, but -lopenblas in: $static_libs"
fi
ok "pkg-config: lwc $ver, --static --libs: $static_libs"

# ---- a program: version, the installed model, encode + decode in memory
cat > "$tmp/prog.c" << 'EOF'
#include <lwc.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    if (strcmp(lwc_version(), argv[2])) {
        fprintf(stderr, "lwc_version() %s, pkg-config says %s\n", lwc_version(), argv[2]);
        return 1;
    }
    LwcModel *m = NULL;
    LwcContext *c = NULL;
    LwcSettings s;
    LwcEncodeParams p;
    LwcImage img = {0}, out = {0};
    uint8_t *buf = NULL;
    size_t size = 0;
    double err = 0;
    lwc_default_settings(&s);
    lwc_default_encode_params(&p);
    int r = lwc_model_load_file(&m, argv[1]);
    if (r == LWC_OK) r = lwc_open(&c, m, &s);
    if (r == LWC_OK) r = lwc_image_alloc(&img, 64, 48, 3, 8);
    if (r == LWC_OK) {
        for (int y = 0; y < img.height; y++)       /* smooth gradients */
            for (int x = 0; x < img.width * 3; x++)
                img.data[y * img.stride + x] = (uint8_t)(40 + x / 3 + 2 * y + 30 * (x % 3));
        r = lwc_encode(c, &img, &p, &buf, &size, NULL, NULL);
    }
    if (r == LWC_OK) r = lwc_decode(c, buf, size, &out, NULL);
    if (r == LWC_OK && (out.width != img.width || out.height != img.height || out.channels != 3))
        r = LWC_ERR_CORRUPT;
    for (int y = 0; r == LWC_OK && y < img.height; y++)
        for (int x = 0; x < img.width * 3; x++) {
            double d = (double)img.data[y * img.stride + x] - out.data[y * out.stride + x];
            err += d * d;
        }
    err /= (double)img.width * img.height * 3;
    if (r == LWC_OK && err > 100) { /* PSNR below 28 dB */
        fprintf(stderr, "decoded image too far off: mean squared error %.1f\n", err);
        r = LWC_ERR_CORRUPT;
    }
    if (r == LWC_OK) printf("lwc %s: 64x48 -> %zu bytes, mean squared error %.2f\n", lwc_version(), size, err);
    else fprintf(stderr, "liblwc: %s\n", lwc_strerror(r));
    lwc_free_buffer(buf);
    lwc_image_free(&img);
    lwc_image_free(&out);
    lwc_close(&c);
    lwc_model_free(&m);
    return r != LWC_OK;
}
EOF
model=$P/share/lwc/lwc-default.lwcm
read -r -a pc_shared <<< "$(pkg-config --cflags --libs lwc)"
"$CC" "${cflags[@]}" -o "$tmp/prog_shared" "$tmp/prog.c" "${pc_shared[@]}" > "$tmp/cc.log" 2>&1 ||
  die "compile against the shared library ($CC $tmp/prog.c ${pc_shared[*]}): $(head -n 5 "$tmp/cc.log")"
[[ $(readelf -d "$tmp/prog_shared") = *'NEEDED'*'[liblwc.so'* ]] || die "prog_shared does not load liblwc.so"
LD_LIBRARY_PATH=$libdir "$tmp/prog_shared" "$model" "$ver" > "$tmp/run.log" 2>&1 ||
  die "program linked with the shared library: $(tail -n 3 "$tmp/run.log")"
ok "shared: $(cat "$tmp/run.log")"

# --static, from a copy of the prefix without liblwc.so (so -llwc takes the
# archive) at another path: proves lwc.pc is relocatable.
M=$tmp/moved
cp -a "$P" "$M"
rm -f "$M/${libdir#"$P/"}"/liblwc.so*
read -r -a pc_static <<< "$(PKG_CONFIG_PATH=$M/${libdir#"$P/"}/pkgconfig pkg-config --cflags --libs --static lwc)"
[[ ${pc_static[*]} = *"$M/"* && ${pc_static[*]} != *"$P/"* ]] ||
  die "lwc.pc copied to $M still names the old prefix: ${pc_static[*]}"
"$CC" "${cflags[@]}" -o "$tmp/prog_static" "$tmp/prog.c" "${pc_static[@]}" > "$tmp/cc.log" 2>&1 ||
  die "compile against the static library ($CC $tmp/prog.c ${pc_static[*]}): $(head -n 5 "$tmp/cc.log")"
[[ $(readelf -d "$tmp/prog_static") != *'[liblwc.so'* ]] || die "prog_static loads liblwc.so"
"$tmp/prog_static" "$model" "$ver" > "$tmp/run.log" 2>&1 ||
  die "program linked with the static library: $(tail -n 3 "$tmp/run.log")"
ok "static: $(cat "$tmp/run.log")"

# ---- the installed CLI, from another folder, finds the installed model
mkdir "$tmp/elsewhere"
( cd "$tmp/elsewhere" && env -u LWC_MODEL "$P/bin/lwc" encode "$ROOT/docs/sample.png" -o x.lwc --quiet &&
  env -u LWC_MODEL "$P/bin/lwc" decode x.lwc -o x.png --quiet ) > "$tmp/cli.log" 2>&1 ||
  die "installed lwc encode/decode from $tmp/elsewhere: $(tail -n 3 "$tmp/cli.log")"
[[ -s $tmp/elsewhere/x.lwc && -s $tmp/elsewhere/x.png ]] || die "installed lwc wrote no output"
# ... the one next to it (../share/lwc), not one elsewhere: give the moved copy a test model.
if [[ -x $BUILD/tests/lwc_test_mkmodel ]]; then
  "$BUILD/tests/lwc_test_mkmodel" "$M/share/lwc/lwc-default.lwcm" 7 > /dev/null || die "lwc_test_mkmodel"
  got=$(cd "$tmp/elsewhere" && env -u LWC_MODEL "$M/bin/lwc" info --model)
  want=$(LWC_MODEL=$M/share/lwc/lwc-default.lwcm "$P/bin/lwc" info --model)
  got=${got%%$'\n'*} want=${want%%$'\n'*} # the first line: "model: ..., id ..."
  [[ $got = "$want" ]] || die "moved lwc did not load ../share/lwc next to it: '$got', wanted '$want'"
fi
ok "installed lwc codes docs/sample.png from another folder with ../share/lwc/lwc-default.lwcm"

# ---- ... and reads video through its plugin, LIBDIR/lwc/lwc-libav.so: that of
# the moved copy for the moved lwc (glibc's LD_DEBUG=files names it)
cp "$ROOT/docs/sample.png" "$tmp/elsewhere/f1.png"
for p in "$P" "$M"; do
  ( cd "$tmp/elsewhere" && env -u LWC_MODEL -u LWC_LIBAV_PLUGIN LD_DEBUG=files "$p/bin/lwc" encode 'f%d.png' -o v.lwcv &&
    env -u LWC_MODEL -u LWC_LIBAV_PLUGIN "$p/bin/lwc" decode v.lwcv -o v.mkv ) > "$tmp/cli.log" 2>&1 ||
    die "$p/bin/lwc: PNG sequence to .lwcv to .mkv: $(grep -v '^ *[0-9]*:' "$tmp/cli.log" | tail -n 3)"
  [[ -s $tmp/elsewhere/v.mkv ]] || die "$p/bin/lwc wrote no v.mkv"
  got=$(sed -n 's/^ *[0-9]*:[[:space:]]*file=\([^ ]*lwc-libav\.so\) .*dynamically loaded.*/\1/p' "$tmp/cli.log" | head -n 1)
  if [[ -n $got ]]; then # glibc
    want=${libdir/"$P"/"$p"}/lwc/lwc-libav.so
    [[ $(realpath "$got") = "$(realpath "$want")" ]] || die "$p/bin/lwc loaded the plugin $got, not $want"
  fi
  rm -f "$tmp/elsewhere/v.lwcv" "$tmp/elsewhere/v.mkv"
done
ok "installed lwc (and a moved copy) read a PNG sequence and write MKV through ${libdir#"$P/"}/lwc/lwc-libav.so"

# ---- make uninstall removes exactly the manifest's files, then refuses
uninstall() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory -C "$ROOT" uninstall INSTALL_MANIFEST="$tmp/manifest"; }
uninstall > "$tmp/uninstall.log" 2>&1 || die "make uninstall: $(tail -n 3 "$tmp/uninstall.log")"
left=$(find "$P" \( -type f -o -type l \))
[[ -z $left ]] || die "make uninstall left files: $left"
[[ ! -e $tmp/manifest ]] || die "make uninstall kept the manifest"
n=$(grep -c '^-- Removing' "$tmp/uninstall.log")
uninstall > "$tmp/uninstall.log" 2>&1 && die "a second make uninstall did not refuse"
[[ $(wc -l < "$tmp/uninstall.log") = 1 ]] || die "make uninstall without a manifest: not one line: $(cat "$tmp/uninstall.log")"
ok "make uninstall removed $n files, then refused: $(cat "$tmp/uninstall.log")"
