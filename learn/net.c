/* Float model layout, initialisation and export to the integer .lwcm form. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "entropy/cdf.h"
#include "entropy/intwino.h"
#include "learn/rng.h"
#include "learn/model_write.h"
#include "learn/net.h"
#include "learn/tablefit.h"

static size_t add_conv(LwcNetConv *c, size_t *off, int cin, int cout, int k, int stride, int bias)
{
    c->cin = cin; c->cout = cout; c->k = k; c->stride = stride;
    c->w_off = *off;
    *off += (size_t)cin * cout * k * k;
    c->b_off = bias ? *off : (size_t)-1;
    if (bias) *off += (size_t)cout;
    return *off;
}

LwcNetConv *lwc_net_layer(LwcNet *n, const LwcLayerSpec *l)
{
    switch (l->role) {
    case LWC_ROLE_GA: return &n->ga;
    case LWC_ROLE_HA0: return &n->ha0;
    case LWC_ROLE_HA1: return &n->ha1;
    case LWC_ROLE_GAB1: return &n->gab1;
    case LWC_ROLE_GAB2: return &n->gab2;
    case LWC_ROLE_GS_IN: return &n->gs_in;
    case LWC_ROLE_GS_RB: return &n->gs_rb[l->index];
    case LWC_ROLE_GS_OUT: return &n->gs_out;
    case LWC_ROLE_GS_SKIP: return &n->gs_skip;
    case LWC_ROLE_HS0: return &n->hs0;
    case LWC_ROLE_HS1: return &n->hs1;
    case LWC_ROLE_CTX: return &n->ctx[l->index];
    case LWC_ROLE_P0: return &n->p0[l->index];
    case LWC_ROLE_P1: return &n->p1[l->index];
    default: return &n->p2[l->index];
    }
}

/* The conv layers of one group of the layer table, in table order. */
static void add_group(LwcNet *n, const LwcLayerSpec *t, int count, int group, size_t *off)
{
    for (int i = 0; i < count; i++)
        if (t[i].group == group)
            add_conv(lwc_net_layer(n, &t[i]), off, t[i].cin, t[i].cout, t[i].k, t[i].stride, t[i].bias);
}

/* The parameter vector (checkpoints store it in this order): analysis,
 * synthesis, hyper and entropy layers, the gains, then the analysis branch
 * (added last, so that a grown model keeps every older offset). */
static void layout(LwcNet *n)
{
    const LwcArch *a = &n->a;
    LwcLayerSpec t[LWC_MAX_LAYERS];
    int count = lwc_layer_table(a, n->ab, t);
    size_t off = 0;
    add_group(n, t, count, LWC_GROUP_ANALYSIS, &off);
    add_group(n, t, count, LWC_GROUP_SYNTHESIS, &off);
    add_group(n, t, count, LWC_GROUP_HYPER, &off);
    add_group(n, t, count, LWC_GROUP_ENTROPY, &off);
    n->gain_off = off;
    off += (size_t)a->L * a->M;
    n->igain_off = off;
    off += (size_t)a->L * a->M;
    n->zgain_off = off;
    off += (size_t)a->L * a->Nz;
    n->zigain_off = off;
    off += (size_t)a->L * a->Nz;
    add_group(n, t, count, LWC_GROUP_BRANCH, &off);
    n->nparams = off;
}

/* Uniform(-b, b) with b = sqrt(6 / fan_in) * gain: He-style, deterministic. */
static void init_conv(LwcNet *n, const LwcNetConv *c, uint64_t *rs, double gain)
{
    double b = sqrt(6.0 / (c->cin * c->k * c->k)) * gain;
    size_t cnt = (size_t)c->cin * c->cout * c->k * c->k;
    for (size_t i = 0; i < cnt; i++) {
        double u = lwc_rng_uniform(rs);
        n->params[c->w_off + i] = (float)((2 * u - 1) * b);
    }
    if (c->b_off != (size_t)-1) memset(n->params + c->b_off, 0, (size_t)c->cout * sizeof(float));
}

int lwc_net_init(LwcNet *n, const LwcArch *a, uint64_t seed) { return lwc_net_init_ab(n, a, 0, seed); }

