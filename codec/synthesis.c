/* Synthesis g_s (float): y_hat -> 3x3 conv -> residual blocks -> 1x1 conv,
 * plus a linear 1x1 skip from y_hat, -> inverse wavelet packet -> pixels.
 * Float arithmetic only shapes pixels; it never feeds the entropy coder.
 *
 * Band by band (see bands.c): to give the pixels of latent rows [a, b), the
 * 1x1 outputs are needed on [a - H, b + H) (H = LWC_WPT_HALO, the inverse
 * transform's reach) and each 3x3 layer needs one more row on each side than
 * the next, so the band's buffers cover [a - H - L, b + H + L) for L 3x3
 * layers, clipped to the image. Rows at a clipped edge are the image's own
 * edge, where the zero padding and the symmetric extension are the real ones;
 * at the other edges the layers shrink by a row each, so every kept value is
 * computed exactly as on the whole frame. With the fast kernels the 3x3
 * layers run as Winograd F(4x4, 3x3) tiles at absolute rows 4i; each layer's
 * rows are then widened to whole tiles (layer_span), which takes up to 4L
 * halo rows instead of L, and the kept values still equal the whole frame's.
 *
 * A model with an integer synthesis (version 4) runs its layers instead
 * (docs/bitstream.md, "Integer synthesis"): the same bands and rows, int16
 * activations through the integer layers of entropy/intconv.h, whose every
 * kernel set gives the same bits (the 3x3 layers within the exporter's
 * 2^29 bound run as the exact integer Winograd F(2x2, 3x3) of
 * entropy/intwino.h, in tile rows at even band rows, where it has a SIMD
 * set: the same bits as the direct convolution, by construction); only the output coefficients become float
 * (one exact product each) for the inverse transform, whose lifting is
 * bit-exact too. So the pixels do not depend on the build or the CPU. */
#include <string.h>

#include "common/common.h"
#include "entropy/intwino.h"
#include "internal.h"
#include "transforms/layers.h"
#include "transforms/winograd.h"
#include "transforms/wpt.h"

typedef struct Syn {
    const LwcModel *m;
    const LwcGeom *g;
    const int32_t *yq;
    float igain[1024];
    int32_t ig[1024];                     /* integer synthesis: Q16 input gains */
    LwcImage *img;
    int threads, rows, a0, e0, n, q0, nq; /* band [a0, ..), its region [e0, e0+n), 1x1 rows [q0, q0+nq) */
    int wino, halo;                       /* 3x3 layers in Winograd tiles; region rows beyond a band */
    float *yf, *t, *r, *o, *o2, *planes, *work;
    size_t work_n;
    int16_t *ia, *ir, *iy; /* integer synthesis: [t; a0], r, a layer's output */
    int32_t *iwork;
    size_t iwork_n;
    const LwcIntConv *il; /* integer layer running (il_task) */
    const int16_t *ix;
    int16_t *iout;
    int ilo, ihi;         /* its output rows (band) */
    int iwino;            /* 3x3 layers with Winograd weights run them (lwc_intwino_preferred) */
} Syn;

static int conv3_count(const LwcArch *a) { return 1 + 2 * a->B; }

/* Rows of a band's region beyond the band on each side: the transform's
 * reach, then one per 3x3 layer, or up to a whole tile per layer when the
 * layers run in Winograd tiles (see layer_span). */
static int halo_rows(const LwcArch *a, int wino)
{
    return LWC_WPT_HALO + (wino ? LWC_WINO_TILE : 1) * conv3_count(a);
}

/* Floats of band buffers per latent row. */
static size_t row_floats(const LwcArch *a, int wy)
{
    return (size_t)(a->M + 2 * a->D + 2 * LWC_MAX(a->D, LWC_WPT_CHANNELS) + 3 * 64) * wy;
}

/* The integer synthesis' buffers, beside the float ones it still uses for
 * the transform (o, planes, work). */
