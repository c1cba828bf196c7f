#!/usr/bin/env python3
"""Training-throughput comparison, outside the product: the lwc network shape
(default: 64,32,64,64,4,32,96,96,3,8) written in PyTorch (Debian python3-torch),
trained with the same step (batch of crops, noisy rates, checkerboard double
pass per slice, Adam) on random crops, on the same CPU threads.

  python3 tools/bench/torch_train_speed.py --crop 128 --batch 8 --threads 2 --steps 20

The wavelet packet transform is replaced by pixel-unshuffle (a reshape, same
shapes, less work than the lifting), and the factorized prior by a per-channel
logistic: both favour PyTorch slightly. Prints patches/s.
"""
import argparse, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--crop', type=int, default=128)
p.add_argument('--batch', type=int, default=8)
p.add_argument('--threads', type=int, default=2)
p.add_argument('--steps', type=int, default=20)
p.add_argument('--arch', default='64,32,64,64,4,32,96,96,3,8')
a = p.parse_args()
M, Nz, N, Ch, S, Cc, P, D, B, L = map(int, a.arch.split(','))
ms = M // S
torch.set_num_threads(a.threads)

class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.ga = nn.Conv2d(192, M, 1)
        s.ha0 = nn.Conv2d(M, N, 3, 2, 1); s.ha1 = nn.Conv2d(N, Nz, 3, 2, 1)
        s.hs0 = nn.Conv2d(Nz, N, 3, 1, 1); s.hs1 = nn.Conv2d(N, Ch, 3, 1, 1)
        s.ctx = nn.ModuleList([nn.Conv2d(ms, Cc, 3, 1, 1) for _ in range(S)])
        s.p = nn.ModuleList([nn.Sequential(nn.Conv2d(Ch + i * ms + Cc, P, 1), nn.ReLU(), nn.Conv2d(P, P, 1), nn.ReLU(),
                                           nn.Conv2d(P, 2 * ms, 1)) for i in range(S)])
        s.gs_in = nn.Conv2d(M, D, 3, 1, 1)
        s.rb = nn.ModuleList([nn.Conv2d(D, D, 3, 1, 1) for _ in range(2 * B)])
        s.gs_out = nn.Conv2d(D, 192, 1); s.skip = nn.Conv2d(M, 192, 1, bias=False)
        s.gain = nn.Parameter(torch.zeros(L, M)); s.igain = nn.Parameter(torch.zeros(L, M))
        s.zscale = nn.Parameter(torch.zeros(Nz))

def ste(x): return x + (torch.round(x) - x).detach()

def gauss_bits(v, mu, ls):
    sig = ls.exp().clamp(0.11, 256)
    d = (v - mu).abs()
    n = torch.distributions.Normal(0., 1.)
    pr = n.cdf((0.5 - d) / sig) - n.cdf((-0.5 - d) / sig)
    return -torch.log2(pr.clamp_min(1e-9)).sum()

def step(net, x, lvl):
    X = F.pixel_unshuffle(x, 8)
    y = net.ga(X) * net.gain[lvl].exp().view(1, M, 1, 1)
    z = net.ha1(F.relu(net.ha0(y)))
    zt = z + torch.rand_like(z) - 0.5
    s = net.zscale.exp().view(1, Nz, 1, 1)
    bz = -torch.log2((torch.sigmoid((zt + .5) / s) - torch.sigmoid((zt - .5) / s)).clamp_min(1e-9)).sum()
    h = F.relu(net.hs1(F.interpolate(F.relu(net.hs0(F.interpolate(ste(z), scale_factor=2))), scale_factor=2)))
    H, W = y.shape[2:]
    anc = ((torch.arange(H).view(H, 1) + torch.arange(W).view(1, W)) % 2 == 0).float()
    yh, by = [], 0
    for i in range(S):
        ys = y[:, i * ms:(i + 1) * ms]
        prev = torch.cat(yh, 1) if yh else y[:, :0]
        o = net.p[i](torch.cat([h, prev, torch.zeros_like(h[:, :Cc])], 1))
        ya = ys + (torch.round(ys - o[:, :ms]) - (ys - o[:, :ms])).detach()
        c = F.relu(net.ctx[i](ya * anc))
        o2 = net.p[i](torch.cat([h, prev, c], 1))
        mu = o[:, :ms] * anc + o2[:, :ms] * (1 - anc); ls = o[:, ms:] * anc + o2[:, ms:] * (1 - anc)
        yq = ys + (torch.round(ys - mu) - (ys - mu)).detach()
        by = by + gauss_bits(ys + torch.rand_like(ys) - 0.5, mu, ls)
        yh.append(yq)
    yf = torch.cat(yh, 1) * net.igain[lvl].exp().view(1, M, 1, 1)
    t = F.relu(net.gs_in(yf))
    for b in range(B):
        t = t + net.rb[2 * b + 1](F.relu(net.rb[2 * b](t)))
    xr = F.pixel_shuffle(net.gs_out(t) + net.skip(yf), 8)
    return (by + bz) / x[:, 0].numel() + 0.01 * 255 ** 2 * F.mse_loss(xr, x)

net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-4)
x = torch.rand(a.batch, 3, a.crop, a.crop) - 0.5
for it in range(a.steps + 3):
    if it == 3: t0 = time.time()
    opt.zero_grad()
    loss = step(net, x, it % L)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
el = time.time() - t0
print(f"torch {torch.__version__}: crop {a.crop} batch {a.batch} threads {a.threads}: "
      f"{a.steps * a.batch / el:.1f} patches/s")
