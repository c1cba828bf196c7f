#!/usr/bin/env python3
"""Parity of the PyTorch graph with the C trainer's on one crop.

  /usr/bin/python3 tools/train-gpu/parity.py --checkpoint models/lwc-default.ckpt \
      [--lwc build/lwc] [--image docs/sample.png] [--size 64] [--level 5] [--seed 0] [--tol 1e-4]

The crop (the image's centre, size x size) is written as raw f32 and given
to `lwc train --parity`, which prints the C graph's loss, bits and MSE;
the same crop goes through lwc_model.py. --seed 0 compares the rounding
graph (validation); a seed > 0 compares the training graph, with the C
generator's noise reproduced here, and the gradients too (relative L2
error of the whole gradient vector and of each layer). Exit 1 when a
number is off by more than --tol (relative).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt as ck  # noqa: E402
import lwc_model as lm  # noqa: E402


def load_crop(path, size):
    """The image's centre crop as planar [3][size][size] f32 in [-0.5, 0.5]
    (the C loader's p / 255 - 0.5); a fixed synthetic pattern without PIL."""
    try:
        from PIL import Image
        im = np.asarray(Image.open(path).convert("RGB"))
    except Exception:
        yy, xx = np.mgrid[0:size, 0:size]
        im = np.stack([(yy * 7 + xx * 3) % 256, (xx * xx // 5 + yy) % 256, ((xx ^ yy) * 11) % 256], 2).astype(np.uint8)
    h, w = im.shape[:2]
    y0, x0 = (h - size) // 2, (w - size) // 2
    c = im[y0:y0 + size, x0:x0 + size].astype(np.float32)
    return np.ascontiguousarray((c / np.float32(255.0) - np.float32(0.5)).transpose(2, 0, 1))


def c_numbers(lwc, ckpt_path, crop_path, level, seed, grad_path):
    cmd = [lwc, "train", "--checkpoint", ckpt_path, "--parity", crop_path, "--parity-level", str(level),
           "--parity-seed", str(seed)]
    if grad_path:
        cmd += ["--parity-grad", grad_path]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in re.findall(r"(loss|bits_y|bits_z|mse|grad_norm) (\S+)", out)}


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--lwc", default="build/lwc")
    ap.add_argument("--image", default="docs/sample.png")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--level", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--grad-tol", type=float, default=1e-3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    c = ck.load(a.checkpoint)
    net = lm.from_checkpoint(c, a.device)
    crop = load_crop(a.image, a.size)
    with tempfile.TemporaryDirectory() as td:
        cp, gp = os.path.join(td, "crop.f32"), os.path.join(td, "grad.f32")
        crop.tofile(cp)
        cn = c_numbers(a.lwc, a.checkpoint, cp, a.level, a.seed, gp if a.seed else None)
        cgrad = np.fromfile(gp, np.float32) if a.seed else None

    x = torch.from_numpy(crop)[None].to(a.device)
    train = a.seed != 0
    nz = ny = None
    if train:
        M, Nz, s = c.arch["M"], c.arch["Nz"], a.size
        nz, ny = lm.c_noise(a.seed, (1, Nz, s // 32, s // 32), (1, M, s // 8, s // 8))
        nz, ny = nz.to(a.device), ny.to(a.device)
    r = net(x, a.level, train, nz, ny)
    tn = {k: float(r[k][0]) for k in ("loss", "bits_y", "bits_z", "mse")}
    worst = 0.0
    print("parity size %d level %d %s" % (a.size, a.level, "train seed %d" % a.seed if train else "rounding"))
    for k in ("loss", "bits_y", "bits_z", "mse"):
        e = rel(tn[k], cn[k])
        worst = max(worst, e)
        print("  %-7s C %.10g  torch %.10g  rel %.2e" % (k, cn[k], tn[k], e))
    ok = worst <= a.tol
    if train:
        r["loss"].sum().backward()
        tg = torch.cat([net.params.grad, net.fparams.grad]).double().cpu().numpy()
        cg = cgrad.astype(np.float64)
        ge = np.linalg.norm(tg - cg) / max(np.linalg.norm(cg), 1e-30)
        print("  gradient: |C| %.6g |torch| %.6g, relative L2 error %.2e" % (np.linalg.norm(cg), np.linalg.norm(tg), ge))
        # per layer, the worst few
        n = len(net.params)
        errs = []
        for name, (w, b, cin, cout, k, st) in net.convs.items():
            e_ = w + cin * cout * k * k + (0 if b is None else cout)
            d = np.linalg.norm(tg[w:e_] - cg[w:e_]) / max(np.linalg.norm(cg[w:e_]), 1e-30)
            errs.append((d, name))
        for gname, off in net.goff.items():
            wdt = c.arch["L"] * (c.arch["M"] if gname in ("gain", "igain") else c.arch["Nz"])
            d = np.linalg.norm(tg[off:off + wdt] - cg[off:off + wdt]) / max(np.linalg.norm(cg[off:off + wdt]), 1e-30)
            errs.append((d, gname))
        d = np.linalg.norm(tg[n:] - cg[n:]) / max(np.linalg.norm(cg[n:]), 1e-30)
        errs.append((d, "factorized"))
        errs.sort(reverse=True)
        print("  worst layers: " + ", ".join("%s %.1e" % (nm, d) for d, nm in errs[:4]))
        ok = ok and ge <= a.grad_tol
    print("PARITY %s (worst relative error %.2e, tolerance %.0e)" % ("OK" if ok else "FAILED", worst, a.tol))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
