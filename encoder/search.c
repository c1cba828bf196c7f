/* Encoder search (efforts above the default): the latents y of the image
 * are optimised for the image's own rate + lambda * distortion through the
 * float twin of the decoder's networks (learn/graph.h), with an annealed
 * stochastic rounding, then coded by the ordinary encoder pass. See
 * docs/encoder-search.md.
 *
 * The search runs on tiles: a core of latent rows and columns (at most
 * TILE_CORE each way) grown by TILE_HALO on every side. A tile's free
 * variables are its core; the halo keeps the first pass's y_hat and gives
 * the core its context and the synthesis its reach. Every tile starts from
 * the first pass's latents and writes only its core, so tiles are
 * independent: they run in parallel, and the result does not depend on
 * the thread count or the order. z stays the first pass's, except at the
 * efforts whose plan searches it too (the z of the core's 4 x 4 blocks). */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "codec/internal.h"
#include "learn/adam.h"
#include "learn/graph.h"
#include "learn/net.h"

#define TILE_CORE 64 /* latents; multiples of 4 keep z and the checkerboard aligned */
static int g_tile_core = TILE_CORE;
void lwc_set_search_tile(int core) { g_tile_core = core > 0 ? (core + 3) / 4 * 4 : TILE_CORE; }
#define TILE_HALO 8
#define RATE_RING 1  /* positions around the core whose bits count (context reach) */
#define DIST_RING 4  /* latent rows around the core whose pixels' error counts */

/* What one effort spends: optimiser steps, Adam's first learning rate (in
 * quantisation steps; it decays with a cosine), the rounding temperature
 * from tau0 to tau1 (geometric), and zlr > 0 to search z too, at zlr x lr. */
typedef struct Plan { int steps; float lr, tau0, tau1, zlr; } Plan;

/* Steps, rate and starting temperature per effort, tuned on validation
 * images of the training folder (3 images x q 20, 70; mean change of the
 * real bits + lambda MSE against the default encoder): 15 steps -0.35 %,
 * 30 -1.1 %, 60 -2.3 %, 100 -3.4 %. Longer searches take larger steps
 * (60 steps: lr 0.008 -1.3 %, 0.015 -1.9 %, 0.03 -2.1 %, 0.05 -1.9 %) and
 * start hotter (tau0 0.8 rather than 0.5 at 60 steps: -0.2 %); short ones
 * start near the hard rounding. tau1 = 0.05 ends almost always on the
 * nearer integer. Searching z as well (100 steps, 3 images x q 5, 20) was
 * neutral: at y's rate -2.85 % against -3.54 % without (z moves shake the
 * context of 16 latents at once), at 0.25 x y's rate -3.58 %;
 * the two longest searches take it. */
static Plan plan_of(int effort)
{
    static const Plan plans[LWC_EFFORT_MAX + 1] = {
        [3] = { 20, 0.02f, 0.3f, 0.05f, 0 },   [4] = { 35, 0.025f, 0.5f, 0.05f, 0 },
        [5] = { 60, 0.03f, 0.8f, 0.05f, 0 },   [6] = { 100, 0.04f, 0.8f, 0.05f, 0 },
        [7] = { 160, 0.045f, 0.8f, 0.05f, 0 },
        [8] = { 250, 0.045f, 0.8f, 0.05f, 0.25f }, [9] = { 400, 0.045f, 0.8f, 0.05f, 0.25f },
    };
    return plans[effort];
}

typedef struct Tile { int r0, r1, c0, c1, R0, R1, C0, C1; } Tile; /* core, region (latents) */

typedef struct Run {
    Tile t;
    LwcGraph *g;
    LwcLatentTask task;
    float *x, *zh, *yhf, *y, *dy, *z, *dz;
    uint8_t *free, *rate, *zfree;
    LwcAdam adam, adam_z;
    LwcLatentStats st;
} Run;

typedef struct Search {
    LwcContext *c;
    const LwcModel *m;
    const LwcImage *img;
    LwcGeom g;
    LwcNet net;
    const LwcLatents *in;
    float *yout;
    int32_t *zout;
    float *zbits;       /* [Nz][zn] bits of z under the model's tables */
    int32_t *zlo;
    int zn;
    float igain[1024], zigain[1024]; /* y_hat's and z_hat's inverse gains at the quality */
    double q, lambda;
    Plan plan;
    Tile *tiles;
    int ntiles, first, step;
    Run *runs;
} Search;

