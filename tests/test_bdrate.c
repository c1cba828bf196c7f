/* BD-rate / BD-PSNR against published values (the JVET/VCEG test curves)
 * and against scipy 1.10 (PchipInterpolator / Akima1DInterpolator
 * .integrate, numpy.polyfit + polyint); error cases; the CSV reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "testutil.h"
#include "tools/lib/bdrate.h"

typedef struct {
    double r1[8], p1[8];
    int n1;
    double r2[8], p2[8];
    int n2;
} RdPair;

static const RdPair set1 = {{9487.76, 4593.60, 2486.44, 1358.24}, {40.037, 38.615, 36.845, 34.851}, 4,
                            {9787.80, 4469.00, 2451.52, 1356.24}, {40.121, 38.651, 36.970, 34.987}, 4};
static const RdPair set2 = {{686.76, 309.58, 157.11, 85.95}, {40.28, 37.18, 34.24, 31.42}, 4,
                            {893.34, 407.8, 204.93, 112.75}, {40.39, 37.21, 34.17, 31.24}, 4};
/* 6 vs 7 points: least squares for the cubic, several pieces for splines. */
static const RdPair set3 = {{0.131, 0.209, 0.320, 0.478, 0.669, 0.939},
                            {27.58, 29.20, 30.97, 32.84, 34.53, 36.74}, 6,
                            {0.12, 0.2, 0.31, 0.45, 0.64, 0.9, 1.2},
                            {27.9, 29.5, 31.2, 33.0, 34.7, 36.9, 38.4}, 7};
/* Irregular spacing with a near-flat piece: the cubic fit goes wild. */
static const RdPair set4 = {{0.1, 0.2, 0.3, 0.5, 0.9}, {30, 30.2, 33, 33.1, 38}, 5,
                            {0.12, 0.25, 0.33, 0.6, 1.0}, {30.1, 31, 33.2, 34, 38.5}, 5};

static int bd(const RdPair *s, int method, double *rate, double *psnr, double *ov)
{
    char err[256] = "";
    int r = lwc_bdrate(s->r1, s->p1, s->n1, s->r2, s->p2, s->n2, method, rate, psnr, ov, err,
                       sizeof(err));
    if (r < 0) ck_assert(err[0] && !strchr(err, '\n'));
    return r;
}

/* The published reproductions (to 1e-3 %, as required). */
START_TEST(published_values)
{
    double rate, psnr;
    ck_assert_int_eq(bd(&set1, LWC_BD_PCHIP, &rate, NULL, NULL), 0);
    ck_assert_double_eq_tol(rate, -4.4175, 1e-3);
    ck_assert_int_eq(bd(&set1, LWC_BD_CUBIC, &rate, NULL, NULL), 0);
    ck_assert_double_eq_tol(rate, -4.4205, 1e-3);
    ck_assert_int_eq(bd(&set2, LWC_BD_PCHIP, &rate, NULL, NULL), 0);
    ck_assert_double_eq_tol(rate, 31.3799, 1e-3);
    ck_assert_int_eq(bd(&set2, LWC_BD_CUBIC, &rate, &psnr, NULL), 0);
    ck_assert_double_eq_tol(rate, 31.3974, 1e-3);
    ck_assert_double_eq_tol(psnr, -1.1849, 1e-4);
}
END_TEST

/* All methods and both outputs against scipy, to 1e-8. */
START_TEST(scipy_values)
{
    static const struct { const RdPair *s; int method; double rate, psnr; } cases[] = {
        {&set1, LWC_BD_PCHIP, -4.4174853506, 0.1196927854},
        {&set1, LWC_BD_CUBIC, -4.4204627061, 0.1204094191},
        {&set1, LWC_BD_AKIMA, -4.4252451570, 0.1194092703},
        {&set2, LWC_BD_PCHIP, 31.3798782024, -1.1834724046},
        {&set2, LWC_BD_CUBIC, 31.3973740549, -1.1848979218},
        {&set2, LWC_BD_AKIMA, 31.3839889843, -1.1836589701},
        {&set3, LWC_BD_PCHIP, -9.3713117484, 0.4490759908},
        {&set3, LWC_BD_CUBIC, -9.2947523429, 0.4333951859},
        {&set3, LWC_BD_AKIMA, -9.3506945942, 0.4483588835},
        {&set4, LWC_BD_PCHIP, -2.0772674121, 0.0112045997},
        {&set4, LWC_BD_CUBIC, 150.5521593565, -0.0081719498},
        {&set4, LWC_BD_AKIMA, -67.3824654203, -0.0168388409},
    };
    const int i = _i;
    double rate, psnr;
    ck_assert_int_eq(bd(cases[i].s, cases[i].method, &rate, &psnr, NULL), 0);
    ck_assert_double_eq_tol(rate, cases[i].rate, 1e-8);
    ck_assert_double_eq_tol(psnr, cases[i].psnr, 1e-8);
}
END_TEST

