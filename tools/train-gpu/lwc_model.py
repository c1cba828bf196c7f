"""The codec as the C trainer trains it (learn/graph.c), in PyTorch.

Every weight lives in one flat float32 vector laid out exactly as
learn/net.c lays it out (layer table order, group by group: analysis,
synthesis, hyper, entropy; then log-gains of y, log-inverse-gains of y,
log-gains of z, log-inverse-gains of z, [L][width] each; then the optional
analysis branch), so a checkpoint's parameter vector and Adam moments map
onto it one to one. The factorized density of z has its own flat vector
(learn/likelihood.h layout).

The graph, per crop, at one rate level:
  X = WPT(x) (CDF 9/7 lifting, 3 levels, full packet tree, 192 channels)
  y = (g_a(X) [+ gab2(relu(gab1(X)))]) * gain[level]
  z = h_a(y) * zgain[level];  z_hat = round(z) (straight-through)
  hyper features = h_s(z_hat * zigain[level])
  per slice, two checkerboard passes: the anchors' (mu, log sigma) from the
  hyper features and earlier slices' y_hat, the non-anchors' also from a
  3x3 context over the slice's anchors; y_hat = round(y - mu) + mu with a
  straight-through gradient to y and none to mu
  x_hat = WPT^-1(g_s(y_hat * igain[level]))
  rates: training codes y + U(-1/2, 1/2) and z + U(-1/2, 1/2) (noise), else
  y_hat and z_hat; Gaussian conditional (sigma clamped to [0.11, 256]) and
  the factorized density, each likelihood bounded below by 1e-9 with the
  gradient passing through the bound; computed in float64 like the C code.
  loss = (bits_y + bits_z) / pixels + lambda[level] * 255^2 * MSE.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

WPT_CH = 192
LIK_MIN = 1e-9
SCALE_MIN, SCALE_MAX = 0.11, 256.0
FACT_DIMS = (1, 3, 3, 3, 1)

# CDF 9/7 lifting constants (transforms/wpt_prog.h), as the C code's floats.
_ALPHA, _BETA, _GAMMA, _DELTA = -1.586134342, -0.05298011854, 0.8829110762, 0.4435068522
_K = 1.149604398
_F32 = lambda v: float(torch.tensor(v, dtype=torch.float32))
W97 = [_F32(v) for v in (_ALPHA, _BETA, _GAMMA, _DELTA)]
KS = _F32(_K / math.sqrt(2.0))
KD = _F32(1.0 / (_K * math.sqrt(2.0)))


# ---------------------------------------------------------------- layout

def layer_table(arch, ab):
    """codec/layer_table.c: (name, group, cin, cout, k, stride, bias)."""
    M, Nz, N, Ch, S, Cc, P, D, B = (arch[k] for k in ("M", "Nz", "N", "Ch", "S", "Cc", "P", "D", "B"))
    ms = M // S
    t = [("ga", "an", WPT_CH, M, 1, 1, 1), ("ha0", "an", M, N, 3, 2, 1), ("ha1", "an", N, Nz, 3, 2, 1)]
    if ab > 0:
        t += [("ga_b1", "br", WPT_CH, ab, 1, 1, 1), ("ga_b2", "br", ab, M, 1, 1, 0)]
    t += [("gs_in", "syn", M, D, 3, 1, 1)]
    t += [("gs_rb%d" % i, "syn", D, D, 3, 1, 1) for i in range(2 * B)]
    t += [("gs_out", "syn", D, WPT_CH, 1, 1, 1), ("gs_skip", "syn", M, WPT_CH, 1, 1, 0)]
    t += [("hs0", "hyp", Nz, N, 3, 1, 1), ("hs1", "hyp", N, Ch, 3, 1, 1)]
    for s in range(S):
        t += [("ctx%d" % s, "ent", ms, Cc, 3, 1, 1), ("p0_%d" % s, "ent", Ch + s * ms + Cc, P, 1, 1, 1),
              ("p1_%d" % s, "ent", P, P, 1, 1, 1), ("p2_%d" % s, "ent", P, 2 * ms, 1, 1, 1)]
    return t


def layout(arch, ab):
    """learn/net.c layout(): {name: (w_off, b_off or None, cin, cout, k, stride)},
    the gains' offsets and the total."""
    t = layer_table(arch, ab)
    convs, off = {}, 0

    def group(g):
        nonlocal off
        for name, grp, cin, cout, k, st, bias in t:
            if grp != g:
                continue
            w = off
            off += cin * cout * k * k
            b = None
            if bias:
                b = off
                off += cout
            convs[name] = (w, b, cin, cout, k, st)

    for g in ("an", "syn", "hyp", "ent"):
        group(g)
    L, M, Nz = arch["L"], arch["M"], arch["Nz"]
    gains = {}
    for name, width in (("gain", M), ("igain", M), ("zgain", Nz), ("zigain", Nz)):
        gains[name] = off
        off += L * width
    group("br")
    return convs, gains, off


