/* CDF 9/7 wavelet packet transform: perfect reconstruction, agreement with
 * direct filtering by the JPEG 2000 9/7 filters, gains and channel order,
 * and the two adjoints (exact transpose on small sizes, dot-product identity
 * on larger ones). The SIMD kernel sets against the C reference: tests/test_checkasm.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "testutil.h"
#include "transforms/wpt.h"

typedef struct { int levels, h, w; } Shape;

/* J = 1..4, odd multiples of 2^J, and the minimal size 2^J x 2^J. */
static const Shape g_shapes[] = {
    { 1, 2, 2 }, { 2, 4, 4 }, { 3, 8, 8 }, { 4, 16, 16 },
    { 1, 8, 24 }, { 2, 8, 24 }, { 3, 8, 24 },
    { 1, 40, 8 }, { 2, 40, 8 }, { 3, 40, 8 },
    { 1, 6, 10 }, { 2, 12, 20 }, { 3, 24, 40 }, { 4, 48, 80 }, { 4, 16, 208 },
    { 3, 72, 56 }, /* more than one column block per half */
};
#define N_SHAPES ((int)(sizeof(g_shapes) / sizeof(g_shapes[0])))

typedef void (*WptFn)(const float *in, int c, int h, int w, int levels,
                      float *out, float *work);

typedef struct {
    int c, h, w, levels;
    size_t n; /* floats per tensor (same for both sides) */
    float *a, *b, *work;
} Bufs;

static Bufs bufs_new(int c, int h, int w, int levels)
{
    Bufs t = { c, h, w, levels, (size_t)c * h * w, NULL, NULL, NULL };
    t.a = lwc_malloc_array(t.n, sizeof(float));
    t.b = lwc_malloc_array(t.n, sizeof(float));
    t.work = lwc_malloc_array(lwc_wpt_work_size(h, w), sizeof(float));
    ck_assert(t.a && t.b && t.work);
    return t;
}

static void bufs_free(Bufs *t)
{
    lwc_free(t->a);
    lwc_free(t->b);
    lwc_free(t->work);
}

static void fill_uniform(TestRng *r, float *v, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * trng_uniform(r));
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* ---- perfect reconstruction -------------------------------------------- */

START_TEST(test_roundtrip)
{
    const Shape *sh = &g_shapes[_i];
    Bufs t = bufs_new(3, sh->h, sh->w, sh->levels);
    float *back = lwc_malloc_array(t.n, sizeof(float));
    TestRng r;
    trng_seed(&r, 100 + _i);
    fill_uniform(&r, t.a, t.n, -0.5, 0.5);
    lwc_wpt_forward(t.a, t.c, t.h, t.w, t.levels, t.b, t.work);
    lwc_wpt_inverse(t.b, t.c, t.h, t.w, t.levels, back, t.work);
    double maxerr = 0;
    for (size_t i = 0; i < t.n; i++) maxerr = fmax(maxerr, fabs((double)back[i] - t.a[i]));
    ck_assert_msg(maxerr <= 1e-5, "J=%d %dx%d: max error %g", t.levels, t.h, t.w, maxerr);
    lwc_free(back);
    bufs_free(&t);
}
END_TEST

/* Inverse then forward also returns the coefficients (the map is a bijection). */
START_TEST(test_roundtrip_coeffs)
{
    const Shape *sh = &g_shapes[_i];
    Bufs t = bufs_new(2, sh->h, sh->w, sh->levels);
    float *back = lwc_malloc_array(t.n, sizeof(float));
    TestRng r;
    trng_seed(&r, 200 + _i);
    fill_uniform(&r, t.a, t.n, -0.5, 0.5);
    lwc_wpt_inverse(t.a, t.c, t.h, t.w, t.levels, t.b, t.work);
    lwc_wpt_forward(t.b, t.c, t.h, t.w, t.levels, back, t.work);
    for (size_t i = 0; i < t.n; i++)
        ck_assert_msg(fabs((double)back[i] - t.a[i]) <= 1e-5, "J=%d %dx%d at %zu", t.levels, t.h, t.w, i);
    lwc_free(back);
    bufs_free(&t);
}
END_TEST

/* ---- direct filtering reference (one level) ---------------------------- */

/* JPEG 2000 9/7 analysis filters, centre tap first: lowpass has DC gain 1,
 * highpass Nyquist gain 2 (our highpass is half of it). */
static const double g_h0[5] = { 0.602949018236360, 0.266864118442875, -0.078223266528990,
                                -0.016864118442875, 0.026748757410810 };
static const double g_h1[4] = { 1.115087052457000, -0.591271763114250, -0.057543526228500,
                                0.091271763114250 };