/* Order of the points does not matter; swapping curves flips the sign in
 * log space: (1 + a)(1 + b) = 1 and BD-PSNR negates. */
START_TEST(order_and_swap)
{
    RdPair s = set3, sw;
    TestRng r;
    trng_seed(&r, 5);
    for (int i = s.n2 - 1; i > 0; i--) { /* shuffle curve 2 */
        int j = (int)(trng_u64(&r) % (uint64_t)(i + 1));
        double t = s.r2[i]; s.r2[i] = s.r2[j]; s.r2[j] = t;
        t = s.p2[i]; s.p2[i] = s.p2[j]; s.p2[j] = t;
    }
    for (int m = 0; m < 3; m++) {
        double a, b, pa, pb;
        ck_assert_int_eq(bd(&set3, m, &a, &pa, NULL), 0);
        ck_assert_int_eq(bd(&s, m, &b, &pb, NULL), 0);
        ck_assert_double_eq_tol(a, b, 1e-12);
        ck_assert_double_eq_tol(pa, pb, 1e-12);
        sw = (RdPair){{0}, {0}, s.n2, {0}, {0}, s.n1};
        memcpy(sw.r1, s.r2, sizeof(sw.r1));
        memcpy(sw.p1, s.p2, sizeof(sw.p1));
        memcpy(sw.r2, s.r1, sizeof(sw.r2));
        memcpy(sw.p2, s.p1, sizeof(sw.p2));
        ck_assert_int_eq(bd(&sw, m, &b, &pb, NULL), 0);
        ck_assert_double_eq_tol((1 + a / 100) * (1 + b / 100), 1.0, 1e-12);
        ck_assert_double_eq_tol(pa, -pb, 1e-12);
        /* a curve against itself */
        RdPair same = {{0}, {0}, s.n1, {0}, {0}, s.n1};
        memcpy(same.r1, s.r1, sizeof(same.r1));
        memcpy(same.p1, s.p1, sizeof(same.p1));
        memcpy(same.r2, s.r1, sizeof(same.r2));
        memcpy(same.p2, s.p1, sizeof(same.p2));
        ck_assert_int_eq(bd(&same, m, &a, &pa, NULL), 0);
        ck_assert_double_eq_tol(a, 0, 1e-12);
        ck_assert_double_eq_tol(pa, 0, 1e-12);
    }
}
END_TEST

/* A test curve at exactly half the rate everywhere: -50 % for every method
 * (the log-rate curves differ by a constant), and BD-PSNR is the quality
 * gain of the same shift. Two-point PCHIP is a straight line. */
START_TEST(constant_ratio)
{
    RdPair s = set3;
    s.n2 = s.n1;
    for (int i = 0; i < s.n1; i++) {
        s.r2[i] = s.r1[i] / 2;
        s.p2[i] = s.p1[i];
    }
    for (int m = 0; m < 3; m++) {
        double rate;
        ck_assert_int_eq(bd(&s, m, &rate, NULL, NULL), 0);
        ck_assert_double_eq_tol(rate, -50.0, 1e-9);
    }
    /* two points: log-linear; psnr = 10 + 10 log10(r) vs the same at r/2:
     * BD-PSNR = 10 log10(2) over the common log-rate range */
    const double r1[2] = {1, 10}, p1[2] = {10, 20}, r2[2] = {0.5, 5}, p2[2] = {10, 20};
    double rate, psnr, ov;
    char err[128];
    ck_assert_int_eq(lwc_bdrate(r1, p1, 2, r2, p2, 2, LWC_BD_PCHIP, &rate, &psnr, &ov, err,
                                sizeof(err)), 0);
    ck_assert_double_eq_tol(rate, -50.0, 1e-9);
    ck_assert_double_eq_tol(psnr, 10 * log10(2.0), 1e-9);
    ck_assert_double_eq_tol(ov, 1.0, 1e-12);
}
END_TEST