def fact_layout(channels):
    """learn/likelihood.c fact_layout(): per layer k, (matrix, bias, factor) offsets."""
    off, lay = 0, []
    for k in range(4):
        i, o = FACT_DIMS[k], FACT_DIMS[k + 1]
        mo = off
        off += channels * o * i
        bo = off
        off += channels * o
        fo = None
        if k < 3:
            fo = off
            off += channels * o
        lay.append((mo, bo, fo, i, o))
    return lay, off


def split_zdensity(c):
    """A shared z density grown into one per rate level, each a copy (the C
    trainer's lwc_net_split_zdensity): fparams, fm and fv tiled in place."""
    nz, L = c.arch["Nz"], c.arch["L"]
    if getattr(c, "zsets", 1) != 1:
        raise ValueError("the density is already one per level")
    src, _ = fact_layout(nz)
    dst, n = fact_layout(nz * L)

    def tile(arr):
        out = np.zeros(n, np.float32)
        for (smo, sbo, sfo, i, o), (dmo, dbo, dfo, _, _) in zip(src, dst):
            for so, do, per in ((smo, dmo, o * i), (sbo, dbo, o), (sfo, dfo, o)):
                if so is None:
                    continue
                block = arr[so:so + nz * per]
                out[do:do + L * nz * per] = np.tile(block, L)
        return out

    c.fparams, c.fm, c.fv = tile(c.fparams), tile(c.fm), tile(c.fv)
    c.zsets = L
    return c


# ---------------------------------------------------------------- wavelet packet

def _lift_fwd(s, d, dim):
    """Analysis lifting along dim on the even (s) and odd (d) samples, with
    whole-sample symmetric extension: d's missing right neighbour is s[m-1],
    s's missing left neighbour is d[0] (wpt_prog.h)."""
    n = s.shape[dim]
    for i, a in enumerate(W97):
        if i % 2 == 0:
            s_next = torch.cat([s.narrow(dim, 1, n - 1), s.narrow(dim, n - 1, 1)], dim)
            d = d + a * (s + s_next)
        else:
            d_prev = torch.cat([d.narrow(dim, 0, 1), d.narrow(dim, 0, n - 1)], dim)
            s = s + a * (d_prev + d)
    return s * KS, d * KD


def _lift_inv(lo, hi, dim):
    s, d = lo / KS, hi / KD
    n = s.shape[dim]
    for i in (3, 2, 1, 0):
        a = W97[i]
        if i % 2 == 0:
            s_next = torch.cat([s.narrow(dim, 1, n - 1), s.narrow(dim, n - 1, 1)], dim)
            d = d - a * (s + s_next)
        else:
            d_prev = torch.cat([d.narrow(dim, 0, 1), d.narrow(dim, 0, n - 1)], dim)
            s = s - a * (d_prev + d)
    return s, d