/* Split [0, n) latents into equal parts of at most TILE_CORE, at multiples of 4. */
static int split(int n, int k, int parts) { return 4 * (int)((long)k * (n / 4) / parts); }

static int make_tiles(Search *s)
{
    int ny = (s->g.hy + g_tile_core - 1) / g_tile_core, nx = (s->g.wy + g_tile_core - 1) / g_tile_core;
    s->tiles = lwc_malloc_array((size_t)ny * nx, sizeof(Tile));
    LWC_RET_IF(!s->tiles, LWC_ERR_NOMEM);
    s->ntiles = ny * nx;
    for (int i = 0; i < ny; i++)
        for (int j = 0; j < nx; j++) {
            Tile *t = &s->tiles[i * nx + j];
            t->r0 = split(s->g.hy, i, ny); t->r1 = split(s->g.hy, i + 1, ny);
            t->c0 = split(s->g.wy, j, nx); t->c1 = split(s->g.wy, j + 1, nx);
            t->R0 = LWC_MAX(0, t->r0 - TILE_HALO); t->R1 = LWC_MIN(s->g.hy, t->r1 + TILE_HALO);
            t->C0 = LWC_MAX(0, t->c0 - TILE_HALO); t->C1 = LWC_MIN(s->g.wy, t->c1 + TILE_HALO);
        }
    return LWC_OK;
}

static void free_run(Run *r)
{
    lwc_graph_free(&r->g);
    lwc_free(r->x); lwc_free(r->zh); lwc_free(r->yhf); lwc_free(r->y); lwc_free(r->dy);
    lwc_free(r->z); lwc_free(r->dz);
    lwc_free(r->free); lwc_free(r->rate); lwc_free(r->zfree);
    lwc_adam_free(&r->adam);
    lwc_adam_free(&r->adam_z);
    memset(r, 0, sizeof(*r));
}

/* The region's pixels (padded image, planes in [-0.5, 0.5]). */
static int fill_pixels(const Search *s, Run *r)
{
    const Tile *t = &r->t;
    int ph = 8 * (t->R1 - t->R0), pw = 8 * (t->C1 - t->C0);
    size_t rowplane = (size_t)ph * s->g.wp;
    float *rows = lwc_malloc_array(3 * rowplane, sizeof(float));
    LWC_RET_IF(!rows, LWC_ERR_NOMEM);
    lwc_image_to_planes_rows(s->img, &s->g, 8 * t->R0, 8 * t->R1, rows, rowplane);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < ph; y++)
            memcpy(r->x + ((size_t)c * ph + y) * pw, rows + c * rowplane + (size_t)y * s->g.wp + 8 * t->C0,
                   (size_t)pw * sizeof(float));
    lwc_free(rows);
    return LWC_OK;
}

/* The region's latents: y and y_hat of the first pass, z, and the masks. */
static void fill_latents(const Search *s, Run *r)
{
    const Tile *t = &r->t;
    int h = t->R1 - t->R0, w = t->C1 - t->C0, M = s->m->a.M;
    size_t HW = (size_t)s->g.hy * s->g.wy, hw = (size_t)h * w;
    for (int c = 0; c < M; c++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                size_t src = c * HW + (size_t)(t->R0 + i) * s->g.wy + t->C0 + j, dst = c * hw + (size_t)i * w + j;
                r->y[dst] = s->in->y[src];
                r->yhf[dst] = (float)s->in->yq[src] / 16.0f;
            }
    size_t HWz = (size_t)s->g.hz * s->g.wz, hwz = hw / 16;
    for (int c = 0; c < s->m->a.Nz; c++)
        for (int i = 0; i < h / 4; i++)
            for (int j = 0; j < w / 4; j++)
                r->zh[c * hwz + (size_t)i * (w / 4) + j] =
                    (float)s->in->zhat[c * HWz + (size_t)(t->R0 / 4 + i) * s->g.wz + t->C0 / 4 + j];
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            int ay = t->R0 + i, ax = t->C0 + j;
            r->free[(size_t)i * w + j] = ay >= t->r0 && ay < t->r1 && ax >= t->c0 && ax < t->c1;
            r->rate[(size_t)i * w + j] = ay >= t->r0 - RATE_RING && ay < t->r1 + RATE_RING &&
                                         ax >= t->c0 - RATE_RING && ax < t->c1 + RATE_RING;
        }
}

