#!/usr/bin/env python3
"""How much spatial redundancy the entropy model leaves in y's symbols.

  /usr/bin/python3 tools/train-gpu/y_predict_oracle.py CHECKPOINT MODEL.lwcm --fit DIR --eval DIR
        [--levels 0,2,5,8,10] [--fit-files N] [--pooled] [--cache DIR]

The symbols are the coder's, as in y_oracle.py: s = round(y - mu) with the
model's mean mu, and the scale index k of the model file's thresholds. On
top of mu, a linear predictor per (rate level, channel, parity), fitted by least
squares on the fit crops, guesses s from already decoded symbols of the
same channel; the eval crops are then coded as s - round(prediction) with
one table per k (fitted on the fit crops, add-1/2 smoothing), against the
same tables fitted to s itself ("refit"). The quantiser is unchanged, so
the distortion is too. The neighbourhoods (offsets within a 5x5 window but for wide):

  checker   what the second pass's network could also see: the twelve
            first-pass (anchor) symbols around a non-anchor; anchors get
            no prediction
  same      what the coder itself has while it decodes a pass: the six
            symbols of the same parity earlier in raster order (-2,-2),
            (-2,0), (-2,2), (-1,-1), (-1,1), (0,-2); at both parities
            (model version 7's in-pass prediction, codec/ypred.h)
  wide      same within four rows and nine columns (15 taps)
  pass      same, plus checker's twelve at non-anchors
  raster    what a serial (raster-order) decoder could use: the twelve
            symbols above and to the left, at every position; this bounds
            the spatial redundancy left at the latent's 1/8 scale, which is
            what a deeper split of the low band would remove at the source

--pooled fits one set of weights on all the levels' symbols (as the codec
does) instead of one per level. Tables per scale index (k), and per scale
index and the shipped context class (k+c), as y_oracle.py's.

All are fitted out of sample (fit crops from the training split, eval
crops from held-out files); checker, pass and raster bound what a wider
context or another transform could buy, not what it will.
"""
import glob
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt as ck  # noqa: E402
import lwc_model as lm  # noqa: E402
import pack as pk  # noqa: E402
import y_oracle as yo  # noqa: E402

CHECKER = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if (dy + dx) % 2]
RASTER = [(dy, dx) for dy in (-2, -1) for dx in range(-2, 3)] + [(0, -2), (0, -1)]
SAME = [(dy, dx) for dy, dx in RASTER if (dy + dx) % 2 == 0]   # earlier in the same pass
WIDE = [(dy, dx) for dy in range(-3, 1) for dx in range(-4, 5) if (dy + dx) % 2 == 0 and (dy < 0 or dx < 0)]
NEIGHBOURHOODS = {  # kind: (offsets at anchors, offsets at non-anchors)
    "checker": ([], CHECKER),
    "pass": (SAME, CHECKER + SAME),
    "same": (SAME, SAME),
    "wide": (WIDE, WIDE),
    "raster": (RASTER, RASTER),
}


def level_symbols(net, thr, x, level):
    """[B, M, h, w] symbols and scale indices of every crop at one level."""
    ss, ks = [], []
    for i in range(0, x.shape[0], 8):
        with torch.no_grad():
            o = net(x[i:i + 8], level, False)
        mu, ls, y = o["mu"].double(), o["ls"].double(), o["y"].double()
        ss.append(torch.floor(y - mu + 0.5).numpy().astype(np.int16))
        v = torch.floor(ls.clamp(np.log(lm.SCALE_MIN), np.log(lm.SCALE_MAX)) * 256.0 + 0.5).numpy()
        ks.append(np.minimum(np.searchsorted(thr, v, side="left"), len(thr) - 1).astype(np.uint8))
    return np.concatenate(ss), np.concatenate(ks)


def features(s, offsets):
    """[B, M, h, w] -> [len(offsets), B, M, h, w] shifted copies (0 outside)."""
    B, M, h, w = s.shape
    pad = np.pad(s.astype(np.float32), ((0, 0), (0, 0), (4, 4), (4, 4)))
    return np.stack([pad[:, :, 4 + dy:4 + dy + h, 4 + dx:4 + dx + w] for dy, dx in offsets])


def parity_mask(shape, par):
    B, M, h, w = shape
    ii = np.arange(h)[:, None] + np.arange(w)[None, :]
    return np.broadcast_to((ii % 2 == par)[None, None], shape)


