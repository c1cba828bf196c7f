/* Integer entropy-path layers (entropy/intconv.c): the kernels the CPU flags
 * select and the forced C reference against a direct convolution written
 * from the definition in intconv.h, bit for bit,
 * on random and extreme values (weights and inputs at +-32767 and -32768,
 * bias and multiplier at the int32 limits, shifts 1 and 62), every layer
 * shape the model uses (1x1 and 3x3; LWC_INT_ALL and both checkerboard
 * parities; odd sizes, channel counts that are not multiples of the kernel
 * blocking), plus the round_shift edge cases. Buffers are allocated at their
 * documented size with guard words behind them. Every other kernel set
 * equals the C reference bit for bit: tests/test_checkasm.c (and
 * tests/cli_neon.sh for NEON, under qemu). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "entropy/intconv.h"
#include "testutil.h"

#define GUARD 64
#define GUARD_VAL 0x5A5A

/* ---- oracle: the definition in intconv.h, written independently ---------- */

static int64_t oracle_round_shift(int64_t v, int s)
{
    int64_t t = v + ((int64_t)1 << (s - 1)), d = (int64_t)1 << s;
    int64_t q = t / d; /* C division truncates; make it floor */
    if (t % d < 0) q--;
    return q;
}

static int16_t oracle_out(const LwcIntConv *l, int o, uint32_t acc)
{
    int64_t v = oracle_round_shift((int64_t)(int32_t)acc * l->mult[o], l->shift[o]);
    if (v < l->lo) v = l->lo;
    if (v > l->hi) v = l->hi;
    return (int16_t)v;
}

/* Direct zero-padded k x k convolution at the selected positions (raster order). */
static void oracle_forward(const LwcIntConv *l, const int16_t *x, int h, int w, int parity, int16_t *y)
{
    int k = l->k, r = k / 2, p = 0;
    int npos = lwc_int_npos(h, w, parity);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            if (parity != LWC_INT_ALL && ((i + j) & 1) != parity) continue;
            for (int o = 0; o < l->cout; o++) {
                uint32_t acc = (uint32_t)l->bias[o];
                for (int ci = 0; ci < l->cin; ci++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int yy = i + ky - r, xx = j + kx - r;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            int32_t wv = l->w[(((size_t)o * l->cin + ci) * k + ky) * k + kx];
                            acc += (uint32_t)wv * (uint32_t)(int32_t)x[((size_t)ci * h + yy) * w + xx];
                        }
                y[(size_t)o * npos + p] = oracle_out(l, o, acc);
            }
            p++;
        }
}

/* ---- random layers ---------------------------------------------------------- */

static const char *k_vnames[] = { "typical", "extreme", "all-min", "all-max" };

typedef struct Layer {
    LwcIntConv l;
    int16_t *w;
    int32_t *bias, *mult;
    uint8_t *shift;
} Layer;

static void layer_make(Layer *L, TestRng *r, int cin, int cout, int k, int mode)
{
    size_t nw = (size_t)cout * cin * k * k;
    L->w = malloc(nw * sizeof(int16_t));
    L->bias = malloc((size_t)cout * sizeof(int32_t));
    L->mult = malloc((size_t)cout * sizeof(int32_t));
    L->shift = malloc((size_t)cout);
    ck_assert(L->w && L->bias && L->mult && L->shift);
    for (size_t i = 0; i < nw; i++) L->w[i] = trng_ic_weight(r, mode);
    for (int o = 0; o < cout; o++) trng_ic_requant(r, mode, &L->bias[o], &L->mult[o], &L->shift[o]);
    int32_t lo = -32768, hi = 32767;
    if (trng_u64(r) % 3 == 0) { /* a narrower clamp, as the trained layers use */
        lo = trng_range(r, -32768, 0);
        hi = trng_range(r, lo, 32767);
    }
    L->l = (LwcIntConv){ .cin = cin, .cout = cout, .k = k, .w = L->w, .bias = L->bias,
                         .mult = L->mult, .shift = L->shift, .lo = lo, .hi = hi };
}

static void layer_free(Layer *L)
{
    free(L->w); free(L->bias); free(L->mult); free(L->shift);
}

/* ---- running every kernel set ------------------------------------------------ */

