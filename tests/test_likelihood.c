/* Rate terms (Gaussian conditional, factorized density), Adam, grad clipping. */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "testutil.h"
#include "entropy/cdf.h"
#include "learn/adam.h"
#include "learn/likelihood.h"

#define FD_H 1e-3
#define BITS_AT_BOUND 29.897352853986263 /* -log2(1e-9) */

static int grad_close(double ana, double fd)
{
    return fabs(ana - fd) <= 1e-2 * fmax(fabs(ana), fabs(fd)) + 1e-4;
}

/* Central difference of fn wrt *x. The step is measured between the two
 * float values actually used, so rounding of x+-h to float costs nothing. */
typedef double (*RateFn)(void *ctx);
static double central_diff(RateFn fn, void *ctx, float *x)
{
    float x0 = *x;
    float xp = (float)(x0 + FD_H), xm = (float)(x0 - FD_H);
    *x = xp;
    double fp = fn(ctx);
    *x = xm;
    double fm = fn(ctx);
    *x = x0;
    return (fp - fm) / ((double)xp - (double)xm);
}

/* ---- Gaussian ----------------------------------------------------------- */

typedef struct { float *v, *mu, *ls; size_t n; } GaussCase;

static double gauss_rate(void *ctx)
{
    GaussCase *g = ctx;
    return lwc_gauss_rate_fwd_bwd(g->v, g->mu, g->ls, g->n, NULL, NULL, NULL);
}

/* Checks every gradient of a GaussCase against central differences. */
static void gauss_check_grads(GaussCase *g)
{
    float dv[64], dmu[64], dls[64];
    ck_assert_uint_le(g->n, 64);
    double bits = lwc_gauss_rate_fwd_bwd(g->v, g->mu, g->ls, g->n, dv, dmu, dls);
    ck_assert(isfinite(bits) && bits > 0);
    for (size_t i = 0; i < g->n; i++) {
        double fv = central_diff(gauss_rate, g, &g->v[i]);
        double fm = central_diff(gauss_rate, g, &g->mu[i]);
        double fs = central_diff(gauss_rate, g, &g->ls[i]);
        ck_assert_msg(grad_close(dv[i], fv), "dv[%zu] %g vs fd %g", i, dv[i], fv);
        ck_assert_msg(grad_close(dmu[i], fm), "dmu[%zu] %g vs fd %g", i, dmu[i], fm);
        ck_assert_msg(grad_close(dls[i], fs), "dls[%zu] %g vs fd %g", i, dls[i], fs);
    }
}

/* |v-mu| below the bin half-width, including v == mu exactly. */
START_TEST(gauss_grad_near_mean)
{
    TestRng r;
    trng_seed(&r, 11);
    float v[32], mu[32], ls[32];
    for (int i = 0; i < 32; i++) {
        mu[i] = (float)(4.0 * trng_normal(&r));
        v[i] = i < 4 ? mu[i] : (float)(mu[i] + 0.9 * (trng_uniform(&r) - 0.5));
        ls[i] = (float)log(0.13 + 20.0 * trng_uniform(&r) * trng_uniform(&r));
    }
    GaussCase g = { v, mu, ls, 32 };
    gauss_check_grads(&g);
}
END_TEST

/* Far in the tail (|v-mu| up to 0.5 + 5.5 sigma, p down to ~2e-8) but above
 * the likelihood bound, for small and large sigma. */
START_TEST(gauss_grad_tail)
{
    TestRng r;
    trng_seed(&r, 12);
    float v[32], mu[32], ls[32];
    for (int i = 0; i < 32; i++) {
        double s = (i & 1) ? 0.12 + 0.5 * trng_uniform(&r) : 5.0 + 100.0 * trng_uniform(&r);
        double k = 2.0 + 3.5 * trng_uniform(&r);
        mu[i] = (float)trng_normal(&r);
        v[i] = (float)(mu[i] + ((i & 2) ? 1 : -1) * (0.5 + k * s));
        ls[i] = (float)log(s);
    }
    GaussCase g = { v, mu, ls, 32 };
    gauss_check_grads(&g);
}
END_TEST

