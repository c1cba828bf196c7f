/* Training graph and latent search: see graph.h. Tensors are single images,
 * planar [C][H][W]. Notation: hw = latent positions (H/8)(W/8); hw2 = hw/4;
 * hw4 = hw/16. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "codec/ctxmodel.h"
#include "codec/internal.h"
#include "learn/rng.h"
#include "entropy/cdf.h"
#include "learn/graph.h"
#include "learn/predfit.h"
#include "learn/tablefit.h"
#include "transforms/layers.h"
#include "transforms/wpt.h"

typedef struct PNet { float *in, *a0, *a1, *out; } PNet;

struct LwcGraph {
    const LwcNet *n;
    int ph, pw, h, w, ms; /* pixels, latents, channels per slice */
    int level;            /* rate level of the run in progress */
    float frac;           /* evaluation between levels: the weight of level + 1 (lwc_graph_set_frac) */
    int exact;            /* y_hat = y: no quantisation (lwc_graph_set_exact) */
    int coder_like;       /* LWC_GRAPH_* flags (lwc_graph_set_coder_like) */
    int direct;           /* 3x3 layers by im2col, not Winograd (lwc_graph_set_direct) */
    float scale_lv[LWC_SCALE_LEVELS], scale_bd[LWC_SCALE_LEVELS]; /* the coder's scale levels and their bounds */
    size_t hw;
    const LwcLatentTask *lt; /* latent search in progress (lwc_graph_latent_*), else NULL */
    float *x, *X, *y0, *y, *a1, *z, *zt, *zh, *zd, *u0, *h0, *u1, *hy;
    float *yh, *mu, *ls, *v, *dv, *dmu, *dls;
    PNet pa[LWC_MAX_SLICES], pn[LWC_MAX_SLICES];
    float *anc[LWC_MAX_SLICES], *c[LWC_MAX_SLICES];
    float *yf, *t[LWC_MAX_RB + 1], *r1[LWC_MAX_RB], *o, *o2, *xr;
    /* gradients */
    float *dxr, *dO, *dt, *dt2, *dr, *dyf, *dyh, *dy, *dhy, *dz, *da1, *du1, *dh0, *du0, *din, *da, *db, *dc, *danc;
    float *ftmp, *work;
    float *hb, *dhb; /* the analysis branch's hidden features and their gradient */
    void *allocs[256];
    int nalloc;
};

static float *buf(LwcGraph *g, size_t n)
{
    if (g->nalloc == 256) return NULL;
    float *p = lwc_calloc(n ? n : 1, sizeof(float));
    if (p) g->allocs[g->nalloc++] = p;
    return p;
}

static const float *W(const LwcGraph *g, const LwcNetConv *c) { return g->n->params + c->w_off; }
static const float *Bi(const LwcGraph *g, const LwcNetConv *c) { return c->b_off == (size_t)-1 ? NULL : g->n->params + c->b_off; }

/* 3x3 stride-1 layers run forward and input-gradient through Winograd
 * (transforms/layers.h), unless the graph is set to direct convolutions. */
static int wino(const LwcGraph *g, const LwcNetConv *c) { return c->k == 3 && c->stride == 1 && !g->direct; }

static void fwd(LwcGraph *g, const LwcNetConv *c, const float *x, int h, int w, float *y)
{
    if (wino(g, c)) lwc_conv3x3_wino_forward(x, c->cin, h, w, W(g, c), Bi(g, c), c->cout, y, g->work);
    else lwc_conv2d_forward(x, 1, c->cin, h, w, W(g, c), Bi(g, c), c->cout, c->k, c->stride, y, g->work);
}

/* grad == NULL: input gradient only (the latent search). */
static void bwd(LwcGraph *g, const LwcNetConv *c, const float *x, const float *dy, int h, int w,
                float *dx, float *grad)
{
    float *dw = grad ? grad + c->w_off : NULL, *db = !grad || c->b_off == (size_t)-1 ? NULL : grad + c->b_off;
    if (!wino(g, c)) {
        lwc_conv2d_backward(x, dy, 1, c->cin, h, w, W(g, c), c->cout, c->k, c->stride, dx, dw, db, g->work);
        return;
    }
    if (dw) lwc_conv2d_backward(x, dy, 1, c->cin, h, w, W(g, c), c->cout, 3, 1, NULL, dw, db, g->work);
    if (dx) lwc_conv3x3_wino_backward_data(dy, c->cout, h, w, W(g, c), c->cin, dx, g->work);
}

static float rnd(float v) { return floorf(v + 0.5f); }
static void track_max(float *am, const float *x, size_t n)
{
    if (!am) return;
    for (size_t i = 0; i < n; i++) *am = fmaxf(*am, fabsf(x[i]));
}

static size_t max_work(const LwcNet *n, int h, int w)
{
    const LwcArch *a = &n->a;
    size_t m = lwc_wpt_work_size(8 * h, 8 * w);
    int cmax = LWC_MAX(LWC_MAX(a->M, a->D), LWC_MAX(a->N, a->Ch + a->M + a->Cc));
    m = LWC_MAX(m, lwc_conv2d_work_size(cmax, h, w, 3, 1));
    m = LWC_MAX(m, lwc_conv2d_work_size(cmax, h, w, 3, 2));
    m = LWC_MAX(m, lwc_conv2d_work_size(LWC_MAX(LWC_WPT_CHANNELS, n->ab), h, w, 1, 1));
    m = LWC_MAX(m, lwc_conv3x3_wino_work_size(cmax, cmax, h, w));
    return m;
}

int lwc_graph_create(LwcGraph **out, const LwcNet *n, int size)
{
    return lwc_graph_create_rect(out, n, size, size);
}

