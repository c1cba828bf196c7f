/* rANS coder and CDF tables: round trips, coded size, escapes, table
 * invariants, broken streams (run under ASan too), allocation failures. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"
#include "testutil.h"

enum { PMF_UNIFORM, PMF_PEAKED, PMF_DEGENERATE, PMF_RANDOM, PMF_SPARSE, PMF_KINDS };

/* A random distribution of the given kind over n symbols. */
static void make_pmf(TestRng *r, int n, int kind, double *pmf)
{
    double decay = 0.05 + 0.9 * trng_uniform(r);
    int peak = (int)(trng_u64(r) % (uint64_t)n);
    for (int i = 0; i < n; i++) {
        switch (kind) {
        case PMF_UNIFORM: pmf[i] = 1.0; break;
        case PMF_PEAKED: pmf[i] = pow(decay, abs(i - peak)); break;
        case PMF_DEGENERATE: pmf[i] = i == peak ? 1.0 : 1e-9 * trng_uniform(r); break;
        case PMF_RANDOM: pmf[i] = pow(trng_uniform(r), 4); break;
        default: pmf[i] = trng_u64(r) % 4 == 0 ? trng_uniform(r) : 0.0; break;
        }
    }
    if (kind == PMF_SPARSE) pmf[peak] += 1.0;
}

/* Draw a symbol with the quantised probabilities of the table. */
static int draw_symbol(TestRng *r, const uint32_t *cdf, int n)
{
    return lwc_cdf_lookup(cdf, n, (uint32_t)(trng_u64(r) >> 48));
}

static void put_sym(LwcRansEnc *e, const uint32_t *cdf, int s)
{
    ck_assert_int_eq(lwc_rans_enc_put(e, cdf[s], cdf[s + 1] - cdf[s]), 0);
}

static int get_sym(LwcRansDec *d, const uint32_t *cdf, int n)
{
    int s = lwc_cdf_lookup(cdf, n, lwc_rans_dec_peek(d));
    ck_assert(cdf[s] <= lwc_rans_dec_peek(d) && lwc_rans_dec_peek(d) < cdf[s + 1]);
    lwc_rans_dec_advance(d, cdf[s], cdf[s + 1] - cdf[s]);
    return s;
}

static void check_table(const uint32_t *cdf, int n)
{
    ck_assert_uint_eq(cdf[0], 0);
    ck_assert_uint_eq(cdf[n], LWC_RANS_TOTAL);
    for (int i = 0; i < n; i++) ck_assert_uint_gt(cdf[i + 1], cdf[i]);
    ck_assert_int_eq(lwc_cdf_validate(cdf, n), 0);
}

/* Encode e's queue, returning the stream (caller lwc_frees). */
static uint8_t *finish_ok(LwcRansEnc *e, size_t *size)
{
    uint8_t *buf = NULL;
    ck_assert_int_eq(lwc_rans_enc_finish(e, &buf, size), 0);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_ge(*size, 8);
    ck_assert_uint_eq(*size % 4, 0);
    return buf;
}

/* ---- round trips ---- */

/* Loop index i: alphabet kind i % PMF_KINDS, seed i. */
START_TEST(test_roundtrip_random_tables)
{
    TestRng r;
    trng_seed(&r, 100 + (uint64_t)_i);
    int n = 2 + (int)(trng_u64(&r) % 299), kind = _i % PMF_KINDS, count = 60000;
    double pmf[300];
    uint32_t cdf[301];
    make_pmf(&r, n, kind, pmf);
    ck_assert_int_eq(lwc_cdf_from_pmf(pmf, n, cdf), 0);
    check_table(cdf, n);
    int *syms = malloc(sizeof(int) * (size_t)count);
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    for (int i = 0; i < count; i++) put_sym(&e, cdf, syms[i] = draw_symbol(&r, cdf, n));
    ck_assert_uint_eq(lwc_rans_enc_count(&e), (size_t)count);
    size_t size;
    uint8_t *buf = finish_ok(&e, &size);
    LwcRansDec d;
    ck_assert_int_eq(lwc_rans_dec_init(&d, buf, size), 0);
    for (int i = 0; i < count; i++) ck_assert_int_eq(get_sym(&d, cdf, n), syms[i]);
    ck_assert_int_eq(lwc_rans_dec_finish(&d), 0);
    lwc_free(buf);
    lwc_rans_enc_free(&e);
    free(syms);
}
END_TEST

#define NTAB 6

typedef struct { int n, offset; uint32_t cdf[301]; } Table;

static void make_tables(TestRng *r, Table *t)
{
    double pmf[300];
    for (int k = 0; k < NTAB; k++) {
        t[k].n = 2 + (int)(trng_u64(r) % 299);
        t[k].offset = (int)(trng_u64(r) % (uint64_t)t[k].n);
        make_pmf(r, t[k].n, k % PMF_KINDS, pmf);
        ck_assert_int_eq(lwc_cdf_from_pmf(pmf, t[k].n, t[k].cdf), 0);
    }
}