/* Whole-sample symmetric extension of index i into [0, n). */
static int reflect(int i, int n)
{
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

/* One 1D analysis of n samples at stride `st`: out = [low | high] at stride st. */
static void direct_1d(const double *in, int n, int st, double *out)
{
    int m = n / 2;
    for (int i = 0; i < m; i++) {
        double lo = 0, hi = 0;
        for (int k = -4; k <= 4; k++) lo += g_h0[abs(k)] * in[(size_t)reflect(2 * i + k, n) * st];
        for (int k = -3; k <= 3; k++) hi += 0.5 * g_h1[abs(k)] * in[(size_t)reflect(2 * i + 1 + k, n) * st];
        out[(size_t)i * st] = lo;
        out[(size_t)(m + i) * st] = hi;
    }
}

/* One 2D level in double: rows then columns, result in quadrant layout. */
static void direct_2d(double *img, int h, int w)
{
    double *tmp = lwc_malloc_array((size_t)LWC_MAX(h, w), sizeof(double));
    double *line = lwc_malloc_array((size_t)LWC_MAX(h, w), sizeof(double));
    for (int r = 0; r < h; r++) {
        direct_1d(img + (size_t)r * w, w, 1, tmp);
        memcpy(img + (size_t)r * w, tmp, (size_t)w * sizeof(double));
    }
    for (int c = 0; c < w; c++) {
        for (int r = 0; r < h; r++) line[r] = img[(size_t)r * w + c];
        direct_1d(line, h, 1, tmp);
        for (int r = 0; r < h; r++) img[(size_t)r * w + c] = tmp[r];
    }
    lwc_free(tmp);
    lwc_free(line);
}

static const Shape g_direct[] = { { 1, 2, 2 }, { 1, 4, 6 }, { 1, 12, 16 }, { 1, 10, 70 }, { 1, 64, 2 } };

START_TEST(test_direct_filters)
{
    const Shape *sh = &g_direct[_i];
    int h = sh->h, w = sh->w, m = h / 2, half = w / 2;
    Bufs t = bufs_new(1, h, w, 1);
    double *ref = lwc_malloc_array(t.n, sizeof(double));
    TestRng r;
    trng_seed(&r, 300 + _i);
    fill_uniform(&r, t.a, t.n, -0.5, 0.5);
    for (size_t i = 0; i < t.n; i++) ref[i] = t.a[i];
    direct_2d(ref, h, w);
    lwc_wpt_forward(t.a, 1, h, w, 1, t.b, t.work);
    for (int q = 0; q < 4; q++)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < half; j++) {
                /* quadrant q: horizontal high = q & 1, vertical high = q >> 1 */
                double want = ref[(size_t)((q >> 1) * m + i) * w + (q & 1) * half + j];
                double got = t.b[((size_t)q * m + i) * half + j];
                ck_assert_msg(fabs(got - want) <= 1e-5, "%dx%d band %d (%d,%d): %g vs %g",
                              h, w, q, i, j, got, want);
            }
    lwc_free(ref);
    bufs_free(&t);
}
END_TEST

/* ---- gains and channel order -------------------------------------------- */

typedef struct {
    int vert, horiz; /* alternate sign along rows / columns */
} Pattern;

/* Expected band of a constant or Nyquist pattern: after level 1 the pattern
 * is a constant in band q1, which every later level keeps in its LL. */
static void check_pattern(const Pattern *p, int levels, int h, int w)
{
    Bufs t = bufs_new(2, h, w, levels);
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int sign = ((p->vert ? i : 0) + (p->horiz ? j : 0)) & 1 ? -1 : 1;
                t.a[((size_t)c * h + i) * w + j] = (float)(sign * (c + 1) * 0.25);
            }
    lwc_wpt_forward(t.a, 2, h, w, levels, t.b, t.work);
    int q1 = 2 * p->vert + p->horiz, bands = 1 << (2 * levels);
    /* A Nyquist pattern starting +1 leaves the highpass (odd samples) at -1. */
    double value = (p->vert ^ p->horiz) ? -1.0 : 1.0;
    size_t band = (size_t)(h >> levels) * (w >> levels);
    for (int c = 0; c < 2; c++)
        for (int b = 0; b < bands; b++) {
            double want = b == q1 << (2 * (levels - 1)) ? value * (c + 1) * 0.25 : 0.0;
            const float *v = t.b + ((size_t)c * bands + b) * band;
            for (size_t i = 0; i < band; i++)
                ck_assert_msg(fabs(v[i] - want) <= 1e-5, "J=%d pattern %d%d ch %d band %d: %g vs %g",
                              levels, p->vert, p->horiz, c, b, v[i], want);
        }
    bufs_free(&t);
}

START_TEST(test_gains_and_order)
{
    static const Pattern pats[] = { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 } };
    for (int k = 0; k < 4; k++) {
        check_pattern(&pats[k], 1 + _i, 8 << _i, 16 << _i);
        check_pattern(&pats[k], 1 + _i, 1 << (1 + _i), 1 << (1 + _i)); /* minimal size */
    }
}
END_TEST

