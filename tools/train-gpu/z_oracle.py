#!/usr/bin/env python3
"""What the side information z would cost under better static densities.

  /usr/bin/python3 tools/train-gpu/z_oracle.py CHECKPOINT [--data DIR] [--levels 0,2,5,8,10]

DIR (default /tmp/val: tools/val-split's held-out files) is tiled into
256x256 crops; for each rate level, z_hat goes through the checkpoint's
graph (lwc_model.py, rounding as in validation) and its bits are counted
three ways, in bits per pixel: under the model's own density ("model"),
under one static histogram per channel pooled over the levels measured
("shared oracle": the best any density shared by the levels could do on
these crops), and under a static histogram per channel and level ("per-level
oracle"). The oracles are fitted on the data they code, so they are bounds,
slightly optimistic (about Nz/1024 * (K-1)/(2 N ln 2) bpp for K symbols
seen N times).
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

S = 256


def crops(folder):
    return torch.from_numpy(pk.tile_crops(sorted(glob.glob(os.path.join(folder, "*.png"))), S))


def z_of(net, level, x):
    X = lm.wpt_forward(x)
    y0 = net.conv("ga", X)
    if net.ab > 0:
        y0 = y0 + net.conv("ga_b2", net.conv("ga_b1", X, True))
    y = y0 * net.gain("gain", level)
    return torch.floor(net.conv("ha1", net.conv("ha0", y, True)) * net.gain("zgain", level) + 0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default="/tmp/val")
    ap.add_argument("--levels", default="0,2,5,8,10")
    a = ap.parse_args()
    torch.set_num_threads(1)
    c = ck.load(a.checkpoint)
    net = lm.from_checkpoint(c)
    nz = c.arch["Nz"]
    x = crops(a.data)
    px = x.shape[0] * S * S
    print("%d crops of %dx%d, Nz %d" % (x.shape[0], S, S, nz))
    res = {}
    with torch.no_grad():
        for lv in [int(v) for v in a.levels.split(",")]:
            zs, bm, by = [], 0.0, 0.0
            for i in range(0, x.shape[0], 16):
                xb = x[i:i + 16]
                zh = z_of(net, lv, xb)
                c0 = lv * nz if net.zsets > 1 else 0
                bm += lm.fact_bits(net.fparams, net.flay, zh, c0).sum().item()
                by += net(xb, lv, False)["bits_y"].sum().item()
                zs.append(zh)
            res[lv] = (torch.cat(zs).permute(1, 0, 2, 3).reshape(nz, -1).numpy().astype(np.int64), bm, by)
    lo = min(v[0].min() for v in res.values())
    hi = max(v[0].max() for v in res.values())
    hists = {lv: np.stack([np.bincount(v[0][ch] - lo, minlength=hi - lo + 1) for ch in range(nz)]).astype(float)
             for lv, v in res.items()}
    pooled = sum(hists.values())
    q = pooled / pooled.sum(1, keepdims=True)
    for lv, (_, bm, by) in res.items():
        h = hists[lv]
        p = h / h.sum(1, keepdims=True)
        per = -(h[h > 0] * np.log2(p[h > 0])).sum()
        shared = -(h[h > 0] * np.log2(q[h > 0])).sum()
        print("level %2d: y %.4f bpp; z: model %.5f, shared oracle %.5f, per-level oracle %.5f bpp (z %.1f %% of the bits)"
              % (lv, by / px, bm / px, shared / px, per / px, 100 * bm / (bm + by)))


if __name__ == "__main__":
    main()