int lwc_graph_create_rect(LwcGraph **out, const LwcNet *n, int width, int height)
{
    LWC_RET_IF(width < 32 || width % 32 || height < 32 || height % 32, LWC_ERR_INVAL);
    LWC_RET_IF(2 * n->a.M / n->a.S > LWC_WPT_CHANNELS || n->a.N < n->a.Nz, LWC_ERR_INVAL);
    LwcGraph *g = lwc_calloc(1, sizeof(*g));
    LWC_RET_IF(!g, LWC_ERR_NOMEM);
    const LwcArch *a = &n->a;
    g->n = n; g->ph = height; g->pw = width; g->h = height / 8; g->w = width / 8; g->ms = a->M / a->S;
    size_t hw = g->hw = (size_t)g->h * g->w, px = (size_t)width * height, hw2 = hw / 4, hw4 = hw / 16;
    size_t cin_max = (size_t)(a->Ch + a->M + a->Cc);
    int ok = 1;
#define B(f, n_) ok &= !!(g->f = buf(g, (n_)))
    B(x, 3 * px); B(X, LWC_WPT_CHANNELS * hw); B(y0, a->M * hw); B(y, a->M * hw); B(a1, a->N * hw2);
    B(z, a->Nz * hw4); B(zt, a->Nz * hw4); B(zh, a->Nz * hw4); B(zd, a->Nz * hw4); B(u0, a->Nz * hw2); B(h0, a->N * hw2);
    B(u1, a->N * hw); B(hy, a->Ch * hw); B(yh, a->M * hw); B(mu, a->M * hw); B(ls, a->M * hw);
    B(v, a->M * hw); B(dv, a->M * hw); B(dmu, a->M * hw); B(dls, a->M * hw);
    for (int s = 0; s < a->S; s++) {
        size_t cin = (size_t)(a->Ch + s * g->ms + a->Cc);
        B(pa[s].in, cin * hw); B(pa[s].a0, a->P * hw); B(pa[s].a1, a->P * hw); B(pa[s].out, 2 * g->ms * hw);
        B(pn[s].in, cin * hw); B(pn[s].a0, a->P * hw); B(pn[s].a1, a->P * hw); B(pn[s].out, 2 * g->ms * hw);
        B(anc[s], g->ms * hw); B(c[s], a->Cc * hw);
    }
    B(yf, a->M * hw);
    for (int b = 0; b <= a->B; b++) B(t[b], a->D * hw);
    for (int b = 0; b < a->B; b++) B(r1[b], a->D * hw);
    B(o, LWC_WPT_CHANNELS * hw); B(o2, LWC_WPT_CHANNELS * hw); B(xr, 3 * px); B(dxr, 3 * px);
    B(dO, LWC_WPT_CHANNELS * hw); B(dt, a->D * hw); B(dt2, a->D * hw); B(dr, a->D * hw);
    B(dyf, a->M * hw); B(dyh, a->M * hw); B(dy, a->M * hw); B(dhy, a->Ch * hw); B(dz, a->Nz * hw4);
    B(da1, a->N * hw2); B(du1, a->N * hw); B(dh0, a->N * hw2); B(du0, a->Nz * hw2);
    B(din, cin_max * hw); B(da, a->P * hw); B(db, LWC_MAX(a->P, 2 * g->ms) * hw); B(dc, a->Cc * hw);
    B(danc, g->ms * hw); B(ftmp, n->fact.nparams); B(work, max_work(n, g->h, g->w));
    B(hb, (size_t)n->ab * hw); B(dhb, (size_t)n->ab * hw);
#undef B
    if (!ok) { lwc_graph_free(&g); return LWC_ERR_NOMEM; }
    *out = g;
    return LWC_OK;
}

void lwc_graph_set_exact(LwcGraph *g, int on) { g->exact = on; }

void lwc_graph_set_direct(LwcGraph *g, int on) { g->direct = on; }

