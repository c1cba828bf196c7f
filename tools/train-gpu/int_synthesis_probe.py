#!/usr/bin/env python3
"""How much the synthesis loses in integer arithmetic, before any
quantisation-aware training: a first measurement for an integer decoder.

  /usr/bin/python3 tools/train-gpu/int_synthesis_probe.py CHECKPOINT [--data DIR] [--levels 0,5,10]

DIR (default /tmp/val, tools/val-split's held-out files) is tiled into
256x256 crops. For each rate level the crops are coded by the checkpoint's
graph (lwc_model.py, rounding as in validation), and y_hat goes through the
synthesis g_s (and the inverse wavelet packet transform, kept in float) with
its conv layers simulated at several precisions: weights rounded per output
channel to a signed b-bit grid (scale = max |w| / (2^(b-1) - 1)), and
activations (every conv input: y_hat * igain, then each hidden layer)
rounded to a signed a-bit grid with one scale per layer and channel fixed
from the largest value seen on these crops (so clipping never happens
here; a real decoder would calibrate on training data). Accumulation is
exact (float64 of integers). Prints PSNR (RGB, on [0, 255]) against the
float synthesis's for each setting.
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt as ck  # noqa: E402
import lwc_model as lm  # noqa: E402
from z_oracle import crops  # noqa: E402


def qgrid(t, bits, dims):
    """t rounded to a symmetric signed grid per slice along dims kept."""
    red = [d for d in range(t.dim()) if d not in dims]
    m = t.abs().amax(dim=red, keepdim=True).clamp_min(1e-12)
    s = m / (2 ** (bits - 1) - 1)
    return torch.round(t / s) * s


class Sim:
    def __init__(self, net, wbits, abits):
        self.net, self.wbits, self.abits = net, wbits, abits

    def conv(self, name, x, relu=False):
        w, b, cin, cout, k, st = self.net.convs[name]
        p = self.net.params.detach().double()
        W = p[w:w + cin * cout * k * k].view(cout, cin, k, k)
        B = None if b is None else p[b:b + cout]
        if self.wbits:
            W = qgrid(W, self.wbits, (0,))
        if self.abits:
            x = qgrid(x, self.abits, (1,))
        y = F.conv2d(x, W, B, stride=st, padding=k // 2)
        return F.relu(y) if relu else y

    def synth(self, yf):
        a = self.net.arch
        t = self.conv("gs_in", yf, True)
        for b in range(a["B"]):
            t = t + self.conv("gs_rb%d" % (2 * b + 1), self.conv("gs_rb%d" % (2 * b), t, True))
        return lm.wpt_inverse((self.conv("gs_out", t) + self.conv("gs_skip", yf)).float()).double()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--data", default="/tmp/val")
    ap.add_argument("--levels", default="0,5,10")
    a = ap.parse_args()
    torch.set_num_threads(1)
    c = ck.load(a.checkpoint)
    net = lm.from_checkpoint(c)
    x = crops(a.data)
    settings = [(0, 0), (8, 0), (0, 8), (8, 8), (8, 10), (8, 12), (16, 16)]
    print("%d crops; PSNR of the reconstruction (dB); w/a: weight/activation bits, 0 = float" % x.shape[0])
    print("level  " + "  ".join("w%-2d/a%-2d" % s for s in settings) + "   (first column: float)")
    with torch.no_grad():
        for lv in [int(v) for v in a.levels.split(",")]:
            ses = [0.0] * len(settings)
            for i in range(0, x.shape[0], 8):
                xb = x[i:i + 8]
                yf = net(xb, lv, False)["yf"].double()  # y_hat * igain, the synthesis input
                for j, (wb, ab) in enumerate(settings):
                    rec = Sim(net, wb, ab).synth(yf)
                    ses[j] += ((rec.clamp(-0.5, 0.5) - xb.double()) ** 2).sum().item()
            n = x.numel()
            print("%5d  " % lv + "  ".join("%7.3f" % (10 * math.log10(1.0 / (s / n))) for s in ses))


if __name__ == "__main__":
    main()