START_TEST(overlap_fraction)
{
    double ov;
    ck_assert_int_eq(bd(&set1, LWC_BD_PCHIP, NULL, NULL, &ov), 0);
    ck_assert_double_eq_tol(ov, 0.9836384885079854, 1e-12); /* 5.05 / 5.134 */
    ck_assert_int_eq(bd(&set2, LWC_BD_PCHIP, NULL, NULL, &ov), 0);
    ck_assert_double_eq_tol(ov, 1.0, 1e-12);
    /* half-overlapping ranges */
    const double r[4] = {1, 2, 4, 8}, p1[4] = {30, 32, 34, 36}, p2[4] = {33, 35, 37, 39};
    char err[128];
    ck_assert_int_eq(lwc_bdrate(r, p1, 4, r, p2, 4, LWC_BD_PCHIP, NULL, NULL, &ov, err,
                                sizeof(err)), 0);
    ck_assert_double_eq_tol(ov, 0.5, 1e-12);
}
END_TEST

/* Quality ranges overlap but rate ranges do not: BD-rate is defined,
 * BD-PSNR is NAN. */
START_TEST(no_rate_overlap)
{
    const double r1[4] = {1000, 1500, 2000, 3000}, p1[4] = {30, 32, 34, 36};
    const double r2[4] = {100, 150, 200, 300}, p2[4] = {30.5, 32.5, 34.5, 36.5};
    static const double want[3] = {-90.8562321969, -90.8440122685, -90.8565138068};
    for (int m = 0; m < 3; m++) {
        double rate, psnr;
        char err[128];
        ck_assert_int_eq(lwc_bdrate(r1, p1, 4, r2, p2, 4, m, &rate, &psnr, NULL, err, sizeof(err)), 0);
        ck_assert_double_eq_tol(rate, want[m], 1e-8);
        ck_assert(isnan(psnr));
    }
}
END_TEST

