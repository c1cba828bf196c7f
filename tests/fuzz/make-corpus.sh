#!/usr/bin/env bash
# Regenerate the seed corpora in tests/fuzz/corpus/ (only when the formats or
# the harness input layouts change; the files are committed).
#   bash tests/fuzz/make-corpus.sh BUILD_DIR
# Needs python3 (standard library only) and cjpeg (libjpeg-turbo-progs).
#   decode/     golden streams of tests/golden (version 1, and version 2 with
#               several y stripes) plus RGBA / gray+alpha streams (alpha
#               modes 0 and 1), coded with tests/golden/tiny.lwcm
#   model/      minimal-architecture models (lwc_test_mkmodel), float and integer synthesis
#   image/      small PNG (every colour type and bit depth, palette, tRNS,
#               Adam7), JPEG (baseline, gray, progressive, restarts,
#               arithmetic, 4:4:4, CMYK) and PPM/PGM (8/16-bit, odd maxval)
#   roundtrip/  harness inputs: 4 header bytes (see fuzz_roundtrip.c) + samples
#   video/      .lwcv sequences coded with tests/golden/tiny.lwcm from Y4M
#               (420jpeg, 422, 444, mono) plus an RGB-source sequence
#   y4m/        small Y4M streams: every colour space, tag variants, an
#               empty stream, a cut frame
# Files named regress-* (inputs that once failed) are kept.
set -euo pipefail
B=${1:?build dir}; C=tests/fuzz/corpus
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
mkdir -p "$C"; find "$C" -type f ! -name 'regress-*' -delete
mkdir -p "$C"/{decode,model,image,roundtrip,video,y4m}
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

# Y4M streams (the y4m corpus, and the sources of the video corpus).
def y4m(name, w, h, chroma, n, tags='', cut=0, smooth=True):
    sx, sy = {'mono': (0, 0), '444': (1, 1), '422': (2, 1)}.get(chroma, (2, 2))
    cw, ch = ((w + sx - 1) // sx, (h + sy - 1) // sy) if sx else (0, 0)
    hdr = 'YUV4MPEG2 W%d H%d%s' % (w, h, tags) + ('' if chroma is None else ' C' + chroma)
    out = hdr.encode() + b'\n'
    for k in range(n):
        y = bytes(int(128 + 60 * math.sin(0.3 * x + 0.2 * yy + k)) if smooth else r.randint(16, 235)
                  for yy in range(h) for x in range(w))
        c = bytes(r.randint(100, 156) for _ in range(2 * cw * ch))
        out += b'FRAME\n' + y + c
    open(name, 'wb').write(out[:len(out) - cut])

Y = C + '/y4m/'
for c in ('420jpeg', '420mpeg2', '420paldv', '420', '422', '444', 'mono'):
    y4m(Y + c + '.y4m', 7, 5, c, 2, ' F30000:1001')
y4m(Y + 'no-c-tag.y4m', 4, 4, None, 1)
y4m(Y + 'tags.y4m', 6, 3, '444', 1, ' F25:1 A128:117 It XYSCSS=420JPEG Xfoo', smooth=False)
y4m(Y + 'zero-frames.y4m', 9, 9, '420jpeg', 0, ' A0:0 F0:0')
y4m(Y + 'cut-frame.y4m', 5, 5, 'mono', 2, cut=7)
for c, w, h in (('420jpeg', 24, 16), ('422', 17, 9), ('444', 16, 8), ('mono', 20, 12)):
    y4m(t + '/v-' + c + '.y4m', w, h, c, 3 if c == '420jpeg' else 2, ' F24:1')
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
# version 2 with several y stripes (the streams above are version 1)
cp tests/golden/v2-rgb-q30-s3.lwc tests/golden/v2-tall-q60-s5.lwc tests/golden/v2-deep16-q70-s1.lwc "$C/decode/"
"$B/lwc" encode "$t/rgba.png" -o "$C/decode/rgba-q60.lwc" -q 60 --reference --quiet
"$B/lwc" encode "$t/graya16.png" -o "$C/decode/graya16-q10.lwc" -q 10 --reference --quiet
"$B/lwc" encode "$t/rgb.ppm" -o "$C/decode/rgb-q0.lwc" -q 0 --reference --quiet
# Video: sequences from Y4M, and an RGB-source sequence (as the FFmpeg filter
# writes) around an RGB image stream
for c in 420jpeg 422 444 mono; do
  "$B/lwc" encode "$t/v-$c.y4m" -o "$C/video/$c.lwcv" -q 40 --reference --quiet
done
python3 - "$C/decode/rgb-q0.lwc" "$C/video/rgb-source.lwcv" <<'PY'
import sys, struct
def crc32c(b):
    c = 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8): c = (c >> 1) ^ (0x82f63b78 & -(c & 1))
    return c ^ 0xffffffff
img = open(sys.argv[1], 'rb').read()
w, h = struct.unpack('<II', img[8:16])
hdr = b'\x89LWV' + bytes([1, 0, 0, 0]) + struct.pack('<IIII', w, h, 25, 1) + img[16:24] + struct.pack('<I', 2) + bytes(8)
hdr += struct.pack('<I', crc32c(hdr))
open(sys.argv[2], 'wb').write(hdr + (struct.pack('<I', len(img)) + img) * 2)
PY
# Model: the smallest architecture the loader accepts
"$B/tests/lwc_test_mkmodel" "$C/model/min-arch.lwcm" 3 "2,1,2,2,1,1,2,1,1,2"
"$B/tests/lwc_test_mkmodel" "$C/model/min-arch-int.lwcm" 3 "2,1,2,2,1,1,2,1,1,2" int   # model version 4
"$B/tests/lwc_test_mkmodel" "$C/model/min-arch-ctx.lwcm" 3 "2,1,2,2,1,1,2,1,1,2" int,ctx   # model version 6
"$B/tests/lwc_test_mkmodel" "$C/model/min-arch-pred.lwcm" 3 "2,1,2,2,1,1,2,1,1,2" int,ctx,pred   # model version 7
"$B/tests/lwc_test_mkmodel" "$C/model/min-arch-zctx.lwcm" 3 "2,1,2,2,1,1,2,1,1,2" zlevels,int,ctx,pred,zctx   # model version 8
du -sh "$C"/*
