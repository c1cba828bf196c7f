/* Bands of latent rows and the worker threads that run the float stages.
 *
 * Memory: the float stages (analysis in the encoder, synthesis in the
 * decoder) hold one band of activations at a time, so their footprint is
 * bounded by LWC_BAND_BUDGET floats instead of growing with the image.
 *
 * Threads: each conv layer of a band is split into fixed chunks of output
 * rows; a chunk is one task, and tasks are pulled from a shared counter by up
 * to `threads` workers of the context's pool (common/pool.h). Chunk sizes depend only on the layer's shape, so the
 * GEMM calls (and every float) are the same whatever the thread count.
 * OpenBLAS runs single-threaded inside the tasks (lwc_open sets it). */
#include "common/common.h"
#include "ctxmodel.h"
#include "internal.h"
#include "transforms/gemm.h"
#include "transforms/layers.h"
#include "transforms/winograd.h"

#define LWC_BAND_BUDGET ((size_t)64 << 20) /* floats of band buffers (256 MiB) */
#define LWC_CONV_WORK ((size_t)2 << 20)    /* im2col floats per worker (8 MiB) */

static int g_band_rows; /* 0: automatic */

void lwc_set_band_rows(int rows) { g_band_rows = rows; }

int lwc_band_rows(int hy, size_t floats_per_row, int halo)
{
    if (g_band_rows > 0) return LWC_MIN(g_band_rows, hy);
    size_t fit = LWC_BAND_BUDGET / LWC_MAX(floats_per_row, 1);
    int rows = fit > (size_t)(2 * halo + 8) ? (int)LWC_MIN(fit - 2 * halo, (size_t)hy) : 8;
    int count = (hy + rows - 1) / rows;
    return LWC_MIN((hy + count - 1) / count, hy); /* equal heights */
}

/* --- conv layers in row chunks ----------------------------------------------- */

size_t lwc_conv_work_floats(const LwcModel *m, int w)
{
    const LwcArch *a = &m->a;
    size_t taps = LWC_MAX((size_t)9 * LWC_MAX(LWC_MAX(a->M, a->D), a->N), (size_t)m->ab); /* ab: 1x1 branch */
    size_t wino = lwc_wino_work_floats(LWC_MAX(a->M, a->D), a->D, w, lwc_wino_group_rows(w));
    return LWC_MAX(LWC_MAX(LWC_CONV_WORK, wino), taps * (size_t)w); /* at least one output row */
}

int lwc_conv_winograd(const LwcFloatConv *l) { return l->wu && !lwc_gemm_is_reference(); }

/* Rows per task: what fits the work, and about an eighth of the layer so
 * that small images still give every worker something to do, but no GEMM
 * narrower than LWC_MIN_GEMM_N positions: OpenBLAS switches to other
 * kernels (other summation orders) for small products, and wide enough
 * chunks keep its results equal to the whole-frame ones in practice. */
#define LWC_MIN_GEMM_N 1024
static int chunk_rows(const LwcConvJob *j)
{
    const LwcFloatConv *l = j->l;
    int wo = lwc_conv2d_out_dim(j->w, l->k, l->stride), n = j->hi - j->lo;
    size_t per_row = (size_t)l->cin * l->k * l->k * wo;
    int fit = (int)LWC_MIN(j->work_n / per_row, (size_t)n);
    int want = LWC_MAX((n + 7) / 8, (LWC_MIN_GEMM_N + wo - 1) / wo);
    return LWC_MAX(1, LWC_MIN(fit, want));
}

/* acc += y over n outputs at `off` of every output channel (residual blocks). */
static void add_residual(const LwcConvJob *j, size_t off, size_t n)
{
    for (int c = 0; c < j->l->cout && j->acc; c++) {
        const float *y = j->y + c * j->ldy + off;
        float *acc = j->acc + c * j->ldy + off;
        for (size_t i = 0; i < n; i++) acc[i] += y[i];
    }
}