START_TEST(errors)
{
    const double r[5] = {1, 2, 4, 8, 16}, p[5] = {30, 32, 34, 36, 38};
    const double p_dec[4] = {30, 32, 31, 36};   /* not increasing */
    const double r_dup[4] = {1, 2, 2, 8};       /* repeated rate */
    const double r_neg[4] = {-1, 2, 4, 8};
    const double p_nan[4] = {30, NAN, 34, 36};
    const double p_far[4] = {40, 41, 42, 43};   /* no overlap with p */
    const double p_touch[4] = {38, 39, 40, 41}; /* touches at one point only */
    double v;
    char err[256];
#define BD(R1, P1, N1, R2, P2, N2, M) \
    lwc_bdrate(R1, P1, N1, R2, P2, N2, M, &v, &v, &v, err, sizeof(err))
    ck_assert_int_eq(BD(r, p, 1, r, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(r, p, 2, r, p, 2, LWC_BD_PCHIP), 0);
    ck_assert_int_eq(BD(r, p, 3, r, p, 4, LWC_BD_CUBIC), LWC_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "needs 4"));
    ck_assert_int_eq(BD(r, p, 2, r, p, 4, LWC_BD_AKIMA), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(r, p, 3, r, p, 3, LWC_BD_AKIMA), 0);
    ck_assert_int_eq(BD(r, p_dec, 4, r, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "monotonic"));
    ck_assert_int_eq(BD(r, p, 4, r_dup, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "test"));
    ck_assert_int_eq(BD(r_neg, p, 4, r, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(r, p_nan, 4, r, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(r, p, 4, r, p_far, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "overlap"));
    ck_assert_int_eq(BD(r, p, 5, r, p_touch, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(r, p, 4, r, p, 4, 7), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(NULL, p, 4, r, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    ck_assert_int_eq(BD(r, p, LWC_BD_MAX_POINTS + 1, r, p, 4, LWC_BD_PCHIP), LWC_ERR_INVAL);
    /* monotone in the given order is not required: sorting comes first */
    const double r_rev[4] = {8, 4, 2, 1}, p_rev[4] = {36, 34, 32, 30};
    ck_assert_int_eq(BD(r_rev, p_rev, 4, r, p, 4, LWC_BD_CUBIC), 0);
    ck_assert_double_eq_tol(v, 1.0, 1e-12); /* last written: overlap */
#undef BD
}
END_TEST

START_TEST(method_names)
{
    ck_assert_int_eq(lwc_bd_method_from_name("pchip"), LWC_BD_PCHIP);
    ck_assert_int_eq(lwc_bd_method_from_name("CUBIC"), LWC_BD_CUBIC);
    ck_assert_int_eq(lwc_bd_method_from_name("akima"), LWC_BD_AKIMA);
    ck_assert_int_eq(lwc_bd_method_from_name("spline"), -1);
    ck_assert_int_eq(lwc_bd_method_from_name(NULL), -1);
    ck_assert_str_eq(lwc_bd_method_name(LWC_BD_CUBIC), "cubic");
    ck_assert_ptr_null(lwc_bd_method_name(9));
}
END_TEST

/* ---- CSV */

static char g_csv[64];

static const char *write_csv(const char *text)
{
    snprintf(g_csv, sizeof(g_csv), "/tmp/lwc_test_bd_XXXXXX");
    int fd = mkstemp(g_csv);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return g_csv;
}

START_TEST(csv_psnr_and_msssim)
{
    const char *path = write_csv("# kodak, mean over 24 images\n"
                                 "image,Bpp, psnr ,msssim,time\r\n"
                                 "mean,0.1,30.5,0.95,1.2\r\n"
                                 "\n"
                                 "mean, 0.2 ,32.25,0.97,1.3\n"
                                 "mean,0.4,34,0.99,x\n");
    double *rate, *q;
    int n;
    char err[256] = "";
    ck_assert_int_eq(lwc_rd_csv_read(path, "psnr", &rate, &q, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_double_eq(rate[1], 0.2);
    ck_assert_double_eq(q[1], 32.25);
    ck_assert_double_eq(q[2], 34);
    lwc_free(rate);
    lwc_free(q);
    ck_assert_int_eq(lwc_rd_csv_read(path, "msssim", &rate, &q, &n, err, sizeof(err)), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_double_eq_tol(q[0], 13.0102999566, 1e-9); /* -10 log10(0.05) */
    ck_assert_double_eq_tol(q[2], 20.0, 1e-9);
    lwc_free(rate);
    lwc_free(q);
    unlink(path);
}
END_TEST

/* End to end: CSV curves in MS-SSIM dB through BD-rate (scipy values). */
START_TEST(csv_msssim_bdrate)
{
    double *ra, *qa, *rb, *qb;
    int na, nb;
    char err[256] = "";
    const char *pa = write_csv("bpp,psnr,msssim\n0.1,1,0.95\n0.2,2,0.97\n0.4,3,0.98\n0.8,4,0.99\n");
    ck_assert_int_eq(lwc_rd_csv_read(pa, "msssim", &ra, &qa, &na, err, sizeof(err)), 0);
    unlink(pa);
    const char *pb = write_csv("bpp,msssim\n0.1,0.955\n0.2,0.972\n0.4,0.983\n0.8,0.991\n");
    ck_assert_int_eq(lwc_rd_csv_read(pb, "msssim", &rb, &qb, &nb, err, sizeof(err)), 0);
    unlink(pb);
    double rate, psnr;
    ck_assert_int_eq(lwc_bdrate(ra, qa, na, rb, qb, nb, LWC_BD_PCHIP, &rate, &psnr, NULL, err,
                                sizeof(err)), 0);
    ck_assert_double_eq_tol(rate, -14.2278199410, 1e-8);
    ck_assert_double_eq_tol(psnr, 0.4914348426, 1e-8);
    ck_assert_int_eq(lwc_bdrate(ra, qa, na, rb, qb, nb, LWC_BD_CUBIC, &rate, NULL, NULL, err,
                                sizeof(err)), 0);
    ck_assert_double_eq_tol(rate, -15.3326770001, 1e-8);
    lwc_free(ra);
    lwc_free(qa);
    lwc_free(rb);
    lwc_free(qb);
}
END_TEST

START_TEST(csv_errors)
{
    static const struct { const char *text, *metric, *needle; int want; } cases[] = {
        {"bpp,psnr\n", "psnr", "no data", LWC_ERR_INVAL},
        {"", "psnr", "empty", LWC_ERR_INVAL},
        {"rate,psnr\n1,30\n", "psnr", "bpp", LWC_ERR_INVAL},
        {"bpp,psnr\n1,30\n", "msssim", "msssim", LWC_ERR_INVAL},
        {"bpp,psnr\n1,abc\n", "psnr", ":2:", LWC_ERR_INVAL},
        {"bpp,psnr\n1,30\n2\n", "psnr", ":3:", LWC_ERR_INVAL},
        {"bpp,psnr\n1,30x\n", "psnr", ":2:", LWC_ERR_INVAL},
        {"bpp,psnr\n1,inf\n", "psnr", ":2:", LWC_ERR_INVAL},
        {"bpp,msssim\n1,1.0\n", "msssim", "outside", LWC_ERR_INVAL},
        {"bpp,psnr\n1,30\n", "ssim", "unknown metric", LWC_ERR_INVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = write_csv(cases[i].text);
        double *rate = (double *)1, *q = (double *)1;
        int n = -1;
        char err[256] = "";
        int r = lwc_rd_csv_read(path, cases[i].metric, &rate, &q, &n, err, sizeof(err));
        unlink(path);
        ck_assert_msg(r == cases[i].want, "case %zu: %d (%s)", i, r, err);
        ck_assert_msg(strstr(err, cases[i].needle), "case %zu: '%s' lacks '%s'", i, err,
                      cases[i].needle);
        ck_assert_ptr_null(rate);
        ck_assert_ptr_null(q);
        ck_assert_int_eq(n, 0);
    }
    double *rate, *q;
    int n;
    char err[256] = "";
    ck_assert_int_eq(lwc_rd_csv_read("/nonexistent/a.csv", "psnr", &rate, &q, &n, err, sizeof(err)),
                     LWC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/a.csv"));
}
END_TEST

START_TEST(csv_too_many_rows)
{
    char *text = lwc_malloc(16 * (LWC_BD_MAX_POINTS + 2));
    ck_assert_ptr_nonnull(text);
    size_t len = (size_t)sprintf(text, "bpp,psnr\n");
    for (int i = 0; i <= LWC_BD_MAX_POINTS; i++) len += (size_t)sprintf(text + len, "%d,%d\n", i + 1, i);
    const char *path = write_csv(text);
    lwc_free(text);
    double *rate, *q;
    int n;
    char err[256] = "";
    ck_assert_int_eq(lwc_rd_csv_read(path, "psnr", &rate, &q, &n, err, sizeof(err)), LWC_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "more than"));
    unlink(path);
}
END_TEST

Suite *bdrate_suite(void);
Suite *bdrate_suite(void)
{
    Suite *s = suite_create("bdrate");
    TCase *t = tcase_create("bdrate");
    tcase_add_test(t, published_values);
    tcase_add_loop_test(t, scipy_values, 0, 12);
    tcase_add_test(t, order_and_swap);
    tcase_add_test(t, constant_ratio);
    tcase_add_test(t, overlap_fraction);
    tcase_add_test(t, no_rate_overlap);
    tcase_add_test(t, errors);
    tcase_add_test(t, method_names);
    suite_add_tcase(s, t);
    t = tcase_create("csv");
    tcase_add_test(t, csv_psnr_and_msssim);
    tcase_add_test(t, csv_msssim_bdrate);
    tcase_add_test(t, csv_errors);
    tcase_add_test(t, csv_too_many_rows);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(bdrate_suite()); }