int lwc_net_init_ab(LwcNet *n, const LwcArch *a, int ab, uint64_t seed)
{
    memset(n, 0, sizeof(*n));
    LWC_RET_IF(ab < 0 || ab > 4096, LWC_ERR_INVAL);
    n->a = *a;
    n->ab = ab;
    layout(n);
    n->params = lwc_calloc(n->nparams, sizeof(float));
    LWC_RET_IF(!n->params, LWC_ERR_NOMEM);
    uint64_t rs = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < LWC_IL_COUNT(a->S); i++) init_conv(n, lwc_net_int_layer(n, i), &rs, 1.0);
    init_conv(n, &n->ga, &rs, 0.5);
    init_conv(n, &n->ha0, &rs, 1.0);
    init_conv(n, &n->ha1, &rs, 1.0);
    init_conv(n, &n->gs_in, &rs, 1.0);
    for (int i = 0; i < 2 * a->B; i++) init_conv(n, &n->gs_rb[i], &rs, (i & 1) ? 0.1 : 1.0);
    init_conv(n, &n->gs_out, &rs, 0.1);
    init_conv(n, &n->gs_skip, &rs, 0.5);
    for (int l = 0; l < a->L; l++) {
        double t = a->L > 1 ? (double)l / (a->L - 1) : 0.5;
        /* Quantisation step 1/gain in units of wavelet packet coefficients, which
         * are 1/8 of an orthonormal transform's at J = 3 (a coefficient error e
         * costs about 64 e^2 of pixel energy): 1/16 .. 1/256 spans ~25..42 dB. */
        double lg = log(16.0) + t * (log(256.0) - log(16.0));
        n->lambda[l] = (float)exp(log(0.0018) + t * (log(0.18) - log(0.0018)));
        for (int c = 0; c < a->M; c++) {
            n->params[n->gain_off + (size_t)l * a->M + c] = (float)lg;
            n->params[n->igain_off + (size_t)l * a->M + c] = (float)-lg;
        }
    }
    if (ab > 0) init_conv(n, &n->gab1, &rs, 1.0); /* gab2 stays zero: the branch adds nothing yet */
    int r = lwc_factorized_init(&n->fact, a->Nz, 10.0);
    if (r < 0) lwc_net_free(n);
    return r;
}

void lwc_net_free(LwcNet *n)
{
    lwc_free(n->params);
    lwc_factorized_free(&n->fact);
    memset(n, 0, sizeof(*n));
}

const LwcNetConv *lwc_net_int_layer(const LwcNet *n, int i)
{
    int S = n->a.S;
    if (i == LWC_IL_HS0) return &n->hs0;
    if (i == LWC_IL_HS1) return &n->hs1;
    if (i < 2 + S) return &n->ctx[i - 2];
    i -= 2 + S;
    return i % 3 == 0 ? &n->p0[i / 3] : i % 3 == 1 ? &n->p1[i / 3] : &n->p2[i / 3];
}

int lwc_net_zdensity_sets(const LwcNet *n) { return n->fact.channels / n->a.Nz; }

/* src tiled into a new array laid out as dst; NULL stays NULL. */
static int tile(const LwcFactorized *src, float **arr, const LwcFactorized *dst)
{
    if (!*arr) return LWC_OK;
    float *t = lwc_malloc_array(dst->nparams, sizeof(float));
    LWC_RET_IF(!t, LWC_ERR_NOMEM);
    lwc_factorized_tile(src, *arr, dst, t);
    lwc_free(*arr);
    *arr = t;
    return LWC_OK;
}

int lwc_net_split_zdensity(LwcNet *n, float **fm, float **fv)
{
    LWC_RET_IF(lwc_net_zdensity_sets(n) != 1 || n->a.L < 2, LWC_ERR_INVAL);
    LwcFactorized d;
    LWC_FWD(lwc_factorized_init(&d, n->a.L * n->a.Nz, 10.0));
    lwc_factorized_tile(&n->fact, n->fact.params, &d, d.params);
    int r = LWC_OK;
    if (fm) r = tile(&n->fact, fm, &d);
    if (r == LWC_OK && fv) r = tile(&n->fact, fv, &d);
    if (r < 0) {
        lwc_factorized_free(&d);
        return r;
    }
    lwc_factorized_free(&n->fact);
    n->fact = d;
    return LWC_OK;
}

/* ---- float twin of a loaded model ---- */

static void copy_fconv(LwcNet *n, const LwcNetConv *c, const LwcFloatConv *f)
{
    memcpy(n->params + c->w_off, f->w, (size_t)c->cout * c->cin * c->k * c->k * sizeof(float));
    if (c->b_off != (size_t)-1) memcpy(n->params + c->b_off, f->b, (size_t)c->cout * sizeof(float));
}

/* An integer layer as float: out = r_o (bias_o + sum w x), r_o = mult_o 2^-shift_o,
 * the integer arithmetic without its rounding. Input channel i is scaled by
 * in_scale(i) (the integer input is that many times the graph's float), and
 * output channel o by out_scale(o). */
static void twin_iconv(LwcNet *n, const LwcNetConv *c, const LwcIntConv *l, int q4_from, int q4_to,
                       int ms_mean)
{
    int kk = c->k * c->k, K = c->cin * kk;
    for (int o = 0; o < c->cout; o++) {
        double r = ldexp((double)l->mult[o], -(int)l->shift[o]);
        double os = ms_mean ? (o < ms_mean ? 1.0 / 16 : 1.0 / 256) : 1.0;
        for (int i = 0; i < K; i++) {
            int ci = i / kk;
            double is = ci >= q4_from && ci < q4_to ? 16.0 : 1.0;
            n->params[c->w_off + (size_t)o * K + i] = (float)(l->w[(size_t)o * K + i] * r * is * os);
        }
        n->params[c->b_off + o] = (float)(l->bias[o] * r * os);
    }
}

