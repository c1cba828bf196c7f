/* GEMM dispatch and float layers: both GEMM paths against a naive product,
 * conv2d against a direct convolution, every backward pass against central
 * finite differences of L = sum(r .* y) with a fixed random r, BLAS path
 * against reference path, and the accumulate / overwrite conventions. */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "testutil.h"
#include "transforms/gemm.h"
#include "transforms/layers.h"

#define FD_EPS 1e-2 /* all layers here are piecewise linear: FD is exact off the kinks */

static int grad_close(double ana, double fd)
{
    return fabs(ana - fd) <= 2e-2 * fmax(fabs(ana), fabs(fd)) + 2e-3;
}

static float *falloc(size_t n)
{
    float *p = lwc_malloc_array(n ? n : 1, sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

static void fill_normal(TestRng *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) v[i] = (float)trng_normal(r);
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double max_abs(const float *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* Every element of got equals want within rel * max|want| (+ a tiny floor). */
static void assert_close_tensor(const float *got, const float *want, size_t n,
                                double rel, const char *what)
{
    double tol = rel * max_abs(want, n) + 1e-6;
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)got[i] - want[i]) <= tol, "%s[%zu]: %.8g vs %.8g (tol %g)",
                      what, i, got[i], want[i], tol);
}

static void setup(void)
{
    lwc_gemm_set_threads(1);
    lwc_gemm_force_reference(0);
}

static void teardown(void) { lwc_gemm_force_reference(0); }

/* ---- GEMM ---------------------------------------------------------------- */

typedef struct { int m, n, k; } GemmShape;

/* Sizes crossing the reference's MR/NR/KC/MC/NC block edges, and degenerate ones. */
static const GemmShape g_gemm[] = {
    { 1, 1, 1 }, { 3, 5, 2 }, { 4, 8, 128 }, { 37, 70, 130 }, { 33, 65, 257 },
    { 96, 64, 96 }, { 5, 200, 3 }, { 70, 9, 300 }, { 2, 3, 0 },
};
#define N_GEMM ((int)(sizeof(g_gemm) / sizeof(g_gemm[0])))

static void check_gemm(const GemmShape *sh, int ta, int tb, float alpha, float beta, TestRng *r)
{
    int m = sh->m, n = sh->n, k = sh->k;
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5;
    size_t asz = (size_t)(ta ? k : m) * lda, bsz = (size_t)(tb ? n : k) * ldb, csz = (size_t)m * ldc;
    float *a = falloc(asz), *b = falloc(bsz), *c = falloc(csz), *c0 = falloc(csz);
    fill_normal(r, a, asz);
    fill_normal(r, b, bsz);
    fill_normal(r, c0, csz);
    if (beta == 0.0f)
        for (size_t i = 0; i < csz; i++) c0[i] = NAN; /* must be overwritten, never read */
    memcpy(c, c0, csz * sizeof(float));
    lwc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) {
            float got = c[(size_t)i * ldc + j];
            if (j >= n) { /* outside the window: untouched (NaN compares by bits) */
                ck_assert(memcmp(&got, &c0[(size_t)i * ldc + j], sizeof(float)) == 0);
                continue;
            }
            double acc = 0, mag = 0;
            for (int p = 0; p < k; p++) {
                double av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += av * bv;
                mag += fabs(av * bv);
            }
            double want = alpha * acc + (beta == 0.0f ? 0.0 : beta * c0[(size_t)i * ldc + j]);
            ck_assert_msg(fabs(got - want) <= 1e-5 * (mag + fabs(want)) + 1e-6,
                          "%s m%d n%d k%d ta%d tb%d beta %g (%d,%d): %g vs %g",
                          lwc_gemm_kernel_name(), m, n, k, ta, tb, beta, i, j, got, want);
        }
    lwc_free(a);
    lwc_free(b);
    lwc_free(c);
    lwc_free(c0);
}

START_TEST(test_gemm)
{
    static const float betas[] = { 0.0f, 1.0f, -0.5f };
    TestRng r;
    trng_seed(&r, 10 + _i);
    for (int ref = 0; ref < 2; ref++) {
        lwc_gemm_force_reference(ref);
        if (ref) ck_assert(lwc_gemm_is_reference());
        for (int t = 0; t < 4; t++)
            for (int bi = 0; bi < 3; bi++)
                check_gemm(&g_gemm[_i], t & 1, t >> 1, 0.75f, betas[bi], &r);
    }
}
END_TEST