def wpt_forward(x, levels=3):
    """[B, C, H, W] -> [B, C * 4^levels, H >> levels, W >> levels]; channel
    c * 4^J + b with b's base-4 digits q = 2 * vertical_high + horizontal_high,
    the first split most significant (transforms/wpt.h)."""
    for _ in range(levels):
        Bn, C, H, W = x.shape
        lo, hi = _lift_fwd(x[..., 0::2], x[..., 1::2], 3)            # rows first (horizontal filter)
        ll, lh = _lift_fwd(lo[:, :, 0::2], lo[:, :, 1::2], 2)        # then columns
        hl, hh = _lift_fwd(hi[:, :, 0::2], hi[:, :, 1::2], 2)
        x = torch.stack([ll, hl, lh, hh], 2).reshape(Bn, 4 * C, H // 2, W // 2)
    return x


def _interleave(a, b, dim):
    st = torch.stack([a, b], dim + 1)
    shp = list(a.shape)
    shp[dim] *= 2
    return st.reshape(shp)


def wpt_inverse(y, levels=3):
    for _ in range(levels):
        Bn, C4, h, w = y.shape
        q = y.reshape(Bn, C4 // 4, 4, h, w)
        ll, hl, lh, hh = q[:, :, 0], q[:, :, 1], q[:, :, 2], q[:, :, 3]
        lo = _interleave(*_lift_inv(ll, lh, 2), 2)
        hi = _interleave(*_lift_inv(hl, hh, 2), 2)
        y = _interleave(*_lift_inv(lo, hi, 3), 3)
    return y


# ---------------------------------------------------------------- rate terms

def _bound(p):
    """max(p, LIK_MIN) in value, the gradient of p (CompressAI's LowerBound)."""
    return p + (p.clamp_min(LIK_MIN) - p).detach()


def _phi(x):
    return 0.5 * torch.special.erfc(-x * (1.0 / math.sqrt(2.0)))


def gauss_bits(v, mu, ls):
    """Per-element bits of v under N(mu, clamp(exp(ls))^2), in float64."""
    v, mu, ls = v.double(), mu.double(), ls.double()
    s = torch.exp(ls).clamp(SCALE_MIN, SCALE_MAX)
    a = (v - mu).abs()
    p = _phi((0.5 - a) / s) - _phi((-0.5 - a) / s)
    return -torch.log(_bound(p)) / math.log(2.0)


def fact_logits(fp, lay, x, c0=0):
    """x [C, n] float64 -> the logits at x of the density's channels
    c0 .. c0 + C - 1 (a density per rate level holds L sets of channels)."""
    C = x.shape[0]
    cur = x.unsqueeze(1)  # [C, 1, n]
    for k, (mo, bo, fo, i, o) in enumerate(lay):
        mo, bo = mo + c0 * o * i, bo + c0 * o
        H = F.softplus(fp[mo:mo + C * o * i].view(C, o, i))
        h = torch.einsum("coi,cin->con", H, cur) + fp[bo:bo + C * o].view(C, o, 1)
        if fo is not None:
            fo = fo + c0 * o
            h = h + torch.tanh(fp[fo:fo + C * o].view(C, o, 1)) * torch.tanh(h)
        cur = h
    return cur[:, 0]


def fact_bits(fp, lay, z, c0=0):
    """Per-element bits of z [B, C, h, w] under channels c0.. of the density."""
    Bn, C, h, w = z.shape
    x = z.double().permute(1, 0, 2, 3).reshape(C, -1)
    fpd = fp.double()
    lo = fact_logits(fpd, lay, x - 0.5, c0)
    up = fact_logits(fpd, lay, x + 0.5, c0)
    sg = torch.where(lo + up > 0, -1.0, 1.0).to(lo.dtype)  # the unsaturated side of the sigmoid
    p = sg * (torch.sigmoid(sg * up) - torch.sigmoid(sg * lo))
    bits = -torch.log(_bound(p)) / math.log(2.0)
    return bits.reshape(C, Bn, h, w).permute(1, 0, 2, 3)


def _rnd(v):
    return torch.floor(v + 0.5)  # the C code's floorf(v + 0.5), not round-half-even


# ---------------------------------------------------------------- the model

class LwcNet(torch.nn.Module):
    def __init__(self, arch, ab, params, fparams, lam, zsets=1):
        super().__init__()
        self.arch, self.ab, self.zsets = dict(arch), int(ab), int(zsets)
        self.convs, self.goff, n = layout(self.arch, self.ab)
        self.flay, nf = fact_layout(self.arch["Nz"] * self.zsets)
        if len(params) != n or len(fparams) != nf:
            raise ValueError("parameter counts %d/%d, layout %d/%d" % (len(params), len(fparams), n, nf))
        self.params = torch.nn.Parameter(torch.as_tensor(params, dtype=torch.float32).clone())
        self.fparams = torch.nn.Parameter(torch.as_tensor(fparams, dtype=torch.float32).clone())
        self.register_buffer("lam", torch.as_tensor(lam, dtype=torch.float64).clone())

    # views into the flat vector
    def conv(self, name, x, relu=False):
        w, b, cin, cout, k, st = self.convs[name]
        W = self.params[w:w + cin * cout * k * k].view(cout, cin, k, k)
        Bv = None if b is None else self.params[b:b + cout]
        y = F.conv2d(x, W, Bv, stride=st, padding=k // 2)
        return F.relu(y) if relu else y

    def gain(self, name, level):
        width = self.arch["M"] if name in ("gain", "igain") else self.arch["Nz"]
        o = self.goff[name] + level * width
        return torch.exp(self.params[o:o + width]).view(1, width, 1, 1)

    def _pnet(self, s, inp):
        a = self.conv("p0_%d" % s, inp, True)
        a = self.conv("p1_%d" % s, a, True)
        return self.conv("p2_%d" % s, a)

    def forward(self, x, level, train, noise_z=None, noise_y=None):
        """x [B, 3, H, W] in [-0.5, 0.5] (H, W multiples of 32), one rate
        level for the batch. train: the rates of y + noise_y and z + noise_z
        (uniform in [-0.5, 0.5), drawn here when not given); else the rates
        of y_hat and z_hat. Returns per-crop tensors (float64) bits_y,
        bits_z, mse, loss."""
        a = self.arch
        M, Nz, S, Cc = a["M"], a["Nz"], a["S"], a["Cc"]
        ms = M // S
        X = wpt_forward(x)
        y0 = self.conv("ga", X)
        if self.ab > 0:
            y0 = y0 + self.conv("ga_b2", self.conv("ga_b1", X, True))
        y = y0 * self.gain("gain", level)
        z = self.conv("ha1", self.conv("ha0", y, True)) * self.gain("zgain", level)
        zh = _rnd(z).detach() + z - z.detach()  # straight through the rounding
        if train:
            if noise_z is None:
                noise_z = torch.rand_like(z) - 0.5
            zt = z + noise_z
        else:
            zt = zh
        zd = zh * self.gain("zigain", level)
        h0 = self.conv("hs0", F.interpolate(zd, scale_factor=2, mode="nearest"), True)
        hy = self.conv("hs1", F.interpolate(h0, scale_factor=2, mode="nearest"), True)
        Bn, _, h, w = y.shape
        ii = torch.arange(h, device=x.device).view(h, 1) + torch.arange(w, device=x.device).view(1, w)
        anc = ((ii % 2) == 0).view(1, 1, h, w)
        yh_list, mu_list, ls_list = [], [], []
        zeros_c = torch.zeros(Bn, Cc, h, w, device=x.device, dtype=y.dtype)
        for s in range(S):
            ys = y[:, s * ms:(s + 1) * ms]
            prev = yh_list[:]
            out_a = self._pnet(s, torch.cat([hy] + prev + [zeros_c], 1))
            mu_a, ls_a = out_a[:, :ms], out_a[:, ms:]
            q_a = (_rnd(ys - mu_a) + mu_a).detach() + ys - ys.detach()
            ctx = self.conv("ctx%d" % s, torch.where(anc, q_a, torch.zeros_like(q_a)), True)
            out_n = self._pnet(s, torch.cat([hy] + prev + [ctx], 1))
            mu_n, ls_n = out_n[:, :ms], out_n[:, ms:]
            q_n = (_rnd(ys - mu_n) + mu_n).detach() + ys - ys.detach()
            yh_list.append(torch.where(anc, q_a, q_n))
            mu_list.append(torch.where(anc, mu_a, mu_n))
            ls_list.append(torch.where(anc, ls_a, ls_n))
        yh, mu, ls = torch.cat(yh_list, 1), torch.cat(mu_list, 1), torch.cat(ls_list, 1)
        yf = yh * self.gain("igain", level)
        t = self.conv("gs_in", yf, True)
        for b in range(a["B"]):
            t = t + self.conv("gs_rb%d" % (2 * b + 1), self.conv("gs_rb%d" % (2 * b), t, True))
        xr = wpt_inverse(self.conv("gs_out", t) + self.conv("gs_skip", yf))
        mse = ((xr.double() - x.double()) ** 2).mean(dim=(1, 2, 3))
        if train:
            if noise_y is None:
                noise_y = torch.rand_like(y) - 0.5
            v = y + noise_y
        else:
            v = yh
        bits_y = gauss_bits(v, mu, ls).sum(dim=(1, 2, 3))
        c0 = level * Nz if self.zsets > 1 else 0  # the level's own density, when there is one per level
        bits_z = fact_bits(self.fparams, self.flay, zt, c0).sum(dim=(1, 2, 3))
        px = x.shape[2] * x.shape[3]
        loss = (bits_y + bits_z) / px + self.lam[level] * 255.0 * 255.0 * mse
        return dict(bits_y=bits_y, bits_z=bits_z, mse=mse, loss=loss, xr=xr, yf=yf, y=y, yh=yh, mu=mu, ls=ls)


def from_checkpoint(c, device="cpu"):
    return LwcNet(c.arch, c.ab, c.params, c.fparams, c.lam, getattr(c, "zsets", 1)).to(device)


# ---------------------------------------------------------------- the C generator

MASK64 = (1 << 64) - 1


def rng_next(s):
    """lwc_rng_next (learn/rng.c, xorshift64*): returns (output, new state)."""
    s ^= s >> 12
    s ^= (s << 25) & MASK64
    s ^= s >> 27
    return (s * 2685821657736338717) & MASK64, s


def rng_uniforms(s, n):
    """n draws of lwc_rng_uniform from state s, as float64, and the new state."""
    out = []
    for _ in range(n):
        r, s = rng_next(s)
        out.append((r >> 11) * (1.0 / 9007199254740992.0))
    return out, s


def c_noise(seed, nz_shape, ny_shape):
    """The training noise lwc_graph_run draws from `seed` for one crop: z's
    (in analysis) then y's (in rates), each (float)(u - 0.5) in planar order."""
    import numpy as np
    nz, ny = int(np.prod(nz_shape)), int(np.prod(ny_shape))
    u, s = rng_uniforms(seed, nz + ny)
    u = (np.array(u, np.float64) - 0.5).astype(np.float32)
    return torch.from_numpy(u[:nz].reshape(nz_shape)), torch.from_numpy(u[nz:].reshape(ny_shape))