/* Sigma outside [0.11, 256] is clamped, with a zero log-sigma gradient. */
START_TEST(gauss_scale_clamp)
{
    float v[5] = { 0.3f, 0.3f, 40.0f, 40.0f, 40.0f }, mu[5] = { 0 };
    float ls[5] = { (float)log(0.02), (float)log(0.11), (float)log(5000.0), (float)log(256.0),
                    (float)log(250.0) };
    float dv[5], dls[5];
    double per[5];
    for (int i = 0; i < 5; i++)
        per[i] = lwc_gauss_rate_fwd_bwd(v + i, mu + i, ls + i, 1, dv + i, NULL, dls + i);
    ck_assert_double_eq_tol(per[0], per[1], 1e-5);
    ck_assert_double_eq_tol(per[2], per[3], 1e-5);
    ck_assert_float_eq(dls[0], 0.0f);
    ck_assert_float_eq(dls[2], 0.0f);
    ck_assert(dls[4] > 0.1f); /* inside the range: a wider scale costs bits here */
    ck_assert_float_eq_tol(dv[0], dv[1], 1e-3f * fabsf(dv[1]));
}
END_TEST

/* Below the likelihood bound the value is clamped but the gradient still
 * pulls mu towards v and sigma up, as CompressAI's LowerBound does. */
START_TEST(gauss_likelihood_bound)
{
    float v[2] = { (float)(0.5 + 6.3 * 0.2), -(float)(0.5 + 6.3 * 0.2) };
    float mu[2] = { 0, 0 }, ls[2] = { (float)log(0.2), (float)log(0.2) };
    float dv[2], dmu[2], dls[2];
    ck_assert(lwc_gauss_likelihood(v[0], 0, 0.2) < 1e-9);
    double bits = lwc_gauss_rate_fwd_bwd(v, mu, ls, 2, dv, dmu, dls);
    ck_assert_double_eq_tol(bits, 2 * BITS_AT_BOUND, 1e-9);
    ck_assert(dv[0] > 0.1f && dv[1] < -0.1f);
    ck_assert_float_eq(dmu[0], -dv[0]);
    ck_assert(dls[0] < -0.1f && dls[1] < -0.1f);
    /* Hopelessly far: everything underflows, the result stays finite. */
    float vf = 1e6f, mf = 0, lf = (float)log(0.11);
    float g1, g2, g3;
    ck_assert_double_eq_tol(lwc_gauss_rate_fwd_bwd(&vf, &mf, &lf, 1, &g1, &g2, &g3), BITS_AT_BOUND, 1e-9);
    ck_assert(isfinite(g1) && isfinite(g2) && isfinite(g3));
    /* A NaN from the network shows in the loss instead of hiding at the bound. */
    lf = NAN;
    ck_assert(isnan(lwc_gauss_rate_fwd_bwd(&vf, &mf, &lf, 1, NULL, NULL, NULL)));
}
END_TEST

/* Large sigma: against erf in long double, and against density x bin width. */
/* Expected bits of a discretised N(0, s^2) source coded with the
 * discretised N(0, t^2) of lwc_gaussian_pmf (escape mass at escape cost). */
static double ce_bits(double s, double t)
{
    static double p[4096];
    int r;
    ck_assert_int_gt(lwc_gaussian_pmf(t, &r, p, 4096), 0);
    double bits = 0, mass = 0;
    for (int v = -r; v <= r; v++) {
        double q = lwc_gauss_likelihood(v, 0, s);
        bits -= q * log2(p[v + r]);
        mass += q;
    }
    return bits - (1 - mass) * log2(p[2 * r + 1]);
}

/* The coder's scale bounds: each lies between its two levels, and on
 * either side of it the nearer level's table is the cheaper one; for wide
 * scales the bound approaches the continuous crossover,
 * s^2 = 2 ln(r) / (1/L_i^2 - 1/L_{i+1}^2). */
