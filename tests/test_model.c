/* Model files of version 2: the hyper-latent gains. Their integer
 * interpolation and the input of h_s are checked against the formulas
 * written out here; a version-1 model keeps z_hat unscaled; broken gains
 * and unknown versions are refused. The layer table: every entry names a
 * layer of the loaded model with the table's shape, and the multiply-add
 * count it gives matches the closed form written out here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "codec/layer_table.h"
#include "codec/model.h"
#include "testutil.h"

static LwcModel *load(const char *path, uint8_t **buf, size_t *len)
{
    LwcModel *m;
    *buf = test_slurp(path, len);
    ck_assert_int_eq(lwc_model_load(&m, *buf, *len), 0);
    return m;
}

/* floor(v / 2^s + 1/2) in exact arithmetic */
static int64_t ref_round_shift(int64_t v, int s)
{
    int64_t d = (int64_t)1 << s, q = v / d, r = v % d;
    if (r < 0) { q--; r += d; }
    return q + (2 * r >= d);
}

START_TEST(zigain_interpolation_is_exact)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load("tests/golden/tiny-zg.lwcm", &b, &len);
    int L = m->a.L, Nz = m->a.Nz;
    ck_assert_int_eq(m->version, 2);
    ck_assert_int_ge(L, 3);
    int32_t zi[1024];
    int qs[] = { 0, 1, 3700, 5000, 6666, 9999, 10000 };
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        lwc_model_zigains_q(m, qs[k], zi);
        int64_t t = (int64_t)qs[k] * (L - 1);
        int l = (int)(t / 10000), f = (int)(t % 10000);
        if (l >= L - 1) { l = L - 2; f = 10000; }
        for (int c = 0; c < Nz; c++) {
            int64_t want = ((int64_t)m->zigain[l * Nz + c] * (10000 - f) + (int64_t)m->zigain[(l + 1) * Nz + c] * f + 5000) / 10000;
            ck_assert_int_eq(zi[c], want);
        }
    }
    lwc_model_zigains_q(m, 0, zi);
    for (int c = 0; c < Nz; c++) ck_assert_int_eq(zi[c], m->zigain[c]);
    lwc_model_zigains_q(m, 10000, zi);
    for (int c = 0; c < Nz; c++) ck_assert_int_eq(zi[c], m->zigain[(L - 1) * Nz + c]);
    /* the gains are not all 1, or this model tests nothing */
    int differ = 0;
    for (int i = 0; i < L * Nz; i++) differ += m->zigain[i] != LWC_ZIGAIN_ONE;
    ck_assert_int_gt(differ, L * Nz / 2);
    /* h_s's input: Q4 of z_hat times the inverse gain, rounded half up */
    size_t n = 5;
    int32_t *z = malloc((size_t)Nz * n * 4), *out = malloc((size_t)Nz * n * 4);
    int32_t vals[5] = { -7, -1, 0, 3, 1000 };
    for (int c = 0; c < Nz; c++)
        for (size_t i = 0; i < n; i++) z[c * n + i] = vals[i];
    lwc_model_hyper_input(m, 3700, z, n, out);
    lwc_model_zigains_q(m, 3700, zi);
    for (int c = 0; c < Nz; c++)
        for (size_t i = 0; i < n; i++)
            ck_assert_int_eq(out[c * n + i], ref_round_shift((int64_t)vals[i] * zi[c], 16 - LWC_ZIN_FRAC));
    free(z); free(out);
    lwc_model_free(&m);
    free(b);
}
END_TEST

START_TEST(version1_model_keeps_z_unscaled)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load("tests/golden/tiny.lwcm", &b, &len);
    ck_assert_int_eq(m->version, 1);
    ck_assert_ptr_null(m->zgain);
    ck_assert_ptr_null(m->zigain);
    int32_t z[4 * 64], out[4 * 64];
    ck_assert_int_le(m->a.Nz, 64);
    for (int i = 0; i < m->a.Nz * 4; i++) z[i] = i % 7 - 3;
    lwc_model_hyper_input(m, 5000, z, 4, out);
    ck_assert(!memcmp(z, out, (size_t)m->a.Nz * 4 * sizeof(int32_t)));
    float zg[64];
    lwc_model_zgains(m, 42, zg);
    for (int c = 0; c < m->a.Nz; c++) ck_assert_float_eq(zg[c], 1.0f);
    lwc_model_free(&m);
    free(b);
}
END_TEST

/* Offset of the payload of tensor `name` in a model file. */
static size_t tensor_payload(const uint8_t *b, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 2; i + nl + 2 < len; i++)
        if (!memcmp(b + i, name, nl) && b[i - 2] == nl && b[i - 1] == 0) {
            int ndim = b[i + nl + 1];
            return i + nl + 2 + 4 * (size_t)ndim;
        }
    ck_abort_msg("no tensor %s", name);
    return 0;
}