void lwc_graph_set_coder_like(LwcGraph *g, int flags)
{
    double lv[LWC_SCALE_LEVELS], b[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    if (lwc_gauss_table_bounds(lv, LWC_SCALE_LEVELS, b) < 0) memcpy(b, lv, sizeof(b));
    for (int i = 0; i < LWC_SCALE_LEVELS; i++) g->scale_lv[i] = (float)lv[i], g->scale_bd[i] = (float)b[i];
    g->coder_like = flags;
}

/* y's symbols s = round(y - mu) as the coder makes them (Q4 means). */
static long fit_symbol(const LwcGraph *g, size_t i) { return (long)rnd(g->y[i] - rnd(g->mu[i] * 16) / 16); }

/* Every symbol of y ([M][hw], lwc_malloc'd), or NULL. */
static int32_t *fit_symbols(const LwcGraph *g)
{
    size_t n = (size_t)g->n->a.M * g->hw;
    int32_t *q = lwc_malloc_array(n, sizeof(int32_t));
    if (q)
        for (size_t i = 0; i < n; i++) q[i] = (int32_t)LWC_CLAMP(fit_symbol(g, i), -LWC_Y_SYM_MAX, LWC_Y_SYM_MAX);
    return q;
}

/* The in-pass prediction of channel c's symbol at (i, j) (the whole crop is
 * one stripe), or 0 without weights. */
static int32_t fit_pred(const LwcGraph *g, const int16_t *w, const int32_t *q, int c, int i, int j)
{
    if (!w) return 0;
    int32_t x[LWC_YPRED_TAPS];
    lwc_ypred_taps_map(q + (size_t)c * g->hw, g->w, 0, i, j, x);
    return lwc_ypred_apply(w + ((size_t)c * 2 + ((i + j) & 1)) * LWC_YPRED_TAPS, x);
}

/* With context classes: every pass's classes from the symbols' magnitudes,
 * as the coder derives them (yctx.h). */
static int fit_tables_ctx(const LwcGraph *g, LwcTableFit *f)
{
    int M = g->n->a.M, ms = g->ms, C = lwc_yctx_classes(&f->ctx);
    size_t hw = g->hw, np = (hw + 1) / 2;
    uint8_t *mag = lwc_malloc((size_t)M * hw), *cls = lwc_malloc((size_t)ms * np);
    uint32_t *sum = lwc_calloc(hw, sizeof(uint32_t));
    int32_t *q = fit_symbols(g);
    if (!mag || !cls || !sum || !q) {
        lwc_free(mag); lwc_free(cls); lwc_free(sum); lwc_free(q);
        return LWC_ERR_NOMEM;
    }
    for (size_t i = 0; i < (size_t)M * hw; i++) mag[i] = (uint8_t)LWC_MIN(labs(q[i]), 255);
    for (int s = 0; s < g->n->a.S; s++)
        for (int par = 0; par < 2; par++) {
            int npos = lwc_ctx_row_pos(g->h, g->w, par);
            const uint8_t *cur = mag + (size_t)s * ms * hw;
            if (s > 0 && par == 0) { /* the previous slice's channel sums */
                memset(sum, 0, hw * sizeof(uint32_t));
                for (int c = 0; c < ms; c++)
                    for (size_t i = 0; i < hw; i++) sum[i] += cur[(size_t)(c - ms) * hw + i];
            }
            lwc_yctx_rows(&f->ctx, cur, s ? sum : NULL, g->h, g->w, ms, par, 0, g->h, cls, npos);
            for (int c = 0; c < ms; c++) {
                const uint8_t *k = cls + (size_t)c * npos;
                size_t base = ((size_t)s * ms + c) * hw;
                for (int i = 0; i < g->h; i++)
                    for (int j = (i & 1) ^ par; j < g->w; j += 2, k++) {
                        size_t at = base + (size_t)i * g->w + j;
                        int t = (par * C + *k) * LWC_SCALE_LEVELS + lwc_tablefit_index(f, exp(g->ls[at]));
                        lwc_tablefit_add(f, t, (long)q[at] - fit_pred(g, f->pred, q, s * ms + c, i, j));
                    }
            }
        }
    lwc_free(mag); lwc_free(cls); lwc_free(sum); lwc_free(q);
    return LWC_OK;
}

int lwc_graph_fit_pred(const LwcGraph *g, LwcPredFit *f)
{
    int32_t *q = fit_symbols(g);
    LWC_RET_IF(!q, LWC_ERR_NOMEM);
    lwc_predfit_add(f, q, g->h, g->w);
    lwc_free(q);
    return LWC_OK;
}

int lwc_graph_fit_tables(const LwcGraph *g, LwcTableFit *f, int set)
{
    if (f->ctx.edges) return fit_tables_ctx(g, f);
    size_t my = (size_t)g->n->a.M * g->hw;
    int t0 = set * LWC_SCALE_LEVELS;
    for (size_t i = 0; i < my; i++)
        lwc_tablefit_add(f, t0 + lwc_tablefit_index(f, exp(g->ls[i])), fit_symbol(g, i));
    return LWC_OK;
}

int lwc_graph_fit_z(const LwcGraph *g, LwcTableFit *f, int set)
{
    int Nz = g->n->a.Nz, K = LWC_MAX(1, f->zclasses), hz = g->h / 4, wz = g->w / 4;
    size_t hw4 = (size_t)hz * wz;
    int32_t *plane = lwc_malloc_array(hw4, sizeof(int32_t));
    LWC_RET_IF(!plane, LWC_ERR_NOMEM);
    for (int c = 0; c < Nz; c++) {
        for (size_t i = 0; i < hw4; i++) plane[i] = (int32_t)LWC_CLAMP(g->zh[c * hw4 + i], -1e9f, 1e9f);
        int32_t ref = K > 1 ? f->zref[(size_t)set * Nz + c] : 0;
        for (int i = 0; i < hz; i++)
            for (int j = 0; j < wz; j++) {
                int k = lwc_zctx_class(plane, hz, wz, i, j, ref, K);
                lwc_tablefit_add(f, (set * K + k) * Nz + c, plane[(size_t)i * wz + j]);
            }
    }
    lwc_free(plane);
    return LWC_OK;
}

const float *lwc_graph_zhat(const LwcGraph *g) { return g->zh; }

void lwc_graph_set_frac(LwcGraph *g, float frac) { g->frac = frac; }

/* Log-gain c of the table at params + off (width per level) at the run's
 * level, interpolated toward the next one by frac: the codec's geometric
 * interpolation between levels. */
static float log_gain(const LwcGraph *g, size_t off, int width, int c)
{
    const float *p = g->n->params + off + (size_t)g->level * width + c;
    return g->frac > 0 ? p[0] + g->frac * (p[width] - p[0]) : p[0];
}

/* dL/d(log-gain c) = dl into the levels log_gain mixed, by their weights. */
static void add_gain_grad(const LwcGraph *g, float *grad, size_t off, int width, int c, double dl)
{
    float *p = grad + off + (size_t)g->level * width + c;
    p[0] += (float)((1 - g->frac) * dl);
    if (g->frac > 0) p[width] += (float)(g->frac * dl);
}

/* The level whose z density codes a run: the nearest (the codec's rule,
 * halves round up). */
static int z_level(const LwcGraph *g) { return g->level + (g->frac >= 0.5f); }

/* The coder's view of a mean and log-scale (lwc_graph_set_coder_like). */
static void coder_view(const LwcGraph *g, float *m, float *ls)
{
    if (g->coder_like & LWC_GRAPH_MEAN_Q4) *m = rnd(*m * 16) / 16;
    if (g->coder_like & LWC_GRAPH_SCALE_TABLE) {
        float s = expf(*ls);
        int i = 0;
        while (i < LWC_SCALE_LEVELS - 1 && g->scale_bd[i] < s) i++;
        *ls = logf(g->scale_lv[i]);
    }
}

void lwc_graph_free(LwcGraph **g)
{
    if (!g || !*g) return;
    for (int i = 0; i < (*g)->nalloc; i++) lwc_free((*g)->allocs[i]);
    lwc_free(*g);
    *g = NULL;
}

/* ---------------- forward ---------------- */

static void analysis(LwcGraph *g, int train, uint64_t *rng)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw, hw4 = hw / 16;
    lwc_wpt_forward(g->x, 3, g->ph, g->pw, LWC_WPT_LEVELS, g->X, g->work);
    fwd(g, &n->ga, g->X, g->h, g->w, g->y0);
    if (n->ab > 0) { /* y0 += gab2(relu(gab1(X))); g->y is free until the gains */
        fwd(g, &n->gab1, g->X, g->h, g->w, g->hb);
        lwc_relu_forward(g->hb, (size_t)n->ab * hw);
        fwd(g, &n->gab2, g->hb, g->h, g->w, g->y);
        for (size_t i = 0; i < (size_t)a->M * hw; i++) g->y0[i] += g->y[i];
    }
    for (int c = 0; c < a->M; c++) {
        float gn = expf(log_gain(g, n->gain_off, a->M, c));
        for (size_t i = 0; i < hw; i++) g->y[c * hw + i] = g->y0[c * hw + i] * gn;
    }
    fwd(g, &n->ha0, g->y, g->h, g->w, g->a1);
    lwc_relu_forward(g->a1, (size_t)a->N * hw / 4);
    fwd(g, &n->ha1, g->a1, g->h / 2, g->w / 2, g->z);
    for (int c = 0; c < a->Nz; c++) {
        float gn = expf(log_gain(g, n->zgain_off, a->Nz, c));
        for (size_t i = 0; i < hw4; i++) g->z[c * hw4 + i] *= gn;
    }
    for (size_t i = 0; i < (size_t)a->Nz * hw4; i++) {
        g->zh[i] = rnd(g->z[i]);
        g->zt[i] = train ? g->z[i] + (float)(lwc_rng_uniform(rng) - 0.5) : g->zh[i];
    }
}