START_TEST(gauss_table_bounds)
{
    double lv[LWC_SCALE_LEVELS], b[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    ck_assert_int_eq(lwc_gauss_table_bounds(lv, LWC_SCALE_LEVELS, b), 0);
    ck_assert(b[LWC_SCALE_LEVELS - 1] == lv[LWC_SCALE_LEVELS - 1]);
    for (int i = 0; i + 1 < LWC_SCALE_LEVELS; i++) {
        ck_assert_msg(b[i] > lv[i] && b[i] < lv[i + 1], "bound %d: %g not in (%g, %g)", i, b[i], lv[i], lv[i + 1]);
        if (i % 7 == 0 && lv[i + 1] < 20) {
            ck_assert(ce_bits(b[i] * 0.995, lv[i]) < ce_bits(b[i] * 0.995, lv[i + 1]));
            ck_assert(ce_bits(b[i] * 1.005, lv[i]) > ce_bits(b[i] * 1.005, lv[i + 1]));
        }
    }
    int i = 40; /* sigma ~ 13: the continuous formula holds */
    double cont = sqrt(2 * log(lv[i + 1] / lv[i]) / (1 / (lv[i] * lv[i]) - 1 / (lv[i + 1] * lv[i + 1])));
    ck_assert_double_eq_tol(b[i], cont, 2e-3 * cont);
}
END_TEST

START_TEST(gauss_large_sigma)
{
    const double s = 200.0;
    const double as[5] = { 0.0, 0.7, 37.0, 200.0, 611.0 };
    for (int i = 0; i < 5; i++) {
        long double u = (0.5L - as[i]) / s, l = (-0.5L - as[i]) / s;
        long double direct = 0.5L * (erfl(u / sqrtl(2.0L)) - erfl(l / sqrtl(2.0L)));
        double dens = exp(-0.5 * (as[i] / s) * (as[i] / s)) / (s * 2.5066282746310002);
        double p = lwc_gauss_likelihood(3.0 + as[i], 3.0, s);
        ck_assert_double_eq_tol(p, (double)direct, 1e-9 * (double)direct);
        ck_assert_double_eq_tol(p, dens, 1e-4 * dens);
        float v = (float)as[i], mu = 0.0f, ls = (float)log(s);
        double bits = lwc_gauss_rate_fwd_bwd(&v, &mu, &ls, 1, NULL, NULL, NULL);
        double pf = lwc_gauss_likelihood(v, 0.0, exp((double)ls));
        ck_assert_double_eq_tol(bits, -log2(pf), 1e-9);
    }
}
END_TEST

/* ---- Factorized ---------------------------------------------------------- */

/* A density with every parameter moved away from its initial value so that
 * all paths of the backward pass carry weight. */
static void fact_make(LwcFactorized *f, int channels, uint64_t seed)
{
    TestRng r;
    trng_seed(&r, seed);
    ck_assert_int_eq(lwc_factorized_init(f, channels, 10.0), 0);
    for (size_t i = 0; i < f->nparams; i++) f->params[i] += (float)(0.5 * trng_normal(&r));
    for (int k = 0; k < LWC_FACT_LAYERS - 1; k++)
        for (int i = 0; i < channels * 3; i++)
            f->params[f->factor_off[k] + i] = (float)trng_normal(&r);
}

typedef struct { const LwcFactorized *f; float *z; int n, hw; } FactCase;

static double fact_rate(void *ctx)
{
    FactCase *c = ctx;
    return lwc_factorized_rate_fwd_bwd(c->f, c->z, c->n, c->f->channels, c->hw, NULL, NULL);
}

/* Noisy values around each channel's mass, kept where p > 1e-7 so the bound
 * does not interfere with the comparison. */
static void fact_values(const LwcFactorized *f, float *z, int n, int hw, TestRng *r)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < f->channels; c++)
            for (int s = 0; s < hw; s++) {
                float x = (float)(6.0 * trng_normal(r));
                double p = lwc_factorized_cdf(f, c, x + 0.5) - lwc_factorized_cdf(f, c, x - 0.5);
                z[((size_t)i * f->channels + c) * hw + s] = p > 1e-7 ? x : 0.25f;
            }
}

START_TEST(fact_grad_z)
{
    LwcFactorized f;
    TestRng r;
    trng_seed(&r, 21);
    fact_make(&f, 3, 5);
    enum { N = 2, HW = 8 };
    float z[N * 3 * HW], dz[N * 3 * HW];
    fact_values(&f, z, N, HW, &r);
    FactCase c = { &f, z, N, HW };
    double bits = lwc_factorized_rate_fwd_bwd(&f, z, N, 3, HW, dz, NULL);
    ck_assert(isfinite(bits) && bits > 0);
    for (int i = 0; i < N * 3 * HW; i++) {
        double fd = central_diff(fact_rate, &c, &z[i]);
        ck_assert_msg(grad_close(dz[i], fd), "dz[%d] %g vs fd %g (z %g)", i, dz[i], fd, z[i]);
    }
    lwc_factorized_free(&f);
}
END_TEST

