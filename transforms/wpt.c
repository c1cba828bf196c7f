/* CDF 9/7 wavelet packet transform (see wpt.h for the definition).
 *
 * How it is organised. The four public transforms are two level orders
 * running four 1D "programs" (four lifting steps plus a scaling):
 *   analysis  (levels 1..J; 1D: deinterleave, lift, scale):  forward, inverse^T
 *   synthesis (levels J..1; 1D: scale, lift, interleave):    inverse, forward^T
 * A transposed lifting step is again a lifting step, with source and target
 * swapped and the boundary terms kept: every step is described by its
 * coefficient, its target (s or d) and two boundary flags. Transposing a
 * separable level also swaps rows and columns in time, which the streaming
 * scheme below does by construction (analysis filters a row as it enters,
 * synthesis as it leaves).
 *
 * Memory: per level, one streaming pass that reads the parent planes once
 * and writes the subbands once (see "columns" below); levels ping-pong
 * between the output and one image-sized plane of work so that the last
 * level lands in the output. No allocation. */
#include <assert.h>
#include <string.h>

#include "common.h"
#include "transforms/wpt.h"

/* JPEG 2000 irreversible 9/7 lifting constants. */
#define W97_ALPHA (-1.586134342)
#define W97_BETA (-0.05298011854)
#define W97_GAMMA 0.8829110762
#define W97_DELTA 0.4435068522
#define W97_K 1.149604398
#define W97_SQRT2 1.4142135623730951
/* Unit-gain output scaling (see wpt.h). */
#define W97_KS (W97_K / W97_SQRT2)
#define W97_KD (1.0 / (W97_K * W97_SQRT2))

/* One lifting step. to_d: d[i] += a (s[i] + s[i+1]), else
 * s[i] += a (d[i-1] + d[i]); an out-of-range neighbour counts as 0, then
 * e0 adds a*u[0] to target[0] and em adds a*u[m-1] to target[m-1] (u is the
 * source). Symmetric extension is em = 1 for d-steps and e0 = 1 for s-steps;
 * the transpose of a step has the other target and the same e0/em. */
typedef struct Lift {
    float a;
    unsigned char to_d, e0, em;
} Lift;

/* Analysis programs: lift steps[] in order, then s *= ks, d *= kd.
 * Synthesis programs: s *= ks, d *= kd first, then steps[] in order. */
typedef struct Prog {
    Lift step[4];
    float ks, kd;
} Prog;

#define DSTEP(a, e0, em) { (float)(a), 1, e0, em }
#define SSTEP(a, e0, em) { (float)(a), 0, e0, em }

static const Prog g_forward = {
    { DSTEP(W97_ALPHA, 0, 1), SSTEP(W97_BETA, 1, 0),
      DSTEP(W97_GAMMA, 0, 1), SSTEP(W97_DELTA, 1, 0) },
    (float)W97_KS, (float)W97_KD };
static const Prog g_inverse = {
    { SSTEP(-W97_DELTA, 1, 0), DSTEP(-W97_GAMMA, 0, 1),
      SSTEP(-W97_BETA, 1, 0), DSTEP(-W97_ALPHA, 0, 1) },
    (float)(1.0 / W97_KS), (float)(1.0 / W97_KD) };
/* forward^T: scale, then the transposed steps in reverse order. */
static const Prog g_forward_adj = {
    { DSTEP(W97_DELTA, 1, 0), SSTEP(W97_GAMMA, 0, 1),
      DSTEP(W97_BETA, 1, 0), SSTEP(W97_ALPHA, 0, 1) },
    (float)W97_KS, (float)W97_KD };
/* inverse^T: transposed steps of the inverse in reverse order, then scale. */
static const Prog g_inverse_adj = {
    { SSTEP(-W97_ALPHA, 0, 1), DSTEP(-W97_BETA, 1, 0),
      SSTEP(-W97_GAMMA, 0, 1), DSTEP(-W97_DELTA, 1, 0) },
    (float)(1.0 / W97_KS), (float)(1.0 / W97_KD) };

/* --- rows: horizontal 1D transform, s and d halves contiguous ----------- */

/* Inner loops run in chunks of VL with a constant trip count, and each chunk
 * reads all its sources before writing: vectorising that is legal whatever
 * the compiler knows about aliasing, so -O2 (whose cost model only takes
 * loops without a scalar epilogue) and -O3 after inlining both emit SIMD. */
