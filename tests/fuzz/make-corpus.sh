#!/usr/bin/env bash
# Regenerate the seed corpora in tests/fuzz/corpus/ (only when the formats or
# the harness input layouts change; the files are committed).
#   bash tests/fuzz/make-corpus.sh BUILD_DIR
# Needs python3 (standard library only) and cjpeg (libjpeg-turbo-progs).
#   decode/     golden streams of tests/golden plus RGBA / gray+alpha streams
#               (alpha modes 0 and 1), coded with tests/golden/tiny.lwcm
#   model/      a minimal-architecture model (lwc_test_mkmodel)
#   image/      small PNG (every colour type and bit depth, palette, tRNS,
#               Adam7), JPEG (baseline, gray, progressive, restarts,
#               arithmetic, 4:4:4, CMYK) and PPM/PGM (8/16-bit, odd maxval)
#   roundtrip/  harness inputs: 4 header bytes (see fuzz_roundtrip.c) + samples
set -euo pipefail
B=${1:?build dir}; C=tests/fuzz/corpus
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
rm -rf "$C"; mkdir -p "$C"/{decode,model,image,roundtrip}
python3 - "$t" "$C" <<'PY'
import sys, struct, zlib, math, random
t, C = sys.argv[1], sys.argv[2]
r = random.Random(99)

def chunk(typ, data):
    c = struct.pack('>I', len(data)) + typ + data
    return c + struct.pack('>I', zlib.crc32(typ + data) & 0xffffffff)

def paeth(a, b, c):
    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c

def filt(rows, bpp):
    out, prev = b'', bytes(len(rows[0])) if rows else b''
    for i, row in enumerate(rows):
        ft = i % 5; f = bytearray()
        for x, v in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
            p = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            f.append((v - p) & 255)
        out += bytes([ft]) + bytes(f); prev = row
    return out

def pack_rows(px, w, h, ch, depth):
    rows = []
    for y in range(h):
        if depth >= 8:
            nb = depth // 8
            rows.append(b''.join(px[y][x][c].to_bytes(nb, 'big') for x in range(w) for c in range(ch)))
        else:
            bits = ''.join(format(px[y][x][0], '0%db' % depth) for x in range(w))
            bits += '0' * (-len(bits) % 8)
            rows.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
    return rows

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

def png(name, w, h, ctype, depth, extra=b'', interlace=0, pal=None):
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    mx = (1 << depth) - 1 if ctype != 3 else len(pal) - 1
    px = [[[int((0.5 + 0.45 * math.sin(0.4 * x * (c + 1) + 0.3 * y)) * mx + 0.5) if c < 3 or ctype == 3
            else (mx if (x + y) % 3 else r.randint(0, mx)) for c in range(ch)] for x in range(w)] for y in range(h)]
    bpp = max(1, ch * depth // 8)
    if not interlace:
        raw = filt(pack_rows(px, w, h, ch, depth), bpp)
    else:
        raw = b''
        for x0, y0, dx, dy in ADAM7:
            sub = [[px[y][x] for x in range(x0, w, dx)] for y in range(y0, h, dy)]
            if sub and sub[0]:
                raw += filt(pack_rows(sub, len(sub[0]), len(sub), ch, depth), bpp)
    ihdr = struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, interlace)
    plte = chunk(b'PLTE', b''.join(bytes(p) for p in pal)) if pal else b''
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + plte + extra + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    open(name, 'wb').write(data)

I = C + '/image/'
for d in (1, 2, 4, 8, 16): png(I + 'gray%d.png' % d, 9, 7, 0, d)
png(I + 'gray8-trns.png', 6, 5, 0, 8, chunk(b'tRNS', struct.pack('>H', 128)))
png(I + 'graya8.png', 7, 6, 4, 8); png(I + 'graya16.png', 5, 4, 4, 16)
png(I + 'rgb8.png', 8, 6, 2, 8); png(I + 'rgb16.png', 5, 5, 2, 16)
png(I + 'rgb8-trns.png', 5, 4, 2, 8, chunk(b'tRNS', struct.pack('>HHH', 10, 20, 30)))
png(I + 'rgba8.png', 7, 7, 6, 8); png(I + 'rgba16.png', 4, 3, 6, 16)
png(I + 'rgba8-adam7.png', 11, 9, 6, 8, interlace=1); png(I + 'gray2-adam7.png', 10, 10, 0, 2, interlace=1)
for d in (1, 2, 4, 8):
    n = min(1 << d, 7); pal = [(r.randint(0, 255), r.randint(0, 255), r.randint(0, 255)) for _ in range(n)]
    png(I + 'pal%d.png' % d, 9, 5, 3, d, pal=pal)