static int same_shape(const LwcNetConv *c, const LwcIntConv *l)
{
    return c->cin == l->cin && c->cout == l->cout && c->k == l->k && c->b_off != (size_t)-1;
}

int lwc_net_from_model(LwcNet *n, const LwcModel *m)
{
    LWC_FWD(lwc_net_init(n, &m->a, 1));
    const LwcArch *a = &m->a;
    int ms = a->M / a->S;
    LwcLayerSpec t[LWC_MAX_LAYERS];
    int count = lwc_layer_table(a, 0, t); /* the twin has no analysis branch */
    for (int i = 0; i < count; i++)
        if (!t[i].integer) copy_fconv(n, lwc_net_layer(n, &t[i]), lwc_model_float_layer((LwcModel *)m, &t[i]));
    int ok = same_shape(&n->hs0, &m->hs0) && same_shape(&n->hs1, &m->hs1);
    for (int s = 0; s < a->S; s++)
        ok &= same_shape(&n->ctx[s], &m->ctx[s]) && same_shape(&n->p0[s], &m->p0[s]) &&
              same_shape(&n->p1[s], &m->p1[s]) && same_shape(&n->p2[s], &m->p2[s]);
    if (!ok) { lwc_net_free(n); return LWC_ERR_INVAL; }
    /* h_s0 reads z_hat in Q4 in a version-2 model (lwc_model_hyper_input) */
    twin_iconv(n, &n->hs0, &m->hs0, 0, m->zigain ? a->Nz : 0, 0);
    twin_iconv(n, &n->hs1, &m->hs1, 0, 0, 0);
    for (int s = 0; s < a->S; s++) {
        twin_iconv(n, &n->ctx[s], &m->ctx[s], 0, ms, 0);
        twin_iconv(n, &n->p0[s], &m->p0[s], a->Ch, a->Ch + s * ms, 0);
        twin_iconv(n, &n->p1[s], &m->p1[s], 0, 0, 0);
        twin_iconv(n, &n->p2[s], &m->p2[s], 0, 0, ms);
    }
    for (size_t i = 0; i < (size_t)a->L * a->M; i++) {
        n->params[n->gain_off + i] = logf(fabsf(m->gain[i]) + 1e-12f);
        n->params[n->igain_off + i] = logf(fabsf(m->igain[i]) + 1e-12f);
    }
    for (int l = 0; l < a->L; l++) n->lambda[l] = m->lambda[l];
    for (size_t i = 0; m->zigain && i < (size_t)a->L * a->Nz; i++) {
        n->params[n->zgain_off + i] = logf(m->zgain[i]);
        n->params[n->zigain_off + i] = logf((float)m->zigain[i] / LWC_ZIGAIN_ONE);
    }
    return LWC_OK;
}

/* ---- export ---- */

static void put_fconv(LwcModelWriter *w, const LwcNet *n, const char *name, const LwcNetConv *c)
{
    char nm[64];
    uint32_t wd[4] = { (uint32_t)c->cout, (uint32_t)c->cin, (uint32_t)c->k, (uint32_t)c->k };
    snprintf(nm, sizeof(nm), "%s.w", name);
    lwc_mw_tensor(w, nm, LWC_DT_F32, 4, wd, n->params + c->w_off);
    if (c->b_off == (size_t)-1) return;
    snprintf(nm, sizeof(nm), "%s.b", name);
    lwc_mw_tensor(w, nm, LWC_DT_F32, 1, wd, n->params + c->b_off);
}

/* The float layers of one group of the layer table, in table order. */
static void put_group(LwcModelWriter *w, const LwcNet *n, const LwcLayerSpec *t, int count, int group)
{
    for (int i = 0; i < count; i++)
        if (t[i].group == group) put_fconv(w, n, t[i].name, lwc_net_layer((LwcNet *)n, &t[i]));
}

/* mult * 2^-shift ~= ratio with mult in [2^29, 2^30] where possible. */
static void fixed_ratio(double ratio, int32_t *mult, uint8_t *shift)
{
    int e;
    double f = frexp(ratio, &e); /* ratio = f * 2^e, f in [0.5, 1) */
    int s = 30 - e;
    if (ratio <= 0) { *mult = 0; *shift = 1; return; }
    if (s > 62) s = 62;
    if (s < 1) s = 1;
    double m = floor(ldexp(ratio, s) + 0.5);
    (void)f;
    *mult = (int32_t)LWC_MIN(m, 2147483647.0);
    *shift = (uint8_t)s;
}

/* The largest |accumulator| of output channel o, for inputs bounded by inmax. */
static double acc_bound(const int16_t *wq, int32_t bias, int K, int o, int inmax)
{
    double s = 0;
    for (int i = 0; i < K; i++) s += abs(wq[(size_t)o * K + i]);
    return s * inmax + fabs((double)bias);
}