enum { VL = 8 };

/* t[i] += a (p[i] + q[i]), or t[i] += a p[i] when q is NULL. */
static void axpy2(float *restrict t, const float *p, const float *q, float a, size_t n)
{
    size_t i = 0;
    float v[VL];
    if (q) {
        for (; i + VL <= n; i += VL) {
            for (int k = 0; k < VL; k++) v[k] = a * (p[i + k] + q[i + k]);
            for (int k = 0; k < VL; k++) t[i + k] += v[k];
        }
        for (; i < n; i++) t[i] += a * (p[i] + q[i]);
    } else {
        for (; i + VL <= n; i += VL) {
            for (int k = 0; k < VL; k++) v[k] = a * p[i + k];
            for (int k = 0; k < VL; k++) t[i + k] += v[k];
        }
        for (; i < n; i++) t[i] += a * p[i];
    }
}

/* One lifting step along a row of m (s, d) pairs held in two arrays. */
static void lift_1d(float *restrict s, float *restrict d, int m, const Lift *st)
{
    const float a = st->a;
    if (st->to_d) { /* d[i] += a (s[i] + s[i+1]) */
        axpy2(d, s, s + 1, a, (size_t)m - 1);
        d[m - 1] += st->em ? a * (s[m - 1] + s[m - 1]) : a * s[m - 1];
        if (st->e0) d[0] += a * s[0];
    } else {        /* s[i] += a (d[i-1] + d[i]) */
        s[0] += st->e0 ? a * (d[0] + d[0]) : a * d[0];
        axpy2(s + 1, d, d + 1, a, (size_t)m - 1);
        if (st->em) s[m - 1] += a * d[m - 1];
    }
}

static void scale_into(float *restrict dst, const float *restrict src, float k, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        for (int j = 0; j < VL; j++) dst[i + j] = src[i + j] * k;
    for (; i < n; i++) dst[i] = src[i] * k;
}

/* s[i] = x[2i], d[i] = x[2i+1] for i < m. */
static void deinterleave(const float *restrict x, float *restrict s, float *restrict d, int m)
{
    int i = 0;
    for (; i + VL <= m; i += VL)
        for (int k = 0; k < VL; k++) {
            s[i + k] = x[2 * (i + k)];
            d[i + k] = x[2 * (i + k) + 1];
        }
    for (; i < m; i++) {
        s[i] = x[2 * i];
        d[i] = x[2 * i + 1];
    }
}

static void interleave(const float *restrict s, const float *restrict d, float *restrict x, int m)
{
    int i = 0;
    for (; i + VL <= m; i += VL)
        for (int k = 0; k < VL; k++) {
            x[2 * (i + k)] = s[i + k];
            x[2 * (i + k) + 1] = d[i + k];
        }
    for (; i < m; i++) {
        x[2 * i] = s[i];
        x[2 * i + 1] = d[i];
    }
}

/* dst = [low | high] of the w samples at src (dst != src). */
static void row_analysis(const Prog *pg, const float *restrict src, float *restrict dst,
                         int w, float *restrict tmp)
{
    int m = w / 2;
    float *s = tmp, *d = tmp + m;
    deinterleave(src, s, d, m);
    for (int k = 0; k < 4; k++) lift_1d(s, d, m, &pg->step[k]);
    scale_into(dst, s, pg->ks, (size_t)m);
    scale_into(dst + m, d, pg->kd, (size_t)m);
}

/* [low | high] at src -> w samples at dst (dst != src). */
static void row_synthesis(const Prog *pg, const float *restrict src, float *restrict dst,
                          int w, float *restrict tmp)
{
    int m = w / 2;
    float *s = tmp, *d = tmp + m;
    scale_into(s, src, pg->ks, (size_t)m);
    scale_into(d, src + m, pg->kd, (size_t)m);
    for (int k = 0; k < 4; k++) lift_1d(s, d, m, &pg->step[k]);
    interleave(s, d, dst, m);
}

/* --- columns: vertical lifting streamed over whole rows ------------------
 *
 * Vertically, s_i and d_i are whole rows (rows 2i and 2i+1), so a lifting
 * step is an axpy over a row. Instead of one pass over the plane per step,
 * the steps run as a wavefront: in iteration j, step k lifts pair j - lag[k],
 * where lag[k] grows by one whenever a d-step follows an s-step (it needs
 * s_{i+1} from the step before). Pair j - maxlag is then final and leaves,
 * and only RING pairs are ever live, so each level reads its input once and
 * writes its output once. Rows enter through load() (which for analysis also
 * does the horizontal transform) and leave through store(). */