/* Inverse gain of hyper-latent channel c: the level's, or the latent
 * search's own (1 without one). */
static float zigain_of(const LwcGraph *g, int c)
{
    if (g->lt) return g->lt->zigain ? g->lt->zigain[c] : 1.0f;
    return expf(log_gain(g, g->n->zigain_off, g->n->a.Nz, c));
}

static void hyper(LwcGraph *g, float *act_max)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw4 = g->hw / 16;
    for (int c = 0; c < a->Nz; c++) {
        float ig = zigain_of(g, c);
        for (size_t i = 0; i < hw4; i++) g->zd[c * hw4 + i] = g->zh[c * hw4 + i] * ig;
    }
    lwc_upsample2_forward(g->zd, a->Nz, g->h / 4, g->w / 4, g->u0);
    fwd(g, &n->hs0, g->u0, g->h / 2, g->w / 2, g->h0);
    lwc_relu_forward(g->h0, (size_t)a->N * g->hw / 4);
    track_max(act_max ? &act_max[LWC_IL_HS0] : NULL, g->h0, (size_t)a->N * g->hw / 4);
    lwc_upsample2_forward(g->h0, a->N, g->h / 2, g->w / 2, g->u1);
    fwd(g, &n->hs1, g->u1, g->h, g->w, g->hy);
    lwc_relu_forward(g->hy, (size_t)a->Ch * g->hw);
    track_max(act_max ? &act_max[LWC_IL_HS1] : NULL, g->hy, (size_t)a->Ch * g->hw);
}

static void pnet_fwd(LwcGraph *g, int s, PNet *p, const float *ctx, float *act_max)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw;
    memcpy(p->in, g->hy, (size_t)a->Ch * hw * sizeof(float));
    memcpy(p->in + (size_t)a->Ch * hw, g->yh, (size_t)s * g->ms * hw * sizeof(float));
    float *pc = p->in + (size_t)(a->Ch + s * g->ms) * hw;
    if (ctx) memcpy(pc, ctx, (size_t)a->Cc * hw * sizeof(float));
    else memset(pc, 0, (size_t)a->Cc * hw * sizeof(float));
    fwd(g, &n->p0[s], p->in, g->h, g->w, p->a0);
    lwc_relu_forward(p->a0, (size_t)a->P * hw);
    fwd(g, &n->p1[s], p->a0, g->h, g->w, p->a1);
    lwc_relu_forward(p->a1, (size_t)a->P * hw);
    fwd(g, &n->p2[s], p->a1, g->h, g->w, p->out);
    if (act_max) {
        track_max(&act_max[LWC_IL_P(s, 0, a->S)], p->a0, (size_t)a->P * hw);
        track_max(&act_max[LWC_IL_P(s, 1, a->S)], p->a1, (size_t)a->P * hw);
    }
}

static int is_anchor(const LwcGraph *g, size_t i) { return !(((i / g->w) + (i % g->w)) & 1); }

/* Stochastic Gumbel annealing (Yang, Bamler & Mandt 2020): v goes to
 * floor(v) + w, w = sigmoid((atanh(r) - atanh(1 - r)) / tau^2 + L / tau)
 * with r = v - floor(v) and L logistic noise (the two-way relaxed Gumbel
 * softmax), so that small tau samples the nearer integer, mostly. *d = dw/dv.
 * tau <= 0: hard rounding with the straight-through derivative 1. */
static float sga_round(float v, float tau, float noise, float *d)
{
    if (tau <= 0) { *d = 1; return rnd(v); }
    const float lim = 1 - 1e-4f;
    float f = floorf(v), r = fminf(fmaxf(v - f, 1 - lim), lim);
    float z = (atanhf(r) - atanhf(1 - r)) / (tau * tau) + noise / tau;
    float w = 1 / (1 + expf(-z));
    *d = w * (1 - w) * (1 / (1 - r * r) + 1 / (1 - (1 - r) * (1 - r))) / (tau * tau);
    return f + w;
}

/* Logistic noise of position i from the task's seed: the same for any
 * thread count or order (splitmix64 of seed + i). */