START_TEST(fact_grad_params)
{
    LwcFactorized f;
    TestRng r;
    trng_seed(&r, 22);
    fact_make(&f, 3, 6);
    enum { N = 2, HW = 6 };
    float z[N * 3 * HW];
    fact_values(&f, z, N, HW, &r);
    float *dp = lwc_calloc(f.nparams, sizeof(float));
    ck_assert_ptr_nonnull(dp);
    dp[0] = 1.0f; /* accumulates: the result must come on top of this */
    double b1 = lwc_factorized_rate_fwd_bwd(&f, z, N, 3, HW, NULL, dp);
    double b2 = lwc_factorized_rate_fwd_bwd(&f, z, N, 3, HW, NULL, NULL);
    ck_assert_double_eq(b1, b2);
    FactCase c = { &f, z, N, HW };
    /* Every parameter of channel 1, then a random sample of the rest. */
    for (int t = 0; t < (int)f.nparams; t++) {
        size_t i = (size_t)t;
        if (t >= 60) break;
        if (t >= 43) i = trng_u64(&r) % f.nparams;
        double fd = central_diff(fact_rate, &c, &f.params[i]);
        double ana = dp[i] - (i == 0 ? 1.0 : 0.0);
        ck_assert_msg(grad_close(ana, fd), "dparams[%zu] %g vs fd %g", i, ana, fd);
    }
    /* Channel 1's gradient comes only from channel 1's values. */
    ck_assert_float_ne(dp[f.bias_off[3] + 1], 0.0f);
    lwc_free(dp);
    lwc_factorized_free(&f);
}
END_TEST

/* Independent forward pass in long double from the documented layout. */
static long double ref_logits(const LwcFactorized *f, int c, long double x)
{
    static const int dims[5] = { 1, 3, 3, 3, 1 };
    long double cur[3] = { x }, nxt[3];
    for (int k = 0; k < 4; k++) {
        int in = dims[k], out = dims[k + 1];
        for (int o = 0; o < out; o++) {
            long double h = f->params[f->bias_off[k] + (size_t)c * out + o];
            for (int j = 0; j < in; j++) {
                long double r = f->params[f->matrix_off[k] + ((size_t)c * out + o) * in + j];
                h += log1pl(expl(r)) * cur[j];
            }
            if (k < 3) h += tanhl(f->params[f->factor_off[k] + (size_t)c * out + o]) * tanhl(h);
            nxt[o] = h;
        }
        memcpy(cur, nxt, sizeof(cur));
    }
    return cur[0];
}

/* Mass of [x-0.5, x+0.5]: written as a difference of upper tails above the
 * median so that both tails keep full precision. */
static long double ref_mass(const LwcFactorized *f, int c, long double x)
{
    long double L = ref_logits(f, c, x - 0.5L), U = ref_logits(f, c, x + 0.5L);
    if (L + U > 0) return 1.0L / (1.0L + expl(L)) - 1.0L / (1.0L + expl(U));
    return 1.0L / (1.0L + expl(-U)) - 1.0L / (1.0L + expl(-L));
}

/* Bin centre where the mass falls to `p` on side dir, by bisection. */
static float ref_tail_point(const LwcFactorized *f, int c, int dir, long double p)
{
    long double near = 0, far = dir * 4096.0L;
    for (int i = 0; i < 200; i++) {
        long double mid = 0.5L * (near + far);
        if (ref_mass(f, c, mid) > p) near = mid; else far = mid;
    }
    return (float)near;
}

/* The rate matches the long double reference, deep in both tails too
 * (p ~ 3e-9, where an unflipped difference of sigmoids near 1 would lose
 * about 7 digits). */
START_TEST(fact_rate_reference)
{
    LwcFactorized f;
    fact_make(&f, 4, 9);
    enum { HW = 5 };
    float z[4 * HW];
    long double want = 0;
    for (int c = 0; c < 4; c++) {
        float *zc = z + c * HW;
        zc[0] = ref_tail_point(&f, c, -1, 3e-9L);
        zc[1] = ref_tail_point(&f, c, 1, 3e-9L);
        zc[2] = ref_tail_point(&f, c, 1, 1e-5L);
        zc[3] = 0.3f;
        zc[4] = -2.0f;
        for (int i = 0; i < HW; i++) {
            long double m = ref_mass(&f, c, zc[i]);
            ck_assert(m > 1e-9L);
            want += -log2l(m);
        }
    }
    double bits = lwc_factorized_rate_fwd_bwd(&f, z, 1, 4, HW, NULL, NULL);
    ck_assert_msg(fabs(bits - (double)want) < 1e-9, "bits %.12f want %.12Lf", bits, want);
    lwc_factorized_free(&f);
}
END_TEST