/* One step of a mixed stream, replayable from the same rng state: a value
 * from a random table (sometimes out of range) or a group of raw bits. */
typedef struct { int table, nbits; int32_t v; } Step;

static Step draw_step(TestRng *r, const Table *t)
{
    Step s = { (int)(trng_u64(r) % (NTAB + 1)), 0, 0 };
    if (s.table == NTAB) {
        s.nbits = 1 + (int)(trng_u64(r) % 16);
        s.v = (int32_t)(trng_u64(r) >> (64 - s.nbits));
        return s;
    }
    const Table *tb = &t[s.table];
    if (trng_u64(r) % 50 == 0) s.v = (int32_t)(uint32_t)trng_u64(r) >> (trng_u64(r) % 32);
    else s.v = draw_symbol(r, tb->cdf, tb->n) - tb->offset;
    return s;
}

START_TEST(test_mixed_tables_and_bits)
{
    TestRng r;
    Table t[NTAB];
    trng_seed(&r, 7);
    make_tables(&r, t);
    const int count = 80000;
    TestRng replay = r;
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    for (int i = 0; i < count; i++) {
        Step s = draw_step(&r, t);
        if (s.nbits) ck_assert_int_eq(lwc_rans_enc_put_bits(&e, (uint32_t)s.v, s.nbits), 0);
        else ck_assert_int_eq(lwc_cdf_encode_value(&e, t[s.table].cdf, t[s.table].n,
                                                   t[s.table].offset, s.v), 0);
    }
    size_t size;
    uint8_t *buf = finish_ok(&e, &size);
    LwcRansDec d;
    ck_assert_int_eq(lwc_rans_dec_init(&d, buf, size), 0);
    for (int i = 0; i < count; i++) {
        Step s = draw_step(&replay, t);
        int32_t v;
        if (s.nbits) {
            v = (int32_t)lwc_rans_dec_get_bits(&d, s.nbits);
        } else {
            const Table *tb = &t[s.table];
            ck_assert_int_eq(lwc_cdf_decode_value(&d, tb->cdf, tb->n, tb->offset, &v), 0);
        }
        ck_assert_int_eq(v, s.v);
    }
    ck_assert_int_eq(lwc_rans_dec_finish(&d), 0);
    lwc_free(buf);
    lwc_rans_enc_free(&e);
}
END_TEST

START_TEST(test_independent_streams)
{
    enum { NS = 4, COUNT = 20000 };
    TestRng r;
    Table t[NTAB];
    trng_seed(&r, 11);
    make_tables(&r, t);
    LwcRansEnc e[NS];
    static int32_t vals[NS][COUNT];
    for (int k = 0; k < NS; k++) lwc_rans_enc_init(&e[k]);
    for (int i = 0; i < COUNT; i++)
        for (int k = 0; k < NS; k++) {  /* stream k always uses table k */
            vals[k][i] = draw_symbol(&r, t[k].cdf, t[k].n) - t[k].offset;
            lwc_cdf_encode_value(&e[k], t[k].cdf, t[k].n, t[k].offset, vals[k][i]);
        }
    uint8_t *buf[NS];
    size_t size[NS];
    LwcRansDec d[NS];
    for (int k = 0; k < NS; k++) {
        buf[k] = finish_ok(&e[k], &size[k]);
        ck_assert_int_eq(lwc_rans_dec_init(&d[k], buf[k], size[k]), 0);
    }
    for (int i = 0; i < COUNT; i++)
        for (int k = NS; k-- > 0;) {  /* any order across streams works */
            int32_t v;
            lwc_cdf_decode_value(&d[k], t[k].cdf, t[k].n, t[k].offset, &v);
            ck_assert_int_eq(v, vals[k][i]);
        }
    for (int k = 0; k < NS; k++) {
        ck_assert_int_eq(lwc_rans_dec_finish(&d[k]), 0);
        lwc_free(buf[k]);
        lwc_rans_enc_free(&e[k]);
    }
}
END_TEST

/* ---- coded size ---- */

/* Loop index: distribution kind. 200k symbols, size within 0.5% + 16 bytes
 * of the ideal code length for the quantised frequencies. */
