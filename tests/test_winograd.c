/* Winograd F(4x4, 3x3) against a direct convolution in double, at sizes
 * that are not multiples of the tile, every row phase, partial row ranges,
 * with and without bias and ReLU, on both GEMM paths; and the property the
 * banded decoder relies on: any split of the rows into calls with the same
 * tile positions and GEMM shapes gives bit-identical outputs. The AVX2
 * transforms against the C ones: tests/test_checkasm.c. */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "testutil.h"
#include "transforms/gemm.h"
#include "transforms/winograd.h"

typedef struct Case { int cin, cout, h, w; } Case;

static const Case g_cases[] = {
    { 1, 1, 1, 1 }, { 2, 3, 3, 5 }, { 3, 2, 4, 4 }, { 5, 4, 7, 9 },
    { 8, 6, 13, 17 }, { 4, 8, 9, 2 }, { 16, 12, 12, 23 }, { 32, 24, 10, 31 },
};
#define N_CASES ((int)(sizeof(g_cases) / sizeof(g_cases[0])))

typedef struct Data {
    Case c;
    float *x, *wt, *bias, *u, *y, *work;
    double *want;
} Data;

static float *falloc(size_t n)
{
    float *p = lwc_malloc_array(n ? n : 1, sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

static Data data_new(const Case *c, uint64_t seed)
{
    TestRng r;
    trng_seed(&r, seed);
    Data d = { .c = *c };
    size_t nx = (size_t)c->cin * c->h * c->w, nw = (size_t)c->cout * c->cin * 9;
    d.x = falloc(nx);
    d.wt = falloc(nw);
    d.bias = falloc((size_t)c->cout);
    for (size_t i = 0; i < nx; i++) d.x[i] = (float)trng_normal(&r);
    for (size_t i = 0; i < nw; i++) d.wt[i] = (float)trng_normal(&r);
    for (int i = 0; i < c->cout; i++) d.bias[i] = (float)trng_normal(&r);
    d.u = falloc(lwc_wino_weight_floats(c->cin, c->cout));
    lwc_wino_weights(d.wt, c->cin, c->cout, d.u);
    d.y = falloc((size_t)c->cout * c->h * c->w);
    d.work = falloc(lwc_wino_work_floats(c->cin, c->cout, c->w, (c->h + 6) / 4 + 4));
    d.want = lwc_malloc_array((size_t)c->cout * c->h * c->w, sizeof(double));
    ck_assert_ptr_nonnull(d.want);
    for (int co = 0; co < c->cout; co++)
        for (int oy = 0; oy < c->h; oy++)
            for (int ox = 0; ox < c->w; ox++) {
                double s = d.bias[co];
                for (int ci = 0; ci < c->cin; ci++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy + ky - 1, ix = ox + kx - 1;
                            if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                            s += (double)d.wt[((size_t)co * c->cin + ci) * 9 + ky * 3 + kx] *
                                 d.x[((size_t)ci * c->h + iy) * c->w + ix];
                        }
                d.want[((size_t)co * c->h + oy) * c->w + ox] = s;
            }
    return d;
}

static void data_free(Data *d)
{
    lwc_free(d->x); lwc_free(d->wt); lwc_free(d->bias); lwc_free(d->u);
    lwc_free(d->y); lwc_free(d->work); lwc_free(d->want);
}

/* Tile rows [ty0, ty0 + 4 * ntr), storing rows [a, b) into y (ldy = h*w, so
 * y keeps the whole-plane layout). */
static void run(Data *d, int ty0, int ntr, int a, int b, int relu)
{
    const Case *c = &d->c;
    size_t ld = (size_t)c->h * c->w;
    lwc_wino_conv3x3_rows(d->x, c->cin, c->h, c->w, d->u, d->bias, c->cout, ty0, ntr, a, b,
                          d->y + (size_t)a * c->w, ld, relu, d->work);
}

/* Rows [a, b) through groups of `group` tile rows at fixed positions
 * (tiles start at rows = -phase mod 4), as the decoder runs them. */
static void run_groups(Data *d, int phase, int group, int a, int b, int relu)
{
    int span = 4 * group;
    for (int g0 = -phase - span; g0 < b; g0 += span) {
        int lo = LWC_MAX(a, g0), hi = LWC_MIN(b, g0 + span);
        if (lo < hi) run(d, g0, group, lo, hi, relu);
    }
}

START_TEST(test_matches_direct)
{
    Data d = data_new(&g_cases[_i], 500 + _i);
    const Case *c = &d.c;
    size_t n = (size_t)c->cout * c->h * c->w;
    for (int ref = 0; ref < 2; ref++)
        for (int phase = 0; phase < 4; phase++)
            for (int relu = 0; relu < 2; relu++) {
                lwc_gemm_force_reference(ref);
                for (size_t i = 0; i < n; i++) d.y[i] = NAN;
                run(&d, -phase, (c->h + phase + 3) / 4, 0, c->h, relu);
                for (size_t i = 0; i < n; i++) {
                    double want = relu && d.want[i] < 0 ? 0.0 : d.want[i];
                    double tol = 2e-5 * (1 + 3 * sqrt(9.0 * c->cin));
                    ck_assert_msg(fabs(d.y[i] - want) <= tol, "case %d ref %d phase %d relu %d [%zu]: %g vs %g",
                                  _i, ref, phase, relu, i, d.y[i], want);
                }
            }
    lwc_gemm_force_reference(0);
    data_free(&d);
}
END_TEST

/* Every split of [0, h) into row ranges, same phase: identical bits; rows
 * outside the range are never written. */
START_TEST(test_row_ranges_identical)
{
    Data d = data_new(&g_cases[_i], 900 + _i);
    const Case *c = &d.c;
    size_t n = (size_t)c->cout * c->h * c->w;
    float *whole = falloc(n);
    for (int phase = 0; phase < 4; phase++)
    for (int group = 1; group <= 3; group++) {
        run_groups(&d, phase, group, 0, c->h, 1);
        memcpy(whole, d.y, n * sizeof(float));
        for (int a = 0; a < c->h; a++)
            for (int k = 0; k < 3; k++) { /* b: one row, half the rest, all the rest */
                int b = k == 0 ? a + 1 : k == 1 ? (a + c->h + 1) / 2 : c->h;
                for (size_t i = 0; i < n; i++) d.y[i] = -7.0f;
                run_groups(&d, phase, group, a, b, 1);
                for (int co = 0; co < c->cout; co++)
                    for (int oy = 0; oy < c->h; oy++) {
                        const float *got = d.y + ((size_t)co * c->h + oy) * c->w;
                        const float *ref = whole + ((size_t)co * c->h + oy) * c->w;
                        for (int ox = 0; ox < c->w; ox++) {
                            float want = oy >= a && oy < b ? ref[ox] : -7.0f;
                            ck_assert_msg(memcmp(&got[ox], &want, sizeof(float)) == 0,
                                          "case %d phase %d group %d rows [%d,%d) at (%d,%d,%d)", _i, phase, group, a,
                                          b, co, oy, ox);
                        }
                    }
            }
    }
    lwc_free(whole);
    data_free(&d);
}
END_TEST

START_TEST(test_group_rows)
{
    for (int w = 1; w < 3000; w += 7) {
        int g = lwc_wino_group_rows(w), ntw = (w + 3) / 4;
        ck_assert_int_ge(g, 1);
        ck_assert_int_ge(g * ntw, LWC_MIN(48, ntw));
        ck_assert(g == 1 || (g - 1) * ntw < 48);
    }
}
END_TEST

static Suite *winograd_suite(void)
{
    Suite *s = suite_create("winograd");
    TCase *t = tcase_create("conv3x3");
    tcase_add_loop_test(t, test_matches_direct, 0, N_CASES);
    tcase_add_loop_test(t, test_row_ranges_identical, 0, N_CASES);
    tcase_add_test(t, test_group_rows);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(winograd_suite()); }
