"""The C trainer's checkpoint format (tools/train/checkpoint.c), read and
written from Python.

Layout (native endianness, little-endian on every machine we run on):
"LWCK", u32 version, arch (i32 x 10: M Nz N Ch S Cc P D B L),
[version >= 4: i32 analysis branch width], [version >= 5: i32 z density
sets, 1 or L], i64 step, i64 adam_step,
u64 rng, f32 lr, f64 best_val, i32 bad_evals,
[version >= 2: schedule: i32 kind, i64 start, i64 warmup, i64 budget,
f32 peak, f32 floor], f32 lambda[16], u64 nparams, params, m, v,
u64 fact nparams, fact params, fm, fv.
Versions 1-5 are read (before version 3 the hyper-latent gains are missing
at the end of params/m/v and load as zero, as the C loader does); version 5
is written, through a temporary file and a rename.
"""
import os
import struct

import numpy as np

ARCH_FIELDS = ("M", "Nz", "N", "Ch", "S", "Cc", "P", "D", "B", "L")
MAX_LEVELS = 16
SCHED_PLATEAU, SCHED_COSINE = 0, 1
VERSION = 5


class Checkpoint:
    """Everything a checkpoint holds. Arrays are float32 numpy vectors."""

    def __init__(self):
        self.version = VERSION
        self.arch = {}
        self.ab = 0
        self.zsets = 1
        self.step = 0
        self.adam_step = 0
        self.rng = 0
        self.lr = 1e-4
        self.best_val = float("inf")
        self.bad_evals = 0
        self.sched = dict(kind=SCHED_PLATEAU, start=0, warmup=0, budget=0, peak=0.0, floor=0.0)
        self.lam = np.zeros(MAX_LEVELS, np.float32)
        self.params = self.m = self.v = None
        self.fparams = self.fm = self.fv = None


def _take(buf, pos, fmt):
    n = struct.calcsize(fmt)
    if pos + n > len(buf):
        raise ValueError("checkpoint truncated")
    return struct.unpack_from(fmt, buf, pos), pos + n


def _arr(buf, pos, n):
    if pos + 4 * n > len(buf):
        raise ValueError("checkpoint truncated")
    return np.frombuffer(buf, "<f4", n, pos).copy(), pos + 4 * n


def load(path, expect_nparams=None):
    """Read a checkpoint. expect_nparams(arch, ab, version) -> (nparams in
    the file, nparams of the net) lets a caller check the layout; without
    it the file's own count is trusted (and, before version 3, padded by
    2 * L * Nz zero gains)."""
    with open(path, "rb") as f:
        buf = f.read()
    c = Checkpoint()
    if buf[:4] != b"LWCK":
        raise ValueError("not an lwc checkpoint: %s" % path)
    (ver,), p = _take(buf, 4, "<I")
    if not 1 <= ver <= VERSION:
        raise ValueError("checkpoint version %d not supported" % ver)
    c.version = ver
    a, p = _take(buf, p, "<10i")
    c.arch = dict(zip(ARCH_FIELDS, a))
    if ver >= 4:
        (c.ab,), p = _take(buf, p, "<i")
    if ver >= 5:  # z density sets: 1 shared, or L (one per rate level)
        (c.zsets,), p = _take(buf, p, "<i")
    (c.step, c.adam_step, c.rng, c.lr, c.best_val, c.bad_evals), p = _take(buf, p, "<qqQfdi")
    if ver >= 2:
        (k, st, wu, bu, pk, fl), p = _take(buf, p, "<iqqqff")
        c.sched = dict(kind=k, start=st, warmup=wu, budget=bu, peak=pk, floor=fl)
    c.lam, p = _arr(buf, p, MAX_LEVELS)
    (np_,), p = _take(buf, p, "<Q")
    c.params, p = _arr(buf, p, np_)
    c.m, p = _arr(buf, p, np_)
    c.v, p = _arr(buf, p, np_)
    (fp,), p = _take(buf, p, "<Q")
    c.fparams, p = _arr(buf, p, fp)
    c.fm, p = _arr(buf, p, fp)
    c.fv, p = _arr(buf, p, fp)
    if ver < 3:  # hyper-latent gains (log 0: gain 1) appended as the C loader does
        pad = np.zeros(2 * c.arch["L"] * c.arch["Nz"], np.float32)
        c.params, c.m, c.v = (np.concatenate([x, pad]) for x in (c.params, c.m, c.v))
    if expect_nparams is not None and expect_nparams != len(c.params):
        raise ValueError("checkpoint holds %d parameters, the layout %d" % (len(c.params), expect_nparams))
    c.version = VERSION
    return c


def save(path, c):
    """Write version 5 atomically (temporary file, fsync, rename)."""
    f32 = lambda x: np.ascontiguousarray(x, dtype="<f4").tobytes()
    parts = [b"LWCK", struct.pack("<I", VERSION),
             struct.pack("<10i", *[int(c.arch[k]) for k in ARCH_FIELDS]),
             struct.pack("<i", int(c.ab)), struct.pack("<i", int(c.zsets)),
             struct.pack("<qqQfdi", int(c.step), int(c.adam_step), int(c.rng) & (2**64 - 1), float(c.lr),
                         float(c.best_val), int(c.bad_evals)),
             struct.pack("<iqqqff", int(c.sched["kind"]), int(c.sched["start"]), int(c.sched["warmup"]),
                         int(c.sched["budget"]), float(c.sched["peak"]), float(c.sched["floor"])),
             f32(c.lam), struct.pack("<Q", len(c.params)), f32(c.params), f32(c.m), f32(c.v),
             struct.pack("<Q", len(c.fparams)), f32(c.fparams), f32(c.fm), f32(c.fv)]
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        for b in parts:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def schedule_lr(sched, step):
    """lwc_schedule_lr (tools/train/schedule.c): the rate of the step that
    follows `step` steps, cosine kind."""
    import math
    t = max(step - sched["start"], 0)
    peak, floor = np.float32(sched["peak"]), np.float32(sched["floor"])
    if t < sched["warmup"]:
        return float(np.float32(floor + (peak - floor) * np.float32(t + 1) / np.float32(sched["warmup"] + 1)))
    span = sched["budget"] - sched["warmup"]
    if span <= 0 or t >= sched["budget"]:
        return float(floor)
    u = (t - sched["warmup"]) / span
    return float(np.float32(float(floor) + 0.5 * float(peak - floor) * (1.0 + math.cos(math.pi * u))))


def schedule_end(sched):
    return sched["start"] + sched["budget"] if sched["kind"] == SCHED_COSINE else 2**62