static int16_t *alloc_guarded16(size_t n)
{
    int16_t *p = malloc((n + GUARD) * sizeof(int16_t));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n + GUARD; i++) p[i] = GUARD_VAL;
    return p;
}

static void check_guard16(const int16_t *p, size_t n, const char *what)
{
    for (size_t i = n; i < n + GUARD; i++) ck_assert_msg(p[i] == GUARD_VAL, "%s: write past the end at +%zu", what, i - n);
}

/* Runs the layer through lwc_intconv_forward (and, for 1x1, through
 * lwc_intconv_1x1_forward on the gathered input) with the selected kernels
 * and with the reference switch, and compares with the oracle bit for bit. */
static const char *const k_entries[4] = { "conv", "conv ranges", "1x1", "1x1 ranges" };

static void check_layer(const LwcIntConv *l, const int16_t *x, int h, int w, int parity, const char *tag)
{
    int npos = lwc_int_npos(h, w, parity);
    size_t ny = (size_t)l->cout * npos, nwork = lwc_intconv_work_size(l, h, w);
    int16_t *want = alloc_guarded16(ny), *got = alloc_guarded16(ny);
    int32_t *work = malloc((nwork + GUARD) * sizeof(int32_t));
    ck_assert_ptr_nonnull(work);
    for (size_t i = nwork; i < nwork + GUARD; i++) work[i] = 0x12345678;
    oracle_forward(l, x, h, w, parity, want);
    /* The 1x1 entry takes [cin][npos]: gather the selected positions. */
    int16_t *xg = NULL;
    if (l->k == 1) {
        xg = malloc(((size_t)l->cin * npos + 1) * sizeof(int16_t));
        ck_assert_ptr_nonnull(xg);
        for (int ci = 0, q = 0; ci < l->cin; ci++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                    if (parity == LWC_INT_ALL || ((i + j) & 1) == parity) xg[q++] = x[((size_t)ci * h + i) * w + j];
    }
    for (int ref = 0; ref < 2; ref++) {
        lwc_intconv_force_reference(ref);
        const char *name = lwc_intconv_kernel_name();
        /* entries: conv, conv in three position ranges, 1x1, 1x1 in ranges */
        int cut[4] = { 0, npos / 3, LWC_MIN(npos, 2 * npos / 3 + 1), npos };
        for (int entry = 0; entry < (l->k == 1 ? 4 : 2); entry++) {
            memset(got, 0x77, ny * sizeof(int16_t));
            if (entry == 0) lwc_intconv_forward(l, x, h, w, parity, got, work);
            else if (entry == 2) lwc_intconv_1x1_forward(l, xg, npos, got, work);
            for (int part = 0; part < 3 && (entry & 1); part++) {
                if (entry == 1) lwc_intconv_forward_range(l, x, h, w, parity, cut[part], cut[part + 1], got, work);
                else lwc_intconv_1x1_forward_range(l, xg, npos, cut[part], cut[part + 1], got, work);
            }
            for (size_t i = 0; i < ny; i++)
                ck_assert_msg(got[i] == want[i],
                              "%s: kernels %s%s, %s entry, cin %d cout %d k %d %dx%d parity %d: "
                              "out[%zu] (o %zu p %zu) = %d, want %d", tag, name, ref ? " (forced ref)" : "",
                              k_entries[entry], l->cin, l->cout, l->k, h, w, parity, i,
                              i / (size_t)npos, i % (size_t)npos, got[i], want[i]);
            check_guard16(got, ny, tag);
            for (size_t i = nwork; i < nwork + GUARD; i++) ck_assert_msg(work[i] == 0x12345678, "%s: work overrun", tag);
        }
        lwc_intconv_force_reference(0);
    }
    free(xg);
    free(want); free(got); free(work);
}

static void run_shape(int cin, int cout, int k, int h, int w, int parity, uint64_t seed)
{
    for (int mode = 0; mode < TV_COUNT; mode++) {
        TestRng r;
        trng_seed(&r, seed * 16 + (uint64_t)mode);
        Layer L;
        layer_make(&L, &r, cin, cout, k, mode);
        size_t nx = (size_t)cin * h * w;
        int16_t *x = malloc((nx + 1) * sizeof(int16_t));
        ck_assert_ptr_nonnull(x);
        for (size_t i = 0; i < nx; i++) x[i] = trng_ic_input(&r, mode);
        check_layer(&L.l, x, h, w, parity, k_vnames[mode]);
        free(x);
        layer_free(&L);
    }
}

/* ---- shapes ------------------------------------------------------------------ */

typedef struct Shape { int cin, cout, k, h, w, parity; } Shape;

/* The layers of the shipped architecture (M=64 Nz=32 N=64 Ch=64 S=4 Cc=32 P=96)
 * on small maps, then odd and degenerate ones. */
static const Shape g_shapes[] = {
    { 32, 64, 3, 4, 6, LWC_INT_ALL },  /* hs0: Nz -> N, 3x3 */
    { 64, 64, 3, 8, 12, LWC_INT_ALL }, /* hs1: N -> Ch, 3x3 */
    { 16, 32, 3, 8, 12, 1 },           /* ctx: M/S -> Cc, 3x3 over anchors, non-anchor outputs */
    { 16, 32, 3, 9, 11, 0 },
    { 96, 96, 1, 8, 12, 0 },           /* p0 of slice 0: Ch + Cc -> P */
    { 144, 96, 1, 9, 12, 1 },          /* p0 of slice 3: Ch + 3*16 + Cc -> P */
    { 96, 96, 1, 7, 13, 1 },           /* p1 */
    { 96, 32, 1, 7, 13, 0 },           /* p2: P -> 2*ms */
    { 1, 1, 1, 1, 1, LWC_INT_ALL },
    { 1, 1, 3, 1, 1, LWC_INT_ALL },
    { 1, 3, 3, 2, 2, LWC_INT_ALL },
    { 3, 5, 1, 5, 7, 0 },
    { 3, 5, 1, 5, 7, 1 },
    { 3, 7, 3, 5, 7, LWC_INT_ALL },
    { 5, 6, 3, 9, 11, 0 },
    { 5, 6, 3, 9, 11, 1 },
    { 7, 9, 3, 13, 3, 1 },
    { 2, 4, 3, 3, 17, 0 },
    { 9, 13, 1, 17, 19, LWC_INT_ALL },
    { 33, 4, 3, 6, 5, 1 },
    { 4, 8, 3, 16, 16, 0 },            /* npos exactly a multiple of the 16-wide tile */
    { 4, 8, 3, 4, 8, LWC_INT_ALL },
    /* Several position chunks (intconv.c gathers ~64 KiB of pair rows at a
     * time), with chunk edges inside image rows of odd width. */
    { 144, 96, 1, 40, 31, 1 },
    { 16, 32, 3, 24, 25, 1 },
    { 16, 32, 3, 25, 24, 0 },
    { 64, 64, 3, 9, 13, LWC_INT_ALL },
};
#define N_SHAPES ((int)(sizeof(g_shapes) / sizeof(g_shapes[0])))

START_TEST(test_shapes)
{
    const Shape *s = &g_shapes[_i];
    run_shape(s->cin, s->cout, s->k, s->h, s->w, s->parity, 100 + (uint64_t)_i);
}
END_TEST

/* Random shapes: channel counts, sizes and parities drawn per iteration. */
START_TEST(test_random_shapes)
{
    TestRng r;
    trng_seed(&r, 7000 + (uint64_t)_i);
    int k = trng_u64(&r) & 1 ? 3 : 1;
    int cin = trng_range(&r, 1, k == 3 ? 24 : 70), cout = trng_range(&r, 1, 13);
    int h = trng_range(&r, 1, 21), w = trng_range(&r, 1, 21), parity = trng_range(&r, -1, 1);
    if (lwc_int_npos(h, w, parity) == 0) parity = LWC_INT_ALL;
    run_shape(cin, cout, k, h, w, parity, 9000 + (uint64_t)_i);
}
END_TEST

/* pmaddwd's one overflowing case, (-32768)^2 + (-32768)^2 = 2^31, in every
 * accumulator lane, with bias 0 and an identity-like requantisation whose
 * result is visible: acc = kk * 2^30 mod 2^32. */
START_TEST(test_madd_overflow)
{
    for (int cin = 1; cin <= 6; cin++) {
        int cout = 5, h = 4, w = 9;
        Layer L;
        TestRng r;
        trng_seed(&r, 55);
        layer_make(&L, &r, cin, cout, 3, TV_ALL_MIN);
        for (int o = 0; o < cout; o++) { L.bias[o] = 0; L.mult[o] = 1; L.shift[o] = (uint8_t)(16 + o); }
        L.l.lo = -32768; L.l.hi = 32767;
        int16_t *x = malloc((size_t)cin * h * w * sizeof(int16_t));
        for (int i = 0; i < cin * h * w; i++) x[i] = -32768;
        check_layer(&L.l, x, h, w, LWC_INT_ALL, "madd-overflow");
        free(x);
        layer_free(&L);
    }
}
END_TEST

/* ---- round_shift ------------------------------------------------------------- */

START_TEST(test_round_shift_edges)
{
    static const struct { int64_t v; int s; int64_t want; } t[] = {
        { 0, 1, 0 }, { 1, 1, 1 }, { -1, 1, 0 }, { -2, 1, -1 }, { -3, 1, -1 }, { 2, 1, 1 }, { 3, 1, 2 },
        { -2, 2, 0 }, { -3, 2, -1 }, { 2, 2, 1 }, { 1, 2, 0 }, { -6, 2, -1 }, { -7, 2, -2 },
        { (int64_t)1 << 62, 62, 1 }, { -((int64_t)1 << 62), 62, -1 }, { -((int64_t)1 << 61), 62, 0 },
        { -((int64_t)1 << 61) - 1, 62, -1 }, { ((int64_t)1 << 61) - 1, 62, 0 }, { (int64_t)1 << 61, 62, 1 },
        { INT64_C(4611686016279904256), 62, 1 },  /* 2^31 (2^31-1) */
        { -INT64_C(4611686016279904256), 62, -1 },
        { INT64_C(-4611686016279904256), 1, INT64_C(-2305843008139952128) },
        { INT64_C(-4611686018427387904), 31, INT64_C(-2147483648) },
        { INT64_C(-3221225472), 31, -1 }, { INT64_C(-3221225473), 31, -2 }, { INT64_C(3221225472), 31, 2 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_msg(lwc_round_shift(t[i].v, t[i].s) == t[i].want, "round_shift(%lld, %d) = %lld, want %lld",
                      (long long)t[i].v, t[i].s, (long long)lwc_round_shift(t[i].v, t[i].s), (long long)t[i].want);
        ck_assert(oracle_round_shift(t[i].v, t[i].s) == t[i].want);
    }
    /* Ties go up (floor of v/2^s + 1/2), also for negative v. */
    for (int s = 1; s <= 62; s++) {
        int64_t d = (int64_t)1 << s, half = d / 2;
        int64_t qmax = s >= 62 ? 0 : s == 61 ? 1 : 3; /* keep |v| <= 2^62, the product range */
        for (int64_t q = -qmax; q <= qmax; q++) {
            ck_assert(lwc_round_shift(q * d + half, s) == q + 1);
            ck_assert(lwc_round_shift(q * d + half - 1, s) == q);
            ck_assert(lwc_round_shift(q * d - half, s) == q);
        }
    }
}
END_TEST

START_TEST(test_round_shift_random)
{
    TestRng r;
    trng_seed(&r, 31);
    for (int i = 0; i < 200000; i++) {
        int32_t a = (int32_t)trng_u64(&r), m = (int32_t)trng_u64(&r);
        if (i % 7 == 0) a = i & 8 ? INT32_MIN : INT32_MAX;
        if (i % 5 == 0) m = i & 16 ? INT32_MIN : INT32_MAX;
        int s = 1 + (int)(trng_u64(&r) % 62);
        int64_t v = (int64_t)a * m;
        ck_assert(lwc_round_shift(v, s) == oracle_round_shift(v, s));
    }
}
END_TEST

static Suite *intconv_suite(void)
{
    Suite *s = suite_create("intconv");
    TCase *tk = tcase_create("kernels");
    tcase_set_timeout(tk, 600);
    tcase_add_loop_test(tk, test_shapes, 0, N_SHAPES);
    tcase_add_loop_test(tk, test_random_shapes, 0, 40);
    tcase_add_test(tk, test_madd_overflow);
    suite_add_tcase(s, tk);
    TCase *tr = tcase_create("round_shift");
    tcase_add_test(tr, test_round_shift_edges);
    tcase_add_test(tr, test_round_shift_random);
    suite_add_tcase(s, tr);
    return s;
}

int main(void) { return test_run_suite(intconv_suite()); }
