#!/usr/bin/env bash
# Regenerate tests/golden (only on a deliberate, versioned format change).
#   bash tests/golden/make-golden.sh build
# Streams are made with the reference kernels; broken streams are derived
# from them. MANIFEST records the expected pixel hash or error code, using
# the test itself in "record" mode (LWC_GOLDEN_RECORD=1 prints the hashes).
set -euo pipefail
B=${1:-build}; G=tests/golden
"$B/tests/lwc_test_mkmodel" $G/tiny.lwcm 7
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
PY
"$B/lwc" encode "$t/rgb.ppm" -o $G/rgb-q30.lwc -q 30 --reference --quiet
"$B/lwc" encode "$t/rgb.ppm" -o $G/rgb-q90.lwc -q 90 --reference --quiet
"$B/lwc" encode "$t/gray.pgm" -o $G/gray-q50.lwc -q 50 --reference --quiet
"$B/lwc" encode "$t/deep.ppm" -o $G/deep16-q70.lwc -q 70 --reference --quiet
src=$G/rgb-q30.lwc; n=$(stat -c %s $src)
head -c 20 $src > $G/err-truncated-header.lwc
head -c $((n - 5)) $src > $G/err-truncated-payload.lwc
python3 - $src $G <<'PY'
import sys, struct
src, g = sys.argv[1], sys.argv[2]
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
x = bytearray(b); x[4] = 2; save('err-version.lwc', x)
x = bytearray(b); x[-1] ^= 0x10; save('err-crc-payload.lwc', x, False)
x = bytearray(b); x[9] ^= 1; save('err-crc-header.lwc', x, False)
x = bytearray(b); x[8:12] = struct.pack('<I', 1 << 30); save('err-huge-width.lwc', x)
x = bytearray(b); x[8:16] = struct.pack('<II', 1 << 20, 1 << 20); save('err-over-pixel-cap.lwc', x)
x = bytearray(b); x[8:12] = struct.pack('<I', 0); save('err-zero-width.lwc', x)
x = bytearray(b); x[16] ^= 0xff; save('err-model-id.lwc', x)
x = bytearray(b); x[36:40] = struct.pack('<I', 1 << 31); save('err-section-past-end.lwc', x)
x = bytearray(b); x[26] = 9; save('err-section-count.lwc', x)
PY
echo "golden streams written; now run: LWC_GOLDEN_RECORD=1 to print hashes (see test_golden.c)"