static int alloc_int(Syn *s, size_t n)
{
    const LwcArch *a = &s->m->a;
    int h = LWC_MIN(s->rows + 2 * s->halo, s->g->hy);
    s->iwork_n = LWC_MAX(lwc_intconv_work_size(&s->m->syn_in, h, s->g->wy),
                         lwc_intconv_work_size(&s->m->syn_rb[0], h, s->g->wy));
    s->iwork_n = LWC_MAX(s->iwork_n, lwc_intconv_work_size(&s->m->syn_out, h, s->g->wy));
    if (s->m->syn_in.wu) s->iwork_n = LWC_MAX(s->iwork_n, lwc_intwino_work_size(&s->m->syn_in, h, s->g->wy));
    for (int i = 0; i < 2 * a->B; i++)
        if (s->m->syn_rb[i].wu)
            s->iwork_n = LWC_MAX(s->iwork_n, lwc_intwino_work_size(&s->m->syn_rb[i], h, s->g->wy));
    s->ia = lwc_malloc_array((size_t)(a->D + a->M) * n, sizeof(int16_t));
    s->ir = lwc_malloc_array((size_t)a->D * n, sizeof(int16_t));
    s->iy = lwc_malloc_array((size_t)LWC_MAX(a->D, LWC_WPT_CHANNELS) * n, sizeof(int16_t));
    s->iwork = lwc_malloc_array((size_t)s->threads * s->iwork_n, sizeof(int32_t));
    return s->ia && s->ir && s->iy && s->iwork ? LWC_OK : LWC_ERR_NOMEM;
}

static int alloc_syn(Syn *s)
{
    const LwcArch *a = &s->m->a;
    int wy = s->g->wy;
    size_t n = (size_t)LWC_MIN(s->rows + 2 * s->halo, s->g->hy) * wy;
    if (s->m->int_synthesis) {
        size_t wpt = lwc_wpt_work_size(8 * LWC_MIN(s->rows + 2 * LWC_WPT_HALO, s->g->hy), s->g->wp);
        s->work_n = wpt;
        s->o = lwc_malloc_array((size_t)LWC_WPT_CHANNELS * n, sizeof(float));
        s->planes = lwc_malloc_array((size_t)3 * 64 * n, sizeof(float));
        s->work = lwc_malloc_array((size_t)s->threads * s->work_n, sizeof(float));
        LWC_RET_IF(!s->o || !s->planes || !s->work, LWC_ERR_NOMEM);
        return alloc_int(s, n);
    }
    size_t wpt = lwc_wpt_work_size(8 * LWC_MIN(s->rows + 2 * LWC_WPT_HALO, s->g->hy), s->g->wp);
    s->work_n = LWC_MAX(lwc_conv_work_floats(s->m, wy), wpt);
    s->yf = lwc_malloc_array((size_t)a->M * n, sizeof(float));
    s->t = lwc_malloc_array((size_t)a->D * n, sizeof(float));
    s->r = lwc_malloc_array((size_t)a->D * n, sizeof(float));
    s->o = lwc_malloc_array((size_t)LWC_MAX(a->D, LWC_WPT_CHANNELS) * n, sizeof(float));
    s->o2 = lwc_malloc_array((size_t)LWC_WPT_CHANNELS * n, sizeof(float));
    s->planes = lwc_malloc_array((size_t)3 * 64 * n, sizeof(float));
    s->work = lwc_malloc_array((size_t)s->threads * s->work_n, sizeof(float));
    return s->yf && s->t && s->r && s->o && s->o2 && s->planes && s->work ? LWC_OK : LWC_ERR_NOMEM;
}

static void free_syn(Syn *s)
{
    lwc_free(s->yf); lwc_free(s->t); lwc_free(s->r); lwc_free(s->o); lwc_free(s->o2);
    lwc_free(s->planes); lwc_free(s->work);
    lwc_free(s->ia); lwc_free(s->ir); lwc_free(s->iy); lwc_free(s->iwork);
}

/* yf = y_hat / 16 / gain over the band region, 8 channels per task. */
static int dequant_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    size_t hw = (size_t)s->g->hy * s->g->wy, nw = (size_t)s->n * s->g->wy;
    for (int c = task * 8; c < LWC_MIN(s->m->a.M, task * 8 + 8); c++) {
        const int32_t *src = s->yq + c * hw + (size_t)s->e0 * s->g->wy;
        float k = s->igain[c] / 16.0f;
        for (size_t i = 0; i < nw; i++) s->yf[c * nw + i] = (float)src[i] * k;
    }
    return LWC_OK;
}