/* z search: the z of the core's 4 x 4 blocks is free, starting at the
 * first pass's integers. */
static int setup_z(const Search *s, Run *r)
{
    const Tile *t = &r->t;
    int hz = (t->R1 - t->R0) / 4, wz = (t->C1 - t->C0) / 4;
    size_t n = (size_t)s->m->a.Nz * hz * wz;
    r->z = lwc_malloc_array(n, sizeof(float));
    r->dz = lwc_malloc_array(n, sizeof(float));
    r->zfree = lwc_malloc((size_t)hz * wz);
    LWC_RET_IF(!r->z || !r->dz || !r->zfree, LWC_ERR_NOMEM);
    memcpy(r->z, r->zh, n * sizeof(float));
    for (int i = 0; i < hz; i++)
        for (int j = 0; j < wz; j++) {
            int ay = t->R0 + 4 * i, ax = t->C0 + 4 * j;
            r->zfree[i * wz + j] = ay >= t->r0 && ay < t->r1 && ax >= t->c0 && ax < t->c1;
        }
    LwcLatentTask *k = &r->task;
    k->zfree = r->zfree; k->zbits = s->zbits; k->zlo = s->zlo; k->zn = s->zn;
    return lwc_adam_init(&r->adam_z, n, s->plan.lr);
}

static int setup_run(Search *s, Run *r, const Tile *t)
{
    const LwcArch *a = &s->m->a;
    r->t = *t;
    int h = t->R1 - t->R0, w = t->C1 - t->C0;
    size_t hw = (size_t)h * w;
    LWC_FWD(lwc_graph_create_rect(&r->g, &s->net, 8 * w, 8 * h));
    r->x = lwc_malloc_array(3 * 64 * hw, sizeof(float));
    r->zh = lwc_malloc_array((size_t)a->Nz * hw / 16, sizeof(float));
    r->yhf = lwc_malloc_array((size_t)a->M * hw, sizeof(float));
    r->y = lwc_malloc_array((size_t)a->M * hw, sizeof(float));
    r->dy = lwc_malloc_array((size_t)a->M * hw, sizeof(float));
    r->free = lwc_malloc(hw);
    r->rate = lwc_malloc(hw);
    LWC_RET_IF(!r->x || !r->zh || !r->yhf || !r->y || !r->dy || !r->free || !r->rate, LWC_ERR_NOMEM);
    LWC_FWD(lwc_adam_init(&r->adam, (size_t)a->M * hw, s->plan.lr));
    LWC_FWD(fill_pixels(s, r));
    fill_latents(s, r);
    /* Pixels of the core's rows and columns and DIST_RING latents around,
     * inside the image (the padding is not shown). */
    LwcLatentTask *k = &r->task;
    k->x = r->x; k->zh = r->zh; k->yh_fixed = r->yhf; k->free = r->free; k->rate = r->rate;
    k->px_r0 = 8 * (LWC_MAX(t->R0, t->r0 - DIST_RING) - t->R0);
    k->px_r1 = LWC_MIN(8 * (LWC_MIN(t->R1, t->r1 + DIST_RING) - t->R0), s->g.h - 8 * t->R0);
    k->px_c0 = 8 * (LWC_MAX(t->C0, t->c0 - DIST_RING) - t->C0);
    k->px_c1 = LWC_MIN(8 * (LWC_MIN(t->C1, t->c1 + DIST_RING) - t->C0), s->g.w - 8 * t->C0);
    k->igain = s->igain; k->zigain = s->zigain; k->lambda = s->lambda; k->tau = s->plan.tau0;
    k->ypred = s->m->ypred; /* tiles start on multiples of 4: the image's parities */
    if (s->plan.zlr > 0) LWC_FWD(setup_z(s, r));
    return lwc_graph_latent_begin(r->g, k);
}

