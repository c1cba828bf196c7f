#!/usr/bin/env bash
# Build a lean FFmpeg 5.1 with the lwc filter (vf_lwc.c) and the liblwc
# encoder/decoder (liblwc.c, codec id AV_CODEC_ID_LWC) into BUILD/ffmpeg/.
#
#   tools/ffmpeg/build-ffmpeg.sh [--build DIR] [--source TARBALL|DIR] [--jobs N] [--quiet]
#
#   --build DIR     the lwc CMake build folder (default: build); it must hold a
#                   built liblwc (cmake --build DIR). Results: DIR/ffmpeg/ffmpeg,
#                   DIR/ffmpeg/ffprobe (and ffmpeg_g, with symbols, for valgrind).
#   --source X      FFmpeg 5.1 source: a tarball (.tar.xz/.tar.gz/.tar.bz2) or an
#                   unpacked folder. Default: $FFMPEG_SOURCE, else a tarball
#                   already downloaded into DIR/ffmpeg/dl/, else
#                   `apt-get source --download-only ffmpeg` (Debian 12 ships 5.1).
#                   As root this adds a deb-src entry
#                   (/etc/apt/sources.list.d/lwc-deb-src.sources) when none is
#                   configured, and installs the few build tools it needs (nasm,
#                   pkg-config, make, gcc, xz-utils, zlib1g-dev).
#   --jobs N        parallel make jobs (default 2); make runs under nice -n 10.
#
# Steps: install liblwc into DIR/ffmpeg/prefix (cmake --install), unpack the
# source into DIR/ffmpeg/src, copy vf_lwc.c and liblwc.c in and register
# them (allfilters.c, allcodecs.c, the Makefiles; the codec id in
# codec_id.h and codec_desc.c, its Matroska id V_LWC in matroska.c and NUT
# tag LWC1 in nut.c), failing loudly if an anchor line moved, configure a
# lean static build (only the protocols, formats, codecs and filters listed
# below, no other external libraries), make. Reruns reuse everything:
# configure runs again only when its options change, and ffmpeg/ffprobe are
# relinked only when liblwc, the filter or the codec changed.
#
# Exit codes: 0 built (or up to date); 1 build failed; 3 the FFmpeg source
# could not be obtained (a message says why and what to do).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=build
SOURCE=${FFMPEG_SOURCE:-}
JOBS=2
QUIET=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=${2:?--build needs a folder}; shift 2 ;;
    --source) SOURCE=${2:?--source needs a tarball or folder}; shift 2 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
    --quiet) QUIET=1; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-ffmpeg: unknown option '$1' (try --help)" >&2; exit 1 ;;
  esac
done
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
FF=$BUILD/ffmpeg
SRC=$FF/src
PREFIX=$FF/prefix
LOG=$FF/build.log

say() { [[ $QUIET = 1 ]] || echo "build-ffmpeg: $*"; }
die() { echo "build-ffmpeg: error: $*" >&2; exit 1; }
no_source() { echo "build-ffmpeg: cannot obtain the FFmpeg 5.1 source: $*" >&2; exit 3; }
is_root() { [[ $(id -u) = 0 ]]; }
# Run a build step quietly into the log; show the log's tail when it fails.
logged() {
  if ! nice -n 10 "$@" >> "$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    die "'$*' failed (full log: $LOG)"
  fi
}

[[ -f $BUILD/CMakeCache.txt ]] || die "$BUILD is not a CMake build folder (run: cmake -S . -B build && cmake --build build -j2)"
mkdir -p "$FF"
: > "$LOG"