START_TEST(fact_cdf_monotone)
{
    LwcFactorized f;
    fact_make(&f, 4, 7);
    for (int c = 0; c < 4; c++) {
        double prev = 0.0;
        for (double x = -1000.0; x <= 1000.0; x += 0.1) {
            double cx = lwc_factorized_cdf(&f, c, x);
            ck_assert(cx >= prev && cx <= 1.0);
            prev = cx;
        }
        ck_assert(lwc_factorized_cdf(&f, c, -1000.0) < 1e-6);
        ck_assert(lwc_factorized_cdf(&f, c, 1000.0) > 1.0 - 1e-6);
    }
    lwc_factorized_free(&f);
}
END_TEST

/* pmf sums to 1 with the escape slot, matches c, and its range is clamped. */
START_TEST(fact_pmf)
{
    LwcFactorized f, f0;
    fact_make(&f, 4, 8);
    ck_assert_int_eq(lwc_factorized_init(&f0, 2, 10.0), 0);
    const LwcFactorized *fs[2] = { &f, &f0 };
    const int widths[3] = { 1000, 20, 2 };
    double pmf[2 * 1000 + 2];
    for (int m = 0; m < 2; m++)
        for (int c = 0; c < fs[m]->channels; c++)
            for (int w = 0; w < 3; w++) {
                int off, n;
                ck_assert_int_eq(lwc_factorized_pmf(fs[m], c, widths[w], &off, pmf, &n), 0);
                ck_assert_int_ge(n, 2);
                ck_assert_int_le(n, 2 * widths[w] + 2);
                double sum = 0.0;
                for (int i = 0; i < n; i++) {
                    ck_assert(pmf[i] >= 0.0);
                    sum += pmf[i];
                }
                ck_assert_double_eq_tol(sum, 1.0, 1e-6);
                int lo = -off, hi = lo + n - 2, mid = (lo + hi) / 2;
                double want = lwc_factorized_cdf(fs[m], c, mid + 0.5) - lwc_factorized_cdf(fs[m], c, mid - 0.5);
                ck_assert_double_eq_tol(pmf[mid - lo], want, 1e-12);
                double tail = lwc_factorized_cdf(fs[m], c, lo - 0.5) + 1.0 - lwc_factorized_cdf(fs[m], c, hi + 0.5);
                ck_assert_double_eq_tol(pmf[n - 1], tail, 1e-12);
                if (w == 0) ck_assert(pmf[n - 1] < 3e-9); /* unclamped: tails ~1e-9 each */
                if (w == 0) ck_assert(pmf[0] > 1e-11 && pmf[n - 2] > 1e-11); /* tight range */
            }
    int off, n;
    ck_assert_int_eq(lwc_factorized_pmf(&f, 4, 10, &off, pmf, &n), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_factorized_pmf(&f, 0, -1, &off, pmf, &n), LWC_ERR_INVAL);
    lwc_factorized_free(&f);
    lwc_factorized_free(&f0);
}
END_TEST

/* Initial density: CompressAI's matrices, zero factors, a bump ~10 wide. */
START_TEST(fact_init)
{
    LwcFactorized f, g;
    ck_assert_int_eq(lwc_factorized_init(&f, 5, 10.0), 0);
    ck_assert_uint_eq(f.nparams, 5 * 43);
    ck_assert_float_eq_tol(f.params[f.matrix_off[0]], (float)log(expm1(1.0 / pow(10.0, 0.25) / 3)), 1e-6f);
    ck_assert_float_eq(f.params[f.factor_off[2] + 14], 0.0f);
    for (int i = 0; i < 15; i++) ck_assert(fabsf(f.params[f.bias_off[1] + i]) <= 0.5f);
    double w = lwc_factorized_cdf(&f, 2, 10.0) - lwc_factorized_cdf(&f, 2, -10.0);
    ck_assert(w > 0.3 && w < 0.99);
    ck_assert_int_eq(lwc_factorized_init(&g, 5, 10.0), 0);
    ck_assert_mem_eq(f.params, g.params, f.nparams * sizeof(float)); /* reproducible */
    float z = 0;
    ck_assert(lwc_factorized_rate_fwd_bwd(&f, &z, 1, 4, 1, NULL, NULL) < 0);
    lwc_factorized_free(&g);
    lwc_factorized_free(&f);
    lwc_factorized_free(&f);
    ck_assert_int_eq(lwc_factorized_init(&f, 0, 10.0), LWC_ERR_INVAL);
    lwc_alloc_fail_after(0);
    ck_assert_int_eq(lwc_factorized_init(&f, 2, 10.0), LWC_ERR_NOMEM);
    lwc_alloc_fail_after(-1);
    ck_assert_ptr_null(f.params);
}
END_TEST