static int setup_task(void *arg, int i, int worker)
{
    Search *s = arg;
    return setup_run(s, &s->runs[i], &s->tiles[s->first + i]);
}

/* Cosine decay of the rate; geometric decay of the temperature. */
static int step_task(void *arg, int i, int worker)
{
    Search *s = arg;
    Run *r = &s->runs[i];
    int T = s->plan.steps;
    double f = T > 1 ? (double)s->step / (T - 1) : 1.0;
    r->task.tau = (float)(s->plan.tau0 * pow(s->plan.tau1 / s->plan.tau0, f));
    r->task.seed = ((uint64_t)(s->first + i) << 32) + (uint64_t)s->step;
    r->adam.lr = (float)(s->plan.lr * 0.5 * (1.0 + cos(3.14159265358979 * s->step / T)));
    r->adam_z.lr = r->adam.lr * s->plan.zlr;
    LWC_FWD(lwc_graph_latent_step(r->g, r->y, r->z, r->dy, r->dz, &r->st));
    lwc_adam_step(&r->adam, r->y, r->dy);
    if (r->z) lwc_adam_step(&r->adam_z, r->z, r->dz);
    return LWC_OK;
}

/* The core's searched z, rounded, into the output. */
static void finish_z(Search *s, const Run *r)
{
    const Tile *t = &r->t;
    int wz = (t->C1 - t->C0) / 4;
    size_t HWz = (size_t)s->g.hz * s->g.wz, hwz = (size_t)(t->R1 - t->R0) / 4 * wz;
    for (int c = 0; c < s->m->a.Nz; c++)
        for (int i = t->r0 / 4; i < t->r1 / 4; i++)
            for (int j = t->c0 / 4; j < t->c1 / 4; j++) {
                double v = floor(r->z[c * hwz + (size_t)(i - t->R0 / 4) * wz + (j - t->C0 / 4)] + 0.5);
                s->zout[c * HWz + (size_t)i * s->g.wz + j] = (int32_t)LWC_CLAMP(v, -1e6, 1e6);
            }
}

/* The core's searched y into the output. */
static int finish_task(void *arg, int i, int worker)
{
    Search *s = arg;
    Run *r = &s->runs[i];
    const Tile *t = &r->t;
    int w = t->C1 - t->C0;
    size_t HW = (size_t)s->g.hy * s->g.wy, hw = (size_t)(t->R1 - t->R0) * w;
    for (int c = 0; c < s->m->a.M; c++)
        for (int y = t->r0; y < t->r1; y++)
            memcpy(s->yout + c * HW + (size_t)y * s->g.wy + t->c0,
                   r->y + c * hw + (size_t)(y - t->R0) * w + (t->c0 - t->C0), (size_t)(t->c1 - t->c0) * sizeof(float));
    if (r->z) finish_z(s, r);
    free_run(r);
    return LWC_OK;
}

static void report(const Search *s, const LwcEncodeParams *p, int nb)
{
    if (!p->progress) return;
    double bits = 0, se = 0, px = 0;
    for (int i = 0; i < nb; i++) {
        const LwcLatentTask *k = &s->runs[i].task;
        bits += s->runs[i].st.bits;
        se += s->runs[i].st.se;
        px += (double)(k->px_r1 - k->px_r0) * (k->px_c1 - k->px_c0);
    }
    double mse = px > 0 ? se / (3 * px) : 0;
    LwcProgress pr = { "search", s->first * s->plan.steps + nb * (s->step + 1), s->ntiles * s->plan.steps,
                       px > 0 ? bits / px : 0, mse > 0 ? -10 * log10(mse) : 99 };
    p->progress(p->progress_opaque, &pr);
}

/* Tiles in groups of `threads`, all steps of a group in lockstep. */
static int search_tiles(Search *s, const LwcEncodeParams *p)
{
    int threads = LWC_MAX(1, s->c->s.threads);
    s->runs = lwc_calloc((size_t)threads, sizeof(Run));
    LWC_RET_IF(!s->runs, LWC_ERR_NOMEM);
    int r = LWC_OK;
    for (s->first = 0; s->first < s->ntiles && r == LWC_OK; s->first += threads) {
        int nb = LWC_MIN(threads, s->ntiles - s->first);
        r = lwc_parallel(threads, nb, setup_task, s);
        for (s->step = 0; s->step < s->plan.steps && r == LWC_OK; s->step++) {
            r = lwc_parallel(threads, nb, step_task, s);
            if (r == LWC_OK) report(s, p, nb);
        }
        if (r == LWC_OK) r = lwc_parallel(threads, nb, finish_task, s);
    }
    for (int i = 0; i < threads; i++) free_run(&s->runs[i]);
    lwc_free(s->runs);
    return r;
}