static float logistic_noise(uint64_t seed, size_t i)
{
    uint64_t x = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    double u = ((double)(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    return (float)log(u / (1 - u));
}

/* y_hat = y + (round(y - mu) - (y - mu)) at the positions of one parity; the
 * means and log-scales of those positions are copied to mu / ls. In a
 * latent search the free positions take the soft rounding instead (its
 * derivative kept in y0) and the others keep their fixed y_hat. */
static void quantise_pass(LwcGraph *g, int s, const PNet *p, int parity)
{
    size_t hw = g->hw;
    const LwcLatentTask *lt = g->lt;
    for (int c = 0; c < g->ms; c++) {
        size_t ch = (size_t)(s * g->ms + c) * hw;
        for (size_t i = 0; i < hw; i++) {
            if (is_anchor(g, i) != !parity) continue;
            float m = p->out[c * hw + i], ls = p->out[(g->ms + c) * hw + i];
            if (g->coder_like) coder_view(g, &m, &ls);
            g->mu[ch + i] = m;
            g->ls[ch + i] = ls;
            if (!lt) g->yh[ch + i] = g->exact ? g->y[ch + i] : rnd(g->y[ch + i] - m) + m;
            else if (lt->free[i])
                g->yh[ch + i] = sga_round(g->y[ch + i] - m, lt->tau, lt->tau > 0 ? logistic_noise(lt->seed, ch + i) : 0,
                                          &g->y0[ch + i]) + m;
        }
    }
}

static void entropy_fwd(LwcGraph *g, float *act_max)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw;
    for (int s = 0; s < a->S; s++) {
        pnet_fwd(g, s, &g->pa[s], NULL, act_max);
        quantise_pass(g, s, &g->pa[s], 0);
        for (int c = 0; c < g->ms; c++)
            for (size_t i = 0; i < hw; i++)
                g->anc[s][c * hw + i] = is_anchor(g, i) ? g->yh[(size_t)(s * g->ms + c) * hw + i] : 0;
        fwd(g, &n->ctx[s], g->anc[s], g->h, g->w, g->c[s]);
        lwc_relu_forward(g->c[s], (size_t)a->Cc * hw);
        track_max(act_max ? &act_max[LWC_IL_CTX0 + s] : NULL, g->c[s], (size_t)a->Cc * hw);
        pnet_fwd(g, s, &g->pn[s], g->c[s], act_max);
        quantise_pass(g, s, &g->pn[s], 1);
    }
}

/* Inverse gain of channel c: the level's, or the latent search's own. */
static float igain_of(const LwcGraph *g, int c)
{
    if (g->lt) return g->lt->igain[c];
    return expf(log_gain(g, g->n->igain_off, g->n->a.M, c));
}

/* Largest |x| of each of c channels of hw values, into am[0..c-1]. */
static void track_channels(float *am, const float *x, int c, size_t hw)
{
    for (int i = 0; am && i < c; i++) track_max(&am[i], x + i * hw, hw);
}

/* act_max (may be NULL): the calibration slots LWC_SA_* (net.h). */
static void synthesis(LwcGraph *g, float *act_max)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw, dhw = (size_t)a->D * hw;
    float *am = act_max;
    for (int c = 0; c < a->M; c++) {
        float ig = igain_of(g, c);
        for (size_t i = 0; i < hw; i++) g->yf[c * hw + i] = g->yh[c * hw + i] * ig;
    }
    track_channels(am ? &am[LWC_SA_A0(0)] : NULL, g->yf, a->M, hw);
    fwd(g, &n->gs_in, g->yf, g->h, g->w, g->t[0]);
    lwc_relu_forward(g->t[0], dhw);
    track_channels(am ? &am[LWC_SA_T(0)] : NULL, g->t[0], a->D, hw);
    for (int b = 0; b < a->B; b++) {
        fwd(g, &n->gs_rb[2 * b], g->t[b], g->h, g->w, g->r1[b]);
        lwc_relu_forward(g->r1[b], dhw);
        track_max(am ? &am[LWC_SA_R(b)] : NULL, g->r1[b], dhw);
        fwd(g, &n->gs_rb[2 * b + 1], g->r1[b], g->h, g->w, g->t[b + 1]);
        track_channels(am ? &am[LWC_SA_T(0)] : NULL, g->t[b + 1], a->D, hw); /* the residual */
        for (size_t i = 0; i < dhw; i++) g->t[b + 1][i] += g->t[b][i];
        track_channels(am ? &am[LWC_SA_T(0)] : NULL, g->t[b + 1], a->D, hw);
    }
    fwd(g, &n->gs_out, g->t[a->B], g->h, g->w, g->o);
    fwd(g, &n->gs_skip, g->yf, g->h, g->w, g->o2);
    for (size_t i = 0; i < (size_t)LWC_WPT_CHANNELS * hw; i++) g->o[i] += g->o2[i];
    track_channels(am ? &am[LWC_SA_O(0)] : NULL, g->o, LWC_WPT_CHANNELS, hw);
    lwc_wpt_inverse(g->o, 3, g->ph, g->pw, LWC_WPT_LEVELS, g->xr, g->work);
}

/* ---------------- backward ---------------- */

static void synthesis_bwd(LwcGraph *g, float *grad)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw, dn = (size_t)a->D * hw;
    lwc_wpt_inverse_adjoint(g->dxr, 3, g->ph, g->pw, LWC_WPT_LEVELS, g->dO, g->work);
    bwd(g, &n->gs_out, g->t[a->B], g->dO, g->h, g->w, g->dt, grad);
    bwd(g, &n->gs_skip, g->yf, g->dO, g->h, g->w, g->dyf, grad);
    for (int b = a->B - 1; b >= 0; b--) {
        bwd(g, &n->gs_rb[2 * b + 1], g->r1[b], g->dt, g->h, g->w, g->dr, grad);
        lwc_relu_backward(g->r1[b], g->dr, g->dr, dn);
        bwd(g, &n->gs_rb[2 * b], g->t[b], g->dr, g->h, g->w, g->dt2, grad);
        for (size_t i = 0; i < dn; i++) g->dt[i] += g->dt2[i];
    }
    lwc_relu_backward(g->t[0], g->dt, g->dt, dn);
    float *dyf2 = g->dy; /* scratch */
    bwd(g, &n->gs_in, g->yf, g->dt, g->h, g->w, dyf2, grad);
    for (int c = 0; c < a->M; c++) {
        float ig = igain_of(g, c);
        double dl = 0;
        for (size_t i = 0; i < hw; i++) {
            float d = g->dyf[c * hw + i] + dyf2[c * hw + i];
            dl += (double)d * g->yf[c * hw + i];
            g->dyh[c * hw + i] = d * ig;
        }
        if (grad) add_gain_grad(g, grad, n->igain_off, a->M, c, dl);
    }
}

/* Backward of one p-net pass: dout [2ms][hw] -> din (overwritten). */
static void pnet_bwd(LwcGraph *g, int s, const PNet *p, float *dout, float *grad)
{
    const LwcNet *n = g->n;
    size_t pn = (size_t)n->a.P * g->hw;
    bwd(g, &n->p2[s], p->a1, dout, g->h, g->w, g->da, grad);
    lwc_relu_backward(p->a1, g->da, g->da, pn);
    bwd(g, &n->p1[s], p->a0, g->da, g->h, g->w, g->db, grad);
    lwc_relu_backward(p->a0, g->db, g->db, pn);
    bwd(g, &n->p0[s], p->in, g->db, g->h, g->w, g->din, grad);
}