# ---- tools
need_pkgs=()
command -v make >/dev/null || need_pkgs+=(make)
command -v cc >/dev/null || need_pkgs+=(gcc)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
command -v nasm >/dev/null || need_pkgs+=(nasm)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
[[ -f /usr/include/zlib.h ]] || need_pkgs+=(zlib1g-dev)
if [[ ${#need_pkgs[@]} -gt 0 ]] && is_root && command -v apt-get >/dev/null; then
  say "installing ${need_pkgs[*]}"
  logged env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" ||
    { apt-get update >> "$LOG" 2>&1; logged env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}"; }
fi
command -v make >/dev/null && command -v cc >/dev/null && command -v pkg-config >/dev/null ||
  die "make, cc and pkg-config are needed (apt-get install make gcc pkg-config)"

# ---- source
# Add deb-src entries mirroring the deb ones (Debian 12 deb822 or one-line format).
add_deb_src() {
  local f=/etc/apt/sources.list.d/lwc-deb-src.sources
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$f"
  elif [[ -f /etc/apt/sources.list ]] && grep -q '^deb ' /etc/apt/sources.list; then
    f=/etc/apt/sources.list.d/lwc-deb-src.list
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$f"
  else
    return 1
  fi
  say "added $f; apt-get update"
  apt-get update >> "$LOG" 2>&1
}

fetch_apt_source() {
  command -v apt-get >/dev/null || no_source "no apt-get here; pass --source ffmpeg-5.1.x.tar.xz"
  mkdir -p "$FF/dl"
  local ok=0
  (cd "$FF/dl" && apt-get source --download-only ffmpeg >> "$LOG" 2>&1) && ok=1
  if [[ $ok = 0 ]] && is_root; then
    if ! apt-cache showsrc ffmpeg >/dev/null 2>&1 || ! apt-cache showsrc ffmpeg 2>/dev/null | grep -q .; then
      add_deb_src || no_source "no Debian apt sources found to add a deb-src entry from; pass --source TARBALL"
    else
      apt-get update >> "$LOG" 2>&1 || true
    fi
    (cd "$FF/dl" && apt-get source --download-only ffmpeg >> "$LOG" 2>&1) && ok=1
  fi
  if [[ $ok = 0 ]]; then
    tail -n 5 "$LOG" >&2
    if is_root; then no_source "apt-get source ffmpeg failed (is the Debian archive reachable?); pass --source TARBALL"
    else no_source "apt-get source ffmpeg failed and only root can add a deb-src entry; run this script as root, add deb-src to apt's sources, or pass --source ffmpeg-5.1.x.tar.xz"; fi
  fi
}

find_tarball() { ls "$FF"/dl/ffmpeg_5.1*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | sort -V | tail -n 1 || true; }

# An unpacked tree is reused unless another source is named explicitly.
if [[ -z $SOURCE && -f $SRC/.lwc-unpacked && -f $SRC/configure ]]; then
  SOURCE=$(cat "$SRC/.lwc-unpacked")
elif [[ -z $SOURCE ]]; then
  SOURCE=$(find_tarball)
  if [[ -z $SOURCE ]]; then
    say "fetching the FFmpeg source with apt-get source"
    fetch_apt_source
    SOURCE=$(find_tarball)
    [[ -n $SOURCE ]] || no_source "apt-get source gave no ffmpeg_5.1*.orig.tar.* (the archive may carry another FFmpeg version); pass --source TARBALL"
  fi
fi
if [[ ! -f $SRC/.lwc-unpacked || $(cat "$SRC/.lwc-unpacked") != "$SOURCE" ]]; then
  [[ -e $SOURCE ]] || no_source "'$SOURCE' does not exist"
  SOURCE=$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")
fi
if [[ ! -f $SRC/.lwc-unpacked || $(cat "$SRC/.lwc-unpacked") != "$SOURCE" ]]; then
  say "unpacking $SOURCE"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  if [[ -d $SOURCE ]]; then
    cp -a "$SOURCE"/. "$SRC"/
  else
    tar -xf "$SOURCE" -C "$SRC" --strip-components=1 || die "cannot unpack $SOURCE"
  fi
  echo "$SOURCE" > "$SRC/.lwc-unpacked"
fi
[[ -f $SRC/configure && -f $SRC/libavfilter/allfilters.c ]] || die "$SRC does not look like an FFmpeg source tree"
ver=$(cat "$SRC/RELEASE" 2>/dev/null || echo unknown)
[[ $ver = 5.1* ]] || die "FFmpeg $ver found; the filter is written for FFmpeg 5.1"
say "FFmpeg $ver in $SRC"

# ---- liblwc into a build-local prefix
say "installing liblwc into $PREFIX"
logged cmake --build "$BUILD" -j"$JOBS" --target lwc_static lwc
logged cmake --install "$BUILD" --prefix "$PREFIX"
# The installed lwc.pc names the configured prefix; point it at ours.
pc=$(find "$PREFIX" -name lwc.pc | head -n 1)
[[ -n $pc ]] || die "cmake --install put no lwc.pc under $PREFIX"
sed -i "s|^prefix=.*|prefix=$PREFIX|" "$pc"
export PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pkg-config --exists lwc || die "pkg-config cannot find lwc.pc under $PREFIX"
LIBDIR=$(pkg-config --variable=libdir lwc)
[[ -f $LIBDIR/liblwc.a ]] || die "$LIBDIR/liblwc.a is missing"

# ---- filter source and registration
cmp -s "$ROOT/tools/ffmpeg/vf_lwc.c" "$SRC/libavfilter/vf_lwc.c" || cp "$ROOT/tools/ffmpeg/vf_lwc.c" "$SRC/libavfilter/vf_lwc.c"
# The default model: the one installed next to liblwc (the filter also honours
# the model option and $LWC_MODEL).
cfg="#define LWC_FILTER_DEFAULT_MODEL \"$PREFIX/share/lwc/lwc-default.lwcm\""
[[ -f $SRC/libavfilter/vf_lwc_config.h && $(cat "$SRC/libavfilter/vf_lwc_config.h") = "$cfg" ]] ||
  echo "$cfg" > "$SRC/libavfilter/vf_lwc_config.h"

# register FILE ANCHOR NEWLINE: insert NEWLINE after the line ANCHOR (exact) unless present.
register() {
  local file=$1 anchor=$2 line=$3
  grep -qxF "$line" "$file" && return 0
  grep -qxF "$anchor" "$file" || die "anchor line not found in $file (FFmpeg changed?): $anchor"
  awk -v a="$anchor" -v l="$line" '{ print } $0 == a { print l }' "$file" > "$file.new" && mv "$file.new" "$file"
  grep -qxF "$line" "$file" || die "could not register lwc in $file"
}
# insert_before FILE ANCHOR MARKER TEXT: insert the lines TEXT before the line
# ANCHOR, which must occur exactly once, unless MARKER is already in FILE.
insert_before() {
  local file=$1 anchor=$2 marker=$3 n
  grep -qF "$marker" "$file" && return 0
  n=$(grep -cxF "$anchor" "$file" || true)
  [[ $n = 1 ]] || die "anchor line found $n times in $file, wanted once (FFmpeg changed?): $anchor"
  A=$anchor T=$4 awk '$0 == ENVIRON["A"] { print ENVIRON["T"] } { print }' "$file" > "$file.new" && mv "$file.new" "$file"
  grep -qF "$marker" "$file" || die "could not register lwc in $file"
}
register "$SRC/libavfilter/allfilters.c" 'extern const AVFilter ff_vf_lutyuv;' 'extern const AVFilter ff_vf_lwc;'
register "$SRC/libavfilter/Makefile" \
  'OBJS-$(CONFIG_LUTYUV_FILTER)                 += vf_lut.o' \
  'OBJS-$(CONFIG_LWC_FILTER)                    += vf_lwc.o'

# ---- codec source and registration
cmp -s "$ROOT/tools/ffmpeg/liblwc.c" "$SRC/libavcodec/liblwc.c" || cp "$ROOT/tools/ffmpeg/liblwc.c" "$SRC/libavcodec/liblwc.c"
cfg="#define LWC_CODEC_DEFAULT_MODEL \"$PREFIX/share/lwc/lwc-default.lwcm\""
[[ -f $SRC/libavcodec/liblwc_config.h && $(cat "$SRC/libavcodec/liblwc_config.h") = "$cfg" ]] ||
  echo "$cfg" > "$SRC/libavcodec/liblwc_config.h"
# The id goes last among the video ids and its descriptor last among the
# video descriptors (both just before the PCM block): codec_desc.c is
# searched with bsearch, so the descriptors must stay in id order.
insert_before "$SRC/libavcodec/codec_id.h" '    /* various PCM "codecs" */' AV_CODEC_ID_LWC \
'    AV_CODEC_ID_LWC,
'
insert_before "$SRC/libavcodec/codec_desc.c" '    /* various PCM "codecs" */' AV_CODEC_ID_LWC \
'    {
        .id        = AV_CODEC_ID_LWC,
        .type      = AVMEDIA_TYPE_VIDEO,
        .name      = "lwc",
        .long_name = NULL_IF_CONFIG_SMALL("lwc learned image codec"),
        .props     = AV_CODEC_PROP_INTRA_ONLY | AV_CODEC_PROP_LOSSY,
    },
'
register "$SRC/libavcodec/allcodecs.c" 'extern const FFCodec ff_libjxl_encoder;' 'extern const FFCodec ff_liblwc_encoder;'
register "$SRC/libavcodec/allcodecs.c" 'extern const FFCodec ff_liblwc_encoder;' 'extern const FFCodec ff_liblwc_decoder;'
register "$SRC/libavcodec/Makefile" \
  'OBJS-$(CONFIG_LIBJXL_ENCODER)             += libjxlenc.o libjxl.o' \
  'OBJS-$(CONFIG_LIBLWC_ENCODER)             += liblwc.o'
register "$SRC/libavcodec/Makefile" \
  'OBJS-$(CONFIG_LIBLWC_ENCODER)             += liblwc.o' \
  'OBJS-$(CONFIG_LIBLWC_DECODER)             += liblwc.o'
# Containers: Matroska CodecID "V_LWC" (no CodecPrivate) and NUT fourcc LWC1.
register "$SRC/libavformat/matroska.c" '    {"V_FFV1"           , AV_CODEC_ID_FFV1},' \
  '    {"V_LWC"            , AV_CODEC_ID_LWC},'
register "$SRC/libavformat/nut.c" 'const AVCodecTag ff_nut_video_tags[] = {' \
  "    { AV_CODEC_ID_LWC,              MKTAG('L', 'W', 'C', '1') },"

# ---- configure (only when the options changed)
asm=()
command -v nasm >/dev/null || { asm=(--disable-x86asm); say "no nasm: building without x86 assembly (slower decoding)"; }
zlib=()
[[ -f /usr/include/zlib.h ]] && zlib=(--enable-zlib) || say "no zlib.h: PNG support left out"
LWC_CFLAGS=$(pkg-config --cflags lwc)
LWC_LIBS="$LIBDIR/liblwc.a $(pkg-config --libs-only-l --static lwc | sed 's/-llwc//')"
conf=(
  --disable-everything --disable-autodetect --disable-doc --disable-debug --disable-shared --enable-static
  --disable-network --disable-ffplay --enable-ffmpeg --enable-ffprobe --enable-avdevice --enable-swscale
  "${asm[@]}" "${zlib[@]}"
  --enable-protocol=file,pipe
  --enable-demuxer=h264,hevc,matroska,mov,ivf,av1,obu,image2,image2pipe,png_pipe,mjpeg,rawvideo,yuv4mpegpipe,nut
  --enable-decoder=h264,hevc,vp9,av1,png,mjpeg,rawvideo,ffv1,wrapped_avframe,liblwc
  --enable-parser=h264,hevc,vp9,av1,png,mjpeg
  --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,vp9_superframe_split,av1_frame_split
  --enable-muxer=yuv4mpegpipe,nut,matroska,rawvideo,framemd5,md5,framecrc,null,image2,image2pipe
  --enable-encoder=ffv1,rawvideo,png,wrapped_avframe,liblwc
  --enable-indev=lavfi
  --enable-filter=lwc,scale,format,psnr,metadata,testsrc2,testsrc,null,nullsink,copy,split,trim,fps,setpts,crop,pad,showinfo,select,anull,anullsrc,aformat,aresample,anullsink
  --extra-cflags="$LWC_CFLAGS" --extra-libs="$LWC_LIBS"
)
stamp="${conf[*]}"
if [[ ! -f $SRC/ffbuild/config.mak || ! -f $FF/configure.stamp || $(cat "$FF/configure.stamp") != "$stamp" ]]; then
  say "configuring (log: $LOG)"
  (cd "$SRC" && logged ./configure "${conf[@]}")
  grep -qs 'CONFIG_LWC_FILTER 1' "$SRC/config.h" "$SRC/config_components.h" || die "configure did not enable the lwc filter (see $LOG)"
  for c in LIBLWC_ENCODER LIBLWC_DECODER; do
    grep -qs "CONFIG_$c 1" "$SRC/config.h" "$SRC/config_components.h" || die "configure did not enable $c (see $LOG)"
  done
  echo "$stamp" > "$FF/configure.stamp"
fi

# ---- relink when liblwc changed: the FFmpeg Makefile does not track it
libsum=$(cat "$LIBDIR/liblwc.a" "$PREFIX/include/lwc.h" | cksum)
if [[ ! -f $FF/liblwc.stamp || $(cat "$FF/liblwc.stamp") != "$libsum" ]]; then
  rm -f "$SRC/ffmpeg_g" "$SRC/ffprobe_g" "$SRC/ffmpeg" "$SRC/ffprobe" "$SRC/libavfilter/vf_lwc.o" "$SRC/libavcodec/liblwc.o"
fi

say "make -j$JOBS (log: $LOG)"
start=$(date +%s)
(cd "$SRC" && logged make -j"$JOBS" ffmpeg ffprobe)
echo "$libsum" > "$FF/liblwc.stamp"
for p in ffmpeg ffprobe ffmpeg_g ffprobe_g; do
  cmp -s "$SRC/$p" "$FF/$p" || cp "$SRC/$p" "$FF/$p"
done
"$FF/ffmpeg" -hide_banner -h filter=lwc > /dev/null 2>&1 || die "$FF/ffmpeg does not know the lwc filter"
[[ $("$FF/ffmpeg" -hide_banner -h encoder=liblwc 2>&1) = *"Encoder liblwc"* ]] || die "$FF/ffmpeg does not know the liblwc encoder"
say "done in $(( $(date +%s) - start )) s: $FF/ffmpeg, $FF/ffprobe"