/* Version 4: the integer synthesis loads; malformed parts are corrupt, and
 * weights whose 32-bit accumulator could overflow are refused as a model
 * this decoder will not run (LWC_ERR_MODEL). */
START_TEST(integer_synthesis_is_checked)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load("tests/golden/tiny-is.lwcm", &b, &len);
    ck_assert_int_eq(m->version, 4);
    ck_assert(m->int_synthesis);
    int K = m->syn_rb[0].cin * 9;
    lwc_model_free(&m);
    uint8_t *x = malloc(len);
    int32_t big = INT32_MAX - 1000, hi = LWC_SYN_ACT + 1, neg = -1;
    float nan = NAN;
    memcpy(x, b, len);
    memcpy(x + tensor_payload(x, len, "syn_in.bias"), &big, 4); /* sum |w| * 2047 + |bias| > 2^31 - 1 */
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_MODEL);
    memcpy(x, b, len);
    int32_t b16 = 1600000000; /* with its own weights channel 0 still fits ... */
    memcpy(x + tensor_payload(x, len, "syn_rb1.bias"), &b16, 4);
    ck_assert_int_eq(lwc_model_load(&m, x, len), 0);
    lwc_model_free(&m);
    size_t w = tensor_payload(x, len, "syn_rb1.w"); /* ... with the largest weights it would not */
    for (int i = 0; i < K; i++) { int16_t v = (int16_t)(i & 1 ? -2047 : 2047); memcpy(x + w + 2 * i, &v, 2); }
    ck_assert(2047.0 * 2047 * K + b16 > INT32_MAX);
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_MODEL);
    memcpy(x, b, len);
    memcpy(x + tensor_payload(x, len, "syn_rb0.clamp") + 4, &hi, 4); /* activations beyond +-2047 */
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    memcpy(x, b, len);
    memcpy(x + tensor_payload(x, len, "syn.igain") + 12, &neg, 4);
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    memcpy(x, b, len);
    memcpy(x + tensor_payload(x, len, "syn.oscale") + 8, &nan, 4);
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    free(x);
    free(b);
    /* a version-3 file called version 4 lacks the synthesis tensors */
    b = test_slurp("tests/golden/tiny-zl.lwcm", &len);
    b[4] = 4;
    ck_assert_int_eq(lwc_model_load(&m, b, len), LWC_ERR_CORRUPT);
    free(b);
}
END_TEST

/* The integer synthesis' input gains: exact at the levels, and in between
 * within rounding + 1e-6 of the geometric path the float gains follow. */
START_TEST(syn_igains_follow_the_geometric_path)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load("tests/golden/tiny-is.lwcm", &b, &len);
    int M = m->a.M, L = m->a.L;
    int32_t ig[1024];
    double worst = 0;
    for (int q = 0; q <= 10000; q += 7) {
        lwc_model_syn_igains_q(m, q, ig);
        double t = q * (L - 1) / 10000.0;
        int l = (int)t;
        if (l >= L - 1) l = L - 2;
        double f = t - l;
        for (int c = 0; c < M; c++) {
            double a = m->syn_igain[l * M + c], bb = m->syn_igain[(l + 1) * M + c];
            double want = a > 0 && bb > 0 ? a * pow(bb / a, f) : a + (bb - a) * f;
            if (f == 0) ck_assert_int_eq(ig[c], m->syn_igain[l * M + c]);
            worst = fmax(worst, (fabs(ig[c] - want) - 0.5) / fmax(want, 1)); /* beyond the rounding */
        }
    }
    ck_assert_msg(worst < 1e-6, "worst relative error %g", worst);
    lwc_model_syn_igains_q(m, 10000, ig);
    for (int c = 0; c < M; c++) ck_assert_int_eq(ig[c], m->syn_igain[(L - 1) * M + c]);
    lwc_model_free(&m);
    free(b);
}
END_TEST

/* The scale-index table equals its definition: the first threshold >= v,
 * by binary search, capped at the last level. */
START_TEST(scale_lut_matches_the_thresholds)
{
    uint8_t *buf;
    size_t len;
    LwcModel *m = load("models/lwc-default.lwcm", &buf, &len);
    for (int v = -32768; v <= 32767; v++) {
        int lo = 0, hi = LWC_NUM_SCALES - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (m->scale_thr[mid] < v) lo = mid + 1; else hi = mid;
        }
        ck_assert_int_eq(m->scale_lut[v + 32768], lo);
    }
    lwc_model_free(&m);
    free(buf);
}
END_TEST

