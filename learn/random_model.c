/* Models with fixed pseudo-random weights, for tests (random_model.h). */
#include <math.h>

#include "common/common.h"
#include "learn/graph.h"
#include "learn/likelihood.h"
#include "learn/random_model.h"
#include "learn/tablefit.h"

/* The synthesis' calibration slots from one smooth 64x64 test card coded at
 * every level (with headroom, as the trainer's export), so that the integer
 * synthesis of a random model clamps no more than a trained one. */
static int calibrate_synthesis(const LwcNet *n, float *act_max)
{
    const int size = 64;
    LwcGraph *g;
    float *x = lwc_malloc_array((size_t)3 * size * size, sizeof(float));
    float *am = lwc_calloc(LWC_ACT_SLOTS, sizeof(float));
    int r = x && am ? lwc_graph_create(&g, n, size) : LWC_ERR_NOMEM;
    for (int i = 0; x && i < 3 * size * size; i++)
        x[i] = 0.4f * sinf(0.15f * (float)(i % size) + 0.1f * (float)(i / size % size) + (float)(i / (size * size)));
    for (int l = 0; r == LWC_OK && l < n->a.L; l++) {
        uint64_t rng = 1;
        r = lwc_graph_run(g, x, l, 0, &rng, 0, NULL, NULL, am, NULL);
    }
    for (int i = LWC_SA_R(0); r == LWC_OK && i < LWC_ACT_SLOTS; i++) act_max[i] = fmaxf(am[i] * 1.25f, 1e-3f);
    if (x && am) lwc_graph_free(&g);
    lwc_free(x);
    lwc_free(am);
    return r;
}

/* y tables per parity and context class (LWC_RANDOM_MODEL_YCTX): edges at
 * mean |q| 0.01, 0.5 and 1.5, and each class's tables counted from a
 * Laplacian of its own width (0.5 to 2.6 times the table's scale), so that
 * a coder that takes another class's table cannot decode. */