/* Sum of squared errors of the colour channels, values scaled to [0, 1]. */
static double image_se(const LwcImage *a, const LwcImage *b)
{
    int colour = a->channels >= 3 ? 3 : 1, bytes = a->bit_depth == 16 ? 2 : 1;
    double maxv = bytes == 2 ? 65535.0 : 255.0, se = 0;
    for (int y = 0; y < a->height; y++) {
        const uint8_t *ra = a->data + (size_t)y * a->stride, *rb = b->data + (size_t)y * b->stride;
        for (int x = 0; x < a->width; x++)
            for (int c = 0; c < colour; c++) {
                size_t i = ((size_t)x * a->channels + c) * bytes;
                double va = bytes == 2 ? (ra[i] | ra[i + 1] << 8) : ra[i];
                double vb = bytes == 2 ? (rb[i] | rb[i + 1] << 8) : rb[i];
                se += (va - vb) * (va - vb);
            }
    }
    return se / (maxv * maxv) / colour;
}

/* The training loss in bits: 8 bytes + lambda 255^2 (per-pixel MSE) pixels. */
static double real_cost(const LwcImage *img, const LwcImage *rec, size_t bytes, double lambda)
{
    return 8.0 * (double)bytes + lambda * 255.0 * 255.0 * image_se(img, rec);
}

/* Share of channel c's z symbols in each context class (zctx.h) in the
 * first pass: the weights of the search's mixed table. */
static void zclass_weights(const Search *s, const int32_t *ref, int c, double *w)
{
    const LwcModel *m = s->m;
    int hz = s->g.hz, wz = s->g.wz;
    const int32_t *plane = s->in->zhat + (size_t)c * hz * wz;
    for (int k = 0; k < m->zclasses; k++) w[k] = 0;
    for (int i = 0; i < hz; i++)
        for (int j = 0; j < wz; j++) w[lwc_zctx_class(plane, hz, wz, i, j, ref[c], m->zclasses)] += 1.0 / (hz * wz);
}

/* Probability of v under a table (the escape's share 2^-8 beyond its range,
 * where the search should not go). */
static double zprob(const uint32_t *cdf, int n, int off, int32_t v)
{
    int64_t k = (int64_t)v + off;
    if (k < 0 || k >= n - 1) return (cdf[n] - cdf[n - 1]) / 256.0 / 65536.0;
    return (cdf[k + 1] - cdf[k]) / 65536.0;
}

/* Bits of every value of each channel's z table; with context classes,
 * of the mixture of its class tables weighted by the first pass's shares. */
static int make_zbits(Search *s)
{
    const LwcModel *m = s->m;
    int q100 = (int)lwc_quality_x100(s->q), Nz = m->a.Nz, K = m->zclasses, n, off, t0 = lwc_model_ztable(m, q100);
    const int32_t *ref = lwc_model_zref(m, q100);
    s->zlo = lwc_malloc_array((size_t)Nz, sizeof(int32_t));
    LWC_RET_IF(!s->zlo, LWC_ERR_NOMEM);
    s->zn = 2;
    for (int c = 0; c < Nz; c++) { /* the union of the class tables' ranges, at most a table's width */
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (int k = 0; k < K; k++) {
            lwc_cdf_table(&m->fact, t0 + k * Nz + c, &n, &off);
            lo = LWC_MIN(lo, -(int64_t)off);
            hi = LWC_MAX(hi, (int64_t)n - 2 - off);
        }
        s->zlo[c] = (int32_t)lo;
        s->zn = (int)LWC_MAX(s->zn, LWC_MIN(hi - lo + 1, LWC_CDF_MAX_SYMBOLS));
    }
    s->zbits = lwc_malloc_array((size_t)Nz * s->zn, sizeof(float));
    LWC_RET_IF(!s->zbits, LWC_ERR_NOMEM);
    double w[LWC_ZCTX_CLASSES_MAX] = { 1.0 };
    for (int c = 0; c < Nz; c++) {
        if (ref) zclass_weights(s, ref, c, w);
        for (int v = 0; v < s->zn; v++) {
            double p = 0;
            for (int k = 0; k < K; k++) {
                const uint32_t *cdf = lwc_cdf_table(&m->fact, t0 + k * Nz + c, &n, &off);
                p += w[k] * zprob(cdf, n, off, s->zlo[c] + v);
            }
            s->zbits[(size_t)c * s->zn + v] = (float)-log2(LWC_MAX(p, 1e-30));
        }
    }
    return LWC_OK;
}

