#!/usr/bin/env python3
"""Make a compact training pack for tools/train-gpu/train.py.

  /usr/bin/python3 tools/train-gpu/pack.py [--data DIR (default datasets/train, as models/train.sh)] --out train.pack \
      [--crop 256] [--max-mib 59] [--side N]

Selection as the C data loader's (tools/train/data.c): the files with a
.png/.jpg/.jpeg/.ppm extension, sorted by name (byte order); file i is
validation when i % val_split == val_split / 2 (default 20: i % 20 == 10)
and is left out; an image with a side below --crop is skipped, as the C
loader skips it. What differs: each image is kept as a centred window of at
most side x side pixels at full resolution (no scaling), so that the pack
fits --max-mib; --side defaults to the largest multiple of 32 (>= crop)
that fits. Random crops are then taken inside the windows rather than
anywhere in the image.

Format: b"LWCPACK1", u32 count, then per image u32 height, u32 width,
u32 nbytes and nbytes of zlib data: the RGB rows (h x w x 3 uint8) with
each sample replaced by its difference to the left neighbour (mod 256),
which zlib compresses about a third better than the raw samples.
"""
import argparse
import os
import struct
import sys
import zlib

import numpy as np

EXTS = (".png", ".jpg", ".jpeg", ".ppm")


def read_rgb(path):
    from PIL import Image
    im = Image.open(path)
    if im.mode in ("I;16", "I;16B", "I"):  # 16-bit grey: the top byte, as the C loader
        a = (np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8)
        return np.stack([a, a, a], 2)
    return np.asarray(im.convert("RGB"))


def training_files(data, val_split):
    names = sorted(n for n in os.listdir(data) if os.path.splitext(n)[1].lower() in EXTS)
    return [n for i, n in enumerate(names) if not (val_split > 0 and i % val_split == val_split // 2)]


def tile_crops(paths, size):
    """Every whole size x size tile of each image, [n, 3, size, size] float32
    in [-0.5, 0.5] (the trainer's crop values)."""
    out = []
    for p in paths:
        im = read_rgb(p).astype(np.float32) / 255.0 - 0.5
        h, w = im.shape[:2]
        for y0 in range(0, h - size + 1, size):
            for x0 in range(0, w - size + 1, size):
                out.append(im[y0:y0 + size, x0:x0 + size].transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(out))


def window(a, side):
    h, w = a.shape[:2]
    hh, ww = min(h, side), min(w, side)
    y0, x0 = (h - hh) // 2, (w - ww) // 2
    return a[y0:y0 + hh, x0:x0 + ww]


def encode(a):
    d = np.diff(a.astype(np.int16), axis=1, prepend=0).astype(np.uint8)
    return zlib.compress(np.ascontiguousarray(d).tobytes(), 6)


def decode(blob, h, w):
    d = np.frombuffer(zlib.decompress(blob), np.uint8).reshape(h, w, 3)
    return np.cumsum(d, axis=1, dtype=np.uint8)  # the sum wraps mod 256, undoing the differences


def load_pack(path):
    """[uint8 array h x w x 3] of a pack."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != b"LWCPACK1":
        raise ValueError("not a training pack: %s" % path)
    (n,) = struct.unpack_from("<I", buf, 8)
    p, out = 12, []
    for _ in range(n):
        h, w, nb = struct.unpack_from("<III", buf, p)
        p += 12
        out.append(decode(buf[p:p + nb], h, w))
        p += nb
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="datasets/train")
    ap.add_argument("--out", required=True)
    ap.add_argument("--crop", type=int, default=256, help="smallest side kept (the training crop)")
    ap.add_argument("--val-split", type=int, default=20)
    ap.add_argument("--max-mib", type=float, default=59.0)
    ap.add_argument("--side", type=int, default=0, help="window side (0: the largest that fits)")
    ap.add_argument("--max-images", type=int, default=0)
    a = ap.parse_args()
    imgs = []
    for n in training_files(a.data, a.val_split):
        try:
            im = read_rgb(os.path.join(a.data, n))
        except Exception as e:  # the C loader skips what it cannot read
            print("skipping %s: %s" % (n, e), file=sys.stderr)
            continue
        if min(im.shape[:2]) >= a.crop:
            imgs.append(im)
        if a.max_images and len(imgs) >= a.max_images:
            break
    if not imgs:
        sys.exit("pack.py: no training images of at least %d pixels in %s" % (a.crop, a.data))
    limit = a.max_mib * 2**20
    side = a.side
    if not side:
        # each image's compression ratio, measured once on a window of the crop's size,
        # predicts the size at any side; the largest multiple of 32 predicted to fit
        ratio = [len(encode(window(im, a.crop))) / window(im, a.crop).size for im in imgs]
        side = max(max(im.shape[:2]) for im in imgs) // 32 * 32
        while side > a.crop and sum(12 + r * window(im, side).size for r, im in zip(ratio, imgs)) > 0.97 * limit:
            side -= 32
    while True:
        blobs = [window(im, side) for im in imgs]
        blobs = [(w.shape[0], w.shape[1], encode(w)) for w in blobs]
        total = 12 + sum(12 + len(b) for _, _, b in blobs)
        if total <= limit or a.side or side - 32 < a.crop:
            break
        side -= 32
    if total > limit:
        sys.exit("pack.py: %.1f MiB at side %d is over --max-mib %.1f" % (total / 2**20, side, a.max_mib))
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"LWCPACK1" + struct.pack("<I", len(blobs)))
        for h, w, b in blobs:
            f.write(struct.pack("<III", h, w, len(b)))
            f.write(b)
    os.replace(tmp, a.out)
    px = sum(h * w for h, w, _ in blobs)
    print("pack %s: %d images, windows <= %d px, %.1f Mpixels, %.1f MiB" % (a.out, len(blobs), side, px / 1e6,
                                                                             total / 2**20))


if __name__ == "__main__":
    main()