static int yctx_fit(LwcTableFit *f)
{
    static const double means[3] = { 0.01, 0.5, 1.5 };
    double lv[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    LWC_FWD(lwc_tablefit_init(f, 8 * LWC_SCALE_LEVELS));
    int r = lwc_yctx_from_means(&f->ctx, means, 3);
    for (int t = 0; r == LWC_OK && t < f->tables; t++) {
        double b = lv[t % LWC_SCALE_LEVELS] * (0.5 + 0.3 * (t / LWC_SCALE_LEVELS));
        int R = (int)LWC_MIN(LWC_TABLEFIT_R, 10.0 * b + 2);
        for (int v = -R; v <= R; v++)
            for (int k = (int)floor(4000.0 * exp(-fabs((double)v) / b) / b + 0.5); k > 0; k--) lwc_tablefit_add(f, t, v);
    }
    if (r < 0) lwc_tablefit_free(f);
    return r;
}

/* In-pass prediction weights (LWC_RANDOM_MODEL_YPRED) of M channels:
 * -0.85 .. 0.85 in a pattern that differs per channel, parity and tap. */
static void ypred_weights(int16_t *w, int M)
{
    for (int k = 0; k < M * 2 * LWC_YPRED_TAPS; k++) w[k] = (int16_t)(((k * 7 + k / LWC_YPRED_TAPS * 3) % 11 - 5) * 700);
}

/* z tables per context class (LWC_RANDOM_MODEL_ZCTX): 4 classes, the
 * reference value of table t (t = set * Nz + channel) (t % 3) - 1, and
 * each class's tables counted from a Laplacian around it of its own width
 * (0.4 to 2.2), so that a coder that takes another class's table cannot
 * decode. ref: [tables]. */
#define ZCTX_CLASSES 4
static int zctx_fit(LwcTableFit *f, int tables, int Nz, int32_t *ref)
{
    LWC_FWD(lwc_tablefit_init(f, tables * ZCTX_CLASSES));
    f->zclasses = ZCTX_CLASSES;
    f->zref = ref;
    for (int t = 0; t < tables; t++) {
        ref[t] = t % 3 - 1;
        int s = t / Nz, c = t % Nz;
        for (int k = 0; k < ZCTX_CLASSES; k++) {
            double b = 0.4 + 0.6 * k;
            for (int v = -12; v <= 12; v++)
                for (int q = (int)floor(4000.0 * exp(-fabs((double)v) / b) / b + 0.5); q > 0; q--)
                    lwc_tablefit_add(f, (s * ZCTX_CLASSES + k) * Nz + c, ref[t] + v);
        }
    }
    return LWC_OK;
}

int lwc_net_random_model_flags(const LwcArch *a, uint64_t seed, int zsets, int flags, uint8_t **out, size_t *size)
{
    LwcNet n;
    float *act_max = lwc_malloc_array(LWC_ACT_SLOTS, sizeof(float));
    LWC_RET_IF(!act_max, LWC_ERR_NOMEM);
    for (int i = 0; i < LWC_ACT_SLOTS; i++) act_max[i] = 8.0f;
    int r = lwc_net_init(&n, a, seed);
    if (r < 0) { lwc_free(act_max); return r; }
    /* hyper-latent gains away from 1, so that tests run their path */
    for (int l = 0; l < a->L; l++)
        for (int c = 0; c < a->Nz; c++) {
            float g = 0.3f * sinf(1.7f * (float)l + 0.9f * (float)c);
            n.params[n.zgain_off + (size_t)l * a->Nz + c] = g;
            n.params[n.zigain_off + (size_t)l * a->Nz + c] = -g + 0.1f * cosf((float)c);
        }
    r = zsets > 1 ? lwc_net_split_zdensity(&n, NULL, NULL) : LWC_OK;
    /* per level: each level's densities shifted and widened differently, so
     * that a coder using another level's tables cannot decode */
    for (int c = 0; r == LWC_OK && zsets > 1 && c < n.fact.channels; c++) {
        int l = c / a->Nz;
        n.fact.params[n.fact.bias_off[LWC_FACT_LAYERS - 1] + c] += 0.7f * (float)l;
        n.fact.params[n.fact.matrix_off[0] + 3 * (size_t)c] -= 0.4f * (float)l;
    }
    if (r == LWC_OK && (flags & LWC_EXPORT_INT_SYNTHESIS)) r = calibrate_synthesis(&n, act_max);
    LwcTableFit fit = { 0 };
    int16_t *pw = NULL;
    if (r == LWC_OK && (flags & LWC_RANDOM_MODEL_YCTX)) r = yctx_fit(&fit);
    if (r == LWC_OK && fit.count && (flags & LWC_RANDOM_MODEL_YPRED)) {
        pw = lwc_malloc_array((size_t)a->M * 2 * LWC_YPRED_TAPS, sizeof(int16_t));
        if (pw) ypred_weights(pw, a->M), fit.pred = pw;
        else r = LWC_ERR_NOMEM;
    }
    LwcTableFit zfit = { 0 };
    int32_t *zref = NULL;
    if (r == LWC_OK && pw && (flags & LWC_RANDOM_MODEL_ZCTX)) {
        zref = lwc_malloc_array((size_t)n.fact.channels, sizeof(int32_t));
        r = zref ? zctx_fit(&zfit, n.fact.channels, a->Nz, zref) : LWC_ERR_NOMEM;
    }
    if (r == LWC_OK)
        r = lwc_net_export_fitted(&n, act_max, flags & ~(LWC_RANDOM_MODEL_YCTX | LWC_RANDOM_MODEL_YPRED | LWC_RANDOM_MODEL_ZCTX),
                                  fit.count ? &fit : NULL, zfit.count ? &zfit : NULL, out, size);
    lwc_tablefit_free(&fit);
    lwc_tablefit_free(&zfit);
    lwc_free(zref);
    lwc_free(pw);
    lwc_net_free(&n);
    lwc_free(act_max);
    return r;
}

int lwc_net_random_model_z(const LwcArch *a, uint64_t seed, int zsets, uint8_t **out, size_t *size)
{
    return lwc_net_random_model_flags(a, seed, zsets, 0, out, size);
}

int lwc_net_random_model(const LwcArch *a, uint64_t seed, uint8_t **out, size_t *size)
{
    return lwc_net_random_model_z(a, seed, 1, out, size);
}