START_TEST(broken_gains_and_versions_are_refused)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load("tests/golden/tiny-zg.lwcm", &b, &len);
    lwc_model_free(&m);
    uint8_t *x = malloc(len);
    int32_t bad_i[] = { 0, -5, LWC_ZIGAIN_ONE << 13 };
    for (size_t k = 0; k < 3; k++) {
        memcpy(x, b, len);
        memcpy(x + tensor_payload(x, len, "zigain") + 8, &bad_i[k], 4);
        ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    }
    float bad_f[] = { 0.0f, -1.0f, NAN, INFINITY };
    for (size_t k = 0; k < 4; k++) {
        memcpy(x, b, len);
        memcpy(x + tensor_payload(x, len, "zgain") + 4, &bad_f[k], 4);
        ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    }
    memcpy(x, b, len); /* scale thresholds out of order (the scale index is a binary search) */
    int32_t t4;
    memcpy(&t4, x + tensor_payload(x, len, "scale_thr") + 16, 4);
    t4 -= 1000000;
    memcpy(x + tensor_payload(x, len, "scale_thr") + 20, &t4, 4);
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    memcpy(x, b, len);
    x[4] = LWC_MODEL_VERSION_MAX + 1; /* a newer version */
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_VERSION);
    x[4] = 3; /* version 3 needs L * Nz z tables; this file has Nz */
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    x[4] = 0;
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_VERSION);
    memcpy(x, b, len);
    x[4] = 1; /* version 1 with the gains present: they are ignored, the model is valid */
    ck_assert_int_eq(lwc_model_load(&m, x, len), 0);
    ck_assert_ptr_null(m->zigain);
    lwc_model_free(&m);
    free(x);
    free(b);
}
END_TEST

/* z's context classes (codec/zctx.h) by hand: the six taps, the cap per
 * tap and in all, the reference value, the map's edges, values far apart. */
START_TEST(zctx_class_by_hand)
{
    /* 3 x 4 plane; class of (2, 2): W (2,1), N (1,2), NW (1,1), NE (1,3), WW (2,0), NN (0,2) */
    int32_t z[12] = { 5, 5, 7, 5,
                      5, 6, 5, 9,
                      4, 5, 0, 0 };
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 2, 2, 5, 16), 0 + 0 + 1 + 4 + 1 + 2);
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 2, 2, 5, 4), 3);                 /* capped in all */
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 2, 2, 5, 9), 0 + 0 + 1 + 4 + 1 + 2); /* 8 */
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 2, 2, 5, 1), 0);
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 0, 0, 0, 16), 0);                /* no taps */
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 0, 1, 5, 16), 0);                /* W only */
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 1, 0, 0, 16), 5 + 5);            /* N, NE */
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 1, 3, 5, 16), 0 + 0 + 2 + 1);    /* W, N, NW, WW (no NE, NN) */
    ck_assert_int_eq(lwc_zctx_class(z, 3, 4, 2, 3, 0, 16), 15);                /* 0 + 9 + 5 + 5 + 5: capped */
    int32_t far[2] = { INT32_MIN, 0 };
    ck_assert_int_eq(lwc_zctx_class(far, 1, 2, 0, 1, LWC_ZCTX_REF_MAX, 16), 15); /* no overflow */
}
END_TEST

/* Version 8: the classes and reference values load; bad ones, or a
 * version 8 without them, are corrupt. */
START_TEST(zctx_is_checked)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load("tests/golden/tiny-zctx.lwcm", &b, &len);
    ck_assert(m->version == 8 && m->zclasses == 4 && m->zsets == m->a.L);
    ck_assert_int_eq(m->fact.count, m->a.L * 4 * m->a.Nz);
    for (int t = 0; t < m->a.L * m->a.Nz; t++) ck_assert_int_eq(m->zref[t], t % 3 - 1);
    ck_assert_ptr_eq(lwc_model_zref(m, 10000), m->zref + (m->a.L - 1) * m->a.Nz);
    ck_assert_int_eq(lwc_model_ztable(m, 10000), (m->a.L - 1) * 4 * m->a.Nz);
    lwc_model_free(&m);
    uint8_t *x = malloc(len);
    int32_t bad_k[] = { 1, 0, LWC_ZCTX_CLASSES_MAX + 1, 5 }, bad_ref[] = { LWC_ZCTX_REF_MAX + 1, -LWC_ZCTX_REF_MAX - 1 };
    for (size_t k = 0; k < 4; k++) { /* 5 classes: the tables no longer add up */
        memcpy(x, b, len);
        memcpy(x + tensor_payload(x, len, "zctx.classes"), &bad_k[k], 4);
        ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    }
    for (size_t k = 0; k < 2; k++) {
        memcpy(x, b, len);
        memcpy(x + tensor_payload(x, len, "zctx.ref") + 12, &bad_ref[k], 4);
        ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    }
    memcpy(x, b, len);
    x[tensor_payload(x, len, "zctx.ref") - 8] = 'x'; /* renamed: no reference values */
    ck_assert_int_eq(lwc_model_load(&m, x, len), LWC_ERR_CORRUPT);
    free(x);
    free(b);
    m = load("tests/golden/tiny-pred.lwcm", &b, &len);
    lwc_model_free(&m);
    b[4] = 8; /* a version 7 read as 8: no classes */
    ck_assert_int_eq(lwc_model_load(&m, b, len), LWC_ERR_CORRUPT);
    free(b);
}
END_TEST