START_TEST(test_gemm_switch)
{
    lwc_gemm_force_reference(1);
    ck_assert(lwc_gemm_is_reference());
    ck_assert_str_eq(lwc_gemm_kernel_name(), "reference");
    lwc_gemm_force_reference(0);
    /* Without BLAS the reference stays; with it, OpenBLAS is back. */
    ck_assert_str_eq(lwc_gemm_kernel_name(), lwc_gemm_is_reference() ? "reference" : "openblas");
}
END_TEST

/* ---- conv2d fixtures ------------------------------------------------------ */

typedef struct { int n, cin, cout, h, w, k, s, bias; } ConvShape;

static const ConvShape g_conv[] = {
    { 2, 3, 4, 5, 6, 3, 1, 1 }, { 2, 3, 4, 5, 6, 3, 2, 1 }, { 1, 2, 3, 7, 4, 3, 2, 0 },
    { 2, 4, 3, 6, 5, 1, 1, 1 }, { 1, 3, 5, 7, 5, 1, 2, 1 }, { 2, 4, 2, 4, 4, 1, 1, 0 },
    { 1, 2, 2, 1, 1, 3, 1, 1 }, { 1, 2, 3, 1, 3, 3, 2, 1 }, { 1, 2, 2, 2, 9, 3, 2, 0 },
    { 1, 1, 1, 3, 2, 1, 2, 1 },
};
#define N_CONV ((int)(sizeof(g_conv) / sizeof(g_conv[0])))

typedef struct {
    ConvShape sh;
    int ho, wo;
    size_t nx, nw, ny;
    float *x, *wt, *bias, *y, *r, *work, *dx, *dwt, *dbias;
} Conv;

static Conv conv_new(const ConvShape *sh, uint64_t seed)
{
    Conv c;
    TestRng rng;
    memset(&c, 0, sizeof(c));
    c.sh = *sh;
    c.ho = lwc_conv2d_out_dim(sh->h, sh->k, sh->s);
    c.wo = lwc_conv2d_out_dim(sh->w, sh->k, sh->s);
    c.nx = (size_t)sh->n * sh->cin * sh->h * sh->w;
    c.nw = (size_t)sh->cout * sh->cin * sh->k * sh->k;
    c.ny = (size_t)sh->n * sh->cout * c.ho * c.wo;
    c.x = falloc(c.nx);
    c.wt = falloc(c.nw);
    c.bias = sh->bias ? falloc((size_t)sh->cout) : NULL;
    c.y = falloc(c.ny);
    c.r = falloc(c.ny);
    c.work = falloc(lwc_conv2d_work_size(sh->cin, sh->h, sh->w, sh->k, sh->s));
    c.dx = falloc(c.nx);
    c.dwt = falloc(c.nw);
    c.dbias = falloc((size_t)sh->cout);
    trng_seed(&rng, seed);
    fill_normal(&rng, c.x, c.nx);
    fill_normal(&rng, c.wt, c.nw);
    if (c.bias) fill_normal(&rng, c.bias, (size_t)sh->cout);
    fill_normal(&rng, c.r, c.ny);
    return c;
}

static void conv_free(Conv *c)
{
    float *ptrs[] = { c->x, c->wt, c->bias, c->y, c->r, c->work, c->dx, c->dwt, c->dbias };
    for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) lwc_free(ptrs[i]);
}

static void conv_fwd(Conv *c)
{
    const ConvShape *s = &c->sh;
    lwc_conv2d_forward(c->x, s->n, s->cin, s->h, s->w, c->wt, c->bias, s->cout, s->k, s->s,
                       c->y, c->work);
}

/* dy = r; gradients zeroed first. */
static void conv_bwd(Conv *c)
{
    const ConvShape *s = &c->sh;
    memset(c->dwt, 0, c->nw * sizeof(float));
    memset(c->dbias, 0, (size_t)s->cout * sizeof(float));
    lwc_conv2d_backward(c->x, c->r, s->n, s->cin, s->h, s->w, c->wt, s->cout, s->k, s->s,
                        c->dx, c->dwt, c->bias ? c->dbias : NULL, c->work);
}