/* Quantise a float conv (wf [cout][cin][k][k], bf [cout] or NULL) whose input
 * channel i has scale s_in[i] and whose output channel o must come out in
 * units of s_out[o], clamped to [lo, hi]. Folding s_in into the weights lets
 * one layer take inputs of mixed fixed-point formats. inmax > 0: inputs are
 * bounded by inmax and every channel's accumulator must provably stay below
 * LWC_INTWINO_ACC_BOUND, 2^29 (the loader requires only 2^31; below 2^29,
 * 4 * acc fits int32 too, which the exact integer Winograd needs), and a
 * channel that would not gets a coarser weight scale. */
static int put_iconv_raw(LwcModelWriter *w, const char *name, const float *wf, const float *bf, int cin,
                         int cout, int k, const float *s_in, const float *s_out, int lo, int hi, int inmax)
{
    int kk = k * k, K = cin * kk;
    size_t cnt = (size_t)cout * K;
    int16_t *wq = lwc_malloc_array(cnt, sizeof(int16_t));
    int32_t *bq = lwc_malloc_array((size_t)cout, 4), *mq = lwc_malloc_array((size_t)cout, 4);
    uint8_t *sq = lwc_malloc((size_t)cout);
    if (!wq || !bq || !mq || !sq) { lwc_free(wq); lwc_free(bq); lwc_free(mq); lwc_free(sq); return LWC_ERR_NOMEM; }
    for (int o = 0; o < cout; o++) {
        double wmax = 0;
        for (int i = 0; i < K; i++) wmax = fmax(wmax, fabs(wf[(size_t)o * K + i] * (double)s_in[i / kk]));
        double sw = wmax > 0 ? wmax / 2047.0 : 1.0;
        for (int tries = 0; tries < 16; tries++, sw *= 2) {
            for (int i = 0; i < K; i++)
                wq[(size_t)o * K + i] = (int16_t)floor(wf[(size_t)o * K + i] * (double)s_in[i / kk] / sw + 0.5);
            double b = bf ? floor(bf[o] / sw + 0.5) : 0;
            bq[o] = (int32_t)LWC_CLAMP(b, -1073741824.0, 1073741824.0);
            if (inmax <= 0 || acc_bound(wq, bq[o], K, o, inmax) < LWC_INTWINO_ACC_BOUND) break;
        }
        fixed_ratio(sw / s_out[o], &mq[o], &sq[o]);
    }
    char nm[64];
    uint32_t d[4] = { (uint32_t)cout, (uint32_t)cin, (uint32_t)k, (uint32_t)k }, two = 2;
    int32_t clamp[2] = { lo, hi };
    snprintf(nm, sizeof(nm), "%s.w", name); lwc_mw_tensor(w, nm, LWC_DT_I16, 4, d, wq);
    snprintf(nm, sizeof(nm), "%s.bias", name); lwc_mw_tensor(w, nm, LWC_DT_I32, 1, d, bq);
    snprintf(nm, sizeof(nm), "%s.mult", name); lwc_mw_tensor(w, nm, LWC_DT_I32, 1, d, mq);
    snprintf(nm, sizeof(nm), "%s.shift", name); lwc_mw_tensor(w, nm, LWC_DT_U8, 1, d, sq);
    snprintf(nm, sizeof(nm), "%s.clamp", name); lwc_mw_tensor(w, nm, LWC_DT_I32, 1, &two, clamp);
    lwc_free(wq); lwc_free(bq); lwc_free(mq); lwc_free(sq);
    return LWC_OK;
}

static int put_iconv(LwcModelWriter *w, const LwcNet *n, const char *name, const LwcNetConv *c,
                     const float *s_in, const float *s_out, int relu)
{
    const float *bf = c->b_off == (size_t)-1 ? NULL : n->params + c->b_off;
    return put_iconv_raw(w, name, n->params + c->w_off, bf, c->cin, c->cout, c->k, s_in, s_out,
                         relu ? 0 : -32767, 32767, 0);
}

/* The integer synthesis (model version 4; docs/bitstream.md, "Integer
 * synthesis"): scales from the calibration slots LWC_SA_* of act_max, the
 * activations held to +-LWC_SYN_ACT, the output in int16 units of
 * syn.oscale. */
