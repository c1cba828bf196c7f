#!/usr/bin/env python3
"""How far the entropy model of y is from better densities on the same symbols.

  /usr/bin/python3 tools/train-gpu/y_oracle.py CHECKPOINT MODEL.lwcm --fit DIR --eval DIR
        [--levels 0,2,5,8,10] [--fit-files N]

The symbols are the coder's: s = round(y - mu) with the model's mean mu, and
the scale index k (0..63) that the codec picks from the predicted log-scale
with the model file's thresholds. Both folders are tiled into 256x256 crops
(--fit: the first N files of a folder of training photos; --eval: held-out
files, e.g. tools/val-split's). On the eval crops, in bits per pixel of y:

  model     the model's continuous Gaussian (the training estimate)
  coded     the model file's 16-bit tables for k (what the codec spends,
            without framing and escapes)
  refit     one table per k fitted on the fit crops (all levels pooled): the
            same format, other numbers; what better tables would save
  per-level one table per (level, k), fitted the same way
  +context  one table per (k, c), where c classes the four checkerboard
            neighbours' mean |s| (second pass; anchors use the co-located
            mean |s| of the previous slice): information the network left
            out of its scale

Fitted tables are histograms with add-1/2 smoothing, so eval bits are
out-of-sample. A gain of "refit" means the Gaussian shape is wrong; a gain
of "+context" over "refit" means the scale misses local structure that a
wider context could supply.
"""
import argparse
import glob
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt as ck  # noqa: E402
import lwc_model as lm  # noqa: E402
import pack as pk  # noqa: E402

S = 256
SMAX = 300         # |s| beyond this shares one bin (an escape; see the tail line)
NB = 2 * SMAX + 1
CLASS_EDGES = np.array([0.01, 0.3, 0.6, 1.0, 1.6, 2.5, 4.0])   # mean |s| of the neighbours


def model_tensors(path, names):
    b = open(path, "rb").read()
    if b[:4] != b"LWCM":
        raise ValueError("%s: not an lwc model" % path)
    n = struct.unpack_from("<I", b, 8)[0]
    pos, out = 12, {}
    sizes = {0: ("<f4", 4), 1: ("<i2", 2), 2: ("<i4", 4), 3: ("<u4", 4), 4: ("u1", 1)}
    for _ in range(n):
        nl = struct.unpack_from("<H", b, pos)[0]
        name = b[pos + 2:pos + 2 + nl].decode()
        pos += 2 + nl
        dt, nd = b[pos], b[pos + 1]
        pos += 2
        dims = struct.unpack_from("<%dI" % nd, b, pos)
        pos += 4 * nd
        cnt = int(np.prod(dims))
        fmt, sz = sizes[dt]
        if name in names:
            out[name] = np.frombuffer(b, fmt, cnt, pos).copy()
        pos += cnt * sz
    return out


def crops(files):
    return torch.from_numpy(pk.tile_crops(files, S))