static double conv_loss(Conv *c)
{
    conv_fwd(c);
    return dot(c->r, c->y, c->ny);
}

/* Central difference of the loss wrt *v, step measured between the floats used. */
static double conv_fd(Conv *c, float *v)
{
    float v0 = *v, vp = (float)(v0 + FD_EPS), vm = (float)(v0 - FD_EPS);
    *v = vp;
    double lp = conv_loss(c);
    *v = vm;
    double lm = conv_loss(c);
    *v = v0;
    return (lp - lm) / ((double)vp - (double)vm);
}

static void check_grads(Conv *c, float *param, const float *grad, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double fd = conv_fd(c, &param[i]);
        ck_assert_msg(grad_close(grad[i], fd), "%s[%zu] k%d s%d: %g vs fd %g", what, i,
                      c->sh.k, c->sh.s, grad[i], fd);
    }
}

/* ---- conv2d tests ---------------------------------------------------------- */

/* Direct convolution in double from the definition. */
static double naive_conv_at(const Conv *c, int b, int co, int oy, int ox)
{
    const ConvShape *s = &c->sh;
    int p = s->k / 2;
    double acc = c->bias ? c->bias[co] : 0.0;
    for (int ci = 0; ci < s->cin; ci++)
        for (int ky = 0; ky < s->k; ky++)
            for (int kx = 0; kx < s->k; kx++) {
                int iy = oy * s->s + ky - p, ix = ox * s->s + kx - p;
                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                acc += (double)c->wt[((co * s->cin + ci) * s->k + ky) * s->k + kx] *
                       c->x[(((size_t)b * s->cin + ci) * s->h + iy) * s->w + ix];
            }
    return acc;
}

START_TEST(test_conv_naive)
{
    Conv c = conv_new(&g_conv[_i], 1000 + _i);
    const ConvShape *s = &c.sh;
    ck_assert_int_eq(c.ho, (s->h + 2 * (s->k / 2) - s->k) / s->s + 1);
    if (s->k == 3 && s->s == 2) ck_assert_int_eq(c.ho, (s->h + 1) / 2);
    for (int ref = 0; ref < 2; ref++) {
        lwc_gemm_force_reference(ref);
        for (size_t i = 0; i < c.ny; i++) c.y[i] = NAN; /* output fully written */
        conv_fwd(&c);
        for (int b = 0; b < s->n; b++)
            for (int co = 0; co < s->cout; co++)
                for (int oy = 0; oy < c.ho; oy++)
                    for (int ox = 0; ox < c.wo; ox++) {
                        double want = naive_conv_at(&c, b, co, oy, ox);
                        float got = c.y[(((size_t)b * s->cout + co) * c.ho + oy) * c.wo + ox];
                        ck_assert_msg(fabs(got - want) <= 1e-4 * (1 + fabs(want)),
                                      "ref%d k%d s%d (%d,%d,%d,%d): %g vs %g", ref, s->k, s->s,
                                      b, co, oy, ox, got, want);
                    }
    }
    conv_free(&c);
}
END_TEST

START_TEST(test_conv_grads)
{
    for (int ref = 0; ref < 2; ref++) {
        Conv c = conv_new(&g_conv[_i], 2000 + _i);
        lwc_gemm_force_reference(ref);
        for (size_t i = 0; i < c.nx; i++) c.dx[i] = NAN; /* dx is overwritten */
        conv_bwd(&c);
        check_grads(&c, c.x, c.dx, c.nx, "dx");
        check_grads(&c, c.wt, c.dwt, c.nw, "dwt");
        if (c.bias) check_grads(&c, c.bias, c.dbias, (size_t)c.sh.cout, "dbias");
        conv_free(&c);
    }
}
END_TEST