static int put_int_synthesis(LwcModelWriter *w, const LwcNet *n, const float *am)
{
    const LwcArch *a = &n->a;
    const int M = a->M, D = a->D, C = LWC_WPT_CHANNELS, A = LWC_SYN_ACT;
    float s_a0[1024], s_t[LWC_WPT_CHANNELS], s_o[LWC_WPT_CHANNELS], s_r[LWC_WPT_CHANNELS], s_cat[1024 + LWC_WPT_CHANNELS];
    char nm[32];
    for (int c = 0; c < M; c++) s_a0[c] = am[LWC_SA_A0(c)] / A;
    for (int c = 0; c < D; c++) s_t[c] = am[LWC_SA_T(c)] / A;
    for (int c = 0; c < C; c++) s_o[c] = am[LWC_SA_O(c)] / 32767;
    /* a0 = round_shift(yq * ig, 16) with yq = y_hat in Q4 */
    size_t lm = (size_t)a->L * M;
    int32_t *ig = lwc_malloc_array(lm, sizeof(int32_t));
    float *wcat = lwc_malloc_array((size_t)C * (D + M), sizeof(float));
    int r = ig && wcat ? LWC_OK : LWC_ERR_NOMEM;
    for (size_t i = 0; r == LWC_OK && i < lm; i++) {
        double v = exp((double)n->params[n->igain_off + i]) / 16.0 / s_a0[i % M] * 65536.0;
        ig[i] = (int32_t)LWC_CLAMP(floor(v + 0.5), 0.0, (double)LWC_SYN_IGAIN_MAX);
    }
    uint32_t d[2] = { (uint32_t)a->L, (uint32_t)M }, dc = (uint32_t)C;
    if (r == LWC_OK) {
        lwc_mw_tensor(w, "syn.igain", LWC_DT_I32, 2, d, ig);
        lwc_mw_tensor(w, "syn.oscale", LWC_DT_F32, 1, &dc, s_o);
        const LwcNetConv *c = &n->gs_in;
        r = put_iconv_raw(w, "syn_in", n->params + c->w_off, n->params + c->b_off, M, D, 3, s_a0, s_t, 0, A, A);
    }
    for (int b = 0; b < a->B && r == LWC_OK; b++) {
        const LwcNetConv *c1 = &n->gs_rb[2 * b], *c2 = &n->gs_rb[2 * b + 1];
        for (int c = 0; c < D; c++) s_r[c] = am[LWC_SA_R(b)] / A;
        snprintf(nm, sizeof(nm), "syn_rb%d", 2 * b);
        r = put_iconv_raw(w, nm, n->params + c1->w_off, n->params + c1->b_off, D, D, 3, s_t, s_r, 0, A, A);
        snprintf(nm, sizeof(nm), "syn_rb%d", 2 * b + 1);
        if (r == LWC_OK)
            r = put_iconv_raw(w, nm, n->params + c2->w_off, n->params + c2->b_off, D, D, 3, s_r, s_t, -A, A, A);
    }
    if (r == LWC_OK) { /* one 1x1 layer over [t; a0]: g_s's output and skip summed in one accumulator */
        const float *wo = n->params + n->gs_out.w_off, *ws = n->params + n->gs_skip.w_off;
        for (int o = 0; o < C; o++) {
            memcpy(wcat + (size_t)o * (D + M), wo + (size_t)o * D, (size_t)D * sizeof(float));
            memcpy(wcat + (size_t)o * (D + M) + D, ws + (size_t)o * M, (size_t)M * sizeof(float));
        }
        memcpy(s_cat, s_t, (size_t)D * sizeof(float));
        memcpy(s_cat + D, s_a0, (size_t)M * sizeof(float));
        r = put_iconv_raw(w, "syn_out", wcat, n->params + n->gs_out.b_off, D + M, C, 1, s_cat, s_o, -32767, 32767, A);
    }
    lwc_free(ig);
    lwc_free(wcat);
    return r;
}

#define MAX_TAB 4096

/* Append one table to a growing CDF set being built for the writer. */
/* Tables of a set: up to LWC_CDF_BUILD_MAX (y: 2 * 8 * 64 with context
 * classes; z: 16 * 16 * 32 with context classes at 16 levels and Nz 32). */
#define LWC_CDF_BUILD_MAX 8192
typedef struct CdfBuild {
    uint32_t starts[LWC_CDF_BUILD_MAX], sizes[LWC_CDF_BUILD_MAX];
    int32_t offsets[LWC_CDF_BUILD_MAX];
    uint32_t *data;
    uint32_t len, cap;
    int count;
} CdfBuild;

static int cdf_add(CdfBuild *b, const double *pmf, int n, int offset)
{
    LWC_RET_IF(b->count == (int)(sizeof(b->starts) / sizeof(b->starts[0])), LWC_ERR_INVAL);
    if (b->len + n + 1 > b->cap) {
        uint32_t nc = LWC_MAX(2 * b->cap, b->len + n + 1 + 4096);
        uint32_t *nd = lwc_malloc_array(nc, 4);
        LWC_RET_IF(!nd, LWC_ERR_NOMEM);
        if (b->len) memcpy(nd, b->data, (size_t)b->len * 4);
        lwc_free(b->data);
        b->data = nd; b->cap = nc;
    }
    LWC_FWD(lwc_cdf_from_pmf(pmf, n, b->data + b->len));
    b->starts[b->count] = b->len; b->sizes[b->count] = (uint32_t)n; b->offsets[b->count] = offset;
    b->count++;
    b->len += (uint32_t)n + 1;
    return LWC_OK;
}