static void check_table(const char *path)
{
    uint8_t *b;
    size_t len;
    LwcModel *m = load(path, &b, &len);
    LwcLayerSpec t[LWC_MAX_LAYERS];
    int n = lwc_layer_table(&m->a, m->ab, t);
    const LwcArch *a = &m->a;
    ck_assert_int_eq(n, 3 + (m->ab ? 2 : 0) + 2 * a->B + 3 + 2 + 4 * a->S);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) ck_assert_str_ne(t[i].name, t[j].name);
        if (i) ck_assert_int_ge(t[i].group, t[i - 1].group); /* grouped, in group order */
        if (t[i].integer) {
            const LwcIntConv *c = lwc_model_int_layer(m, &t[i]);
            ck_assert_ptr_nonnull(c);
            ck_assert_ptr_null(lwc_model_float_layer(m, &t[i]));
            ck_assert(c->cin == t[i].cin && c->cout == t[i].cout && c->k == t[i].k);
        } else {
            const LwcFloatConv *c = lwc_model_float_layer(m, &t[i]);
            ck_assert_ptr_nonnull(c);
            ck_assert_ptr_null(lwc_model_int_layer(m, &t[i]));
            ck_assert(c->cin == t[i].cin && c->cout == t[i].cout && c->k == t[i].k && c->stride == t[i].stride);
            ck_assert_int_eq(c->b != NULL, t[i].bias);
            ck_assert_int_eq(c->wu != NULL, t[i].winograd && !m->int_synthesis);
        }
    }
    /* per pixel: synthesis and entropy nets at H/8 (the context at half the
     * positions), h_s at H/16 and H/8, h_a at H/16 and H/32 */
    int ms = a->M / a->S, ab = m->ab;
    double syn = (9.0 * a->M * a->D + 2.0 * a->B * 9 * a->D * a->D + a->D * 192.0 + a->M * 192.0) / 64, ent = 0;
    for (int s = 0; s < a->S; s++)
        ent += ((double)(a->Ch + s * ms + a->Cc) * a->P + (double)a->P * a->P + 2.0 * a->P * ms + 9.0 * ms * a->Cc / 2) / 64;
    double hyp = 9.0 * a->Nz * a->N / 256 + 9.0 * a->N * a->Ch / 64;
    double enc = 192.0 * a->M / 64 + 9.0 * a->M * a->N / 256 + 9.0 * a->N * a->Nz / 1024 + (192.0 + a->M) * ab / 64;
    LwcMacs k = lwc_model_macs(a, ab);
    ck_assert_double_eq_tol(k.syn, syn, 1e-9 * syn);
    ck_assert_double_eq_tol(k.ent, ent, 1e-9 * ent);
    ck_assert_double_eq_tol(k.hyp, hyp, 1e-9 * hyp);
    ck_assert_double_eq_tol(k.enc, enc, 1e-9 * enc);
    lwc_model_free(&m);
    free(b);
}

START_TEST(layer_table_matches_models)
{
    check_table("tests/golden/tiny.lwcm");
    check_table("tests/golden/tiny-zg.lwcm");
    check_table("tests/golden/tiny-is.lwcm");
    check_table("models/lwc-default.lwcm"); /* the shipped one, with an analysis branch */
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *t = tcase_create("zgains");
    tcase_add_test(t, zigain_interpolation_is_exact);
    tcase_add_test(t, version1_model_keeps_z_unscaled);
    tcase_add_test(t, broken_gains_and_versions_are_refused);
    tcase_add_test(t, scale_lut_matches_the_thresholds);
    tcase_add_test(t, integer_synthesis_is_checked);
    tcase_add_test(t, syn_igains_follow_the_geometric_path);
    tcase_add_test(t, layer_table_matches_models);
    tcase_add_test(t, zctx_class_by_hand);
    tcase_add_test(t, zctx_is_checked);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(model_suite()); }