/* One conv of the band: output rows [lo, hi) (band coordinates). */
static int band_conv(const Syn *s, const LwcFloatConv *l, const float *x, int lo, int hi, float *y,
                     int ybase, size_t ldy, int relu, float *acc)
{
    LwcConvJob j = { l, x, s->n, s->g->wy, lo, hi, ybase, relu, y, acc, ldy, s->work, s->work_n };
    return lwc_conv_run_at(&j, s->e0, s->threads);
}

/* Image rows [lo, hi) of the k-th 3x3 layer's output (k = 0..L-1): the last
 * gives the 1x1 rows, and each layer one row more on each side than the
 * next. Winograd layers widen that to whole tiles (absolute rows 4i), so
 * every stored output comes from a tile whose inputs are all computed. */
static void layer_span(const Syn *s, int k, int *lo, int *hi)
{
    int t = s->wino ? LWC_WINO_TILE : 1, a = s->q0, b = s->q0 + s->nq;
    *lo = *hi = 0;
    for (int i = conv3_count(&s->m->a) - 1; i >= k; i--, a--, b++) {
        a = LWC_MAX(0, a) / t * t;
        b = LWC_MIN(s->g->hy, (b + t - 1) / t * t);
        *lo = a;
        *hi = b;
    }
}

/* The same in band rows. */
static void layer_rows(const Syn *s, int k, int *lo, int *hi)
{
    layer_span(s, k, lo, hi);
    *lo -= s->e0;
    *hi -= s->e0;
}

static int run_convs(const Syn *s)
{
    const LwcModel *m = s->m;
    size_t ld = (size_t)s->n * s->g->wy, lq = (size_t)s->nq * s->g->wy;
    int lo, hi, r = LWC_OK;
    layer_rows(s, 0, &lo, &hi);
    r = band_conv(s, &m->gs_in, s->yf, lo, hi, s->t + lo * s->g->wy, lo, ld, 1, NULL);
    for (int b = 0; b < m->a.B && r == LWC_OK; b++) {
        layer_rows(s, 1 + 2 * b, &lo, &hi);
        r = band_conv(s, &m->gs_rb[2 * b], s->t, lo, hi, s->r + lo * s->g->wy, lo, ld, 1, NULL);
        layer_rows(s, 2 + 2 * b, &lo, &hi);
        if (r == LWC_OK)
            r = band_conv(s, &m->gs_rb[2 * b + 1], s->r, lo, hi, s->o + lo * s->g->wy, lo, ld, 0,
                          s->t + lo * s->g->wy);
    }
    int q = s->q0 - s->e0;
    if (r == LWC_OK) r = band_conv(s, &m->gs_out, s->t, q, q + s->nq, s->o, q, lq, 0, NULL);
    if (r == LWC_OK) r = band_conv(s, &m->gs_skip, s->yf, q, q + s->nq, s->o2, q, lq, 0, s->o);
    return r;
}

/* ---- integer synthesis ---- */

/* floor((v + 2^15) / 2^16) without shifting a negative number (as
 * lwc_round_shift, inline: it runs once per latent value). */
static inline int64_t round_shift16(int64_t v)
{
    int64_t t = v + 32768;
    return t >= 0 ? t >> 16 : -((-t + 65535) >> 16);
}

/* a0 = clamp(round_shift(yq * ig, 16)) over the band region, 8 channels per
 * task, into the second part of ia ([t; a0]). */
static int dequant_int_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    size_t hw = (size_t)s->g->hy * s->g->wy, nw = (size_t)s->n * s->g->wy;
    int16_t *a0 = s->ia + (size_t)s->m->a.D * nw;
    for (int c = task * 8; c < LWC_MIN(s->m->a.M, task * 8 + 8); c++) {
        const int32_t *src = s->yq + c * hw + (size_t)s->e0 * s->g->wy;
        for (size_t i = 0; i < nw; i++) {
            int64_t v = round_shift16((int64_t)src[i] * s->ig[c]);
            a0[c * nw + i] = (int16_t)LWC_CLAMP(v, -LWC_SYN_ACT, LWC_SYN_ACT);
        }
    }
    return LWC_OK;
}