/* Weight and bias gradients accumulate; dx == NULL skips dx. */
START_TEST(test_conv_accumulates)
{
    const ConvShape *s = &g_conv[_i];
    Conv c = conv_new(s, 3000 + _i);
    float *dwt1 = falloc(c.nw), *db1 = falloc((size_t)s->cout);
    conv_bwd(&c);
    memcpy(dwt1, c.dwt, c.nw * sizeof(float));
    memcpy(db1, c.dbias, (size_t)s->cout * sizeof(float));
    lwc_conv2d_backward(c.x, c.r, s->n, s->cin, s->h, s->w, c.wt, s->cout, s->k, s->s,
                        NULL, c.dwt, c.bias ? c.dbias : NULL, c.work);
    for (size_t i = 0; i < c.nw; i++) ck_assert(fabs(c.dwt[i] - 2 * dwt1[i]) <= 1e-5 * (1 + fabs(dwt1[i])));
    for (int i = 0; i < s->cout && c.bias; i++) ck_assert(fabs(c.dbias[i] - 2 * db1[i]) <= 1e-5 * (1 + fabs(db1[i])));
    lwc_free(dwt1);
    lwc_free(db1);
    conv_free(&c);
}
END_TEST

/* Larger shapes (K > one reference KC block) for the BLAS/reference match. */
static const ConvShape g_conv_big[] = {
    { 2, 32, 24, 17, 19, 3, 1, 1 }, { 2, 32, 24, 17, 19, 3, 2, 1 },
    { 2, 48, 40, 9, 13, 1, 1, 1 }, { 1, 48, 40, 9, 13, 1, 2, 0 },
};

static void conv_run_all(Conv *c, int ref, float *y, float *dx, float *dwt, float *db)
{
    lwc_gemm_force_reference(ref);
    conv_fwd(c);
    conv_bwd(c);
    memcpy(y, c->y, c->ny * sizeof(float));
    memcpy(dx, c->dx, c->nx * sizeof(float));
    memcpy(dwt, c->dwt, c->nw * sizeof(float));
    memcpy(db, c->dbias, (size_t)c->sh.cout * sizeof(float));
}

START_TEST(test_conv_blas_matches_reference)
{
    const ConvShape *s = _i < N_CONV ? &g_conv[_i] : &g_conv_big[_i - N_CONV];
    Conv c = conv_new(s, 4000 + _i);
    float *y[2], *dx[2], *dwt[2], *db[2];
    for (int ref = 0; ref < 2; ref++) {
        y[ref] = falloc(c.ny);
        dx[ref] = falloc(c.nx);
        dwt[ref] = falloc(c.nw);
        db[ref] = falloc((size_t)s->cout);
        conv_run_all(&c, ref, y[ref], dx[ref], dwt[ref], db[ref]);
    }
    assert_close_tensor(y[0], y[1], c.ny, 1e-4, "y");
    assert_close_tensor(dx[0], dx[1], c.nx, 1e-4, "dx");
    assert_close_tensor(dwt[0], dwt[1], c.nw, 1e-4, "dwt");
    assert_close_tensor(db[0], db[1], (size_t)s->cout, 1e-4, "dbias");
    for (int ref = 0; ref < 2; ref++) {
        lwc_free(y[ref]);
        lwc_free(dx[ref]);
        lwc_free(dwt[ref]);
        lwc_free(db[ref]);
    }
    conv_free(&c);
}
END_TEST

/* The trainer's Winograd 3x3 forward and input gradient equal the direct
 * convolution's (itself checked against a naive loop and by finite
 * differences above) up to float rounding, at sizes that are not multiples
 * of the 4x4 tile, with cin != cout. */
static const struct { int cin, cout, h, w; } k_wino[] = { { 3, 5, 7, 9 }, { 16, 8, 4, 4 }, { 5, 12, 13, 6 }, { 24, 24, 32, 32 }, { 1, 1, 1, 1 } };