static int search(Search *s, const LwcEncodeParams *p)
{
    size_t ny = (size_t)s->m->a.M * s->g.hy * s->g.wy;
    float gain[1024];
    lwc_model_gains(s->m, s->q, gain, s->igain);
    int32_t zi[1024];
    lwc_model_zigains_q(s->m, (int)lwc_quality_x100(s->q), zi);
    for (int c = 0; c < s->m->a.Nz; c++) s->zigain[c] = (float)zi[c] / LWC_ZIGAIN_ONE;
    s->lambda = lwc_model_lambda(s->m, s->q);
    s->yout = lwc_malloc_array(ny, sizeof(float));
    LWC_RET_IF(!s->yout, LWC_ERR_NOMEM);
    memcpy(s->yout, s->in->y, ny * sizeof(float));
    size_t nz = (size_t)s->m->a.Nz * s->g.hz * s->g.wz;
    s->zout = lwc_malloc_array(nz, sizeof(int32_t));
    LWC_RET_IF(!s->zout, LWC_ERR_NOMEM);
    memcpy(s->zout, s->in->zhat, nz * sizeof(int32_t));
    if (s->plan.zlr > 0) LWC_FWD(make_zbits(s));
    LWC_FWD(lwc_net_from_model(&s->net, s->m));
    int r = make_tiles(s);
    if (r == LWC_OK) r = search_tiles(s, p);
    lwc_net_free(&s->net);
    lwc_free(s->tiles);
    return r;
}

int lwc_encode_search(LwcContext *c, const LwcImage *img, uint16_t q100, int effort,
                      const LwcEncodeParams *p, uint8_t **out, size_t *out_size, LwcImage *recon,
                      LwcStats *st)
{
    double t0 = lwc_now(), q = q100 / 100.0;
    LwcLatents first;
    LwcImage rec0, rec1;
    uint8_t *buf1 = NULL;
    size_t size1 = 0;
    LWC_FWD(lwc_encode_pass(c, img, q100, p->plain_rounding, NULL, &first, out, out_size, &rec0, st));
    Search s = { .c = c, .m = c->m, .img = img, .in = &first, .q = q, .plan = plan_of(effort) };
    lwc_geom_init(&s.g, img->width, img->height);
    int r = search(&s, p);
    LwcLatents searched = { s.yout, s.zout, NULL };
    LwcStats st1;
    if (r == LWC_OK)
        r = lwc_encode_pass(c, img, q100, p->plain_rounding, &searched, NULL, &buf1, &size1, &rec1, &st1);
    if (r == LWC_OK) {
        double lam = lwc_model_lambda(c->m, q);
        if (real_cost(img, &rec1, size1, lam) < real_cost(img, &rec0, *out_size, lam)) {
            uint8_t *tb = *out; *out = buf1; buf1 = tb;
            size_t ts = *out_size; *out_size = size1; size1 = ts;
            LwcImage ti = rec0; rec0 = rec1; rec1 = ti;
            if (st) *st = st1;
        }
        lwc_image_free(&rec1);
    }
    lwc_free(buf1);
    lwc_free(s.yout); lwc_free(s.zout); lwc_free(s.zbits); lwc_free(s.zlo);
    lwc_latents_free(&first);
    if (r == LWC_OK && recon) *recon = rec0;
    else lwc_image_free(&rec0);
    if (r < 0) { lwc_free(*out); *out = NULL; *out_size = 0; }
    if (r == LWC_OK && st) st->t_total = lwc_now() - t0;
    return r;
}