def fit_weights(s, offsets, par):
    """Least squares per channel at one parity: [M, len(offsets)] weights."""
    f, m = features(s, offsets), parity_mask(s.shape, par)
    M, n = s.shape[1], len(offsets)
    w = np.zeros((M, n))
    for c in range(M):
        X = f[:, :, c][:, m[:, c]].reshape(n, -1).T.astype(np.float64)
        t = s[:, c][m[:, c]].ravel().astype(np.float64)
        w[c] = np.linalg.solve(X.T @ X + 1e-3 * np.eye(n), X.T @ t)
    return w


def fit_all(s, kind):
    return [fit_weights(s, offs, par) if offs else None for par, offs in enumerate(NEIGHBOURHOODS[kind])]


def residual(s, kind, ws=None):
    """s minus the rounded prediction of kind's neighbourhood; fits the
    weights on s when ws is None. Returns (residual, weights)."""
    r, out = s.astype(np.float64), []
    for par, offs in enumerate(NEIGHBOURHOODS[kind]):
        if not offs:
            out.append(None)
            continue
        w = fit_weights(s, offs, par) if ws is None else ws[par]
        p = np.einsum("nbmhw,mn->bmhw", features(s, offs), w)
        r = np.where(parity_mask(s.shape, par), r - np.floor(p + 0.5), r)
        out.append(w)
    return r.astype(np.int16), out


def ctx_keys(s, k, ms):
    """Scale index times classes plus the shipped context class."""
    v, an = yo.neighbour_value(s, ms)
    nc = 2 * (len(yo.CLASS_EDGES) + 1)
    return k.astype(np.int64) * nc + yo.classes(v, an, yo.CLASS_EDGES), nc


def cached(folder, lv, make):
    if not folder:
        return make()
    path = os.path.join(folder, "level%d.npz" % lv)
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        np.savez(path, *make())
    z = np.load(path)
    return tuple(z["arr_%d" % i] for i in range(4))


def main():
    ap = yo.arguments()
    ap.add_argument("--pooled", action="store_true", help="one set of weights for all the levels")
    ap.add_argument("--cache", help="folder to keep the symbols in between runs")
    a = ap.parse_args()
    torch.set_num_threads(1)
    net = lm.from_checkpoint(ck.load(a.checkpoint))
    thr = yo.model_tensors(a.model, {"scale_thr"})["scale_thr"].astype(np.float64)
    fit_files = [os.path.join(a.fit, n) for n in pk.training_files(a.fit, 20)][:a.fit_files]
    xf, xe = yo.crops(fit_files), yo.crops(sorted(glob.glob(os.path.join(a.eval, "*.png"))))
    print("fit: %d crops of %d files; eval: %d crops; 256x256" % (xf.shape[0], len(fit_files), xe.shape[0]))
    px, nk = xe.shape[0] * yo.S * yo.S, len(thr)
    ms = net.arch["M"] // net.arch["S"]
    print("tables per scale index (k), or per k and context class (k+c); bpp of y on the eval crops")
    print("level | k: refit | " + " | ".join(NEIGHBOURHOODS) + " || k+c: refit | " + " | ".join(NEIGHBOURHOODS))
    levels = [int(v) for v in a.levels.split(",")]
    syms = {lv: cached(a.cache, lv, lambda: level_symbols(net, thr, xf, lv) + level_symbols(net, thr, xe, lv))
            for lv in levels}
    pooled = {}
    if a.pooled:
        allf = np.concatenate([syms[lv][0] for lv in levels])
        pooled = {kind: fit_all(allf, kind) for kind in NEIGHBOURHOODS}
    for lv in levels:
        sf, kf, se, ke = syms[lv]
        cf, nc = ctx_keys(sf, kf, ms)
        ce, _ = ctx_keys(se, ke, ms)
        res = [(sf, se)]
        for kind in NEIGHBOURHOODS:
            ws = pooled.get(kind) or fit_all(sf, kind)
            res.append((residual(sf, kind, ws)[0], residual(se, kind, ws)[0]))
        row = []
        for keys_f, keys_e, n in ((kf, ke, nk), (cf, ce, nk * nc)):
            bits = [yo.cost(yo.fit(keys_f.ravel(), rf.ravel(), n), keys_e.ravel(), re.ravel()) for rf, re in res]
            row.append("%.4f | " % (bits[0] / px) +
                       " | ".join("%+.2f %%" % (100 * (b / bits[0] - 1)) for b in bits[1:]))
        print("%5d | " % lv + " || ".join(row), flush=True)


if __name__ == "__main__":
    main()