START_TEST(test_coded_size)
{
    TestRng r;
    trng_seed(&r, 31 + (uint64_t)_i);
    int n = _i == PMF_UNIFORM ? 2 : 64, count = 200000;
    double pmf[64], bits = 0;
    uint32_t cdf[65];
    make_pmf(&r, n, _i, pmf);
    ck_assert_int_eq(lwc_cdf_from_pmf(pmf, n, cdf), 0);
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    ck_assert_int_eq(lwc_rans_enc_reserve(&e, (size_t)count), 0);
    for (int i = 0; i < count; i++) {
        int s = draw_symbol(&r, cdf, n);
        bits -= log2((cdf[s + 1] - cdf[s]) / 65536.0);
        put_sym(&e, cdf, s);
    }
    size_t size;
    uint8_t *buf = finish_ok(&e, &size);
    ck_assert_msg(size <= bits / 8 * 1.005 + 16, "size %zu ideal %.1f", size, bits / 8);
    lwc_free(buf);
    lwc_rans_enc_free(&e);
}
END_TEST

/* ---- escapes ---- */

START_TEST(test_escape_values)
{
    static const struct { int n, offset; } tabs[] = {
        { 2, 0 }, { 10, 4 }, { 300, 150 }, { 5, -1000 }, { 5, 1000 },
        { 4, INT32_MAX }, { 4, -(INT32_MAX - 2) }, { 2, INT32_MIN + 1 },
    };
    static const int32_t vals[] = {
        0, 1, -1, 4, 5, -4, -5, 15, 16, 17, -16, -17, 255, 256, -256,
        65535, 65536, -65536, 1 << 20, -(1 << 20), 1000000007, -1000000007,
        INT32_MAX, INT32_MAX - 1, INT32_MIN, INT32_MIN + 1, INT32_MIN + 2,
    };
    int ntabs = (int)(sizeof(tabs) / sizeof(tabs[0]));
    int nvals = (int)(sizeof(vals) / sizeof(vals[0]));
    uint32_t cdf[301];
    double pmf[300];
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    for (int k = 0; k < ntabs; k++) {
        for (int i = 0; i < tabs[k].n; i++) pmf[i] = 1.0 + i;
        ck_assert_int_eq(lwc_cdf_from_pmf(pmf, tabs[k].n, cdf), 0);
        int lo = -tabs[k].offset, hi = tabs[k].n - 2 - tabs[k].offset;
        int32_t edge[4] = { lo, hi, (int32_t)((int64_t)lo - 1), (int32_t)((int64_t)hi + 1) };
        for (int j = 0; j < nvals + 4; j++) {
            int32_t v = j < nvals ? vals[j] : edge[j - nvals];
            ck_assert_int_eq(lwc_cdf_encode_value(&e, cdf, tabs[k].n, tabs[k].offset, v), 0);
        }
        size_t size;
        uint8_t *buf = finish_ok(&e, &size);
        LwcRansDec d;
        ck_assert_int_eq(lwc_rans_dec_init(&d, buf, size), 0);
        for (int j = 0; j < nvals + 4; j++) {
            int32_t v = 12345, want = j < nvals ? vals[j] : edge[j - nvals];
            ck_assert_int_eq(lwc_cdf_decode_value(&d, cdf, tabs[k].n, tabs[k].offset, &v), 0);
            ck_assert_int_eq(v, want);
        }
        ck_assert_int_eq(lwc_rans_dec_finish(&d), 0);
        lwc_free(buf);
    }
    lwc_rans_enc_free(&e);
}
END_TEST

/* Hand-made escapes a decoder must refuse: (sign, k-1, chunks...). */
START_TEST(test_escape_corrupt)
{
    static const struct { int offset; uint32_t bits[10]; int nbits; } cases[] = {
        { 1, { 0, 8 }, 2 },                         /* k = 9 */
        { 1, { 1, 15 }, 2 },                        /* k = 16 */
        { 1, { 0, 1, 3, 0 }, 4 },                   /* k = 2, top chunk 0 */
        { 1, { 0, 7, 15, 15, 15, 15, 15, 15, 15, 15 }, 10 }, /* > INT32_MAX */
        { 1, { 1, 7, 15, 15, 15, 15, 15, 15, 15, 15 }, 10 }, /* < INT32_MIN */
    };
    uint32_t cdf[4] = { 0, 20000, 40000, 65536 };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        LwcRansEnc e;
        lwc_rans_enc_init(&e);
        put_sym(&e, cdf, 2);  /* escape of a 3-symbol table */
        lwc_rans_enc_put_bits(&e, cases[c].bits[0], 1);
        for (int j = 1; j < cases[c].nbits; j++) lwc_rans_enc_put_bits(&e, cases[c].bits[j], 4);
        size_t size;
        uint8_t *buf = finish_ok(&e, &size);
        LwcRansDec d;
        int32_t v;
        ck_assert_int_eq(lwc_rans_dec_init(&d, buf, size), 0);
        ck_assert_int_eq(lwc_cdf_decode_value(&d, cdf, 3, cases[c].offset, &v), LWC_ERR_CORRUPT);
        ck_assert_int_eq(lwc_rans_dec_finish(&d), LWC_ERR_CORRUPT);
        lwc_free(buf);
        lwc_rans_enc_free(&e);
    }
}
END_TEST