def neighbour_value(s, ms):
    """[B, M, h, w] symbols -> the context value of every position (mean |s|
    of the four neighbours, or of the previous slice at anchors), and 1
    where the position is an anchor."""
    a = np.abs(s).astype(np.float32)
    B, M, h, w = a.shape
    pad = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)))
    nb = (pad[:, :, :-2, 1:-1] + pad[:, :, 2:, 1:-1] + pad[:, :, 1:-1, :-2] + pad[:, :, 1:-1, 2:]) / 4.0
    prev = np.zeros_like(a)
    for sl in range(1, M // ms):
        prev[:, sl * ms:(sl + 1) * ms] = a[:, (sl - 1) * ms:sl * ms].mean(1, keepdims=True)
    ii = np.arange(h)[:, None] + np.arange(w)[None, :]
    anchor = (ii % 2 == 0)[None, None]
    return np.where(anchor, prev, nb).astype(np.float32), np.broadcast_to(anchor, a.shape).astype(np.uint8)


def classes(v, anchor, edges):
    return np.digitize(v, edges) + (1 - anchor.astype(np.int64)) * (len(edges) + 1)


def symbols(net, thr, x, level):
    """Symbols, scale indices, context classes and model bits of a batch."""
    with torch.no_grad():
        o = net(x, level, False)
    mu, ls, y = o["mu"].double(), o["ls"].double(), o["y"].double()
    s = torch.floor(y - mu + 0.5)
    v = torch.floor(ls.clamp(np.log(lm.SCALE_MIN), np.log(lm.SCALE_MAX)) * 256.0 + 0.5).numpy()
    k = np.minimum(np.searchsorted(thr, v, side="left"), len(thr) - 1)
    bits = lm.gauss_bits(s + mu, mu, ls).numpy()
    ms = net.arch["M"] // net.arch["S"]
    v, anchor = neighbour_value(s.numpy(), ms)
    return (s.numpy().astype(np.int16), k.astype(np.uint8), v, anchor, bits.astype(np.float32))


def gather(net, thr, x, levels):
    res = {}
    for lv in levels:
        parts = [symbols(net, thr, x[i:i + 8], lv) for i in range(0, x.shape[0], 8)]
        res[lv] = [np.concatenate([p[j] for p in parts]).ravel() for j in range(5)]
    return res


def cells(keys, s):
    return keys.astype(np.int64) * NB + np.clip(s.astype(np.int64), -SMAX, SMAX) + SMAX


def fit(keys, s, nkeys):
    h = np.bincount(cells(keys, s), minlength=nkeys * NB).reshape(nkeys, NB) + 0.5
    return h / h.sum(1, keepdims=True)


def cost(p, keys, s):
    return -np.log2(p.ravel()[cells(keys, s)]).sum()


def arguments():
    """The arguments this script shares with y_predict_oracle.py."""
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("model")
    ap.add_argument("--fit", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--levels", default="0,2,5,8,10")
    ap.add_argument("--fit-files", type=int, default=40)
    return ap


def main():
    ap = arguments()
    ap.add_argument("--edges", default=",".join("%g" % e for e in CLASS_EDGES),
                    help="class edges of the context value; several sets separated by ';'")
    a = ap.parse_args()
    torch.set_num_threads(1)
    net = lm.from_checkpoint(ck.load(a.checkpoint))
    t = model_tensors(a.model, {"scale_thr", "gauss.starts", "gauss.sizes", "gauss.offsets", "gauss.data"})
    thr = t["scale_thr"].astype(np.float64)
    fit_files = [os.path.join(a.fit, n) for n in pk.training_files(a.fit, 20)][:a.fit_files]  # lwc train's split
    xf, xe = crops(fit_files), crops(sorted(glob.glob(os.path.join(a.eval, "*.png"))))
    levels = [int(v) for v in a.levels.split(",")]
    print("fit: %d crops of %d files; eval: %d crops; 256x256" % (xf.shape[0], len(fit_files), xe.shape[0]))
    F, E = gather(net, thr, xf, levels), gather(net, thr, xe, levels)
    nk = len(thr)
    edge_sets = [np.array([float(e) for e in es.split(",")]) for es in a.edges.split(";")]
    sf, kf = (np.concatenate([F[lv][j] for lv in levels]) for j in (0, 1))
    vf, af = (np.concatenate([F[lv][j] for lv in levels]) for j in (2, 3))
    pooled = fit(kf, sf, nk)
    ctx = []
    for edges in edge_sets:
        nc = 2 * (len(edges) + 1)
        ctx.append((edges, nc, fit(kf.astype(np.int64) * nc + classes(vf, af, edges), sf, nk * nc)))
    px = xe.shape[0] * S * S
    print("level | model | coded | refit | per-level | +context per edge set  (bpp of y on the eval crops; %% vs coded)")
    for lv in levels:
        s, k, v, an, bm = E[lv]
        coded = 0.0
        for kk in np.unique(k):
            st, n, off = t["gauss.starts"][kk], t["gauss.sizes"][kk], t["gauss.offsets"][kk]
            cdf = t["gauss.data"][st:st + n + 1].astype(np.float64)
            sym = np.clip(s[k == kk].astype(np.int64) + off, 0, n - 1)   # values past the table: the escape's cost only
            coded += -np.log2((cdf[sym + 1] - cdf[sym]) / 65536.0).sum()
        tail = (np.abs(s.astype(np.int64)) > SMAX).mean()
        per = cost(fit(F[lv][1], F[lv][0], nk), k, s)
        vals = [bm.sum(dtype=np.float64), coded, cost(pooled, k, s), per]
        vals += [cost(p, k.astype(np.int64) * nc + classes(v, an, edges), s) for edges, nc, p in ctx]
        print("%5d | " % lv + " | ".join("%.4f" % (x / px) for x in vals) +
              "  (" + ", ".join("%+.2f %%" % (100 * (x / coded - 1)) for x in vals[2:]) + ")" +
              ("  [%.1e of the symbols past +-%d]" % (tail, SMAX) if tail else ""))

if __name__ == "__main__":
    main()