enum { RING = 4 }; /* live (s, d) row pairs: enough for lags up to 2 */

typedef struct Stream {
    const Prog *pg;
    int m;           /* pairs in the plane (rows / 2) */
    int wl;          /* floats per row */
    float *ring;     /* RING pairs of 2 rows */
    int lag[4], lead, maxlag;
} Stream;

static float *st_s(const Stream *v, int i) { return v->ring + (size_t)(i % RING) * 2 * v->wl; }
static float *st_d(const Stream *v, int i) { return st_s(v, i) + v->wl; }

static void stream_init(Stream *v, const Prog *pg, int hl, int wl, float *ring)
{
    v->pg = pg;
    v->m = hl / 2;
    v->wl = wl;
    v->ring = ring;
    v->lead = pg->step[0].to_d; /* a first d-step needs s_{j+1} already */
    v->lag[0] = 0;
    for (int k = 1; k < 4; k++)
        v->lag[k] = v->lag[k - 1] + (pg->step[k].to_d && !pg->step[k - 1].to_d);
    v->maxlag = v->lag[3];
    assert(v->lead + v->maxlag + 1 < RING);
}

/* Step k on pair i, with symmetric-extension / transposed boundary terms. */
static void stream_step(const Stream *v, int k, int i)
{
    const Lift *st = &v->pg->step[k];
    size_t n = (size_t)v->wl;
    int last = v->m - 1;
    if (st->to_d) {
        const float *s0 = st_s(v, i);
        const float *s1 = i < last ? st_s(v, i + 1) : st->em ? s0 : NULL;
        axpy2(st_d(v, i), s0, s1, st->a, n);
        if (i == 0 && st->e0) axpy2(st_d(v, i), s0, NULL, st->a, n);
    } else {
        const float *d1 = st_d(v, i);
        const float *d0 = i > 0 ? st_d(v, i - 1) : st->e0 ? d1 : NULL;
        axpy2(st_s(v, i), d1, d0, st->a, n);
        if (i == last && st->em) axpy2(st_s(v, i), d1, NULL, st->a, n);
    }
}

typedef void (*PairFn)(const Stream *v, int i, void *ctx);

static void stream_run(const Stream *v, PairFn load, PairFn store, void *ctx)
{
    int loaded = 0;
    for (int j = 0; j < v->m + v->maxlag; j++) {
        for (; loaded <= j + v->lead && loaded < v->m; loaded++) load(v, loaded, ctx);
        for (int k = 0; k < 4; k++) {
            int i = j - v->lag[k];
            if (i >= 0 && i < v->m) stream_step(v, k, i);
        }
        if (j >= v->maxlag) store(v, j - v->maxlag, ctx);
    }
}

/* --- one level of each driver -------------------------------------------- */

/* One parent plane of hl x wl (src for analysis, dst for synthesis) and its
 * four subbands of hl/2 x wl/2 in band order (the other side). */
typedef struct Level {
    const float *src;
    float *dst;
    int hl, wl;
    float *tmp;      /* row scratch, wl floats */
} Level;

static size_t band_size(const Level *lv) { return (size_t)(lv->hl / 2) * (lv->wl / 2); }

/* Analysis: rows 2i, 2i+1 of the parent, filtered horizontally, become s_i, d_i. */
static void an_load(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    const float *r = lv->src + (size_t)(2 * i) * lv->wl;
    row_analysis(v->pg, r, st_s(v, i), lv->wl, lv->tmp);
    row_analysis(v->pg, r + lv->wl, st_d(v, i), lv->wl, lv->tmp);
}

/* Analysis: s_i = [LL_i | HL_i], d_i = [LH_i | HH_i] after scaling. */
static void an_store(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    size_t half = (size_t)lv->wl / 2, band = band_size(lv), row = (size_t)i * half;
    const float *s = st_s(v, i), *d = st_d(v, i);
    scale_into(lv->dst + row, s, v->pg->ks, half);
    scale_into(lv->dst + band + row, s + half, v->pg->ks, half);
    scale_into(lv->dst + 2 * band + row, d, v->pg->kd, half);
    scale_into(lv->dst + 3 * band + row, d + half, v->pg->kd, half);
}