START_TEST(test_value_range_invalid)
{
    uint32_t cdf[4] = { 0, 20000, 40000, 65536 };
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    ck_assert_int_eq(lwc_cdf_encode_value(&e, cdf, 3, INT32_MIN, 0), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_rans_enc_put(&e, 0, 1), LWC_ERR_INVAL);  /* sticky */
    uint8_t *buf;
    size_t size;
    ck_assert_int_eq(lwc_rans_enc_finish(&e, &buf, &size), LWC_ERR_INVAL);
    ck_assert_ptr_null(buf);
    lwc_rans_enc_free(&e);
}
END_TEST

/* ---- tables ---- */

/* Cross-entropy excess (bits/symbol) of the quantised table over the pmf. */
static double table_excess(const double *pmf, int n, const uint32_t *cdf)
{
    double total = 0, x = 0;
    for (int i = 0; i < n; i++) total += pmf[i];
    for (int i = 0; i < n; i++) {
        double p = pmf[i] / total, q = (cdf[i + 1] - cdf[i]) / 65536.0;
        if (p > 0) x += p * log2(p / q);
    }
    return x;
}

START_TEST(test_cdf_from_pmf_invariants)
{
    TestRng r;
    trng_seed(&r, 5);
    static double pmf[65535];
    static uint32_t cdf[65536], cdf2[65536];
    static const int sizes[] = { 2, 3, 17, 256, 1000, 4097, 65534, 65535 };
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
        for (int kind = 0; kind < PMF_KINDS; kind++) {
            int n = sizes[si];
            make_pmf(&r, n, kind, pmf);
            ck_assert_int_eq(lwc_cdf_from_pmf(pmf, n, cdf), 0);
            check_table(cdf, n);
            ck_assert_int_eq(lwc_cdf_from_pmf(pmf, n, cdf2), 0);
            ck_assert_mem_eq(cdf, cdf2, sizeof(uint32_t) * (size_t)(n + 1));
            if (n <= 4097)  /* rounding + the mass that freq >= 1 costs */
                ck_assert_double_lt(table_excess(pmf, n, cdf), 0.001 + 2.0 * n / 65536);
        }
    /* a scale factor changes nothing; zeros and denormals are fine */
    double a[5] = { 0, 1e-300, 0.25, 0.5, 4.9e-324 }, b[5];
    for (int i = 0; i < 5; i++) b[i] = a[i] * 1024;
    ck_assert_int_eq(lwc_cdf_from_pmf(a, 5, cdf), 0);
    ck_assert_int_eq(lwc_cdf_from_pmf(b, 5, cdf2), 0);
    check_table(cdf, 5);
    ck_assert_mem_eq(cdf, cdf2, sizeof(uint32_t) * 6);
    double one_hot[2] = { 0, 1 }, tiny[2] = { 4.9e-324, 4.9e-324 };
    ck_assert_int_eq(lwc_cdf_from_pmf(one_hot, 2, cdf), 0);
    ck_assert_uint_eq(cdf[1], 1);
    ck_assert_int_eq(lwc_cdf_from_pmf(tiny, 2, cdf), 0);
    ck_assert_uint_eq(cdf[1], 32768);
}
END_TEST

/* The greedy fix-up should match an exhaustive search on 2 and 3 symbols
 * (to within the p/(f -+ 1/2) approximation: compare code lengths). */
START_TEST(test_cdf_near_optimal)
{
    TestRng r;
    trng_seed(&r, 77);
    for (int it = 0; it < 60; it++) {
        double p[3] = { trng_uniform(&r), pow(trng_uniform(&r), 6), 1e-7 * trng_uniform(&r) };
        uint32_t cdf[4];
        ck_assert_int_eq(lwc_cdf_from_pmf(p, 3, cdf), 0);
        double best = INFINITY, got = table_excess(p, 3, cdf);
        for (uint32_t f0 = 1; f0 < 65535; f0++) {
            uint32_t rest = 65536 - f0;  /* best f1 for this f0: near proportional */
            double t = p[1] / (p[1] + p[2]) * rest;
            for (int df = -1; df <= 1; df++) {
                int64_t f1 = (int64_t)t + df;
                if (f1 < 1 || f1 > (int64_t)rest - 1) continue;
                uint32_t c[4] = { 0, f0, f0 + (uint32_t)f1, 65536 };
                double x = table_excess(p, 3, c);
                if (x < best) best = x;
            }
        }
        ck_assert_double_le(got, best + 1e-9);
    }
}
END_TEST

