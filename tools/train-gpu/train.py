#!/usr/bin/env python3
"""Train the lwc model on a GPU (or CPU) from and into the C trainer's
checkpoint: `lwc train --resume --checkpoint C` continues what this writes,
and `lwc train --checkpoint C --export-only --out F` exports it.

  python3 tools/train-gpu/train.py --pack train.pack --checkpoint C --minutes 10 \
      [--device cuda] [--batch 16] [--crop 256] [--ckpt-every 120] [--steps N]
  torchrun --nproc_per_node 2 tools/train-gpu/train.py ... --dist   (data parallel)

One step, as tools/train/trainer.c's train_step: the rate level from the
checkpoint's generator (lwc_rng_next % L), one seed per crop from it, each
crop drawn as lwc_dataset_crop draws it (image, x, y, horizontal flip) but
inside the pack's windows; the loss averaged over the batch; the gradient
of the weights and that of the factorized density each clipped to a global
norm (--clip, default 1); Adam (0.9, 0.999, 1e-8, bias corrections in
double) with the y gain vectors at 20x and the factorized density at 10x
the rate; the rate from the checkpoint's cosine schedule (or its fixed
rate under the plateau rule, which needs validation and is not run here).
The training noise comes from torch's generator, not the C one.
Checkpoints: every --ckpt-every seconds and at the end (also on SIGINT /
SIGTERM), written to a temporary file and renamed.
"""
import argparse
import math
import os
import signal
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ckpt as ck  # noqa: E402
import lwc_model as lm  # noqa: E402

GAIN_LR_MULT = 20.0
FACT_LR_MULT = 10.0

_stop = False


def _on_signal(sig, frame):
    global _stop
    _stop = True


class Adam:
    """learn/adam.c over the parameter vector's ranges, in float64 with the
    moments stored in float32 (as the checkpoint holds them)."""

    def __init__(self, c, device):
        f = lambda a: torch.as_tensor(a, dtype=torch.float32, device=device).clone()
        self.m, self.v, self.fm, self.fv = f(c.m), f(c.v), f(c.fm), f(c.fv)
        self.step = int(c.adam_step)

    @staticmethod
    def _update(p, g, m, v, lr, t):
        c1, c2 = 1.0 - 0.9 ** t, 1.0 - 0.999 ** t
        g = g.double()
        m64 = 0.9 * m.double() + 0.1 * g
        v64 = 0.999 * v.double() + 0.001 * g * g
        m.copy_(m64)
        v.copy_(v64)
        # lr and eps as the C code's floats
        lr, eps = float(np.float32(lr)), float(np.float32(1e-8))
        p.copy_(p.double() - lr * (m64 / c1) / (torch.sqrt(v64 / c2) + eps))

    def apply(self, net, lr):
        self.step += 1
        t = self.step
        g, P = net.params.grad, net.params.data
        ng, nz = net.goff["gain"], net.goff["zgain"]
        for lo, hi, mult in ((0, ng, 1.0), (ng, nz, GAIN_LR_MULT), (nz, P.numel(), 1.0)):
            self._update(P[lo:hi], g[lo:hi], self.m[lo:hi], self.v[lo:hi], np.float32(lr) * np.float32(mult), t)
        self._update(net.fparams.data, net.fparams.grad, self.fm, self.fv, np.float32(lr) * np.float32(FACT_LR_MULT), t)


def clip_(g, max_norm):
    """lwc_grad_clip: scale to max_norm when above it; the norm (float64)."""
    n = float(torch.linalg.vector_norm(g.double()))
    if math.isfinite(n) and n > max_norm:
        g.mul_(max_norm / n)
    return n


class Sampler:
    """lwc_dataset_crop over the pack's images, from the C generator."""

    def __init__(self, images, crop, device):
        self.crop = crop
        self.imgs = [torch.from_numpy(np.ascontiguousarray(im)).to(device) for im in images if min(im.shape[:2]) >= crop]
        if not self.imgs:
            raise SystemExit("train.py: no pack image is %d pixels on both sides" % crop)

    def crop_of(self, seed):
        r, s = lm.rng_next(seed)
        im = self.imgs[r % len(self.imgs)]
        h, w = im.shape[:2]
        r, s = lm.rng_next(s)
        x0 = r % (w - self.crop + 1)
        r, s = lm.rng_next(s)
        y0 = r % (h - self.crop + 1)
        r, s = lm.rng_next(s)
        c = im[y0:y0 + self.crop, x0:x0 + self.crop]
        if r & 1:
            c = c.flip(1)
        return c.permute(2, 0, 1).float() / 255.0 - 0.5