#define IL_TASKS_PER_THREAD 4

/* Row k of ntask + 1 cuts of [ilo, ihi) at even band rows (the exact
 * Winograd's tile rows), so that no two tasks compute the same tiles. */
static int even_cut(const Syn *s, int k, int ntask)
{
    if (k <= 0) return s->ilo;
    if (k >= ntask) return s->ihi;
    int r = (s->ilo + (int)((int64_t)(s->ihi - s->ilo) * k / ntask)) & ~1;
    return LWC_CLAMP(r, s->ilo, s->ihi);
}

/* Part `task` of the running layer's output rows [ilo, ihi). */
static int il_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    int wy = s->g->wy, ntask = s->threads * IL_TASKS_PER_THREAD;
    int p0 = s->ilo * wy, p1 = s->ihi * wy, len = p1 - p0;
    int a = p0 + (int)((int64_t)len * task / ntask), b = p0 + (int)((int64_t)len * (task + 1) / ntask);
    int32_t *work = s->iwork + (size_t)worker * s->iwork_n;
    if (s->il->wu && s->iwino) { /* 3x3 layer with exact Winograd weights: whole tile rows */
        int ra = even_cut(s, task, ntask), rb = even_cut(s, task + 1, ntask);
        if (ra < rb) lwc_intwino_forward_rows(s->il, s->ix, s->n, wy, ra, rb, s->iout, work);
        return LWC_OK;
    }
    if (a >= b) return LWC_OK;
    if (s->il->k == 1) lwc_intconv_1x1_forward_range(s->il, s->ix, s->n * wy, a, b, s->iout, work);
    else lwc_intconv_forward_range(s->il, s->ix, s->n, wy, LWC_INT_ALL, a, b, s->iout, work);
    return LWC_OK;
}

/* One integer layer of the band: output rows [lo, hi) (band rows) of y,
 * laid out like the input ([cout][n * wy]). */
static int int_conv(Syn *s, const LwcIntConv *l, const int16_t *x, int lo, int hi, int16_t *y)
{
    s->il = l; s->ix = x; s->iout = y; s->ilo = lo; s->ihi = hi;
    return lwc_parallel(s->threads, s->threads * IL_TASKS_PER_THREAD, il_task, s);
}

/* t += the residual, held to +-LWC_SYN_ACT, over rows [ilo, ihi), 8
 * channels per task. */
static int residual_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    size_t nw = (size_t)s->n * s->g->wy, p0 = (size_t)s->ilo * s->g->wy, p1 = (size_t)s->ihi * s->g->wy;
    for (int c = task * 8; c < LWC_MIN(s->m->a.D, task * 8 + 8); c++)
        for (size_t i = c * nw + p0; i < c * nw + p1; i++) {
            int v = s->ia[i] + s->iy[i];
            s->ia[i] = (int16_t)LWC_CLAMP(v, -LWC_SYN_ACT, LWC_SYN_ACT);
        }
    return LWC_OK;
}

static int residual_add(Syn *s, int lo, int hi)
{
    s->ilo = lo;
    s->ihi = hi;
    return lwc_parallel(s->threads, (s->m->a.D + 7) / 8, residual_task, s);
}

/* Output coefficients (int16 units of syn.oscale) to floats for the
 * transform, 8 channels per task. */
static int output_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    size_t nw = (size_t)s->n * s->g->wy, lq = (size_t)s->nq * s->g->wy, q = (size_t)(s->q0 - s->e0) * s->g->wy;
    for (int c = task * 8; c < LWC_MIN(LWC_WPT_CHANNELS, task * 8 + 8); c++) {
        float k = s->m->syn_oscale[c];
        for (size_t i = 0; i < lq; i++) s->o[c * lq + i] = (float)s->iy[c * nw + q + i] * k;
    }
    return LWC_OK;
}