/* Split a p-net input gradient into hyper / earlier slices / context. */
static void split_din(LwcGraph *g, int s, float *dctx)
{
    const LwcArch *a = &g->n->a;
    size_t hw = g->hw, nh = (size_t)a->Ch * hw, np = (size_t)s * g->ms * hw;
    for (size_t i = 0; i < nh; i++) g->dhy[i] += g->din[i];
    for (size_t i = 0; i < np; i++) g->dyh[i] += g->din[nh + i];
    if (dctx) memcpy(dctx, g->din + nh + np, (size_t)a->Cc * hw * sizeof(float));
}

static void gather_dout(LwcGraph *g, int s, int parity, float *dout)
{
    size_t hw = g->hw;
    for (int c = 0; c < g->ms; c++) {
        size_t ch = (size_t)(s * g->ms + c) * hw;
        for (size_t i = 0; i < hw; i++) {
            int on = is_anchor(g, i) == !parity;
            dout[c * hw + i] = on ? g->dmu[ch + i] : 0;
            dout[(g->ms + c) * hw + i] = on ? g->dls[ch + i] : 0;
        }
    }
}

/* Latent search: the gradient that reaches y_hat at one parity of slice s
 * (complete once the later slices and this slice's context are done) goes
 * to y through the annealed rounding, and to mu through y_hat = mu + sga(y - mu).
 * y_hat is a constant at the positions that are not free. */
static void soft_chain(LwcGraph *g, int s, int parity)
{
    size_t hw = g->hw;
    for (int c = 0; c < g->ms; c++) {
        size_t ch = (size_t)(s * g->ms + c) * hw;
        for (size_t i = 0; i < hw; i++) {
            if (is_anchor(g, i) != !parity) continue;
            float t = g->dyh[ch + i] + g->dv[ch + i], d = g->y0[ch + i];
            g->dy[ch + i] = g->lt->free[i] ? t * d : 0;
            if (g->lt->free[i]) g->dmu[ch + i] += t * (1 - d);
        }
    }
}

static void entropy_bwd(LwcGraph *g, float *grad)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw;
    float *dout = g->dO; /* free after synthesis_bwd; 2*ms <= 192 checked in create */
    memset(g->dhy, 0, (size_t)a->Ch * hw * sizeof(float));
    for (int s = a->S - 1; s >= 0; s--) {
        if (g->lt) soft_chain(g, s, 1);
        gather_dout(g, s, 1, dout);
        pnet_bwd(g, s, &g->pn[s], dout, grad);
        split_din(g, s, g->dc);
        lwc_relu_backward(g->c[s], g->dc, g->dc, (size_t)a->Cc * hw);
        bwd(g, &n->ctx[s], g->anc[s], g->dc, g->h, g->w, g->danc, grad);
        for (int c = 0; c < g->ms; c++)
            for (size_t i = 0; i < hw; i++)
                if (is_anchor(g, i)) g->dyh[(size_t)(s * g->ms + c) * hw + i] += g->danc[c * hw + i];
        if (g->lt) soft_chain(g, s, 0);
        gather_dout(g, s, 0, dout);
        pnet_bwd(g, s, &g->pa[s], dout, grad);
        split_din(g, s, NULL);
    }
    /* straight-through rounding: dy = dy_hat + rate gradient */
    if (!g->lt)
        for (size_t i = 0; i < (size_t)a->M * hw; i++) g->dy[i] = g->dyh[i] + g->dv[i];
}

static void hyper_bwd(LwcGraph *g, float *grad)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw;
    lwc_relu_backward(g->hy, g->dhy, g->dhy, (size_t)a->Ch * hw);
    bwd(g, &n->hs1, g->u1, g->dhy, g->h, g->w, g->du1, grad);
    lwc_upsample2_backward(g->du1, a->N, g->h / 2, g->w / 2, g->dh0);
    lwc_relu_backward(g->h0, g->dh0, g->dh0, (size_t)a->N * hw / 4);
    bwd(g, &n->hs0, g->u0, g->dh0, g->h / 2, g->w / 2, g->du0, grad);
    float *dzd = g->da1; /* scratch of the right size (N >= Nz checked by caller) */
    lwc_upsample2_backward(g->du0, a->Nz, g->h / 4, g->w / 4, dzd);
    size_t hw4 = hw / 16;
    for (int c = 0; c < a->Nz; c++) {
        float ig = zigain_of(g, c), gn = expf(log_gain(g, n->zgain_off, a->Nz, c));
        double dli = 0, dlg = 0;
        for (size_t i = c * hw4; i < (c + 1) * hw4; i++) {
            dli += (double)dzd[i] * g->zd[i];
            g->dz[i] += dzd[i] * ig; /* straight through the rounding of z */
            dlg += (double)g->dz[i] * g->z[i];
            g->dz[i] *= gn;
        }
        add_gain_grad(g, grad, n->zigain_off, a->Nz, c, dli);
        add_gain_grad(g, grad, n->zgain_off, a->Nz, c, dlg);
    }
    bwd(g, &n->ha1, g->a1, g->dz, g->h / 2, g->w / 2, g->da1, grad);
    lwc_relu_backward(g->a1, g->da1, g->da1, (size_t)a->N * hw / 4);
    bwd(g, &n->ha0, g->y, g->da1, g->h, g->w, g->dyh, grad);
    for (size_t i = 0; i < (size_t)a->M * hw; i++) g->dy[i] += g->dyh[i];
}