def to_ckpt(c, net, opt):
    c.params = net.params.detach().cpu().numpy().astype(np.float32)
    c.fparams = net.fparams.detach().cpu().numpy().astype(np.float32)
    c.m, c.v = opt.m.cpu().numpy(), opt.v.cpu().numpy()
    c.fm, c.fv = opt.fm.cpu().numpy(), opt.fv.cpu().numpy()
    c.adam_step = opt.step
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--checkpoint", required=True, help="read, then overwritten with the trained state")
    ap.add_argument("--out-checkpoint", help="write here instead of --checkpoint")
    ap.add_argument("--minutes", type=float, default=10.0, help="hard limit of training time")
    ap.add_argument("--steps", type=int, default=0, help="at most this many steps in this run (0: no limit)")
    ap.add_argument("--max-step", type=int, default=2000000, help="stop at this total step (lwc train --steps)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=0.0,
                    help="with --schedule: its peak; alone: replace the checkpoint's rate (plateau schedule only)")
    ap.add_argument("--schedule", choices=("cosine", "plateau"),
                    help="start a new schedule at the checkpoint's step (as lwc train --schedule)")
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--budget", type=int, default=0)
    ap.add_argument("--lr-min", type=float, default=1e-6)
    ap.add_argument("--ckpt-every", type=float, default=120.0, help="seconds")
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tf32", action="store_true", help="allow TF32 convolutions (faster, no longer C-exact)")
    ap.add_argument("--dist", action="store_true", help="torch.distributed data parallel (under torchrun)")
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    rank, world = 0, 1
    if a.dist:
        import torch.distributed as dist
        dist.init_process_group("nccl" if a.device.startswith("cuda") else "gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        if a.device == "cuda":
            a.device = "cuda:%d" % (rank % torch.cuda.device_count())
    if a.batch % world:
        raise SystemExit("train.py: --batch must be a multiple of the number of processes")
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    import pack as pk
    c = ck.load(a.checkpoint)
    net = lm.from_checkpoint(c, a.device)
    opt = Adam(c, a.device)
    if a.schedule:  # tools/train/trainer.c start_schedule()
        kind = ck.SCHED_COSINE if a.schedule == "cosine" else ck.SCHED_PLATEAU
        if kind == ck.SCHED_COSINE and (a.budget <= a.warmup or not a.lr > a.lr_min):
            raise SystemExit("train.py: --schedule cosine needs --lr above --lr-min and --budget above --warmup")
        peak = a.lr if a.lr > 0 else c.lr
        c.sched = dict(kind=kind, start=c.step, warmup=a.warmup, budget=a.budget, peak=peak, floor=a.lr_min)
        c.lr, c.bad_evals, c.best_val = peak, 0, float("inf")
    elif a.lr > 0:
        if c.sched["kind"] == ck.SCHED_COSINE:
            raise SystemExit("train.py: the checkpoint follows a cosine schedule; --lr would not apply")
        c.lr = a.lr
    # the noise generator: from the checkpoint's state and the process, so that a run is repeatable
    torch.manual_seed((c.rng ^ (rank * 0x9E3779B97F4A7C15)) & 0x7FFFFFFFFFFFFFFF)
    smp = Sampler(pk.load_pack(a.pack), a.crop, a.device)
    L = c.arch["L"]
    out = a.out_checkpoint or a.checkpoint
    end = min(a.max_step, ck.schedule_end(c.sched))
    if rank == 0:
        print("train-gpu: %s, %d parameters, step %d -> at most %d, %d pack images, batch %d x %d, %d process(es)"
              % (a.device, net.params.numel(), c.step, end, len(smp.imgs), a.batch, a.crop, world), flush=True)
    limit = a.minutes * 60.0
    t_start = last_ck = time.time()
    taken, acc, nacc = 0, np.zeros(4), 0
    while c.step < end and not _stop:
        if time.time() - t_start > limit or (a.steps and taken >= a.steps):
            break
        r, c.rng = lm.rng_next(c.rng)
        level = r % L
        seeds = []
        for _ in range(a.batch):
            r, c.rng = lm.rng_next(c.rng)
            seeds.append(r)
        mine = seeds[rank::world]
        x = torch.stack([smp.crop_of(s) for s in mine])
        net.params.grad = None
        net.fparams.grad = None
        res = net(x, level, True)
        (res["loss"].sum() / a.batch).backward()
        stats = torch.stack([res[k].sum() for k in ("loss", "bits_y", "bits_z", "mse")]).detach()
        if world > 1:
            import torch.distributed as dist
            for t in (net.params.grad, net.fparams.grad, stats):
                dist.all_reduce(t)
        gn = clip_(net.params.grad, a.clip)
        clip_(net.fparams.grad, a.clip)
        if math.isfinite(gn):  # a broken gradient skips the step, as in the C trainer
            lr = ck.schedule_lr(c.sched, c.step) if c.sched["kind"] == ck.SCHED_COSINE else c.lr
            c.lr = float(np.float32(lr))
            opt.apply(net, c.lr)
        c.step += 1
        taken += 1
        acc += stats.cpu().numpy()
        nacc += 1
        if rank == 0 and (c.step % a.log_every == 0 or taken <= 3):
            px = a.crop * a.crop * a.batch * nacc
            psnr = 10 * math.log10(1.0 / max(acc[3] / (a.batch * nacc), 1e-12))
            print("step %d level %d loss %.4f bpp %.3f psnr %.2f | lr %.3g | %.2f steps/s"
                  % (c.step, level, acc[0] / (a.batch * nacc), (acc[1] + acc[2]) / px, psnr, c.lr,
                     taken / (time.time() - t_start)), flush=True)
            acc, nacc = np.zeros(4), 0
        if rank == 0 and time.time() - last_ck > a.ckpt_every:
            ck.save(out, to_ckpt(c, net, opt))
            last_ck = time.time()
    if world > 1:  # every process must hold the same weights: check, bit for bit
        import torch.distributed as dist
        mine = torch.cat([net.params.detach(), net.fparams.detach()])
        every = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather(every, mine)
        if rank == 0:
            same = all(torch.equal(every[0], e) for e in every[1:])
            print("train-gpu: the %d processes' weights are %s" % (world, "identical" if same else "DIFFERENT"))
            if not same:
                return 1
    if rank == 0:
        ck.save(out, to_ckpt(c, net, opt))
        bad = not (torch.isfinite(net.params).all() and torch.isfinite(net.fparams).all())
        print("train-gpu: %d steps in %.1f s, step %d, checkpoint %s%s" % (taken, time.time() - t0, c.step, out,
                                                                         " (NON-FINITE WEIGHTS)" if bad else ""))
        if bad:
            return 1
    if a.dist:
        import torch.distributed as dist
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