static void cdf_put(LwcModelWriter *w, const char *name, const CdfBuild *b)
{
    char nm[64];
    uint32_t cnt = (uint32_t)b->count;
    snprintf(nm, sizeof(nm), "%s.starts", name); lwc_mw_tensor(w, nm, LWC_DT_U32, 1, &cnt, b->starts);
    snprintf(nm, sizeof(nm), "%s.sizes", name); lwc_mw_tensor(w, nm, LWC_DT_U32, 1, &cnt, b->sizes);
    snprintf(nm, sizeof(nm), "%s.offsets", name); lwc_mw_tensor(w, nm, LWC_DT_I32, 1, &cnt, b->offsets);
    snprintf(nm, sizeof(nm), "%s.data", name); lwc_mw_tensor(w, nm, LWC_DT_U32, 1, &b->len, b->data);
}

/* z's tables: per density set and channel (L * Nz or Nz), or with context
 * classes per set, class and channel (tablefit.h); zfit NULL: the trained
 * density's. pmf holds MAX_TAB. */
static int put_ztables(CdfBuild *f, const LwcNet *n, const LwcTableFit *zfit, double *pmf)
{
    int Nz = n->a.Nz, K = zfit && zfit->zclasses > 1 ? zfit->zclasses : 1, r = LWC_OK;
    for (int s = 0; s < n->fact.channels / Nz && r == LWC_OK; s++)
        for (int k = 0; k < K && r == LWC_OK; k++)
            for (int c = 0; c < Nz && r == LWC_OK; c++) {
                int off, cnt, t = s * Nz + c; /* the trained density's table */
                r = lwc_factorized_pmf(&n->fact, t, MAX_TAB / 2 - 2, &off, pmf, &cnt);
                if (r == LWC_OK && K > 1) {
                    int t0 = s * K * Nz + c;
                    lwc_tablefit_blend_sum(zfit, t0, Nz, K, 0, LWC_TABLEFIT_PRIOR, pmf, cnt, off); /* pooled */
                    lwc_tablefit_blend_sum(zfit, t0 + k * Nz, Nz, 1, 0, LWC_TABLEFIT_CLASS_PRIOR, pmf, cnt, off);
                } else if (r == LWC_OK && zfit) {
                    lwc_tablefit_blend(zfit, t, 0, pmf, cnt, off);
                }
                if (r == LWC_OK) r = cdf_add(f, pmf, cnt, off);
            }
    return r;
}

/* The value each trained z table gives the most mass to ([n->fact.channels]):
 * the reference values of z's context classes. */
int lwc_net_zrefs(const LwcNet *n, int32_t *ref)
{
    double *pmf = lwc_malloc_array(MAX_TAB, sizeof(double));
    LWC_RET_IF(!pmf, LWC_ERR_NOMEM);
    int r = LWC_OK;
    for (int t = 0; t < n->fact.channels && r == LWC_OK; t++) {
        int off, cnt, best = 0;
        r = lwc_factorized_pmf(&n->fact, t, MAX_TAB / 2 - 2, &off, pmf, &cnt);
        for (int v = 1; r == LWC_OK && v < cnt - 1; v++) best = pmf[v] > pmf[best] ? v : best;
        ref[t] = LWC_CLAMP(best - off, -LWC_ZCTX_REF_MAX, LWC_ZCTX_REF_MAX); /* what a loader accepts */
    }
    lwc_free(pmf);
    return r;
}

static int put_tables(LwcModelWriter *w, const LwcNet *n, const LwcTableFit *fit, const LwcTableFit *zfit)
{
    double *pmf = lwc_malloc_array(MAX_TAB, sizeof(double));
    CdfBuild *gf = lwc_calloc(2, sizeof(CdfBuild)), *g = gf, *f = gf + 1; /* y's, z's */
    if (!pmf || !gf) { lwc_free(pmf); lwc_free(gf); return LWC_ERR_NOMEM; }
    double levels[LWC_NUM_SCALES], bounds[LWC_NUM_SCALES];
    int32_t thr[LWC_NUM_SCALES];
    lwc_scale_levels(levels);
    /* a scale takes the level whose table codes it in the fewest expected
     * bits (not the next level up, which cost 1 % at the lowest rate) */
    int r = lwc_gauss_table_bounds(levels, LWC_NUM_SCALES, bounds);
    for (int i = 0; i < LWC_NUM_SCALES; i++) thr[i] = (int32_t)floor(log(bounds[i]) * 256.0 + 0.5);
    for (int t = 0; t < (fit ? fit->tables : LWC_NUM_SCALES) && r == LWC_OK; t++) {
        int R, cnt = lwc_tablefit_pmf(fit, t, pmf, MAX_TAB, &R);
        r = cnt < 0 ? cnt : cdf_add(g, pmf, cnt, R);
    }
    r = r == LWC_OK ? put_ztables(f, n, zfit, pmf) : r;
    if (r == LWC_OK) {
        uint32_t d = LWC_NUM_SCALES;
        lwc_mw_tensor(w, "scale_thr", LWC_DT_I32, 1, &d, thr);
        uint32_t ne = fit ? (uint32_t)fit->ctx.edges : 0;
        if (ne) lwc_mw_tensor(w, "yctx.edges", LWC_DT_I32, 1, &ne, fit->ctx.edge);
        uint32_t pd[3] = { (uint32_t)n->a.M, 2, LWC_YPRED_TAPS };
        if (ne && fit->pred) lwc_mw_tensor(w, "ypred.w", LWC_DT_I16, 3, pd, fit->pred);
        cdf_put(w, "gauss", g);
        cdf_put(w, "fact", f);
        if (zfit && zfit->zclasses > 1) {
            uint32_t one = 1, nr = (uint32_t)n->fact.channels;
            int32_t k = zfit->zclasses;
            lwc_mw_tensor(w, "zctx.classes", LWC_DT_I32, 1, &one, &k);
            lwc_mw_tensor(w, "zctx.ref", LWC_DT_I32, 1, &nr, zfit->zref);
        }
    }
    lwc_free(pmf); lwc_free(g->data); lwc_free(f->data); lwc_free(gf);
    return r;
}