/* Synthesis: the reverse of an_store. */
static void syn_load(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    size_t half = (size_t)lv->wl / 2, band = band_size(lv), row = (size_t)i * half;
    float *s = st_s(v, i), *d = st_d(v, i);
    scale_into(s, lv->src + row, v->pg->ks, half);
    scale_into(s + half, lv->src + band + row, v->pg->ks, half);
    scale_into(d, lv->src + 2 * band + row, v->pg->kd, half);
    scale_into(d + half, lv->src + 3 * band + row, v->pg->kd, half);
}

/* Synthesis: s_i, d_i become rows 2i, 2i+1 after the horizontal synthesis. */
static void syn_store(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    float *r = lv->dst + (size_t)(2 * i) * lv->wl;
    row_synthesis(v->pg, st_s(v, i), r, lv->wl, lv->tmp);
    row_synthesis(v->pg, st_d(v, i), r + lv->wl, lv->wl, lv->tmp);
}

/* One level on `planes` planes of hl x wl; src and dst must not overlap.
 * Analysis turns each plane into its 4 subbands (same footprint), synthesis
 * the reverse. */
static void run_level(const Prog *pg, int analysis, const float *src, float *dst,
                      size_t planes, int hl, int wl, float *scratch)
{
    size_t ps = (size_t)hl * wl;
    Stream v;
    stream_init(&v, pg, hl, wl, scratch);
    for (size_t p = 0; p < planes; p++) {
        Level lv = { src + p * ps, dst + p * ps, hl, wl, scratch + (size_t)RING * 2 * wl };
        if (analysis) stream_run(&v, an_load, an_store, &lv);
        else stream_run(&v, syn_load, syn_store, &lv);
    }
}

/* --- drivers -------------------------------------------------------------- */

static size_t plane_floats(int h, int w)
{
    size_t hw = (size_t)h * (size_t)w;
    return (hw + 15) & ~(size_t)15; /* keep the scratch after it 64-byte aligned */
}

size_t lwc_wpt_work_size(int h, int w)
{
    return plane_floats(h, w) + (size_t)(2 * RING + 1) * (size_t)w;
}

static void check_shape(int c, int h, int w, int levels)
{
    assert(c >= 0 && levels >= 0 && levels < 16);
    assert(h >= (1 << levels) && w >= (1 << levels));
    assert(h % (1 << levels) == 0 && w % (1 << levels) == 0);
    (void)c; (void)h; (void)w; (void)levels;
}

/* Levels 1..J (analysis) or J..1 (synthesis). Each level reads the previous
 * level's output (the input for the first) and writes the other of {out,
 * work plane}, chosen so that the last level lands in out. */
static void transform(const Prog *pg, int analysis, const float *in, int c, int h,
                      int w, int levels, float *out, float *work)
{
    size_t hw = (size_t)h * w;
    float *buf = work, *scratch = work + plane_floats(h, w);
    check_shape(c, h, w, levels);
    for (int ch = 0; ch < c; ch++) {
        const float *src = in + (size_t)ch * hw;
        float *o = out + (size_t)ch * hw;
        if (levels == 0) memcpy(o, src, hw * sizeof(float));
        for (int n = 0; n < levels; n++) {
            int l = analysis ? n + 1 : levels - n;  /* level being computed */
            int left = levels - 1 - n;              /* levels still to run after it */
            float *dst = left % 2 == 0 ? o : buf;
            run_level(pg, analysis, src, dst, (size_t)1 << (2 * (l - 1)),
                      h >> (l - 1), w >> (l - 1), scratch);
            src = dst;
        }
    }
}

void lwc_wpt_forward(const float *x, int c, int h, int w, int levels,
                     float *y, float *work)
{
    transform(&g_forward, 1, x, c, h, w, levels, y, work);
}

void lwc_wpt_inverse(const float *y, int c, int h, int w, int levels,
                     float *x, float *work)
{
    transform(&g_inverse, 0, y, c, h, w, levels, x, work);
}

void lwc_wpt_forward_adjoint(const float *y, int c, int h, int w, int levels,
                             float *x, float *work)
{
    transform(&g_forward_adj, 0, y, c, h, w, levels, x, work);
}

void lwc_wpt_inverse_adjoint(const float *x, int c, int h, int w, int levels,
                             float *y, float *work)
{
    transform(&g_inverse_adj, 1, x, c, h, w, levels, y, work);
}