START_TEST(test_cdf_from_pmf_rejects)
{
    uint32_t cdf[8];
    double ok[3] = { 1, 2, 3 };
    double bad[][3] = { { 0, 0, 0 }, { -1, 2, 3 }, { NAN, 1, 1 }, { INFINITY, 1, 1 },
                        { DBL_MAX, DBL_MAX, 1 } };
    ck_assert_int_eq(lwc_cdf_from_pmf(ok, 1, cdf), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_cdf_from_pmf(ok, 65536, cdf), LWC_ERR_INVAL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(lwc_cdf_from_pmf(bad[i], 3, cdf), LWC_ERR_INVAL);
    uint32_t t1[4] = { 0, 5, 5, 65536 }, t2[4] = { 0, 5, 6, 65535 }, t3[4] = { 1, 5, 6, 65536 };
    ck_assert_int_eq(lwc_cdf_validate(t1, 3), LWC_ERR_CORRUPT);
    ck_assert_int_eq(lwc_cdf_validate(t2, 3), LWC_ERR_CORRUPT);
    ck_assert_int_eq(lwc_cdf_validate(t3, 3), LWC_ERR_CORRUPT);
}
END_TEST

START_TEST(test_cdf_lookup)
{
    uint32_t cdf[5] = { 0, 1, 2, 65535, 65536 };
    static const uint32_t slot[] = { 0, 1, 2, 3, 40000, 65534, 65535 };
    static const int want[] = { 0, 1, 2, 2, 2, 2, 3 };
    for (int i = 0; i < 7; i++) ck_assert_int_eq(lwc_cdf_lookup(cdf, 4, slot[i]), want[i]);
}
END_TEST

/* The guided lookup finds, for every slot, the symbol the plain search
 * finds (checked against the definition too), on tables of every shape:
 * two symbols, one dominant symbol, thousands of frequency-1 symbols. */
START_TEST(test_cdf_lookup_guided)
{
    static const int sizes[] = { 2, 3, 17, 256, 300, 4000, 65535 };
    TestRng r;
    trng_seed(&r, 77);
    double *pmf = malloc(65535 * sizeof(double));
    uint32_t *cdf = malloc(65536 * sizeof(uint32_t));
    uint16_t guide[LWC_CDF_GUIDE + 1];
    for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++)
        for (int kind = 0; kind < PMF_KINDS; kind++) {
            int n = sizes[t];
            make_pmf(&r, n, kind, pmf);
            ck_assert_int_eq(lwc_cdf_from_pmf(pmf, n, cdf), 0);
            lwc_cdf_guide_build(cdf, n, guide);
            ck_assert_int_eq(guide[LWC_CDF_GUIDE], n - 1);
            for (uint32_t slot = 0; slot < LWC_RANS_TOTAL; slot++) {
                int s = lwc_cdf_lookup_guided(cdf, guide, slot);
                ck_assert(cdf[s] <= slot && slot < cdf[s + 1]);
                ck_assert_int_eq(s, lwc_cdf_lookup(cdf, n, slot));
            }
        }
    free(pmf);
    free(cdf);
}
END_TEST

/* ---- Gaussian tables ---- */

