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
 * halo rows instead of L, and the kept values still equal the whole frame's. */
#include <string.h>

#include "common/common.h"
#include "internal.h"
#include "transforms/layers.h"
#include "transforms/winograd.h"
#include "transforms/wpt.h"

typedef struct Syn {
    const LwcModel *m;
    const LwcGeom *g;
    const int32_t *yq;
    const float *igain;
    LwcImage *img;
    int threads, rows, a0, e0, n, q0, nq; /* band [a0, ..), its region [e0, e0+n), 1x1 rows [q0, q0+nq) */
    int wino, halo;                       /* 3x3 layers in Winograd tiles; region rows beyond a band */
    float *yf, *t, *r, *o, *o2, *planes, *work;
    size_t work_n;
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

static int alloc_syn(Syn *s)
{
    const LwcArch *a = &s->m->a;
    int wy = s->g->wy;
    size_t n = (size_t)LWC_MIN(s->rows + 2 * s->halo, s->g->hy) * wy;
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
    LWC_FWD(lwc_parallel(s->threads, (s->m->a.M + 7) / 8, dequant_task, s));
    LWC_FWD(run_convs(s));
    LWC_FWD(lwc_parallel(s->threads, 3, wpt_task, s));
    return lwc_parallel(s->threads, LWC_MIN(b, (g->h + 7) / 8) - a, pixel_task, s);
}

int lwc_synthesize(const LwcModel *m, const LwcGeom *g, const int32_t *yq, const float *igain,
                   int threads, LwcImage *img)
{
    Syn s = { .m = m, .g = g, .yq = yq, .igain = igain, .img = img, .threads = LWC_MAX(1, threads) };
    s.wino = lwc_conv_winograd(&m->gs_in);
    for (int i = 0; i < 2 * m->a.B; i++) s.wino &= lwc_conv_winograd(&m->gs_rb[i]);
    s.halo = halo_rows(&m->a, s.wino);
    s.rows = lwc_band_rows(g->hy, row_floats(&m->a, g->wy), s.halo);
    int r = alloc_syn(&s);
    for (int a = 0; a < g->hy && r == LWC_OK; a += s.rows) r = run_band(&s, a, LWC_MIN(g->hy, a + s.rows));
    free_syn(&s);
    return r;
}