START_TEST(test_conv3x3_winograd_matches_direct)
{
    int cin = k_wino[_i].cin, cout = k_wino[_i].cout, h = k_wino[_i].h, w = k_wino[_i].w;
    size_t nx = (size_t)cin * h * w, ny = (size_t)cout * h * w;
    TestRng r;
    trng_seed(&r, 40 + _i);
    float *x = falloc(nx), *wt = falloc((size_t)cout * cin * 9), *b = falloc(cout), *dy = falloc(ny);
    float *y0 = falloc(ny), *y1 = falloc(ny), *dx0 = falloc(nx), *dx1 = falloc(nx);
    float *work = falloc(LWC_MAX(lwc_conv2d_work_size(cin, h, w, 3, 1), lwc_conv3x3_wino_work_size(cin, cout, h, w)));
    fill_normal(&r, x, nx); fill_normal(&r, wt, (size_t)cout * cin * 9); fill_normal(&r, b, cout); fill_normal(&r, dy, ny);
    lwc_conv2d_forward(x, 1, cin, h, w, wt, b, cout, 3, 1, y0, work);
    lwc_conv3x3_wino_forward(x, cin, h, w, wt, b, cout, y1, work);
    assert_close_tensor(y1, y0, ny, 1e-5, "winograd y");
    lwc_conv2d_backward(x, dy, 1, cin, h, w, wt, cout, 3, 1, dx0, NULL, NULL, work);
    for (size_t i = 0; i < nx; i++) dx1[i] = 1e30f; /* overwritten, not accumulated */
    lwc_conv3x3_wino_backward_data(dy, cout, h, w, wt, cin, dx1, work);
    assert_close_tensor(dx1, dx0, nx, 1e-5, "winograd dx");
    lwc_free(x); lwc_free(wt); lwc_free(b); lwc_free(dy); lwc_free(y0); lwc_free(y1);
    lwc_free(dx0); lwc_free(dx1); lwc_free(work);
}
END_TEST

START_TEST(test_conv_work_size)
{
    ck_assert_uint_eq(lwc_conv2d_work_size(8, 10, 12, 1, 1), 0);
    ck_assert_uint_eq(lwc_conv2d_work_size(8, 10, 12, 1, 2), (size_t)8 * 5 * 6);
    ck_assert_uint_eq(lwc_conv2d_work_size(8, 10, 12, 3, 1), (size_t)8 * 9 * 10 * 12);
    ck_assert_uint_eq(lwc_conv2d_work_size(8, 11, 13, 3, 2), (size_t)8 * 9 * 6 * 7);
    /* pointwise runs with no work buffer at all */
    float x[6] = { 1, 2, 3, 4, 5, 6 }, wt[2] = { 2, -1 }, y[3], dx[6], dwt[2] = { 0, 0 };
    lwc_conv2d_forward(x, 1, 2, 1, 3, wt, NULL, 1, 1, 1, y, NULL);
    ck_assert_float_eq(y[0], -2.0f);
    ck_assert_float_eq(y[2], 0.0f);
    lwc_conv2d_backward(x, y, 1, 2, 1, 3, wt, 1, 1, 1, dx, dwt, NULL, NULL);
    ck_assert_float_eq(dx[0], -4.0f);
    ck_assert_float_eq(dx[3], 2.0f);
    ck_assert_float_eq(dwt[0], -2.0f * 1 + -1.0f * 2 + 0.0f * 3);
}
END_TEST

/* ---- elementwise layers ------------------------------------------------- */

/* Generic FD check for a layer y = f(x) (+ optional parameter p), loss sum r.*y. */
typedef struct Elem Elem;
typedef void (*ElemFwd)(Elem *e);
struct Elem {
    size_t nx, ny, np;
    float *x, *y, *r, *p; /* p: parameters (gains), may be NULL */
    int nc, h, w, n, c;
    float cap;
    ElemFwd fwd;
};

static double elem_loss(Elem *e)
{
    e->fwd(e);
    return dot(e->r, e->y, e->ny);
}

static double elem_fd(Elem *e, float *v)
{
    float v0 = *v, vp = (float)(v0 + FD_EPS), vm = (float)(v0 - FD_EPS);
    *v = vp;
    double lp = elem_loss(e);
    *v = vm;
    double lm = elem_loss(e);
    *v = v0;
    return (lp - lm) / ((double)vp - (double)vm);
}

static void elem_check(Elem *e, float *v, const float *grad, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double fd = elem_fd(e, &v[i]);
        ck_assert_msg(grad_close(grad[i], fd), "%s[%zu]: %g vs fd %g", what, i, grad[i], fd);
    }
}

static void relu_fwd(Elem *e)
{
    memcpy(e->y, e->x, e->nx * sizeof(float));
    lwc_relu_forward(e->y, e->ny);
}

static void relu_cap_fwd(Elem *e)
{
    memcpy(e->y, e->x, e->nx * sizeof(float));
    lwc_relu_cap_forward(e->y, e->ny, e->cap);
}

static void up_fwd(Elem *e) { lwc_upsample2_forward(e->x, e->nc, e->h, e->w, e->y); }