static int run_convs_int(Syn *s)
{
    const LwcModel *m = s->m;
    int lo, hi, q = s->q0 - s->e0;
    LWC_FWD(lwc_parallel(s->threads, (m->a.M + 7) / 8, dequant_int_task, s));
    const int16_t *a0 = s->ia + (size_t)m->a.D * s->n * s->g->wy;
    layer_rows(s, 0, &lo, &hi);
    LWC_FWD(int_conv(s, &m->syn_in, a0, lo, hi, s->ia));
    for (int b = 0; b < m->a.B; b++) {
        layer_rows(s, 1 + 2 * b, &lo, &hi);
        LWC_FWD(int_conv(s, &m->syn_rb[2 * b], s->ia, lo, hi, s->ir));
        layer_rows(s, 2 + 2 * b, &lo, &hi);
        LWC_FWD(int_conv(s, &m->syn_rb[2 * b + 1], s->ir, lo, hi, s->iy));
        LWC_FWD(residual_add(s, lo, hi));
    }
    LWC_FWD(int_conv(s, &m->syn_out, s->ia, q, q + s->nq, s->iy));
    return lwc_parallel(s->threads, LWC_WPT_CHANNELS / 8, output_task, s);
}

/* Inverse packet transform of colour channel `task` over the 1x1 region. */
static int wpt_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    size_t sub = (size_t)s->nq * s->g->wy;
    lwc_wpt_inverse(s->o + (size_t)task * 64 * sub, 1, 8 * s->nq, s->g->wp, LWC_WPT_LEVELS,
                    s->planes + (size_t)task * 64 * sub, s->work + (size_t)worker * s->work_n);
    return LWC_OK;
}

/* Pixels of latent row a0 + task (8 image rows). */
static int pixel_task(void *arg, int task, int worker)
{
    const Syn *s = arg;
    int row = s->a0 + task;
    size_t plane = (size_t)64 * s->nq * s->g->wy;
    const float *p = s->planes + (size_t)(row - s->q0) * 8 * s->g->wp;
    lwc_planes_to_image_rows(p, plane, s->g, 8 * row, 8 * row + 8, s->img);
    return LWC_OK;
}

/* Pixels of latent rows [a, b). */
static int run_band(Syn *s, int a, int b)
{
    const LwcGeom *g = s->g;
    int lo, hi;
    s->a0 = a;
    s->q0 = LWC_MAX(0, a - LWC_WPT_HALO);
    s->nq = LWC_MIN(g->hy, b + LWC_WPT_HALO) - s->q0;
    layer_span(s, 0, &lo, &hi); /* the first layer reads one row more each side */
    s->e0 = LWC_MAX(0, lo - 1);
    s->n = LWC_MIN(g->hy, hi + 1) - s->e0;
    if (s->m->int_synthesis) {
        LWC_FWD(run_convs_int(s));
    } else {
        LWC_FWD(lwc_parallel(s->threads, (s->m->a.M + 7) / 8, dequant_task, s));
        LWC_FWD(run_convs(s));
    }
    LWC_FWD(lwc_parallel(s->threads, 3, wpt_task, s));
    return lwc_parallel(s->threads, LWC_MIN(b, (g->h + 7) / 8) - a, pixel_task, s);
}

int lwc_synthesize(const LwcModel *m, const LwcGeom *g, const int32_t *yq, double quality, int threads,
                   LwcImage *img)
{
    Syn s = { .m = m, .g = g, .yq = yq, .img = img, .threads = LWC_MAX(1, threads) };
    float gain[1024];
    if (m->int_synthesis) {
        lwc_model_syn_igains_q(m, lwc_quality_x100(quality), s.ig);
        s.iwino = lwc_intwino_preferred();
    } else {
        lwc_model_gains(m, quality, gain, s.igain);
        s.wino = lwc_conv_winograd(&m->gs_in);
        for (int i = 0; i < 2 * m->a.B; i++) s.wino &= lwc_conv_winograd(&m->gs_rb[i]);
    }
    s.halo = halo_rows(&m->a, s.wino);
    s.rows = lwc_band_rows(g->hy, row_floats(&m->a, g->wy), s.halo);
    int r = alloc_syn(&s);
    for (int a = 0; a < g->hy && r == LWC_OK; a += s.rows) r = run_band(&s, a, LWC_MIN(g->hy, a + s.rows));
    free_syn(&s);
    return r;
}