START_TEST(test_levels_zero_copies)
{
    float x[24], y[24], work[128];
    ck_assert_uint_le(lwc_wpt_work_size(4, 6), 128);
    for (int i = 0; i < 24; i++) x[i] = (float)i - 7.5f;
    lwc_wpt_forward(x, 1, 4, 6, 0, y, work);
    ck_assert_mem_eq(x, y, sizeof(x));
    lwc_wpt_inverse(y, 1, 4, 6, 0, x, work);
    ck_assert_mem_eq(x, y, sizeof(x));
}
END_TEST

/* ---- adjoints ----------------------------------------------------------- */

/* Dense matrix of fn on the n = h*w basis vectors: column j = fn(e_j). */
static double *dense_matrix(WptFn fn, int h, int w, int levels)
{
    Bufs t = bufs_new(1, h, w, levels);
    double *mat = lwc_malloc_array(t.n * t.n, sizeof(double));
    ck_assert(mat);
    for (size_t j = 0; j < t.n; j++) {
        memset(t.a, 0, t.n * sizeof(float));
        t.a[j] = 1.0f;
        fn(t.a, 1, h, w, levels, t.b, t.work);
        for (size_t i = 0; i < t.n; i++) mat[i * t.n + j] = t.b[i];
    }
    bufs_free(&t);
    return mat;
}

/* The adjoint's matrix equals the transpose of the transform's, entry by entry. */
static void check_transpose(WptFn fn, WptFn adj, const Shape *sh)
{
    size_t n = (size_t)sh->h * sh->w;
    double *m = dense_matrix(fn, sh->h, sh->w, sh->levels);
    double *mt = dense_matrix(adj, sh->h, sh->w, sh->levels);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(fabs(m[i * n + j] - mt[j * n + i]) <= 1e-5,
                          "J=%d %dx%d entry (%zu,%zu): %g vs %g", sh->levels, sh->h,
                          sh->w, i, j, m[i * n + j], mt[j * n + i]);
    lwc_free(m);
    lwc_free(mt);
}

static const Shape g_small[] = { { 1, 2, 2 }, { 1, 2, 8 }, { 1, 6, 4 }, { 2, 4, 4 },
                                 { 2, 8, 12 }, { 3, 8, 8 }, { 1, 8, 24 }, { 2, 4, 8 } };

START_TEST(test_adjoint_transpose)
{
    check_transpose(lwc_wpt_forward, lwc_wpt_forward_adjoint, &g_small[_i]);
    check_transpose(lwc_wpt_inverse, lwc_wpt_inverse_adjoint, &g_small[_i]);
}
END_TEST

/* <A u, v> = <u, A^T v>; v is partly aligned with A u so the products are
 * large and a relative tolerance is meaningful. */
static void check_dot(WptFn fn, WptFn adj, const Shape *sh, uint64_t seed)
{
    Bufs t = bufs_new(2, sh->h, sh->w, sh->levels);
    float *v = lwc_malloc_array(t.n, sizeof(float));
    float *atv = lwc_malloc_array(t.n, sizeof(float));
    TestRng r;
    trng_seed(&r, seed);
    fill_uniform(&r, t.a, t.n, -1, 1);
    fn(t.a, t.c, t.h, t.w, t.levels, t.b, t.work);
    for (size_t i = 0; i < t.n; i++) v[i] = (float)(t.b[i] + trng_normal(&r));
    adj(v, t.c, t.h, t.w, t.levels, atv, t.work);
    double lhs = dot(t.b, v, t.n), rhs = dot(t.a, atv, t.n);
    ck_assert_msg(fabs(lhs - rhs) <= 1e-4 * fabs(lhs), "J=%d %dx%d: %.9g vs %.9g",
                  sh->levels, sh->h, sh->w, lhs, rhs);
    lwc_free(v);
    lwc_free(atv);
    bufs_free(&t);
}

START_TEST(test_adjoint_dot)
{
    check_dot(lwc_wpt_forward, lwc_wpt_forward_adjoint, &g_shapes[_i], 400 + _i);
    check_dot(lwc_wpt_inverse, lwc_wpt_inverse_adjoint, &g_shapes[_i], 500 + _i);
}
END_TEST

static Suite *wpt_suite(void)
{
    Suite *s = suite_create("wpt");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_roundtrip, 0, N_SHAPES);
    tcase_add_loop_test(tc, test_roundtrip_coeffs, 0, N_SHAPES);
    tcase_add_loop_test(tc, test_direct_filters, 0, (int)(sizeof(g_direct) / sizeof(g_direct[0])));
    tcase_add_loop_test(tc, test_gains_and_order, 0, 4);
    tcase_add_test(tc, test_levels_zero_copies);
    tcase_add_loop_test(tc, test_adjoint_transpose, 0, (int)(sizeof(g_small) / sizeof(g_small[0])));
    tcase_add_loop_test(tc, test_adjoint_dot, 0, N_SHAPES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(wpt_suite()); }