static void analysis_bwd(LwcGraph *g, float *grad)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw;
    for (int c = 0; c < a->M; c++) {
        float gn = expf(log_gain(g, n->gain_off, a->M, c));
        double dl = 0;
        for (size_t i = 0; i < hw; i++) {
            dl += (double)g->dy[c * hw + i] * g->y[c * hw + i];
            g->dy[c * hw + i] *= gn;
        }
        add_gain_grad(g, grad, n->gain_off, a->M, c, dl);
    }
    bwd(g, &n->ga, g->X, g->dy, g->h, g->w, NULL, grad);
    if (n->ab > 0) {
        bwd(g, &n->gab2, g->hb, g->dy, g->h, g->w, g->dhb, grad);
        lwc_relu_backward(g->hb, g->dhb, g->dhb, (size_t)n->ab * hw);
        bwd(g, &n->gab1, g->X, g->dhb, g->h, g->w, NULL, grad);
    }
}

/* ---------------- driver ---------------- */

/* Rate terms: bits of y (Gaussian conditional) and z (factorized: the
 * level's own density when there is one per level); in training their
 * gradients, scaled by rs, go to dv/dmu/dls, dz and fgrad. */
static void rates(LwcGraph *g, int train, uint64_t *rng, float rs, float *fgrad, double *by, double *bz)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t my = (size_t)a->M * g->hw, nz = (size_t)a->Nz * g->hw / 16;
    for (size_t i = 0; i < my; i++) g->v[i] = train ? g->y[i] + (float)(lwc_rng_uniform(rng) - 0.5) : g->yh[i];
    *by = lwc_gauss_rate_fwd_bwd(g->v, g->mu, g->ls, my, train ? g->dv : NULL, train ? g->dmu : NULL,
                                 train ? g->dls : NULL);
    if (train) memset(g->ftmp, 0, n->fact.nparams * sizeof(float));
    int c0 = lwc_net_zdensity_sets(n) > 1 ? z_level(g) * a->Nz : 0;
    *bz = lwc_factorized_rate_at(&n->fact, c0, g->zt, 1, a->Nz, (int)(g->hw / 16), train ? g->dz : NULL,
                                 train ? g->ftmp : NULL);
    if (!train) return;
    for (size_t i = 0; i < my; i++) { g->dv[i] *= rs; g->dmu[i] *= rs; g->dls[i] *= rs; }
    for (size_t i = 0; i < nz; i++) g->dz[i] *= rs;
    for (size_t i = 0; i < n->fact.nparams; i++) fgrad[i] += rs * g->ftmp[i];
}

int lwc_graph_run(LwcGraph *g, const float *x, int level, int train, uint64_t *rng,
                  float grad_scale, float *grad, float *fgrad, float *act_max, LwcStepStats *st)
{
    const LwcNet *n = g->n;
    LWC_RET_IF(level < 0 || level >= n->a.L || n->a.N < n->a.Nz, LWC_ERR_INVAL);
    LWC_RET_IF(g->frac != 0 && (!(g->frac > 0 && g->frac < 1) || level + 1 >= n->a.L), LWC_ERR_INVAL);
    size_t px = (size_t)g->ph * g->pw;
    memcpy(g->x, x, 3 * px * sizeof(float));
    g->level = level;
    analysis(g, train, rng);
    hyper(g, act_max);
    entropy_fwd(g, act_max);
    synthesis(g, act_max);
    double lambda = n->lambda[level], se = 0;
    if (g->frac > 0) lambda = pow(lambda, 1 - g->frac) * pow(n->lambda[level + 1], g->frac); /* log-linear, as the gains */
    for (size_t i = 0; i < 3 * px; i++) {
        double d = (double)g->xr[i] - g->x[i];
        se += d * d;
    }
    double mse = se / (3.0 * px);
    float rs = grad_scale / (float)px;
    double by, bz;
    rates(g, train, rng, rs, fgrad, &by, &bz);
    if (st) {
        st->bits_y = by; st->bits_z = bz; st->mse = mse;
        st->loss = (by + bz) / px + lambda * 255.0 * 255.0 * mse;
    }
    if (!train) return LWC_OK;
    float dk = (float)(grad_scale * lambda * 255.0 * 255.0 * 2.0 / (3.0 * px));
    for (size_t i = 0; i < 3 * px; i++) g->dxr[i] = dk * (g->xr[i] - g->x[i]);
    synthesis_bwd(g, grad);
    entropy_bwd(g, grad);
    hyper_bwd(g, grad);
    analysis_bwd(g, grad);
    return LWC_OK;
}

/* ---------------- latent search ---------------- */

int lwc_graph_latent_begin(LwcGraph *g, const LwcLatentTask *t)
{
    const LwcArch *a = &g->n->a;
    LWC_RET_IF(!t || !t->x || !t->zh || !t->yh_fixed || !t->free || !t->rate || !t->igain, LWC_ERR_INVAL);
    LWC_RET_IF(t->px_r0 < 0 || t->px_r1 > g->ph || t->px_c0 < 0 || t->px_c1 > g->pw, LWC_ERR_INVAL);
    g->lt = t;
    memcpy(g->x, t->x, (size_t)3 * g->ph * g->pw * sizeof(float));
    memcpy(g->zh, t->zh, (size_t)a->Nz * g->hw / 16 * sizeof(float));
    memcpy(g->yh, t->yh_fixed, (size_t)a->M * g->hw * sizeof(float));
    if (!t->zfree) hyper(g, NULL); /* z is fixed: the hyper features are computed once */
    return LWC_OK;
}

void lwc_graph_latent_end(LwcGraph *g) { g->lt = NULL; }

/* The task's in-pass prediction of position (r, j) of the channel at base
 * (its weights w), in steps; with d != 0, the gradient d of the shifted
 * mean goes on to the taps' y_hat and mu instead. */
static float pred_shift(LwcGraph *g, const int16_t *w, size_t base, int r, int j, float d)
{
    float p = 0;
    for (int n = 0; n < LWC_YPRED_TAPS; n++) {
        int ii = r + lwc_ypred_off[n][0], jj = j + lwc_ypred_off[n][1];
        if (ii < 0 || jj < 0 || jj >= g->w) continue;
        size_t at = base + (size_t)ii * g->w + jj;
        float k = w[n] / (float)(1 << LWC_YPRED_SHIFT);
        if (d == 0) p += k * (g->yh[at] - g->mu[at]);
        else g->dv[at] += k * d, g->dmu[at] -= k * d;
    }
    return p;
}