/* ---- Adam and clipping ---------------------------------------------------- */

/* f(x) = sum k_i (x_i - t_i)^2 / 2 with curvatures over 3 decades. */
START_TEST(adam_quadratic)
{
    enum { N = 16 };
    TestRng r;
    trng_seed(&r, 31);
    float x[N], t[N], k[N], g[N];
    LwcAdam a;
    ck_assert_int_eq(lwc_adam_init(&a, N, 0.05f), 0);
    for (int i = 0; i < N; i++) {
        x[i] = (float)(3.0 * trng_normal(&r));
        t[i] = (float)trng_normal(&r);
        k[i] = (float)pow(10.0, 3.0 * trng_uniform(&r) - 1.0);
    }
    for (int s = 0; s < 3000; s++) {
        for (int i = 0; i < N; i++) g[i] = k[i] * (x[i] - t[i]);
        float before = x[0];
        lwc_adam_step(&a, x, g);
        /* The first step moves every coordinate by lr against the gradient. */
        if (s == 0) ck_assert_float_eq_tol(before - x[0], 0.05f * (g[0] > 0 ? 1 : -1), 1e-5f);
    }
    ck_assert_int_eq(a.step, 3000);
    for (int i = 0; i < N; i++) ck_assert_msg(fabsf(x[i] - t[i]) < 1e-2f, "x[%d] %g t %g", i, x[i], t[i]);
    lwc_adam_free(&a);
    ck_assert_ptr_null(a.m);
    ck_assert_int_eq(lwc_adam_init(&a, 0, 0.1f), LWC_ERR_INVAL);
    lwc_alloc_fail_after(1);
    ck_assert_int_eq(lwc_adam_init(&a, 8, 0.1f), LWC_ERR_NOMEM);
    lwc_alloc_fail_after(-1);
    ck_assert_ptr_null(a.m);
    ck_assert_ptr_null(a.v);
}
END_TEST

static double norm2(const float *g, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

START_TEST(grad_clip)
{
    enum { N = 1000 };
    TestRng r;
    trng_seed(&r, 41);
    float g[N], g0[N];
    for (int i = 0; i < N; i++) g0[i] = g[i] = (float)trng_normal(&r);
    double n0 = norm2(g, N);
    ck_assert_double_eq_tol(lwc_grad_clip(g, N, 1.0), n0, 1e-9 * n0);
    ck_assert_double_eq_tol(norm2(g, N), 1.0, 1e-6);
    for (int i = 0; i < N; i++) ck_assert_float_eq_tol(g[i], (float)(g0[i] / n0), 1e-7f);
    /* Below the limit: untouched. */
    memcpy(g, g0, sizeof(g));
    ck_assert_double_eq_tol(lwc_grad_clip(g, N, 2.0 * n0), n0, 1e-9 * n0);
    ck_assert_mem_eq(g, g0, sizeof(g));
    /* Non-finite: reported, untouched. */
    g[3] = INFINITY;
    ck_assert(!isfinite(lwc_grad_clip(g, N, 1.0)));
    ck_assert_float_eq(g[4], g0[4]);
}
END_TEST

static Suite *likelihood_suite(void)
{
    Suite *s = suite_create("likelihood");
    TCase *g = tcase_create("gaussian");
    tcase_add_test(g, gauss_grad_near_mean);
    tcase_add_test(g, gauss_grad_tail);
    tcase_add_test(g, gauss_scale_clamp);
    tcase_add_test(g, gauss_likelihood_bound);
    tcase_add_test(g, gauss_large_sigma);
    tcase_add_test(g, gauss_table_bounds);
    suite_add_tcase(s, g);
    TCase *f = tcase_create("factorized");
    tcase_add_test(f, fact_grad_z);
    tcase_add_test(f, fact_grad_params);
    tcase_add_test(f, fact_rate_reference);
    tcase_add_test(f, fact_cdf_monotone);
    tcase_add_test(f, fact_pmf);
    tcase_add_test(f, fact_init);
    suite_add_tcase(s, f);
    TCase *o = tcase_create("optim");
    tcase_add_test(o, adam_quadratic);
    tcase_add_test(o, grad_clip);
    suite_add_tcase(s, o);
    return s;
}

int main(void) { return test_run_suite(likelihood_suite()); }