static void gain_fwd(Elem *e) { lwc_gain_forward(e->x, e->n, e->c, (size_t)e->h * e->w, e->p, e->y); }

/* Values at least 3 eps away from the kinks at 0 and cap. */
static void fill_off_kinks(TestRng *r, float *v, size_t n, float cap)
{
    for (size_t i = 0; i < n; i++) {
        float x;
        do x = (float)(2.0 * trng_normal(r));
        while (fabs(x) < 3 * FD_EPS || fabs(x - cap) < 3 * FD_EPS);
        v[i] = x;
    }
}

static Elem elem_new(size_t nx, size_t ny, size_t np, uint64_t seed)
{
    Elem e;
    TestRng r;
    memset(&e, 0, sizeof(e));
    e.nx = nx;
    e.ny = ny;
    e.np = np;
    e.x = falloc(nx);
    e.y = falloc(ny);
    e.r = falloc(ny);
    e.p = np ? falloc(np) : NULL;
    trng_seed(&r, seed);
    e.cap = 1.5f;
    fill_off_kinks(&r, e.x, nx, e.cap);
    fill_normal(&r, e.r, ny);
    if (np) fill_normal(&r, e.p, np);
    return e;
}

static void elem_free(Elem *e)
{
    lwc_free(e->x);
    lwc_free(e->y);
    lwc_free(e->r);
    lwc_free(e->p);
}

START_TEST(test_relu)
{
    Elem e = elem_new(60, 60, 0, 50);
    float *dx = falloc(60);
    e.fwd = relu_fwd;
    relu_fwd(&e);
    for (size_t i = 0; i < 60; i++) ck_assert_float_eq(e.y[i], e.x[i] > 0 ? e.x[i] : 0.0f);
    lwc_relu_backward(e.y, e.r, dx, 60);
    elem_check(&e, e.x, dx, 60, "relu dx");
    memcpy(dx, e.r, 60 * sizeof(float)); /* in place on dy */
    lwc_relu_backward(e.y, dx, dx, 60);
    for (size_t i = 0; i < 60; i++) ck_assert_float_eq(dx[i], e.y[i] > 0 ? e.r[i] : 0.0f);
    lwc_free(dx);
    elem_free(&e);
}
END_TEST

START_TEST(test_relu_cap)
{
    Elem e = elem_new(80, 80, 0, 51);
    float *dx = falloc(80);
    int inside = 0, above = 0;
    e.fwd = relu_cap_fwd;
    relu_cap_fwd(&e);
    for (size_t i = 0; i < 80; i++) {
        ck_assert_float_eq(e.y[i], fminf(fmaxf(e.x[i], 0.0f), e.cap));
        inside += e.x[i] > 0 && e.x[i] < e.cap;
        above += e.x[i] > e.cap;
    }
    ck_assert(inside > 0 && above > 0); /* all three regions exercised */
    lwc_relu_cap_backward(e.y, e.r, dx, 80, e.cap);
    elem_check(&e, e.x, dx, 80, "relu_cap dx");
    lwc_free(dx);
    elem_free(&e);
}
END_TEST

START_TEST(test_upsample2)
{
    int nc = 3, h = 3, w = 5;
    Elem e = elem_new((size_t)nc * h * w, (size_t)nc * 4 * h * w, 0, 52);
    float *dx = falloc(e.nx);
    e.nc = nc;
    e.h = h;
    e.w = w;
    e.fwd = up_fwd;
    up_fwd(&e);
    for (int p = 0; p < nc; p++)
        for (int i = 0; i < 2 * h; i++)
            for (int j = 0; j < 2 * w; j++)
                ck_assert_float_eq(e.y[((size_t)p * 2 * h + i) * 2 * w + j],
                                   e.x[((size_t)p * h + i / 2) * w + j / 2]);
    lwc_upsample2_backward(e.r, nc, h, w, dx);
    elem_check(&e, e.x, dx, e.nx, "upsample dx");
    lwc_free(dx);
    elem_free(&e);
}
END_TEST

