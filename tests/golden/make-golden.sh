#!/usr/bin/env bash
# Regenerate tests/golden (only on a deliberate, versioned format change).
#   bash tests/golden/make-golden.sh build
# Streams are made with the reference kernels; broken streams are derived
# from them. MANIFEST records the expected pixel hash or error code, using
# the test itself in "record" mode (LWC_GOLDEN_RECORD=1 prints the hashes);
# a new stream needs its line in MANIFEST before it can be recorded.
#
# Version 1 streams (rgb-q30, rgb-q90, gray-q50, deep16-q70) are frozen: the
# encoder writes version 2 since the y stripes, so they stay as the version-1
# encoder wrote them, and so does tiny.lwcm, which they need. The broken v1
# streams are still derived from the committed rgb-q30.lwc. Version 2 streams
# are v2-*; those named -sN are coded with N latent rows per stripe
# (lwc encode --stripe-rows) so that small images have several stripes.
set -euo pipefail
B=${1:-build}; G=tests/golden
[[ -f $G/tiny.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny.lwcm 7
export LWC_MODEL=$G/tiny.lwcm
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
python3 - "$t" <<'PY'
import sys, random
d = sys.argv[1]; r = random.Random(1234)
def ppm(path, w, h, ch, mx):
    magic = b'P6' if ch == 3 else b'P5'
    n = w * h * ch
    import math
    px = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(ch):
                v = 0.5 + 0.35 * math.sin(0.21 * x * (c + 1) + 0.13 * y) + r.uniform(-0.05, 0.05)
                v = max(0, min(mx, int(v * mx + 0.5)))
                px += v.to_bytes(2, 'big') if mx > 255 else bytes([v])
    open(path, 'wb').write(magic + b'\n%d %d\n%d\n' % (w, h, mx) + bytes(px))
ppm(d + '/rgb.ppm', 64, 48, 3, 255)
ppm(d + '/gray.pgm', 33, 17, 1, 255)
ppm(d + '/deep.ppm', 20, 12, 3, 65535)
ppm(d + '/tall.pgm', 40, 260, 1, 255)
PY
enc() { "$B/lwc" encode "$@" --reference --quiet; }
enc "$t/rgb.ppm" -o $G/v2-rgb-q30.lwc -q 30
enc "$t/rgb.ppm" -o $G/v2-rgb-q30-s3.lwc -q 30 --stripe-rows 3
enc "$t/tall.pgm" -o $G/v2-tall-q60-s5.lwc -q 60 --stripe-rows 5
enc "$t/deep.ppm" -o $G/v2-deep16-q70-s1.lwc -q 70 --stripe-rows 1
# Model version 2 (hyper-latent gains): tiny-zg.lwcm, frozen like tiny.lwcm;
# q 37 lies between two of its 4 levels, q 100 at the top one.
[[ -f $G/tiny-zg.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny-zg.lwcm 9
LWC_MODEL=$G/tiny-zg.lwcm enc "$t/rgb.ppm" -o $G/zg-rgb-q37.lwc -q 37
LWC_MODEL=$G/tiny-zg.lwcm enc "$t/tall.pgm" -o $G/zg-tall-q100-s5.lwc -q 100 --stripe-rows 5
# Model version 3 (one z density per rate level, each different):
# tiny-zl.lwcm, frozen; q 0, 37 and 100 use the tables of levels 0, 1, 3.
[[ -f $G/tiny-zl.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny-zl.lwcm 13 - zlevels
LWC_MODEL=$G/tiny-zl.lwcm enc "$t/rgb.ppm" -o $G/zl-rgb-q0.lwc -q 0
LWC_MODEL=$G/tiny-zl.lwcm enc "$t/rgb.ppm" -o $G/zl-rgb-q37.lwc -q 37
LWC_MODEL=$G/tiny-zl.lwcm enc "$t/tall.pgm" -o $G/zl-tall-q100-s5.lwc -q 100 --stripe-rows 5
# Model version 4 (integer synthesis): tiny-is.lwcm, frozen; its streams
# must decode to the same pixels with every kernel set (test_golden.c).
[[ -f $G/tiny-is.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny-is.lwcm 17 - int
LWC_MODEL=$G/tiny-is.lwcm enc "$t/rgb.ppm" -o $G/is-rgb-q0.lwc -q 0
LWC_MODEL=$G/tiny-is.lwcm enc "$t/rgb.ppm" -o $G/is-rgb-q37.lwc -q 37
LWC_MODEL=$G/tiny-is.lwcm enc "$t/gray.pgm" -o $G/is-gray-q50.lwc -q 50
LWC_MODEL=$G/tiny-is.lwcm enc "$t/tall.pgm" -o $G/is-tall-q100-s5.lwc -q 100 --stripe-rows 5
LWC_MODEL=$G/tiny-is.lwcm enc "$t/deep.ppm" -o $G/is-deep16-q70.lwc -q 70
# Model version 6 (y tables per parity and context class, each class's
# different): tiny-ctx.lwcm, frozen; integer synthesis as version 4.
[[ -f $G/tiny-ctx.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny-ctx.lwcm 19 - int,ctx
LWC_MODEL=$G/tiny-ctx.lwcm enc "$t/rgb.ppm" -o $G/ctx-rgb-q0.lwc -q 0
LWC_MODEL=$G/tiny-ctx.lwcm enc "$t/rgb.ppm" -o $G/ctx-rgb-q60-s3.lwc -q 60 --stripe-rows 3
LWC_MODEL=$G/tiny-ctx.lwcm enc "$t/tall.pgm" -o $G/ctx-tall-q100-s5.lwc -q 100 --stripe-rows 5
# Model version 7 (in-pass prediction of y's symbols, every channel's and
# parity's weights different): tiny-pred.lwcm, frozen; as version 6 otherwise.
[[ -f $G/tiny-pred.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny-pred.lwcm 23 - int,ctx,pred
LWC_MODEL=$G/tiny-pred.lwcm enc "$t/rgb.ppm" -o $G/pred-rgb-q0.lwc -q 0
LWC_MODEL=$G/tiny-pred.lwcm enc "$t/rgb.ppm" -o $G/pred-rgb-q60-s3.lwc -q 60 --stripe-rows 3
LWC_MODEL=$G/tiny-pred.lwcm enc "$t/tall.pgm" -o $G/pred-tall-q100-s5.lwc -q 100 --stripe-rows 5
# Model version 8 (z tables per context class, each class's different, one
# z density per rate level): tiny-zctx.lwcm, frozen; as version 7 otherwise.
[[ -f $G/tiny-zctx.lwcm ]] || "$B/tests/lwc_test_mkmodel" $G/tiny-zctx.lwcm 29 - zlevels,int,ctx,pred,zctx
LWC_MODEL=$G/tiny-zctx.lwcm enc "$t/rgb.ppm" -o $G/zctx-rgb-q0.lwc -q 0
LWC_MODEL=$G/tiny-zctx.lwcm enc "$t/rgb.ppm" -o $G/zctx-rgb-q60-s3.lwc -q 60 --stripe-rows 3
LWC_MODEL=$G/tiny-zctx.lwcm enc "$t/tall.pgm" -o $G/zctx-tall-q100-s5.lwc -q 100 --stripe-rows 5
src=$G/rgb-q30.lwc; n=$(stat -c %s $src)
head -c 20 $src > $G/err-truncated-header.lwc
head -c $((n - 5)) $src > $G/err-truncated-payload.lwc
python3 - $src $G/v2-rgb-q30-s3.lwc $G <<'PY'
import sys, struct
src, src2, g = sys.argv[1], sys.argv[2], sys.argv[3]
b = bytearray(open(src, 'rb').read())
def crc32c(data):
    c = 0xffffffff
    for x in data:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xffffffff
def save(name, data, fix=True):
    d = bytearray(data)
    if fix: d[28:32] = struct.pack('<I', crc32c(bytes(d[:28])))
    open(g + '/' + name, 'wb').write(d)
x = bytearray(b); x[0] = 0x50; save('err-magic.lwc', x, False)
x = bytearray(b); x[4] = 3; save('err-version.lwc', x)
x = bytearray(b); x[-1] ^= 0x10; save('err-crc-payload.lwc', x, False)
x = bytearray(b); x[9] ^= 1; save('err-crc-header.lwc', x, False)
x = bytearray(b); x[8:12] = struct.pack('<I', 1 << 30); save('err-huge-width.lwc', x)
x = bytearray(b); x[8:16] = struct.pack('<II', 1 << 20, 1 << 20); save('err-over-pixel-cap.lwc', x)
x = bytearray(b); x[8:12] = struct.pack('<I', 0); save('err-zero-width.lwc', x)
x = bytearray(b); x[16] ^= 0xff; save('err-model-id.lwc', x)
x = bytearray(b); x[36:40] = struct.pack('<I', 1 << 31); save('err-section-past-end.lwc', x)
x = bytearray(b); x[26] = 9; save('err-section-count.lwc', x)
# a version-1 payload under a version-2 header: its rANS state read as a stripe table
x = bytearray(b); x[4] = 2; save('err-v2-v1-payload.lwc', x)

# Version 2: damage to the stripe table of YLAT (3 stripes of 3, 3, 2 rows),
# the stream rebuilt around it with valid sizes and CRCs.
def sections(s):
    n, pos, out = s[26], 32 + 12 * s[26], []
    for i in range(n):
        tag, size = struct.unpack('<II', s[32 + 12 * i:40 + 12 * i])
        out.append([tag, bytearray(s[pos:pos + size])]); pos += size
    return out
def build(s, secs):
    out = bytearray(s[:32]); out[26] = len(secs)
    for tag, p in secs: out += struct.pack('<III', tag, len(p), crc32c(bytes(p)))
    for tag, p in secs: out += p
    out[28:32] = struct.pack('<I', crc32c(bytes(out[:28])))
    return out
v2 = bytearray(open(src2, 'rb').read())
YLAT = struct.unpack('<I', b'YLAT')[0]
def ylat_case(name, fn):
    secs = sections(v2)
    for sec in secs:
        if sec[0] == YLAT: sec[1] = fn(sec[1])
    open(g + '/' + name, 'wb').write(build(v2, secs))
def put(p, off, v): p[off:off + 4] = struct.pack('<I', v & 0xffffffff); return p
def get(p, off): return struct.unpack('<I', p[off:off + 4])[0]
ylat_case('err-v2-stripe-count.lwc', lambda p: put(p, 4, get(p, 4) + 1))
ylat_case('err-v2-stripe-rows-zero.lwc', lambda p: put(p, 0, 0))
ylat_case('err-v2-stripe-rows-big.lwc', lambda p: put(p, 0, 9))
ylat_case('err-v2-stripe-past-end.lwc', lambda p: put(p, 12, 0x7ffffff0))
ylat_case('err-v2-stripe-sum.lwc', lambda p: put(p, 8, get(p, 8) - 4))
ylat_case('err-v2-stripe-size-not-4n.lwc', lambda p: put(put(p, 8, get(p, 8) + 2), 12, get(p, 12) - 2))
ylat_case('err-v2-stripe-table-cut.lwc', lambda p: p[:12])
ylat_case('err-v2-stripe-shift.lwc', lambda p: put(put(p, 8, get(p, 8) + 4), 12, get(p, 12) - 4))
PY
echo "golden streams written; now run: LWC_GOLDEN_RECORD=1 to print hashes (see test_golden.c)"
