#!/usr/bin/env python3
"""Would context classes pay for the side information z?

  /usr/bin/python3 tools/train-gpu/z_context_oracle.py CHECKPOINT --fit DIR --eval DIR [--levels 0,2,5,8]

z_hat of 256x256 crops (DIR's training split for the fit, --eval's files
for the measurement) is coded with one static histogram per channel (what
the codec's fitted tables do), and with one per channel and context class.
Each class is a function of z values decoded before the symbol (z is coded
channel after channel, each in raster order; see classes() for the ones
measured).
Histograms get 0.5 pseudo-counts per cell and are fitted on the fit crops
only, so the numbers are out of sample. Prints bpp of z on the eval crops.
"""
import argparse
import glob
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt as ck  # noqa: E402
import lwc_model as lm  # noqa: E402
import pack as pk  # noqa: E402
import z_oracle as zo  # noqa: E402


def z_hat(net, level, x):
    with torch.no_grad():
        return torch.cat([zo.z_of(net, level, x[i:i + 16]) for i in range(0, x.shape[0], 16)]).numpy().astype(np.int64)


def classes(z, mode):
    """[B, C, h, w] -> context keys of every symbol, by name: "count": how
    many of the causal neighbours W, N, NW, NE differ from the channel's
    mode (0, 1, 2+); "channels": how many channels before this one differ
    from their mode at the same position (0, 1, 2+); "sum4 K": the sum of
    |z - mode| over W, N, NW, NE, capped at K - 1; "sum6 K": the same over
    W, N, NW, NE, WW, NN (what the codec uses, codec/zctx.h)."""
    h, w = z.shape[2:]
    mag = np.abs(z - mode[None, :, None, None])
    p = np.pad(mag, ((0, 0), (0, 0), (2, 0), (2, 2)))
    W, N, NW, NE = p[:, :, 2:, 1:w + 1], p[:, :, 1:h + 1, 2:w + 2], p[:, :, 1:h + 1, 1:w + 1], p[:, :, 1:h + 1, 3:w + 3]
    WW, NN = p[:, :, 2:, :w], p[:, :, :h, 2:w + 2]
    off = (mag > 0).astype(np.int64)
    count = (W > 0).astype(np.int64) + (N > 0) + (NW > 0) + (NE > 0)
    before = np.cumsum(off, axis=1) - off
    s4, s6 = W + N + NW + NE, W + N + NW + NE + WW + NN
    keys = {"count": (np.minimum(count, 2), 3), "channels": (np.minimum(before, 2), 3)}
    for k in (4, 7):
        keys["sum4 %d" % k] = (np.minimum(s4, k - 1), k)
    for k in (4, 6, 9, 12, 16):
        keys["sum6 %d" % k] = (np.minimum(s6, k - 1), k)
    return keys


def bits(zf, kf, ze, ke, nk, lo, nb):
    """Histograms per channel and key on the fit symbols; bits of the eval ones."""
    C = zf.shape[1]
    total = 0.0
    for c in range(C):
        cf = kf[:, c].ravel() * nb + (zf[:, c].ravel() - lo)
        ce = ke[:, c].ravel() * nb + (ze[:, c].ravel() - lo)
        h = np.bincount(cf, minlength=nk * nb).reshape(nk, nb) + 0.5
        p = h / h.sum(1, keepdims=True)
        total -= np.log2(p.ravel()[ce]).sum()
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--fit", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--levels", default="0,2,5,8")
    ap.add_argument("--fit-files", type=int, default=400)
    a = ap.parse_args()
    torch.set_num_threads(1)
    net = lm.from_checkpoint(ck.load(a.checkpoint))
    fit_files = [os.path.join(a.fit, n) for n in pk.training_files(a.fit, 20)][:a.fit_files]
    xf = torch.from_numpy(pk.tile_crops(fit_files, 256))
    xe = torch.from_numpy(pk.tile_crops(sorted(glob.glob(os.path.join(a.eval, "*.png"))), 256))
    px = xe.shape[0] * 256 * 256
    print("fit: %d crops of %d files; eval: %d crops" % (xf.shape[0], len(fit_files), xe.shape[0]))
    for lv in [int(v) for v in a.levels.split(",")]:
        zf, ze = z_hat(net, lv, xf), z_hat(net, lv, xe)
        lo, hi = min(zf.min(), ze.min()), max(zf.max(), ze.max())
        nb = int(hi - lo + 1)
        mode = np.array([np.bincount(zf[:, c].ravel() - lo).argmax() + lo for c in range(zf.shape[1])])
        kf, ke = classes(zf, mode), classes(ze, mode)
        base = bits(zf, np.zeros_like(zf), ze, np.zeros_like(ze), 1, lo, nb)
        row = ["level %2d: per channel %.5f bpp" % (lv, base / px)]
        for name, (key, nk) in kf.items():
            b = bits(zf, key, ze, ke[name][0], nk, lo, nb)
            row.append("%s %+.2f %%" % (name, 100 * (b / base - 1)))
        print(", ".join(row), flush=True)


if __name__ == "__main__":
    main()