START_TEST(test_scale_levels)
{
    double lv[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    ck_assert(lv[0] == 0.11 && lv[63] == 256.0);
    for (int i = 0; i < 64; i++) {
        double f = exp(log(0.11) + i * (log(256.0) - log(0.11)) / 63);
        ck_assert_double_eq_tol(lv[i], f, 1e-13 * f);
        if (i) ck_assert_double_gt(lv[i], lv[i - 1]);
    }
}
END_TEST

START_TEST(test_gaussian_tables)
{
    static double pmf[4096];
    static uint32_t cdf[4097];
    double lv[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    TestRng r;
    trng_seed(&r, 3);
    for (int li = 0; li < LWC_SCALE_LEVELS; li++) {
        int R, n = lwc_gaussian_pmf(lv[li], &R, pmf, 4096);
        ck_assert_int_eq(R, (int)ceil(lv[li] * LWC_GAUSS_Z));
        ck_assert_int_eq(n, 2 * R + 2);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += pmf[i];
        ck_assert_double_eq_tol(sum, 1.0, 1e-12);
        ck_assert_double_lt(pmf[n - 1], 1.2e-9);
        ck_assert_double_gt(pmf[n - 1], 0);
        for (int i = 0; i < R; i++) ck_assert_double_eq_tol(pmf[i], pmf[2 * R - i], 1e-15);
        ck_assert_int_eq(lwc_cdf_from_pmf(pmf, n, cdf), 0);
        check_table(cdf, n);
        LwcRansEnc e;
        lwc_rans_enc_init(&e);
        enum { COUNT = 3000 };
        int32_t vals[COUNT];
        for (int i = 0; i < COUNT; i++) {
            double x = trng_normal(&r) * lv[li] * (i % 100 == 0 ? 20 : 1);
            vals[i] = (int32_t)floor(x + 0.5);
            lwc_cdf_encode_value(&e, cdf, n, R, vals[i]);
        }
        size_t size;
        uint8_t *buf = finish_ok(&e, &size);
        LwcRansDec d;
        lwc_rans_dec_init(&d, buf, size);
        for (int i = 0; i < COUNT; i++) {
            int32_t v;
            ck_assert_int_eq(lwc_cdf_decode_value(&d, cdf, n, R, &v), 0);
            ck_assert_int_eq(v, vals[i]);
        }
        ck_assert_int_eq(lwc_rans_dec_finish(&d), 0);
        lwc_free(buf);
        lwc_rans_enc_free(&e);
    }
}
END_TEST

START_TEST(test_gaussian_clamp)
{
    static double pmf[70000];
    int R;
    ck_assert_int_eq(lwc_gaussian_pmf(0.01, &R, pmf, 100), 4);
    ck_assert_int_eq(R, 1);
    ck_assert_int_eq(lwc_gaussian_pmf(256, &R, pmf, 101), 100);
    ck_assert_int_eq(R, 49);
    ck_assert_int_eq(lwc_gaussian_pmf(1e6, &R, pmf, 70000), 65534);
    ck_assert_int_eq(lwc_gaussian_pmf(1e300, &R, pmf, 4), 4);
    ck_assert_int_eq(lwc_gaussian_pmf(0, &R, pmf, 100), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_gaussian_pmf(NAN, &R, pmf, 100), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_gaussian_pmf(INFINITY, &R, pmf, 100), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_gaussian_pmf(1, &R, pmf, 3), LWC_ERR_INVAL);
}
END_TEST

/* ---- stream format and broken streams ---- */

START_TEST(test_empty_and_pinned_stream)
{
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    size_t size;
    uint8_t *buf = finish_ok(&e, &size);
    static const uint8_t empty[8] = { 0, 0, 0, 0x80, 0, 0, 0, 0 };
    ck_assert_uint_eq(size, 8);
    ck_assert_mem_eq(buf, empty, 8);
    LwcRansDec d;
    ck_assert_int_eq(lwc_rans_dec_init(&d, buf, size), 0);
    ck_assert_int_eq(lwc_rans_dec_finish(&d), 0);
    lwc_free(buf);
    /* A fixed sequence must keep its bytes: this pins the stream format. */
    for (int i = 0; i < 40; i++) lwc_rans_enc_put_bits(&e, (uint32_t)(i * 2654435761u) >> 16, 16);
    lwc_rans_enc_put(&e, 3, 1);
    buf = finish_ok(&e, &size);
    ck_assert_uint_eq(size, 8 + 4 * 20);
    /* computed by an independent Python model of the format in rans.h */
    static const uint8_t head[16] = { 0x00, 0x00, 0x37, 0x9e, 0x00, 0x80, 0x00, 0x00,
                                      0x6e, 0x3c, 0xa6, 0xda, 0xdd, 0x78, 0x15, 0x17 };
    ck_assert_mem_eq(buf, head, 16);
    lwc_free(buf);
    lwc_rans_enc_free(&e);
}
END_TEST

START_TEST(test_dec_init_errors)
{
    uint8_t b[8] = { 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0 };  /* state L - 1 */
    LwcRansDec d;
    ck_assert_int_eq(lwc_rans_dec_init(&d, b, 7), LWC_ERR_TRUNCATED);
    ck_assert_int_eq(lwc_rans_dec_init(&d, NULL, 0), LWC_ERR_TRUNCATED);
    (void)lwc_rans_dec_get_bits(&d, 16);  /* still safe to use */
    ck_assert_int_eq(lwc_rans_dec_finish(&d), LWC_ERR_TRUNCATED);
    ck_assert_int_eq(lwc_rans_dec_init(&d, b, 8), LWC_ERR_CORRUPT);
    b[3] = 0x80;
    b[7] = 0x80;  /* bit 63 set */
    ck_assert_int_eq(lwc_rans_dec_init(&d, b, 8), LWC_ERR_CORRUPT);
    b[7] = 0;
    ck_assert_int_eq(lwc_rans_dec_init(&d, b, 8), 0);
}
END_TEST

/* A stream of values with escapes; vals receives what was coded. */
static uint8_t *mixed_stream(int count, int32_t *vals, const uint32_t *cdf, int n, size_t *size)
{
    TestRng r;
    trng_seed(&r, 99);
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    for (int i = 0; i < count; i++) {
        vals[i] = draw_symbol(&r, cdf, n) - n / 2;
        lwc_cdf_encode_value(&e, cdf, n, n / 2, vals[i]);
    }
    uint8_t *buf = finish_ok(&e, size);
    lwc_rans_enc_free(&e);
    return buf;
}

/* Decode count values from an exact-size copy (plain malloc, so ASan sees
 * any read past the end); returns the decoder's final verdict. */
static int decode_copy(const uint8_t *src, size_t size, int count, const uint32_t *cdf,
                       int n, int32_t *vals_out)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, src, size);
    LwcRansDec d;
    lwc_rans_dec_init(&d, copy, size);
    for (int i = 0; i < count; i++) {
        int32_t v = 0;
        lwc_cdf_decode_value(&d, cdf, n, n / 2, &v);
        if (vals_out) vals_out[i] = v;
    }
    int r = lwc_rans_dec_finish(&d);
    free(copy);
    return r;
}