static int put_int_layers(LwcModelWriter *w, const LwcNet *n, const float *act_max)
{
    const LwcArch *a = &n->a;
    int ms = a->M / a->S;
    float s_in[2048], s_out[2048], s_hs0, s_hyp, s_ctx[LWC_MAX_SLICES];
    char nm[32];
    s_hs0 = act_max[LWC_IL_HS0] / 32767.0f;
    s_hyp = act_max[LWC_IL_HS1] / 32767.0f;
    for (int i = 0; i < 2048; i++) s_in[i] = 1.0f / (1 << LWC_ZIN_FRAC), s_out[i] = s_hs0;
    LWC_FWD(put_iconv(w, n, "hs0", &n->hs0, s_in, s_out, 1));
    for (int i = 0; i < 2048; i++) s_in[i] = s_hs0, s_out[i] = s_hyp;
    LWC_FWD(put_iconv(w, n, "hs1", &n->hs1, s_in, s_out, 1));
    for (int s = 0; s < a->S; s++) {
        s_ctx[s] = act_max[LWC_IL_CTX0 + s] / 32767.0f;
        for (int i = 0; i < 2048; i++) s_in[i] = 1.0f / 16, s_out[i] = s_ctx[s];
        snprintf(nm, sizeof(nm), "ctx%d", s);
        LWC_FWD(put_iconv(w, n, nm, &n->ctx[s], s_in, s_out, 1));
        int cin = a->Ch + s * ms + a->Cc;
        for (int i = 0; i < cin; i++) s_in[i] = i < a->Ch ? s_hyp : i < a->Ch + s * ms ? 1.0f / 16 : s_ctx[s];
        float s0 = act_max[LWC_IL_P(s, 0, a->S)] / 32767.0f, s1 = act_max[LWC_IL_P(s, 1, a->S)] / 32767.0f;
        for (int i = 0; i < 2048; i++) s_out[i] = s0;
        snprintf(nm, sizeof(nm), "p0_%d", s);
        LWC_FWD(put_iconv(w, n, nm, &n->p0[s], s_in, s_out, 1));
        for (int i = 0; i < 2048; i++) s_in[i] = s0, s_out[i] = s1;
        snprintf(nm, sizeof(nm), "p1_%d", s);
        LWC_FWD(put_iconv(w, n, nm, &n->p1[s], s_in, s_out, 1));
        for (int i = 0; i < 2048; i++) s_in[i] = s1, s_out[i] = i < ms ? 1.0f / 16 : 1.0f / 256;
        snprintf(nm, sizeof(nm), "p2_%d", s);
        LWC_FWD(put_iconv(w, n, nm, &n->p2[s], s_in, s_out, 0));
    }
    return LWC_OK;
}

/* Version 2: z's gains (f32) and inverse gains (Q16, held to the range a
 * loader accepts). */
static int put_zgains(LwcModelWriter *w, const LwcNet *n)
{
    const LwcArch *a = &n->a;
    size_t cnt = (size_t)a->L * a->Nz;
    uint32_t d[2] = { (uint32_t)a->L, (uint32_t)a->Nz };
    float *g = lwc_malloc_array(cnt, sizeof(float));
    int32_t *q = lwc_malloc_array(cnt, sizeof(int32_t));
    if (!g || !q) { lwc_free(g); lwc_free(q); return LWC_ERR_NOMEM; }
    for (size_t i = 0; i < cnt; i++) {
        g[i] = expf(n->params[n->zgain_off + i]);
        double v = floor(exp((double)n->params[n->zigain_off + i]) * LWC_ZIGAIN_ONE + 0.5);
        q[i] = (int32_t)LWC_CLAMP(v, (double)(LWC_ZIGAIN_ONE >> 12), (double)(LWC_ZIGAIN_ONE << 12));
    }
    lwc_mw_tensor(w, "zgain", LWC_DT_F32, 2, d, g);
    lwc_mw_tensor(w, "zigain", LWC_DT_I32, 2, d, q);
    lwc_free(g);
    lwc_free(q);
    return LWC_OK;
}