/* Bits of y_hat at the positions that count, with their gradients (zero
 * elsewhere) in dv, dmu and dls. With the in-pass prediction, a position's
 * gradient of its shifted mean also reaches its taps, which are earlier in
 * raster order: their own gradients are already in place, and no later
 * position changes them before they are read. */
static double latent_rates(LwcGraph *g)
{
    size_t hw = g->hw, n = (size_t)g->n->a.M * hw;
    const int16_t *wp = g->lt->ypred;
    double bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (!g->lt->rate[i % hw]) { g->dv[i] = g->dmu[i] = g->dls[i] = 0; continue; }
        if (!wp) {
            bits += lwc_gauss_rate_fwd_bwd(g->yh + i, g->mu + i, g->ls + i, 1, g->dv + i, g->dmu + i, g->dls + i);
            continue;
        }
        size_t c = i / hw, base = c * hw;
        int r = (int)(i % hw / g->w), j = (int)(i % hw % g->w);
        const int16_t *w = wp + (c * 2 + ((r + j) & 1)) * LWC_YPRED_TAPS;
        float m = g->mu[i] + pred_shift(g, w, base, r, j, 0);
        bits += lwc_gauss_rate_fwd_bwd(g->yh + i, &m, g->ls + i, 1, g->dv + i, g->dmu + i, g->dls + i);
        if (g->dmu[i] != 0) pred_shift(g, w, base, r, j, g->dmu[i]);
    }
    return bits;
}

/* Squared error of the pixels of the task's rectangle; with dxr, the
 * gradient of lambda 255^2 SE / 3 (zero outside the rectangle). */
static double latent_se(LwcGraph *g, int grad)
{
    const LwcLatentTask *t = g->lt;
    size_t plane = (size_t)g->ph * g->pw;
    float k = (float)(t->lambda * 255.0 * 255.0 * 2.0 / 3.0);
    double se = 0;
    if (grad) memset(g->dxr, 0, 3 * plane * sizeof(float));
    for (int c = 0; c < 3; c++)
        for (int r = t->px_r0; r < t->px_r1; r++)
            for (int j = t->px_c0; j < t->px_c1; j++) {
                size_t i = c * plane + (size_t)r * g->pw + j;
                double d = (double)g->xr[i] - g->x[i];
                se += d * d;
                if (grad) g->dxr[i] = k * (float)d;
            }
    return se;
}

/* Bits of one z value v under channel c's table, linear between the
 * integers around it; *d = its slope. */
static double z_bits(const LwcLatentTask *t, int c, float v, float *d)
{
    const float *b = t->zbits + (size_t)c * t->zn;
    double k = LWC_CLAMP((double)v - t->zlo[c], 0.0, (double)(t->zn - 1));
    int i = LWC_MIN((int)k, t->zn - 2);
    *d = b[i + 1] - b[i];
    return b[i] + (k - i) * *d;
}

/* The search's z: free values rounded like y (annealed), the others as
 * given; then the hyper features. Returns the bits of the free values
 * and keeps d(bits)/dz_hat in dz, the rounding's derivative in zt. */
static double latent_z(LwcGraph *g, const float *z)
{
    const LwcLatentTask *t = g->lt;
    size_t hw4 = g->hw / 16, n = (size_t)g->n->a.Nz * hw4;
    double bits = 0;
    for (size_t i = 0; i < n; i++) {
        g->dz[i] = 0;
        if (!t->zfree[i % hw4]) { g->zh[i] = t->zh[i]; continue; }
        float noise = t->tau > 0 ? logistic_noise(t->seed ^ 0x5A5A5A5A5A5A5A5Aull, i) : 0;
        g->zh[i] = sga_round(z[i], t->tau, noise, &g->zt[i]);
        bits += z_bits(t, (int)(i / hw4), g->zh[i], &g->dz[i]);
    }
    hyper(g, NULL);
    return bits;
}

/* Backward from the hyper features to z (the entropy pass left d/dhy). */
static void latent_z_bwd(LwcGraph *g, float *dz)
{
    const LwcNet *n = g->n;
    const LwcArch *a = &n->a;
    size_t hw = g->hw, nz = (size_t)a->Nz * hw / 16;
    lwc_relu_backward(g->hy, g->dhy, g->dhy, (size_t)a->Ch * hw);
    bwd(g, &n->hs1, g->u1, g->dhy, g->h, g->w, g->du1, NULL);
    lwc_upsample2_backward(g->du1, a->N, g->h / 2, g->w / 2, g->dh0);
    lwc_relu_backward(g->h0, g->dh0, g->dh0, (size_t)a->N * hw / 4);
    bwd(g, &n->hs0, g->u0, g->dh0, g->h / 2, g->w / 2, g->du0, NULL);
    lwc_upsample2_backward(g->du0, a->Nz, g->h / 4, g->w / 4, g->da1);
    for (size_t i = 0; i < nz; i++)
        dz[i] = g->lt->zfree[i % (hw / 16)] ? (g->da1[i] * zigain_of(g, (int)(i / (hw / 16))) + g->dz[i]) * g->zt[i] : 0;
}

int lwc_graph_latent_step(LwcGraph *g, const float *y, const float *z, float *dy, float *dz,
                          LwcLatentStats *st)
{
    const LwcLatentTask *t = g->lt;
    LWC_RET_IF(!t || !y || !t->zfree != !z || (dz && !dy), LWC_ERR_INVAL);
    size_t n = (size_t)g->n->a.M * g->hw;
    double bz = z ? latent_z(g, z) : 0;
    memcpy(g->y, y, n * sizeof(float));
    entropy_fwd(g, NULL);
    synthesis(g, NULL);
    double se = latent_se(g, dy != NULL), bits = latent_rates(g) + bz;
    if (st) {
        st->bits = bits;
        st->bits_z = bz;
        st->se = se;
        st->loss = bits + t->lambda * 255.0 * 255.0 * se / 3.0;
    }
    if (!dy) return LWC_OK;
    synthesis_bwd(g, NULL);
    entropy_bwd(g, NULL);
    memcpy(dy, g->dy, n * sizeof(float));
    if (dz && z) latent_z_bwd(g, dz);
    return LWC_OK;
}