START_TEST(test_truncated_streams)
{
    enum { COUNT = 3000 };
    double pmf[20];
    uint32_t cdf[21];
    for (int i = 0; i < 20; i++) pmf[i] = 1.0 / (1 + abs(i - 10));
    pmf[19] = 0.02;
    lwc_cdf_from_pmf(pmf, 20, cdf);
    int32_t vals[COUNT];
    size_t size;
    uint8_t *buf = mixed_stream(COUNT, vals, cdf, 20, &size);
    ck_assert_int_eq(decode_copy(buf, size, COUNT, cdf, 20, NULL), 0);
    for (size_t len = 0; len < size; len += (len < 64 || size - len < 64) ? 1 : 37)
        ck_assert_int_eq(decode_copy(buf, len, COUNT, cdf, 20, NULL), LWC_ERR_TRUNCATED);
    /* trailing garbage is also an error */
    uint8_t *longer = malloc(size + 4);
    memcpy(longer, buf, size);
    memset(longer + size, 0, 4);
    ck_assert_int_eq(decode_copy(longer, size + 4, COUNT, cdf, 20, NULL), LWC_ERR_CORRUPT);
    free(longer);
    lwc_free(buf);
}
END_TEST

START_TEST(test_corrupted_streams)
{
    enum { COUNT = 3000 };
    double pmf[20];
    uint32_t cdf[21];
    for (int i = 0; i < 20; i++) pmf[i] = 1.0 / (1 + abs(i - 10));
    pmf[19] = 0.02;
    lwc_cdf_from_pmf(pmf, 20, cdf);
    int32_t vals[COUNT];
    size_t size;
    uint8_t *buf = mixed_stream(COUNT, vals, cdf, 20, &size);
    uint8_t *bad = malloc(size);
    TestRng r;
    trng_seed(&r, 1234);
    /* The final-state check is no checksum: a flip that moves one slot onto
     * the same offset in another symbol of equal frequency decodes one wrong
     * value and resynchronises (~0.15% of single flips with this symmetric
     * table). The section CRC covers those; here most must be caught. */
    int missed = 0;
    for (int it = 0; it < 300; it++) {
        memcpy(bad, buf, size);
        size_t pos = (size_t)(trng_u64(&r) % size);
        bad[pos] ^= (uint8_t)(1u << (trng_u64(&r) % 8));
        if (it % 3 == 0) bad[trng_u64(&r) % size] ^= (uint8_t)(1 + trng_u64(&r) % 255);
        missed += decode_copy(bad, size, COUNT, cdf, 20, NULL) == 0;
    }
    ck_assert_int_le(missed, 3);
    /* pure garbage of any length: must not crash; the verdict is an error */
    for (int it = 0; it < 200; it++) {
        size_t len = (size_t)(trng_u64(&r) % 64);
        uint8_t g[64];
        for (size_t i = 0; i < len; i++) g[i] = (uint8_t)trng_u64(&r);
        ck_assert_int_ne(decode_copy(g, len, COUNT, cdf, 20, NULL), 0);
    }
    free(bad);
    lwc_free(buf);
}
END_TEST

/* ---- encoder state handling ---- */

START_TEST(test_enc_invalid_args)
{
    static const struct { uint32_t start, freq; } bad_put[] = {
        { 0, 0 }, { 65535, 2 }, { 0, 65537 }, { 70000, 1 },
    };
    static const struct { uint32_t v; int nbits; } bad_bits[] = {
        { 0, 0 }, { 0, 17 }, { 2, 1 }, { 65536, 16 },
    };
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    uint8_t *buf;
    size_t size;
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(lwc_rans_enc_put(&e, 0, 65536), 0);
        int r = i < 4 ? lwc_rans_enc_put(&e, bad_put[i].start, bad_put[i].freq)
                      : lwc_rans_enc_put_bits(&e, bad_bits[i - 4].v, bad_bits[i - 4].nbits);
        ck_assert_int_eq(r, LWC_ERR_INVAL);
        ck_assert_int_eq(lwc_rans_enc_put_bits(&e, 1, 1), LWC_ERR_INVAL);
        ck_assert_int_eq(lwc_rans_enc_finish(&e, &buf, &size), LWC_ERR_INVAL);
        ck_assert_ptr_null(buf);
        ck_assert_uint_eq(size, 0);
    }
    /* finish left it clean: the same encoder works again */
    lwc_rans_enc_put(&e, 0, 65536);
    buf = finish_ok(&e, &size);
    ck_assert_uint_eq(size, 8);
    lwc_free(buf);
    lwc_rans_enc_free(&e);
}
END_TEST