START_TEST(test_gain)
{
    int n = 2, c = 3, h = 2, w = 3;
    size_t hw = (size_t)h * w, nx = (size_t)n * c * hw;
    Elem e = elem_new(nx, nx, (size_t)c, 53);
    float *dx = falloc(nx), *dg = falloc((size_t)c), *dy = falloc(nx);
    e.n = n;
    e.c = c;
    e.h = h;
    e.w = w;
    e.fwd = gain_fwd;
    gain_fwd(&e);
    for (size_t i = 0; i < nx; i++) ck_assert_float_eq(e.y[i], e.x[i] * e.p[(i / hw) % c]);
    for (int i = 0; i < c; i++) dg[i] = 0.25f; /* accumulates onto this */
    lwc_gain_backward(e.x, e.r, n, c, hw, e.p, dx, dg);
    elem_check(&e, e.x, dx, nx, "gain dx");
    for (int i = 0; i < c; i++) dg[i] -= 0.25f;
    elem_check(&e, e.p, dg, (size_t)c, "gain dg");
    /* dx may overwrite dy; dg still sees the original dy */
    float *dg2 = falloc((size_t)c);
    memset(dg2, 0, (size_t)c * sizeof(float));
    memcpy(dy, e.r, nx * sizeof(float));
    lwc_gain_backward(e.x, dy, n, c, hw, e.p, dy, dg2);
    for (size_t i = 0; i < nx; i++) ck_assert_float_eq(dy[i], dx[i]);
    for (int i = 0; i < c; i++) ck_assert(fabs(dg2[i] - dg[i]) <= 1e-5);
    lwc_free(dg2);
    lwc_free(dx);
    lwc_free(dg);
    lwc_free(dy);
    elem_free(&e);
}
END_TEST

START_TEST(test_concat)
{
    int n = 2, ca = 2, cb = 3, cd = ca + cb;
    size_t hw = 7;
    float a[2 * 2 * 7], b[2 * 3 * 7], cat[2 * 5 * 7], back[2 * 3 * 7];
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) a[i] = (float)i;
    for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) b[i] = -(float)i - 1;
    lwc_concat_put(a, n, ca, hw, cat, cd, 0);
    lwc_concat_put(b, n, cb, hw, cat, cd, ca);
    for (int bt = 0; bt < n; bt++)
        for (int ch = 0; ch < cd; ch++)
            for (size_t i = 0; i < hw; i++) {
                float want = ch < ca ? a[((size_t)bt * ca + ch) * hw + i]
                                     : b[((size_t)bt * cb + ch - ca) * hw + i];
                ck_assert_float_eq(cat[((size_t)bt * cd + ch) * hw + i], want);
            }
    lwc_concat_get(cat, n, cd, hw, ca, cb, back);
    ck_assert_mem_eq(back, b, sizeof(b));
    lwc_concat_get(cat, n, cd, hw, 1, 2, back); /* a block straddling both inputs */
    for (int bt = 0; bt < n; bt++) {
        ck_assert_float_eq(back[(size_t)bt * 2 * hw], a[((size_t)bt * ca + 1) * hw]);
        ck_assert_float_eq(back[((size_t)bt * 2 + 1) * hw], b[(size_t)bt * cb * hw]);
    }
}
END_TEST

static Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *tg = tcase_create("gemm");
    tcase_add_checked_fixture(tg, setup, teardown);
    tcase_add_loop_test(tg, test_gemm, 0, N_GEMM);
    tcase_add_test(tg, test_gemm_switch);
    suite_add_tcase(s, tg);

    TCase *tc = tcase_create("conv2d");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_conv_naive, 0, N_CONV);
    tcase_add_loop_test(tc, test_conv_grads, 0, N_CONV);
    tcase_add_loop_test(tc, test_conv_accumulates, 0, N_CONV);
    tcase_add_loop_test(tc, test_conv_blas_matches_reference, 0,
                        N_CONV + (int)(sizeof(g_conv_big) / sizeof(g_conv_big[0])));
    tcase_add_test(tc, test_conv_work_size);
    tcase_add_loop_test(tc, test_conv3x3_winograd_matches_direct, 0, sizeof(k_wino) / sizeof(k_wino[0]));
    suite_add_tcase(s, tc);

    TCase *te = tcase_create("elementwise");
    tcase_add_test(te, test_relu);
    tcase_add_test(te, test_relu_cap);
    tcase_add_test(te, test_upsample2);
    tcase_add_test(te, test_gain);
    tcase_add_test(te, test_concat);
    suite_add_tcase(s, te);
    return s;
}

int main(void) { return test_run_suite(layers_suite()); }