pal = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (9, 9, 9)]
png(I + 'pal4-trns.png', 6, 6, 3, 4, chunk(b'tRNS', bytes([0, 128, 255])), pal=pal)
png(I + 'rgb8-text.png', 3, 3, 2, 8, chunk(b'tEXt', b'Comment\x00fuzz seed') + chunk(b'gAMA', struct.pack('>I', 45455)))

def pnm(name, w, h, ch, mx, comment=False):
    px = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(ch):
                v = int((0.5 + 0.4 * math.cos(0.5 * x * (c + 1) + 0.2 * y)) * mx + 0.5)
                px += v.to_bytes(2, 'big') if mx > 255 else bytes([v])
    hdr = b'P6' if ch == 3 else b'P5'
    hdr += b'\n# a comment\n' if comment else b'\n'
    open(name, 'wb').write(hdr + b'%d %d\n%d\n' % (w, h, mx) + bytes(px))

pnm(I + 'rgb8.ppm', 8, 5, 3, 255, True); pnm(I + 'rgb16.ppm', 4, 3, 3, 65535)
pnm(I + 'gray8.pgm', 7, 6, 1, 255); pnm(I + 'gray100.pgm', 5, 5, 1, 100, True); pnm(I + 'gray1000.pgm', 4, 4, 1, 1000)
pnm(t + '/j.ppm', 16, 16, 3, 255); pnm(t + '/j.pgm', 16, 16, 1, 255)
pnm(t + '/rgb.ppm', 40, 24, 3, 255)

# Images to code for the decode corpus (PNG with alpha: tiny 8-bit and 16-bit).
png(t + '/rgba.png', 37, 21, 6, 8); png(t + '/graya16.png', 20, 9, 4, 16)

# Round-trip harness inputs.
R = C + '/roundtrip/'
def rt(name, w, h, ch, deep, q, n):
    hdr = bytes([(w - 1) % 48, (h - 1) % 48, (ch - 1) | (4 if deep else 0), q])
    open(R + name, 'wb').write(hdr + bytes(r.randint(0, 255) for _ in range(n)))
rt('rgb-1x1', 1, 1, 3, 0, 128, 3); rt('rgb-33x17', 33, 17, 3, 0, 200, 33 * 17 * 3)
rt('gray-48x48', 48, 48, 1, 0, 0, 500); rt('graya-7x40', 7, 40, 2, 0, 255, 7 * 40 * 2)
rt('rgba16-9x9', 9, 9, 4, 1, 77, 9 * 9 * 8); rt('rgb16-20x3', 20, 3, 3, 1, 150, 64)
rt('rgba-flat-16x16', 16, 16, 4, 0, 100, 0)
PY
# JPEG seeds
cjpeg -quality 80 "$t/j.ppm" > "$C/image/baseline.jpg"
cjpeg -grayscale -quality 70 "$t/j.pgm" > "$C/image/gray.jpg"
cjpeg -progressive "$t/j.ppm" > "$C/image/progressive.jpg"
cjpeg -restart 1 -sample 1x1 "$t/j.ppm" > "$C/image/restart-444.jpg"
cjpeg -arithmetic "$t/j.ppm" > "$C/image/arithmetic.jpg"
cjpeg -optimize -sample 2x1 -quality 95 "$t/j.ppm" > "$C/image/optimized-422.jpg"
if command -v convert > /dev/null; then convert "$t/j.ppm" -colorspace CMYK "$C/image/cmyk.jpg"; fi
# Streams
export LWC_MODEL=tests/golden/tiny.lwcm
cp tests/golden/rgb-q30.lwc tests/golden/gray-q50.lwc tests/golden/deep16-q70.lwc tests/golden/rgb-q90.lwc \
   tests/golden/err-section-past-end.lwc tests/golden/err-model-id.lwc "$C/decode/"
"$B/lwc" encode "$t/rgba.png" -o "$C/decode/rgba-q60.lwc" -q 60 --reference --quiet
"$B/lwc" encode "$t/graya16.png" -o "$C/decode/graya16-q10.lwc" -q 10 --reference --quiet
"$B/lwc" encode "$t/rgb.ppm" -o "$C/decode/rgb-q0.lwc" -q 0 --reference --quiet
# Model: the smallest architecture the loader accepts
"$B/tests/lwc_test_mkmodel" "$C/model/min-arch.lwcm" 3 "2,1,2,2,1,1,2,1,1,2"
du -sh "$C"/*