typedef struct ConvRun {
    const LwcConvJob *j;
    int chunk;
} ConvRun;

static int conv_task(void *arg, int task, int worker)
{
    const ConvRun *cr = arg;
    const LwcConvJob *j = cr->j;
    const LwcFloatConv *l = j->l;
    int r0 = j->lo + task * cr->chunk, r1 = LWC_MIN(j->hi, r0 + cr->chunk);
    int wo = lwc_conv2d_out_dim(j->w, l->k, l->stride);
    size_t off = (size_t)(r0 - j->ybase) * wo, n = (size_t)(r1 - r0) * wo;
    lwc_conv2d_forward_rows(j->x, l->cin, j->h, j->w, l->w, l->b, l->cout, l->k, l->stride, r0, r1,
                            j->y + off, j->ldy, j->work + (size_t)worker * j->work_n, j->work_n);
    for (int c = 0; c < l->cout && j->relu; c++) lwc_relu_forward(j->y + c * j->ldy + off, n);
    add_residual(j, off, n);
    return LWC_OK;
}

/* Winograd: one task per group of lwc_wino_group_rows tile rows at fixed
 * absolute rows, so every GEMM has the same shape wherever the band falls. */
typedef struct WinoRun {
    const LwcConvJob *j;
    int row0, span, first; /* x's first image row, rows per group, first group */
} WinoRun;

static int wino_task(void *arg, int task, int worker)
{
    const WinoRun *wr = arg;
    const LwcConvJob *j = wr->j;
    const LwcFloatConv *l = j->l;
    int ty0 = (wr->first + task) * wr->span - wr->row0;
    int lo = LWC_MAX(j->lo, ty0), hi = LWC_MIN(j->hi, ty0 + wr->span);
    size_t off = (size_t)(lo - j->ybase) * j->w, n = (size_t)(hi - lo) * j->w;
    lwc_wino_conv3x3_rows(j->x, l->cin, j->h, j->w, l->wu, l->b, l->cout, ty0,
                          wr->span / LWC_WINO_TILE, lo, hi, j->y + off, j->ldy, j->relu,
                          j->work + (size_t)worker * j->work_n);
    add_residual(j, off, n);
    return LWC_OK;
}

int lwc_conv_run(const LwcConvJob *j, int threads) { return lwc_conv_run_at(j, 0, threads); }

int lwc_conv_run_at(const LwcConvJob *j, int row0, int threads)
{
    if (j->hi <= j->lo) return LWC_OK;
    if (lwc_conv_winograd(j->l)) {
        WinoRun wr = { j, row0, LWC_WINO_TILE * lwc_wino_group_rows(j->w), 0 };
        wr.first = (row0 + j->lo) / wr.span;
        int last = (row0 + j->hi - 1) / wr.span;
        return lwc_parallel(threads, last - wr.first + 1, wino_task, &wr);
    }
    ConvRun cr = { j, chunk_rows(j) };
    return lwc_parallel(threads, (j->hi - j->lo + cr.chunk - 1) / cr.chunk, conv_task, &cr);
}

/* --- hyper synthesis in position ranges ---------------------------------------- */

typedef struct HyperRun {
    LwcCtx *c;
    int k, npos, chunk;
} HyperRun;

static int hyper_task(void *arg, int task, int worker)
{
    const HyperRun *r = arg;
    int p0 = task * r->chunk;
    lwc_ctx_hyper_range(r->c, r->k, p0, LWC_MIN(r->npos, p0 + r->chunk), worker);
    return LWC_OK;
}

void lwc_ctx_hyper_mt(LwcCtx *c, const int32_t *zhat)
{
    for (int k = 0; k < 2; k++) {
        HyperRun r = { c, k, lwc_ctx_hyper_input(c, k, zhat), 0 };
        r.chunk = LWC_MAX(1024, (r.npos / 16 + 15) & ~15);
        lwc_parallel(c->workers, (r.npos + r.chunk - 1) / r.chunk, hyper_task, &r);
    }
}