int lwc_net_export_fitted(const LwcNet *n, const float *act_max, int flags, const LwcTableFit *fit,
                          const LwcTableFit *zfit, uint8_t **out, size_t *size)
{
    const LwcArch *a = &n->a;
    LWC_RET_IF(a->Ch + a->M + a->Cc > 2048 || a->P > 2048, LWC_ERR_INVAL);
    int ctx = fit && fit->ctx.edges; /* version 6: version 4 with y tables per parity and context class */
    LwcYCtx yc = { 0 };
    if (ctx) yc = fit->ctx;
    LWC_RET_IF(ctx && (lwc_yctx_prepare(&yc) || fit->tables != 2 * lwc_yctx_classes(&fit->ctx) * LWC_NUM_SCALES),
               LWC_ERR_INVAL);
    LWC_RET_IF(fit && !ctx && fit->tables != LWC_NUM_SCALES && fit->tables != a->L * LWC_NUM_SCALES, LWC_ERR_INVAL);
    int zk = zfit && zfit->zclasses > 1 ? zfit->zclasses : 1; /* version 8: z tables per context class */
    LWC_RET_IF(zfit && (zfit->tables != n->fact.channels * zk || zk > LWC_ZCTX_CLASSES_MAX), LWC_ERR_INVAL);
    LWC_RET_IF(zk > 1 && !(fit && fit->pred), LWC_ERR_INVAL); /* version 8 builds on 7 */
    LWC_RET_IF(fit && fit->pred && !ctx, LWC_ERR_INVAL); /* version 7 builds on 6 */
    int per_level = fit && !ctx && fit->tables > LWC_NUM_SCALES; /* version 5: version 4 with y tables per level */
    LWC_RET_IF((per_level || ctx) && !(flags & LWC_EXPORT_INT_SYNTHESIS), LWC_ERR_INVAL);
    LwcModelWriter w;
    lwc_mw_init(&w);
    if (lwc_net_zdensity_sets(n) > 1) w.version = 3;
    if (flags & LWC_EXPORT_INT_SYNTHESIS) w.version = 4;
    if (per_level) w.version = 5;
    if (ctx) w.version = fit->pred ? 7 : 6; /* 7: 6 with in-pass prediction */
    if (zk > 1) w.version = 8;
    uint32_t d = LWC_ARCH_FIELDS, lm[2] = { (uint32_t)a->L, (uint32_t)a->M }, l1 = (uint32_t)a->L;
    lwc_mw_tensor(&w, "arch", LWC_DT_I32, 1, &d, &n->a);
    LwcLayerSpec t[LWC_MAX_LAYERS];
    int count = lwc_layer_table(a, n->ab, t);
    put_group(&w, n, t, count, LWC_GROUP_ANALYSIS);
    put_group(&w, n, t, count, LWC_GROUP_BRANCH);
    size_t lmn = (size_t)a->L * a->M;
    float *g = lwc_malloc_array(2 * lmn, sizeof(float));
    if (!g) { lwc_mw_free(&w); return LWC_ERR_NOMEM; }
    for (size_t i = 0; i < 2 * lmn; i++) g[i] = expf(n->params[n->gain_off + i]);
    lwc_mw_tensor(&w, "gain", LWC_DT_F32, 2, lm, g);
    lwc_mw_tensor(&w, "igain", LWC_DT_F32, 2, lm, g + lmn);
    lwc_free(g);
    lwc_mw_tensor(&w, "lambda", LWC_DT_F32, 1, &l1, n->lambda);
    if (put_zgains(&w, n)) { lwc_mw_free(&w); return LWC_ERR_NOMEM; }
    put_group(&w, n, t, count, LWC_GROUP_SYNTHESIS);
    int r = put_int_layers(&w, n, act_max);
    if (r == LWC_OK) r = put_tables(&w, n, fit, zfit);
    if (r == LWC_OK && (flags & LWC_EXPORT_INT_SYNTHESIS)) r = put_int_synthesis(&w, n, act_max);
    if (r == LWC_OK) r = lwc_mw_finish(&w, out, size);
    lwc_mw_free(&w);
    return r;
}

int lwc_net_export_flags(const LwcNet *n, const float *act_max, int flags, uint8_t **out, size_t *size)
{
    return lwc_net_export_fitted(n, act_max, flags, NULL, NULL, out, size);
}

int lwc_net_export(const LwcNet *n, const float *act_max, uint8_t **out, size_t *size)
{
    return lwc_net_export_flags(n, act_max, 0, out, size);
}