START_TEST(test_enc_nomem)
{
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    uint8_t *buf;
    size_t size;
    lwc_alloc_fail_after(0);  /* the first queue allocation */
    ck_assert_int_eq(lwc_rans_enc_put_bits(&e, 1, 3), LWC_ERR_NOMEM);
    ck_assert_int_eq(lwc_rans_enc_put(&e, 0, 5), LWC_ERR_NOMEM);
    ck_assert_int_eq(lwc_rans_enc_finish(&e, &buf, &size), LWC_ERR_NOMEM);
    ck_assert_ptr_null(buf);
    for (int i = 0; i < 1500; i++) {  /* growth from 1024 to 2048 fails */
        if (i == 1) lwc_alloc_fail_after(0);
        ck_assert_int_eq(lwc_rans_enc_put_bits(&e, 1, 1), i < 1024 ? 0 : LWC_ERR_NOMEM);
    }
    lwc_alloc_fail_after(-1);
    ck_assert_int_eq(lwc_rans_enc_finish(&e, &buf, &size), LWC_ERR_NOMEM);
    lwc_rans_enc_put_bits(&e, 1, 1);
    lwc_alloc_fail_after(0);  /* the output buffer */
    ck_assert_int_eq(lwc_rans_enc_finish(&e, &buf, &size), LWC_ERR_NOMEM);
    ck_assert_int_eq(lwc_rans_enc_reserve(&e, 1000), 0);  /* no allocation needed */
    lwc_alloc_fail_after(-1);
    ck_assert_uint_eq(lwc_rans_enc_count(&e), 0);
    lwc_rans_enc_free(&e);
    /* cdf_from_pmf allocates for its fix-up only */
    double pmf[3] = { 1e-9, 1e-9, 1 };
    uint32_t cdf[4];
    lwc_alloc_fail_after(0);
    ck_assert_int_eq(lwc_cdf_from_pmf(pmf, 3, cdf), LWC_ERR_NOMEM);
    lwc_alloc_fail_after(-1);
}
END_TEST

START_TEST(test_enc_reset_and_determinism)
{
    TestRng r;
    Table t[NTAB];
    trng_seed(&r, 8);
    make_tables(&r, t);
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    uint8_t *out[2];
    size_t size[2];
    for (int pass = 0; pass < 2; pass++) {
        TestRng rr;
        trng_seed(&rr, 42);
        lwc_rans_enc_put(&e, 0, 7);  /* thrown away by reset */
        lwc_rans_enc_reset(&e);
        for (int i = 0; i < 5000; i++) {
            Step s = draw_step(&rr, t);
            if (s.nbits) lwc_rans_enc_put_bits(&e, (uint32_t)s.v, s.nbits);
            else lwc_cdf_encode_value(&e, t[s.table].cdf, t[s.table].n, t[s.table].offset, s.v);
        }
        out[pass] = finish_ok(&e, &size[pass]);
    }
    ck_assert_uint_eq(size[0], size[1]);
    ck_assert_mem_eq(out[0], out[1], size[0]);
    lwc_free(out[0]);
    lwc_free(out[1]);
    lwc_rans_enc_free(&e);
}
END_TEST

static Suite *rans_suite(void)
{
    Suite *s = suite_create("rans");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_roundtrip_random_tables, 0, 3 * PMF_KINDS);
    tcase_add_test(tc, test_mixed_tables_and_bits);
    tcase_add_test(tc, test_independent_streams);
    tcase_add_loop_test(tc, test_coded_size, 0, PMF_KINDS);
    tcase_add_test(tc, test_escape_values);
    tcase_add_test(tc, test_escape_corrupt);
    tcase_add_test(tc, test_value_range_invalid);
    tcase_add_test(tc, test_cdf_from_pmf_invariants);
    tcase_add_test(tc, test_cdf_near_optimal);
    tcase_add_test(tc, test_cdf_from_pmf_rejects);
    tcase_add_test(tc, test_cdf_lookup);
    tcase_add_test(tc, test_cdf_lookup_guided);
    tcase_add_test(tc, test_scale_levels);
    tcase_add_test(tc, test_gaussian_tables);
    tcase_add_test(tc, test_gaussian_clamp);
    tcase_add_test(tc, test_empty_and_pinned_stream);
    tcase_add_test(tc, test_dec_init_errors);
    tcase_add_test(tc, test_truncated_streams);
    tcase_add_test(tc, test_corrupted_streams);
    tcase_add_test(tc, test_enc_invalid_args);
    tcase_add_test(tc, test_enc_nomem);
    tcase_add_test(tc, test_enc_reset_and_determinism);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(rans_suite()); }
