/* checkasm: every kernel set the CPU can run against the C reference.
 *
 * For each kernel family (entropy/intconv.c, transforms/wpt.c,
 * transforms/winograd.c, entropy/intwino.c) the sets come from the family's selector
 * lwc_<family>_dsp(flags) over the CPU levels that lwc_cpu_flags() allows;
 * each set's functions are called directly on random inputs at odd sizes
 * (size 1, non-multiples of every vector width, tails, unaligned offsets of
 * every pointer) and their outputs, with guard elements on both sides, are
 * compared with the C reference's by memcmp: the sets are designed to be
 * bit-identical (see the comments of each file). The public entry points
 * (lwc_intconv_forward..., lwc_wpt_*, lwc_wino_conv3x3_rows) are compared
 * the same way, each set selected with lwc_cpu_set_flags_mask, and each
 * intconv gemm once more with its input and output ending at an
 * inaccessible page (an over-read faults). The float GEMM
 * (transforms/gemm.c) is the exception: OpenBLAS is not bit-exact with the
 * reference by design, so it is held to a tolerance. A self-check runs
 * the harness on deliberately perturbed kernels (the C ones, and a copy of
 * every intconv set) and must see it fail.
 *
 *     build/tests/test_checkasm            the tests (what ctest runs)
 *     build/tests/test_checkasm --bench    then each set's speed-up over C
 *     build/tests/test_checkasm --flags    print lwc_cpu_flags() in hex
 * LWC_CPU_MASK limits the sets, as it does for the library. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"
#include "codec/model.h"
#include "common/cpu.h"
#include "entropy/intconv.h"
#include "entropy/intwino.h"
#include "testutil.h"
#include "transforms/gemm.h"
#include "transforms/winograd.h"
#include "transforms/wpt.h"

/* ---- kernel sets ------------------------------------------------------------ */

enum { MAX_SETS = 8 };

/* The sets of one family, [0] the reference; lwc_cpu_set_flags_mask(flags[k])
 * makes the entry points run set k. */
typedef struct Sets {
    int n;
    const void *d[MAX_SETS];
    const char *name[MAX_SETS];
    unsigned flags[MAX_SETS];
} Sets;

typedef struct Family {
    const char *name;
    const void *(*select)(unsigned flags);
    const char *(*set_name)(const void *d);
} Family;

static const void *sel_intconv(unsigned f) { return lwc_intconv_dsp(f); }
static const void *sel_wpt(unsigned f) { return lwc_wpt_dsp(f); }
static const void *sel_wino(unsigned f) { return lwc_wino_dsp(f); }
static const void *sel_intwino(unsigned f) { return lwc_intwino_dsp(f); }
static const char *name_intconv(const void *d) { return ((const LwcIntConvDsp *)d)->name; }
static const char *name_wpt(const void *d) { return ((const LwcWptDsp *)d)->name; }
static const char *name_wino(const void *d) { return ((const LwcWinoDsp *)d)->name; }
static const char *name_intwino(const void *d) { return ((const LwcIntWinoDsp *)d)->name; }

static const Family k_intconv = { "intconv", sel_intconv, name_intconv };
static const Family k_wpt = { "wpt", sel_wpt, name_wpt };
static const Family k_wino = { "winograd", sel_wino, name_wino };
static const Family k_intwino = { "intwino", sel_intwino, name_intwino };

/* Each level alone, then everything: a set needs its whole level. */
static const unsigned k_levels[] = { LWC_CPU_LEVEL_SSE2, LWC_CPU_LEVEL_SSE41, LWC_CPU_LEVEL_AVX2,
                                     LWC_CPU_LEVEL_AVX512VNNI, LWC_CPU_NEON, ~0u };
_Static_assert(sizeof(k_levels) / sizeof(k_levels[0]) < MAX_SETS, "room for every level and the reference");

static void sets_add(Sets *s, const void *d, const char *name, unsigned flags)
{
    for (int k = 0; k < s->n; k++)
        if (s->d[k] == d) return;
    s->d[s->n] = d;
    s->name[s->n] = name;
    s->flags[s->n++] = flags;
}

/* The reference (flags 0), then every other set the CPU flags allow. */
static Sets find_sets(const Family *f)
{
    Sets s = { 0 };
    unsigned cpu = lwc_cpu_flags();
    sets_add(&s, f->select(0), f->set_name(f->select(0)), 0);
    for (size_t i = 0; i < sizeof(k_levels) / sizeof(k_levels[0]); i++) {
        const void *d = f->select(k_levels[i] & cpu);
        sets_add(&s, d, f->set_name(d), k_levels[i] & cpu);
    }
    return s;
}

/* GEMM: the reference, and OpenBLAS when built in (a setting, not a flag). */
static Sets gemm_sets(void)
{
    Sets s = { 0 };
    sets_add(&s, lwc_gemm_dsp(1), lwc_gemm_dsp(1)->name, 0);
    sets_add(&s, lwc_gemm_dsp(0), lwc_gemm_dsp(0)->name, 0);
    return s;
}

/* ---- comparison helpers ----------------------------------------------------- */

/* The first failure of a case, as text (the self-check needs to see a
 * failure without ending the test). */
typedef struct Report {
    int fail;
    char msg[512];
} Report;

static void report(Report *rp, const char *fmt, ...)
{
    if (rp->fail++) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->msg, sizeof(rp->msg), fmt, ap);
    va_end(ap);
}

#define CK_REPORT(rp) ck_assert_msg(!(rp).fail, "%s", (rp).msg)

/* Index of the first of n elements of `size` bytes that differ, n if none. */
static size_t first_diff(const void *a, const void *b, size_t n, size_t size)
{
    if (!memcmp(a, b, n * size)) return n;
    const unsigned char *x = a, *y = b;
    size_t i = 0;
    while (!memcmp(x + i * size, y + i * size, size)) i++;
    return i;
}

/* Allocation check that, unlike ck_assert, does nothing on success, so the
 * helpers also run outside a test (--bench). */
static void *need(void *p)
{
    if (!p) ck_abort_msg("out of memory");
    return p;
}

enum { GUARD = 16, PATTERN = 0xA5 };

/* n elements of `size` bytes at p, `off` elements past a 64-byte boundary,
 * between GUARD pattern elements on each side. */
typedef struct Buf {
    unsigned char *base;
    void *p;
    size_t size, n, lead, total; /* lead, total: elements */
} Buf;

static Buf buf_new(size_t n, size_t size, int off)
{
    Buf b = { NULL, NULL, size, n, GUARD + (size_t)off, n + 2 * GUARD + (size_t)off };
    b.base = need(lwc_malloc_array(b.total, size));
    memset(b.base, PATTERN, b.total * size);
    b.p = b.base + b.lead * size;
    return b;
}

static Buf buf_clone(const Buf *s)
{
    Buf b = buf_new(s->n, s->size, (int)(s->lead - GUARD));
    memcpy(b.base, s->base, s->total * s->size);
    return b;
}

static void buf_free(Buf *b) { lwc_free(b->base); }

/* got against ref, guards included: a stray write shows as a difference. */
static void buf_check(Report *rp, const Buf *ref, const Buf *got, const char *what)
{
    size_t i = first_diff(ref->base, got->base, ref->total, ref->size);
    if (i == ref->total) return;
    long at = (long)i - (long)ref->lead;
    report(rp, "%s: differs from the reference at element %ld%s", what, at,
           at < 0 || at >= (long)ref->n ? " (outside the output: a stray write)" : "");
}

/* The bytes after the first `used` elements still hold the pattern. */
static int buf_tail_intact(const Buf *b, size_t used)
{
    const unsigned char *t = b->base + (b->lead + used) * b->size;
    for (size_t i = 0; i < (b->total - b->lead - used) * b->size; i++)
        if (t[i] != PATTERN) return 0;
    return 1;
}

static int rnd_off(TestRng *r) { return (int)(trng_u64(r) % 8); }

/* Image-range floats with exact zeros of both signs, tiny and subnormal
 * values (no NaN: SIMD and scalar code may propagate other payloads). */
static float rnd_float(TestRng *r)
{
    double u = trng_uniform(r);
    if (u < 0.03) return 0.0f;
    if (u < 0.04) return -0.0f;
    if (u < 0.06) return (float)((u - 0.05) * 1e-36);
    if (u < 0.10) return (float)((u - 0.08) * 1e-3);
    return (float)((u - 0.55) * 600.0);
}

static Buf buf_floats(TestRng *r, size_t n, int off)
{
    Buf b = buf_new(n, sizeof(float), off);
    float *f = b.p;
    for (size_t i = 0; i < n; i++) f[i] = rnd_float(r);
    return b;
}

/* Sizes around every vector width and unroll (4, 8, 16) and the wpt column
 * chunk (512), from 1 up. */
static const int k_sizes[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25,
                               31, 32, 33, 63, 64, 65, 100, 255, 511, 512, 513, 1031 };
#define N_SIZES ((int)(sizeof(k_sizes) / sizeof(k_sizes[0])))

/* Set k of s selected through the CPU mask: the entry points must run it. */
static void select_set(const Sets *s, int k, const char *(*kernel_name)(void))
{
    lwc_cpu_set_flags_mask(s->flags[k]);
    ck_assert_str_eq(kernel_name(), s->name[k]);
}

/* ==== intconv ================================================================ */

static const char *const k_vnames[TV_COUNT] = { "typical", "extreme", "all-min", "all-max" };

/* A random layer; its weights start one int16 past an aligned address half
 * the time (the kernels load weight pairs unaligned). */
typedef struct IcLayer {
    LwcIntConv l;
    int16_t *wbase;
    int mode;
} IcLayer;

static IcLayer ic_layer(TestRng *r, int cin, int cout, int k, int mode)
{
    IcLayer L = { .mode = mode };
    size_t nw = (size_t)cout * cin * k * k;
    int woff = (int)(trng_u64(r) & 1);
    L.wbase = need(lwc_malloc_array(nw + 1, sizeof(int16_t)));
    int32_t *bias = need(lwc_malloc_array((size_t)cout, sizeof(int32_t)));
    int32_t *mult = need(lwc_malloc_array((size_t)cout, sizeof(int32_t)));
    uint8_t *shift = need(lwc_malloc((size_t)cout));
    int16_t *w = L.wbase + woff;
    for (size_t i = 0; i < nw; i++) w[i] = trng_ic_weight(r, mode);
    for (int o = 0; o < cout; o++) trng_ic_requant(r, mode, &bias[o], &mult[o], &shift[o]);
    int32_t lo = -32768, hi = 32767;
    if (trng_u64(r) % 3 == 0) { /* a narrower clamp, as the trained layers use */
        lo = trng_range(r, -32768, 0);
        hi = trng_range(r, lo, 32767);
    }
    L.l = (LwcIntConv){ .cin = cin, .cout = cout, .k = k, .w = w, .bias = bias, .mult = mult,
                        .shift = shift, .lo = lo, .hi = hi };
    return L;
}

/* pmaddwd's one overflowing case in every lane: all weights and inputs
 * -32768, bias 0, a requantisation that shows the wrapped sum. */
static void ic_layer_all_min(IcLayer *L)
{
    int kk = L->l.cin * L->l.k * L->l.k;
    for (int i = 0; i < L->l.cout * kk; i++) L->l.w[i] = -32768;
    for (int o = 0; o < L->l.cout; o++) {
        L->l.bias[o] = 0;
        L->l.mult[o] = 1;
        L->l.shift[o] = (uint8_t)(16 + o % 20);
    }
    L->l.lo = -32768;
    L->l.hi = 32767;
    L->mode = TV_ALL_MIN;
}

static void ic_layer_free(IcLayer *L)
{
    lwc_free(L->wbase);
    lwc_free(L->l.bias);
    lwc_free(L->l.mult);
    lwc_free(L->l.shift);
}

/* Pair-layout input of n positions (intconv.h): rows 2ip and 2ip+1 in the
 * low and high halves, the missing last row zero. */
static Buf ic_pairs(TestRng *r, const IcLayer *L, int n)
{
    int kk = L->l.cin * L->l.k * L->l.k, np = (kk + 1) / 2;
    Buf b = buf_new((size_t)np * n, sizeof(uint32_t), rnd_off(r));
    uint32_t *xp = b.p;
    for (int ip = 0; ip < np; ip++)
        for (int p = 0; p < n; p++) {
            uint16_t lo = (uint16_t)trng_ic_input(r, L->mode);
            uint16_t hi = 2 * ip + 1 < kk ? (uint16_t)trng_ic_input(r, L->mode) : 0;
            xp[(size_t)ip * n + p] = lo | (uint32_t)hi << 16;
        }
    return b;
}

/* One gemm call of set d against ref on pair rows xp: n positions, output
 * rows ys >= n apart at an unaligned start. */
static void ic_gemm_compare(const LwcIntConvDsp *ref, const LwcIntConvDsp *d, const IcLayer *L, const uint32_t *xp,
                            int n, TestRng *r, Report *rp)
{
    size_t ys = (size_t)n + (size_t)(trng_u64(r) % 4);
    Buf y0 = buf_new((size_t)L->l.cout * ys, sizeof(int16_t), rnd_off(r)), y1 = buf_clone(&y0);
    Buf s0 = buf_new((size_t)n, sizeof(uint32_t), 0), s1 = buf_new((size_t)n, sizeof(uint32_t), 0);
    ref->gemm(&L->l, xp, n, y0.p, ys, s0.p);
    d->gemm(&L->l, xp, n, y1.p, ys, s1.p);
    char what[200];
    snprintf(what, sizeof(what), "intconv %s gemm, cin %d cout %d k %d n %d ys %zu, clamp [%d, %d], %s values",
             d->name, L->l.cin, L->l.cout, L->l.k, n, ys, L->l.lo, L->l.hi, k_vnames[L->mode]);
    buf_check(rp, &y0, &y1, what);
    if (!buf_tail_intact(&s1, (size_t)n)) report(rp, "%s: write past the scratch", what);
    buf_free(&y0); buf_free(&y1); buf_free(&s0); buf_free(&s1);
}

/* The same on random pair rows of the layer's value mode. */
static void ic_gemm_case(const LwcIntConvDsp *ref, const LwcIntConvDsp *d, const IcLayer *L, int n,
                         TestRng *r, Report *rp)
{
    Buf xp = ic_pairs(r, L, n);
    ic_gemm_compare(ref, d, L, xp.p, n, r, rp);
    buf_free(&xp);
}

/* Random layers (1x1 and 3x3, channel counts around the 4-output tile,
 * every value mode) at size k_sizes[si], every set. */
START_TEST(test_intconv_gemm)
{
    Sets s = find_sets(&k_intconv);
    TestRng r;
    trng_seed(&r, 100 + (uint64_t)_i);
    for (int rep = 0; rep < 6; rep++) {
        int k = trng_u64(&r) & 1 ? 3 : 1, mode = rep % TV_COUNT;
        int cin = trng_range(&r, 1, k == 3 ? 24 : 70), cout = rep == 5 ? 64 : trng_range(&r, 1, 13);
        IcLayer L = ic_layer(&r, cin, cout, k, mode);
        if (rep == 4) ic_layer_all_min(&L);
        for (int set = 1; set < s.n; set++) {
            Report rp = { 0 };
            ic_gemm_case(s.d[0], s.d[set], &L, k_sizes[_i], &r, &rp);
            CK_REPORT(rp);
        }
        ic_layer_free(&L);
    }
}
END_TEST

/* The requantisation alone on a grid of its extremes: a 1x1 layer with one
 * input row and weights +-1 (acc = bias +- x, wrapping), every shift
 * 1..62 x multipliers at and near the int32 limits, the bias of one test
 * iteration (at and near the limits, around 0), inputs at the int16 limits
 * and around 0, several clamps (lo <= hi, as the loader requires). */
static const int32_t k_rq_mults[] = { INT32_MIN, INT32_MIN + 1, -65536, -3, -1, 0, 1, 2, 65535, 1 << 30, INT32_MAX };
static const int32_t k_rq_biases[] = { INT32_MIN, INT32_MIN + 32767, -(1 << 30), -1, 0, 1, 1 << 30, INT32_MAX - 32767,
                                       INT32_MAX };
#define N_RQ_MULTS ((int)(sizeof(k_rq_mults) / sizeof(k_rq_mults[0])))
#define N_RQ_BIASES ((int)(sizeof(k_rq_biases) / sizeof(k_rq_biases[0])))

static IcLayer rq_grid_layer(TestRng *r, int32_t bias)
{
    int cout = N_RQ_MULTS * 62;
    IcLayer L = ic_layer(r, 1, cout, 1, TV_EXTREME);
    for (int o = 0; o < cout; o++) {
        L.l.w[o] = (int16_t)(o & 1 ? -1 : 1);
        L.l.bias[o] = bias;
        L.l.mult[o] = k_rq_mults[o % N_RQ_MULTS];
        L.l.shift[o] = (uint8_t)(1 + o / N_RQ_MULTS);
    }
    return L;
}

static Buf rq_grid_input(TestRng *r, int n)
{
    static const int16_t xs[] = { -32768, -32767, -2, -1, 0, 1, 2, 32766, 32767 };
    Buf xp = buf_new((size_t)n, sizeof(uint32_t), 1);
    for (int p = 0; p < n; p++) {
        int v = p < (int)(sizeof(xs) / sizeof(xs[0])) ? xs[p] : trng_range(r, -32768, 32767);
        ((uint32_t *)xp.p)[p] = (uint16_t)v;
    }
    return xp;
}

/* Each set's gemm against C on the grid, bias k_rq_biases[_i]; n = 45: full
 * vectors of every width, then a tail. */
START_TEST(test_intconv_requant_grid)
{
    static const int32_t clamps[][2] = { { -32768, 32767 }, { 0, 0 }, { -5, 7 },
                                         { -32768, -32768 }, { 32767, 32767 }, { -1, 255 } };
    Sets s = find_sets(&k_intconv);
    TestRng r;
    trng_seed(&r, 500 + (uint64_t)_i);
    IcLayer L = rq_grid_layer(&r, k_rq_biases[_i]);
    int n = 45;
    Buf xp = rq_grid_input(&r, n);
    for (size_t c = 0; c < sizeof(clamps) / sizeof(clamps[0]); c++) {
        L.l.lo = clamps[c][0];
        L.l.hi = clamps[c][1];
        for (int set = 1; set < s.n; set++) {
            Report rp = { 0 };
            ic_gemm_compare(s.d[0], s.d[set], &L, xp.p, n, &r, &rp);
            CK_REPORT(rp);
        }
    }
    buf_free(&xp);
    ic_layer_free(&L);
}
END_TEST

/* `bytes` that end where an inaccessible page begins: reading or writing one
 * byte past them faults (the guards above catch stray writes, not reads). */
typedef struct PageEnd { unsigned char *base; size_t len, page; void *p; } PageEnd;

static PageEnd page_end(size_t bytes)
{
    PageEnd e;
    e.page = (size_t)sysconf(_SC_PAGESIZE);
    e.len = (bytes + e.page - 1) / e.page * e.page + e.page;
    void *b = NULL;
    ck_assert_int_eq(posix_memalign(&b, e.page, e.len), 0);
    e.base = b;
    ck_assert_int_eq(mprotect(e.base + e.len - e.page, e.page, PROT_NONE), 0);
    e.p = e.base + e.len - e.page - bytes;
    return e;
}

static void page_end_free(PageEnd *e)
{
    ck_assert_int_eq(mprotect(e->base + e->len - e->page, e->page, PROT_READ | PROT_WRITE), 0);
    free(e->base);
}

/* Each set's gemm with its input and output each ending at an inaccessible
 * page (ys = n, so the last output row ends there too): a load or store
 * past the last position, masked or not, crashes the test. Odd and even
 * pair-row counts, positions 1..100. */
START_TEST(test_intconv_gemm_page_end)
{
    Sets s = find_sets(&k_intconv);
    TestRng r;
    trng_seed(&r, 300 + (uint64_t)_i);
    int n = k_sizes[_i];
    if (n > 100) return;
    for (int rep = 0; rep < 4; rep++) {
        int k = rep & 1 ? 3 : 1, cin = trng_range(&r, 1, 9), cout = trng_range(&r, 1, 9);
        IcLayer L = ic_layer(&r, cin, cout, k, rep % TV_COUNT);
        Buf src = ic_pairs(&r, &L, n);
        size_t nx = src.n, ny = (size_t)cout * n;
        PageEnd xe = page_end(nx * sizeof(uint32_t)), ye = page_end(ny * sizeof(int16_t));
        memcpy(xe.p, src.p, nx * sizeof(uint32_t));
        int16_t *ref = need(lwc_malloc_array(ny, sizeof(int16_t)));
        uint32_t *scratch = need(lwc_malloc_array((size_t)n, sizeof(uint32_t)));
        ((const LwcIntConvDsp *)s.d[0])->gemm(&L.l, xe.p, n, ref, (size_t)n, scratch);
        for (int set = 1; set < s.n; set++) {
            memset(ye.p, 0, ny * sizeof(int16_t));
            ((const LwcIntConvDsp *)s.d[set])->gemm(&L.l, xe.p, n, ye.p, (size_t)n, scratch);
            ck_assert_msg(!memcmp(ref, ye.p, ny * sizeof(int16_t)), "intconv %s gemm at a page end: cin %d cout %d k %d n %d",
                          s.name[set], cin, cout, k, n);
        }
        lwc_free(ref);
        lwc_free(scratch);
        page_end_free(&xe);
        page_end_free(&ye);
        buf_free(&src);
        ic_layer_free(&L);
    }
}
END_TEST

/* ---- intconv entry points --------------------------------------------------- */

typedef struct IcShape { int cin, cout, k, h, w, parity; } IcShape;

/* The layers of the shipped architecture on small maps, odd and degenerate
 * shapes, and several ~64 KiB position chunks with edges inside rows. */
static const IcShape k_ic_shapes[] = {
    { 32, 64, 3, 4, 6, LWC_INT_ALL }, { 64, 64, 3, 8, 12, LWC_INT_ALL }, { 16, 32, 3, 8, 12, 1 },
    { 16, 32, 3, 9, 11, 0 }, { 96, 96, 1, 8, 12, 0 }, { 144, 96, 1, 9, 12, 1 }, { 96, 96, 1, 7, 13, 1 },
    { 96, 32, 1, 7, 13, 0 }, { 1, 1, 1, 1, 1, LWC_INT_ALL }, { 1, 1, 3, 1, 1, LWC_INT_ALL },
    { 1, 3, 3, 2, 2, LWC_INT_ALL }, { 3, 5, 1, 5, 7, 0 }, { 3, 5, 1, 5, 7, 1 }, { 3, 7, 3, 5, 7, LWC_INT_ALL },
    { 5, 6, 3, 9, 11, 0 }, { 5, 6, 3, 9, 11, 1 }, { 7, 9, 3, 13, 3, 1 }, { 2, 4, 3, 3, 17, 0 },
    { 9, 13, 1, 17, 19, LWC_INT_ALL }, { 33, 4, 3, 6, 5, 1 }, { 4, 8, 3, 16, 16, 0 },
    { 4, 8, 3, 4, 8, LWC_INT_ALL }, { 144, 96, 1, 40, 31, 1 }, { 16, 32, 3, 24, 25, 1 },
    { 16, 32, 3, 25, 24, 0 }, { 64, 64, 3, 9, 13, LWC_INT_ALL },
};
#define N_IC_SHAPES ((int)(sizeof(k_ic_shapes) / sizeof(k_ic_shapes[0])))

static const char *const k_ic_entries[4] = { "forward", "forward_range", "1x1_forward", "1x1_forward_range" };

/* Input maps of a shape: planar x, and for 1x1 layers the selected
 * positions gathered as [cin][npos]. */
typedef struct IcInput {
    Buf x, xg;
    int npos, cut[5];
} IcInput;

static IcInput ic_input(TestRng *r, const IcShape *s, int mode)
{
    IcInput in;
    size_t nx = (size_t)s->cin * s->h * s->w;
    in.npos = lwc_int_npos(s->h, s->w, s->parity);
    in.x = buf_new(nx, sizeof(int16_t), 0);
    in.xg = buf_new((size_t)s->cin * in.npos, sizeof(int16_t), 0);
    int16_t *x = in.x.p, *xg = in.xg.p;
    for (size_t i = 0; i < nx; i++) x[i] = trng_ic_input(r, mode);
    for (int ci = 0, q = 0; ci < s->cin; ci++)
        for (int i = 0; i < s->h; i++)
            for (int j = 0; j < s->w; j++)
                if (s->parity == LWC_INT_ALL || ((i + j) & 1) == s->parity)
                    xg[q++] = x[((size_t)ci * s->h + i) * s->w + j];
    in.cut[0] = 0;
    in.cut[4] = in.npos;
    for (int i = 1; i < 4; i++) in.cut[i] = trng_range(r, 0, in.npos);
    for (int i = 1; i < 4; i++) /* sort the three cuts */
        for (int j = i; j > 1 && in.cut[j] < in.cut[j - 1]; j--) {
            int t = in.cut[j]; in.cut[j] = in.cut[j - 1]; in.cut[j - 1] = t;
        }
    return in;
}

/* One entry point into y; the ranges cover [0, npos) in four calls. */
static void ic_call(const IcLayer *L, const IcShape *s, const IcInput *in, int entry, int16_t *y, int32_t *work)
{
    if (entry == 0) lwc_intconv_forward(&L->l, in->x.p, s->h, s->w, s->parity, y, work);
    if (entry == 2) lwc_intconv_1x1_forward(&L->l, in->xg.p, in->npos, y, work);
    for (int part = 0; part < 4 && (entry & 1); part++) {
        if (entry == 1)
            lwc_intconv_forward_range(&L->l, in->x.p, s->h, s->w, s->parity, in->cut[part], in->cut[part + 1], y, work);
        else lwc_intconv_1x1_forward_range(&L->l, in->xg.p, in->npos, in->cut[part], in->cut[part + 1], y, work);
    }
}

static void ic_entries_case(const Sets *s, const IcLayer *L, const IcShape *sh, const IcInput *in)
{
    size_t ny = (size_t)sh->cout * in->npos, nwork = lwc_intconv_work_size(&L->l, sh->h, sh->w);
    Buf ref = buf_new(ny, sizeof(int16_t), 0), work = buf_new(nwork, sizeof(int32_t), 0);
    unsigned old = lwc_cpu_set_flags_mask(0);
    for (int entry = 0; entry < (sh->k == 1 ? 4 : 2); entry++) {
        select_set(s, 0, lwc_intconv_kernel_name);
        ic_call(L, sh, in, entry, ref.p, work.p);
        for (int k = 1; k < s->n; k++) {
            Buf got = buf_new(ny, sizeof(int16_t), 0);
            select_set(s, k, lwc_intconv_kernel_name);
            ic_call(L, sh, in, entry, got.p, work.p);
            char what[200];
            snprintf(what, sizeof(what), "intconv %s, %s: cin %d cout %d k %d %dx%d parity %d, %s values", s->name[k],
                     k_ic_entries[entry], sh->cin, sh->cout, sh->k, sh->h, sh->w, sh->parity, k_vnames[L->mode]);
            Report rp = { 0 };
            buf_check(&rp, &ref, &got, what);
            CK_REPORT(rp);
            ck_assert_msg(buf_tail_intact(&work, nwork), "%s: write past the work buffer", what);
            buf_free(&got);
        }
    }
    lwc_cpu_set_flags_mask(old);
    buf_free(&ref);
    buf_free(&work);
}

static void ic_entries_shape(const IcShape *sh, uint64_t seed)
{
    Sets s = find_sets(&k_intconv);
    for (int mode = 0; mode < TV_COUNT; mode++) {
        TestRng r;
        trng_seed(&r, seed * 16 + (uint64_t)mode);
        IcLayer L = ic_layer(&r, sh->cin, sh->cout, sh->k, mode);
        IcInput in = ic_input(&r, sh, mode);
        ic_entries_case(&s, &L, sh, &in);
        if (mode == TV_ALL_MIN) {
            ic_layer_all_min(&L);
            ic_entries_case(&s, &L, sh, &in);
        }
        ic_layer_free(&L);
        buf_free(&in.x);
        buf_free(&in.xg);
    }
}

START_TEST(test_intconv_entries)
{
    ic_entries_shape(&k_ic_shapes[_i], 100 + (uint64_t)_i);
}
END_TEST

START_TEST(test_intconv_entries_random)
{
    TestRng r;
    trng_seed(&r, 7000 + (uint64_t)_i);
    IcShape sh;
    sh.k = trng_u64(&r) & 1 ? 3 : 1;
    sh.cin = trng_range(&r, 1, sh.k == 3 ? 24 : 70);
    sh.cout = trng_range(&r, 1, 13);
    sh.h = trng_range(&r, 1, 21);
    sh.w = trng_range(&r, 1, 21);
    sh.parity = trng_range(&r, -1, 1);
    if (lwc_int_npos(sh.h, sh.w, sh.parity) == 0) sh.parity = LWC_INT_ALL;
    ic_entries_shape(&sh, 9000 + (uint64_t)_i);
}
END_TEST

/* ==== wpt ==================================================================== */

static float rnd_coef(TestRng *r) { return (float)trng_normal(r); }

/* axpy2 with q NULL (qmode 0), a separate q (1) or q = p + 1, as the
 * horizontal lifting calls it (2). */
static void wpt_axpy2_case(const LwcWptDsp *ref, const LwcWptDsp *d, size_t n, int qmode, TestRng *r, Report *rp)
{
    Buf p = buf_floats(r, n + 1, rnd_off(r)), q = buf_floats(r, n, rnd_off(r));
    Buf t0 = buf_floats(r, n, rnd_off(r)), t1 = buf_clone(&t0);
    const float *pp = p.p, *qq = qmode == 0 ? NULL : qmode == 1 ? (const float *)q.p : pp + 1;
    float a = rnd_coef(r);
    ref->axpy2(t0.p, pp, qq, a, n);
    d->axpy2(t1.p, pp, qq, a, n);
    char what[96];
    snprintf(what, sizeof(what), "wpt %s axpy2 (q %s), n %zu", d->name,
             qmode == 0 ? "NULL" : qmode == 1 ? "separate" : "p+1", n);
    buf_check(rp, &t0, &t1, what);
    buf_free(&p); buf_free(&q); buf_free(&t0); buf_free(&t1);
}

static void wpt_scale_case(const LwcWptDsp *ref, const LwcWptDsp *d, size_t n, TestRng *r, Report *rp)
{
    Buf src = buf_floats(r, n, rnd_off(r)), y0 = buf_new(n, sizeof(float), rnd_off(r)), y1 = buf_clone(&y0);
    float k = rnd_coef(r);
    ref->scale(y0.p, src.p, k, n);
    d->scale(y1.p, src.p, k, n);
    char what[64];
    snprintf(what, sizeof(what), "wpt %s scale, n %zu", d->name, n);
    buf_check(rp, &y0, &y1, what);
    buf_free(&src); buf_free(&y0); buf_free(&y1);
}

static void wpt_interleave_case(const LwcWptDsp *ref, const LwcWptDsp *d, int m, TestRng *r, Report *rp)
{
    char what[64];
    Buf x = buf_floats(r, 2 * (size_t)m, rnd_off(r));
    Buf s0 = buf_new((size_t)m, sizeof(float), rnd_off(r)), s1 = buf_clone(&s0);
    Buf d0 = buf_new((size_t)m, sizeof(float), rnd_off(r)), d1 = buf_clone(&d0);
    ref->deinterleave(x.p, s0.p, d0.p, m);
    d->deinterleave(x.p, s1.p, d1.p, m);
    snprintf(what, sizeof(what), "wpt %s deinterleave, m %d", d->name, m);
    buf_check(rp, &s0, &s1, what);
    buf_check(rp, &d0, &d1, what);
    Buf x0 = buf_new(2 * (size_t)m, sizeof(float), rnd_off(r)), x1 = buf_clone(&x0);
    ref->interleave(s0.p, d0.p, x0.p, m);
    d->interleave(s0.p, d0.p, x1.p, m);
    snprintf(what, sizeof(what), "wpt %s interleave, m %d", d->name, m);
    buf_check(rp, &x0, &x1, what);
    buf_free(&x); buf_free(&s0); buf_free(&s1); buf_free(&d0); buf_free(&d1); buf_free(&x0); buf_free(&x1);
}

enum { LIFT_ROWS = 6 };

/* 1..4 random updates on LIFT_ROWS rows of n floats: each targets one row
 * from two others (or one), later ones reading what earlier ones wrote, as
 * the vertical wavefront runs them. */
static void wpt_lift_rows_case(const LwcWptDsp *ref, const LwcWptDsp *d, size_t n, TestRng *r, Report *rp)
{
    Buf rows0[LIFT_ROWS], rows1[LIFT_ROWS];
    for (int i = 0; i < LIFT_ROWS; i++) {
        rows0[i] = buf_floats(r, n, rnd_off(r));
        rows1[i] = buf_clone(&rows0[i]);
    }
    int nops = trng_range(r, 1, 4), tgt[4], p[4], q[4], twice[4];
    float a[4];
    for (int k = 0; k < nops; k++) {
        tgt[k] = trng_range(r, 0, LIFT_ROWS - 1);
        p[k] = (tgt[k] + trng_range(r, 1, LIFT_ROWS - 1)) % LIFT_ROWS;
        q[k] = trng_u64(r) % 4 ? (tgt[k] + trng_range(r, 1, LIFT_ROWS - 1)) % LIFT_ROWS : -1;
        twice[k] = trng_u64(r) % 4 == 0;
        a[k] = rnd_coef(r);
    }
    Buf *sets[2] = { rows0, rows1 };
    for (int v = 0; v < 2; v++) {
        LwcWptRowOp ops[4];
        for (int k = 0; k < nops; k++) {
            const float *qrow = q[k] < 0 ? NULL : sets[v][q[k]].p;
            ops[k] = (LwcWptRowOp){ sets[v][tgt[k]].p, sets[v][p[k]].p, qrow, a[k], twice[k] };
        }
        (v ? d : ref)->lift_rows(ops, nops, n);
    }
    char what[64];
    snprintf(what, sizeof(what), "wpt %s lift_rows, %d ops, n %zu", d->name, nops, n);
    for (int i = 0; i < LIFT_ROWS; i++) {
        buf_check(rp, &rows0[i], &rows1[i], what);
        buf_free(&rows0[i]);
        buf_free(&rows1[i]);
    }
}

static void wpt_kernels_case(const LwcWptDsp *ref, const LwcWptDsp *d, size_t n, TestRng *r, Report *rp)
{
    for (int qmode = 0; qmode < 3; qmode++) wpt_axpy2_case(ref, d, n, qmode, r, rp);
    wpt_scale_case(ref, d, n, r, rp);
    wpt_interleave_case(ref, d, (int)n, r, rp);
    wpt_lift_rows_case(ref, d, n, r, rp);
}

START_TEST(test_wpt_kernels)
{
    Sets s = find_sets(&k_wpt);
    TestRng r;
    trng_seed(&r, 200 + (uint64_t)_i);
    for (int set = 1; set < s.n; set++)
        for (int rep = 0; rep < 3; rep++) {
            Report rp = { 0 };
            wpt_kernels_case(s.d[0], s.d[set], (size_t)k_sizes[_i], &r, &rp);
            CK_REPORT(rp);
        }
}
END_TEST

/* ---- wpt entry points ------------------------------------------------------- */

typedef void (*WptFn)(const float *in, int c, int h, int w, int levels, float *out, float *work);

static const WptFn k_wpt_fns[4] = { lwc_wpt_forward, lwc_wpt_inverse, lwc_wpt_forward_adjoint,
                                    lwc_wpt_inverse_adjoint };
static const char *const k_wpt_names[4] = { "forward", "inverse", "forward_adjoint", "inverse_adjoint" };

typedef struct WptShape { int levels, h, w; } WptShape;

/* Half-widths (w >> l) / 2 of 1..9 and around multiples of 4 and 8, rows
 * longer than the 512-float column chunk. */
static const WptShape k_wpt_shapes[] = {
    { 1, 2, 2 }, { 1, 2, 4 }, { 1, 4, 2 }, { 2, 4, 4 }, { 3, 8, 8 }, { 4, 16, 16 },
    { 1, 8, 8 }, { 1, 6, 10 }, { 1, 10, 14 }, { 1, 8, 16 }, { 1, 4, 18 }, { 1, 2, 34 },
    { 2, 12, 36 }, { 2, 20, 68 }, { 3, 24, 72 }, { 3, 56, 200 }, { 4, 48, 80 },
    { 4, 16, 272 }, { 1, 6, 1040 }, { 2, 8, 1036 }, { 3, 16, 1064 }, { 1, 1034, 6 },
    { 2, 36, 516 }, { 0, 4, 6 },
};
#define N_WPT_SHAPES ((int)(sizeof(k_wpt_shapes) / sizeof(k_wpt_shapes[0])))

/* Every transform on one shape with every set: bit-identical to the C
 * reference, nothing written past the output or the work buffer. */
static void wpt_entries_case(const WptShape *sh, int c, uint64_t seed)
{
    Sets s = find_sets(&k_wpt);
    size_t n = (size_t)c * sh->h * sh->w, nwork = lwc_wpt_work_size(sh->h, sh->w);
    Buf work = buf_new(nwork, sizeof(float), 0);
    TestRng r;
    trng_seed(&r, seed);
    unsigned old = lwc_cpu_set_flags_mask(0);
    for (int f = 0; f < 4; f++) {
        Buf x = buf_floats(&r, n, 0), ref = buf_new(n, sizeof(float), 0);
        select_set(&s, 0, lwc_wpt_kernel_name);
        k_wpt_fns[f](x.p, c, sh->h, sh->w, sh->levels, ref.p, work.p);
        for (int k = 1; k < s.n; k++) {
            Buf got = buf_new(n, sizeof(float), 0);
            select_set(&s, k, lwc_wpt_kernel_name);
            k_wpt_fns[f](x.p, c, sh->h, sh->w, sh->levels, got.p, work.p);
            char what[128];
            snprintf(what, sizeof(what), "wpt %s %s, c %d J %d %dx%d", s.name[k], k_wpt_names[f], c, sh->levels,
                     sh->h, sh->w);
            Report rp = { 0 };
            buf_check(&rp, &ref, &got, what);
            CK_REPORT(rp);
            ck_assert_msg(buf_tail_intact(&work, nwork), "%s: write past the work buffer", what);
            buf_free(&got);
        }
        buf_free(&x);
        buf_free(&ref);
    }
    lwc_cpu_set_flags_mask(old);
    buf_free(&work);
}

START_TEST(test_wpt_entries)
{
    wpt_entries_case(&k_wpt_shapes[_i], 1 + _i % 2, 600 + (uint64_t)_i);
}
END_TEST

START_TEST(test_wpt_entries_random)
{
    TestRng r;
    trng_seed(&r, 700 + (uint64_t)_i);
    for (int k = 0; k < 8; k++) {
        int levels = 1 + (int)(trng_u64(&r) % 4);
        WptShape sh = { levels, (1 + (int)(trng_u64(&r) % 12)) << levels, (1 + (int)(trng_u64(&r) % 40)) << levels };
        wpt_entries_case(&sh, 1, trng_u64(&r));
    }
}
END_TEST

/* ==== winograd =============================================================== */

/* k arrays of n random floats; outputs: k arrays of n pattern floats (two
 * copies). */
static void bufs_rand(TestRng *r, Buf *b, int k, size_t n)
{
    for (int i = 0; i < k; i++) b[i] = buf_floats(r, n, rnd_off(r));
}

static void bufs_out(TestRng *r, Buf *b0, Buf *b1, int k, size_t n)
{
    for (int i = 0; i < k; i++) {
        b0[i] = buf_new(n, sizeof(float), rnd_off(r));
        b1[i] = buf_clone(&b0[i]);
    }
}

static void bufs_check_free(Report *rp, Buf *b0, Buf *b1, int k, const char *what)
{
    for (int i = 0; i < k; i++) {
        buf_check(rp, &b0[i], &b1[i], what);
        buf_free(&b0[i]);
        buf_free(&b1[i]);
    }
}

#define F(b, i) ((float *)(b)[i].p)

static void wino_bt6_case(const LwcWinoDsp *ref, const LwcWinoDsp *d, size_t n, TestRng *r, Report *rp)
{
    Buf in[6], o0[6], o1[6];
    bufs_rand(r, in, 6, n);
    bufs_out(r, o0, o1, 6, n);
    ref->bt6(F(o0, 0), F(o0, 1), F(o0, 2), F(o0, 3), F(o0, 4), F(o0, 5), F(in, 0), F(in, 1), F(in, 2), F(in, 3),
             F(in, 4), F(in, 5), n);
    d->bt6(F(o1, 0), F(o1, 1), F(o1, 2), F(o1, 3), F(o1, 4), F(o1, 5), F(in, 0), F(in, 1), F(in, 2), F(in, 3),
           F(in, 4), F(in, 5), n);
    char what[64];
    snprintf(what, sizeof(what), "winograd %s bt6, n %zu", d->name, n);
    bufs_check_free(rp, o0, o1, 6, what);
    for (int i = 0; i < 6; i++) buf_free(&in[i]);
}

static void wino_at6_case(const LwcWinoDsp *ref, const LwcWinoDsp *d, size_t n, TestRng *r, Report *rp)
{
    Buf in[6], o0[4], o1[4];
    bufs_rand(r, in, 6, n);
    bufs_out(r, o0, o1, 4, n);
    ref->at6(F(o0, 0), F(o0, 1), F(o0, 2), F(o0, 3), F(in, 0), F(in, 1), F(in, 2), F(in, 3), F(in, 4), F(in, 5), n);
    d->at6(F(o1, 0), F(o1, 1), F(o1, 2), F(o1, 3), F(in, 0), F(in, 1), F(in, 2), F(in, 3), F(in, 4), F(in, 5), n);
    char what[64];
    snprintf(what, sizeof(what), "winograd %s at6, n %zu", d->name, n);
    bufs_check_free(rp, o0, o1, 4, what);
    for (int i = 0; i < 6; i++) buf_free(&in[i]);
}

static void wino_phases_case(const LwcWinoDsp *ref, const LwcWinoDsp *d, size_t np, TestRng *r, Report *rp)
{
    Buf lin = buf_floats(r, 4 * np, rnd_off(r)), o0[1], o1[1];
    bufs_out(r, o0, o1, 1, 4 * np);
    ref->phases(lin.p, F(o0, 0), np);
    d->phases(lin.p, F(o1, 0), np);
    char what[64];
    snprintf(what, sizeof(what), "winograd %s phases, np %zu", d->name, np);
    bufs_check_free(rp, o0, o1, 1, what);
    buf_free(&lin);
}

/* w columns from 4 phases of n values: w in 4n-3 .. 4n (full tiles and
 * every partial last tile), with and without ReLU. */
static void wino_store_case(const LwcWinoDsp *ref, const LwcWinoDsp *d, size_t n, TestRng *r, Report *rp)
{
    int w = (int)(4 * n) - trng_range(r, 0, 3), relu = (int)(trng_u64(r) & 1);
    float bias = rnd_float(r);
    Buf src = buf_floats(r, 4 * n, rnd_off(r)), o0[1], o1[1];
    bufs_out(r, o0, o1, 1, (size_t)w);
    ref->store_row(F(o0, 0), src.p, n, w, bias, relu);
    d->store_row(F(o1, 0), src.p, n, w, bias, relu);
    char what[80];
    snprintf(what, sizeof(what), "winograd %s store_row, n %zu w %d relu %d", d->name, n, w, relu);
    bufs_check_free(rp, o0, o1, 1, what);
    buf_free(&src);
}

static void wino_kernels_case(const LwcWinoDsp *ref, const LwcWinoDsp *d, size_t n, TestRng *r, Report *rp)
{
    wino_bt6_case(ref, d, n, r, rp);
    wino_at6_case(ref, d, n, r, rp);
    wino_phases_case(ref, d, n, r, rp);
    wino_store_case(ref, d, n, r, rp);
}

START_TEST(test_wino_kernels)
{
    Sets s = find_sets(&k_wino);
    TestRng r;
    trng_seed(&r, 300 + (uint64_t)_i);
    for (int set = 1; set < s.n; set++)
        for (int rep = 0; rep < 3; rep++) {
            Report rp = { 0 };
            wino_kernels_case(s.d[0], s.d[set], (size_t)k_sizes[_i], &r, &rp);
            CK_REPORT(rp);
        }
}
END_TEST

/* ---- winograd entry point --------------------------------------------------- */

typedef struct WinoCase { int cin, cout, h, w; } WinoCase;

static const WinoCase k_wino_cases[] = {
    { 1, 1, 1, 1 }, { 2, 3, 3, 5 }, { 3, 2, 4, 4 }, { 5, 4, 7, 9 },
    { 8, 6, 13, 17 }, { 4, 8, 9, 2 }, { 16, 12, 12, 23 }, { 32, 24, 10, 31 },
};
#define N_WINO_CASES ((int)(sizeof(k_wino_cases) / sizeof(k_wino_cases[0])))

/* The whole layer (every tile row, starting one row above the image) with
 * each set against the C set; the GEMMs are the same in both runs. */
START_TEST(test_wino_entries)
{
    const WinoCase *c = &k_wino_cases[_i];
    Sets s = find_sets(&k_wino);
    TestRng r;
    trng_seed(&r, 1300 + (uint64_t)_i);
    size_t nx = (size_t)c->cin * c->h * c->w, ny = (size_t)c->cout * c->h * c->w;
    int tile_rows = (c->h + 4) / 4;
    Buf x = buf_floats(&r, nx, 0), wt = buf_floats(&r, (size_t)c->cout * c->cin * 9, 0);
    Buf bias = buf_floats(&r, (size_t)c->cout, 0);
    Buf u = buf_new(lwc_wino_weight_floats(c->cin, c->cout), sizeof(float), 0);
    Buf work = buf_new(lwc_wino_work_floats(c->cin, c->cout, c->w, tile_rows), sizeof(float), 0);
    lwc_wino_weights(wt.p, c->cin, c->cout, u.p);
    unsigned old = lwc_cpu_set_flags_mask(0);
    for (int relu = 0; relu < 2; relu++) {
        Buf ref = buf_new(ny, sizeof(float), 0);
        select_set(&s, 0, lwc_wino_kernel_name);
        lwc_wino_conv3x3_rows(x.p, c->cin, c->h, c->w, u.p, bias.p, c->cout, -1, tile_rows, 0, c->h, ref.p,
                              (size_t)c->h * c->w, relu, work.p);
        for (int k = 1; k < s.n; k++) {
            Buf got = buf_new(ny, sizeof(float), 0);
            select_set(&s, k, lwc_wino_kernel_name);
            lwc_wino_conv3x3_rows(x.p, c->cin, c->h, c->w, u.p, bias.p, c->cout, -1, tile_rows, 0, c->h, got.p,
                                  (size_t)c->h * c->w, relu, work.p);
            char what[128];
            snprintf(what, sizeof(what), "winograd %s conv3x3_rows, cin %d cout %d %dx%d relu %d", s.name[k], c->cin,
                     c->cout, c->h, c->w, relu);
            Report rp = { 0 };
            buf_check(&rp, &ref, &got, what);
            CK_REPORT(rp);
            buf_free(&got);
        }
        buf_free(&ref);
    }
    lwc_cpu_set_flags_mask(old);
    buf_free(&x); buf_free(&wt); buf_free(&bias); buf_free(&u); buf_free(&work);
}
END_TEST

/* ==== gemm (tolerance: OpenBLAS is not bit-exact by design) ================== */

typedef struct GemmShape { int m, n, k, ta, tb; float alpha, beta; } GemmShape;

static Buf buf_unit(TestRng *r, size_t n)
{
    Buf b = buf_new(n, sizeof(float), 0);
    float *f = b.p;
    for (size_t i = 0; i < n; i++) f[i] = (float)(2.0 * trng_uniform(r) - 1.0);
    return b;
}

/* Sum of |terms| of element (i, j): the scale of its rounding error. */
static double gemm_mag(const GemmShape *g, const float *a, int lda, const float *b, int ldb, float c, int i, int j)
{
    double mag = fabs(g->beta * (double)c);
    for (int p = 0; p < g->k; p++)
        mag += fabs(g->alpha * (double)(g->ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) *
                    (g->tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]));
    return mag;
}

/* C = alpha op(A) op(B) + beta C with each table; set d within 2e-5 of the
 * scale of each element of the reference's (float rounding of k products,
 * as tests/test_layers.c allows each of them against double). */
static void gemm_case(const LwcGemmDsp *ref, const LwcGemmDsp *d, const GemmShape *g, TestRng *r, Report *rp)
{
    int lda = (g->ta ? g->m : g->k) + 1, ldb = (g->tb ? g->k : g->n) + 2, ldc = g->n + 3;
    Buf a = buf_unit(r, (size_t)(g->ta ? g->k : g->m) * lda), b = buf_unit(r, (size_t)(g->tb ? g->n : g->k) * ldb);
    Buf c0 = buf_unit(r, (size_t)g->m * ldc), c1 = buf_clone(&c0), mag = buf_new((size_t)g->m * ldc, sizeof(float), 0);
    float *y0 = c0.p, *y1 = c1.p, *m = mag.p;
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++) {
            size_t o = (size_t)i * ldc + j;
            m[o] = (float)gemm_mag(g, a.p, lda, b.p, ldb, y0[o], i, j);
        }
    ref->sgemm(g->ta, g->tb, g->m, g->n, g->k, g->alpha, a.p, lda, b.p, ldb, g->beta, y0, ldc);
    d->sgemm(g->ta, g->tb, g->m, g->n, g->k, g->alpha, a.p, lda, b.p, ldb, g->beta, y1, ldc);
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++) {
            size_t o = (size_t)i * ldc + j;
            if (fabs((double)y1[o] - y0[o]) > 2e-5 * m[o] + 2e-6)
                report(rp, "gemm %s m %d n %d k %d ta %d tb %d beta %g at (%d,%d): %.9g, reference %.9g", d->name,
                       g->m, g->n, g->k, g->ta, g->tb, g->beta, i, j, y1[o], y0[o]);
        }
    buf_free(&a); buf_free(&b); buf_free(&c0); buf_free(&c1); buf_free(&mag);
}

START_TEST(test_gemm_tolerance)
{
    static const float betas[] = { 0.0f, 1.0f, -0.5f };
    Sets s = gemm_sets();
    TestRng r;
    trng_seed(&r, 400 + (uint64_t)_i);
    int m = k_sizes[_i % N_SIZES] % 70 + 1;
    for (int set = 1; set < s.n; set++)
        for (int t = 0; t < 4; t++) {
            GemmShape g = { m, trng_range(&r, 1, 130), trng_range(&r, 1, 300), t & 1, t >> 1, 0.75f, betas[t % 3] };
            Report rp = { 0 };
            gemm_case(s.d[0], s.d[set], &g, &r, &rp);
            CK_REPORT(rp);
        }
}
END_TEST

/* ==== dispatch ================================================================ */

START_TEST(test_dispatch)
{
    unsigned old = lwc_cpu_set_flags_mask(0);
    ck_assert_uint_eq(lwc_cpu_flags(), 0);
    ck_assert_str_eq(lwc_intconv_kernel_name(), "c");
    ck_assert_str_eq(lwc_wpt_kernel_name(), "c");
    ck_assert_str_eq(lwc_wino_kernel_name(), "c");
    ck_assert_uint_eq(lwc_cpu_set_flags_mask(~0u), 0); /* returns the previous mask */
    unsigned all = lwc_cpu_flags();
    lwc_intconv_force_reference(1);
    ck_assert_str_eq(lwc_intconv_kernel_name(), "c");
    lwc_intconv_force_reference(0);
    ck_assert_str_eq(lwc_intconv_kernel_name(), lwc_intconv_dsp(all)->name);
#if defined(__x86_64__)
    ck_assert(all & LWC_CPU_SSE2); /* SSE2 is baseline on x86-64 */
    ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_LEVEL_SSE2)->name, "sse2");
    ck_assert_str_eq(lwc_wpt_dsp(LWC_CPU_LEVEL_SSE2)->name, "sse2");
    ck_assert_str_eq(lwc_wpt_dsp(LWC_CPU_LEVEL_AVX2)->name, "avx2");
    ck_assert_str_eq(lwc_wino_dsp(LWC_CPU_LEVEL_AVX2)->name, "avx2");
    /* a set needs its whole level: AVX2 without SSE2 or SSE4.1 is not enough */
    ck_assert_str_eq(lwc_wpt_dsp(LWC_CPU_AVX2)->name, "c");
    ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_LEVEL_AVX2 & ~LWC_CPU_SSE41)->name, "sse2");
    ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_LEVEL_SSE41)->name, "sse41");
    ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_LEVEL_AVX2 & ~LWC_CPU_AVX2)->name, "sse41");
    ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_SSE41)->name, "c");
    ck_assert_str_eq(lwc_intwino_dsp(LWC_CPU_LEVEL_SSE41)->name, "sse41");
    ck_assert_str_eq(lwc_intwino_dsp(LWC_CPU_LEVEL_SSE2)->name, "c");
    ck_assert_str_eq(lwc_wino_dsp(LWC_CPU_LEVEL_AVX2 & ~LWC_CPU_SSE2)->name, "c");
    ck_assert_str_eq(lwc_wpt_dsp(LWC_CPU_NEON)->name, "c");
    ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_LEVEL_AVX512VNNI)->name, "avx512vnni");
    ck_assert_str_eq(lwc_wpt_dsp(LWC_CPU_LEVEL_AVX512VNNI)->name, "avx2"); /* no AVX-512 set there */
    for (unsigned bit = 1; bit; bit <<= 1) /* each flag of the level is needed (AVX2 without it) */
        if (LWC_CPU_LEVEL_AVX512VNNI & bit & ~LWC_CPU_LEVEL_AVX2)
            ck_assert_str_eq(lwc_intconv_dsp(LWC_CPU_LEVEL_AVX512VNNI & ~bit)->name, "avx2");
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        ck_assert(lwc_cpu_has(all, LWC_CPU_LEVEL_AVX2));
        ck_assert_str_eq(lwc_wpt_kernel_name(), "avx2");
        ck_assert_str_eq(lwc_wino_kernel_name(), "avx2");
    }
    /* __builtin_cpu_supports checks the OS state (XCR0) too, as cpu.c does */
    int vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
    ck_assert_int_eq(lwc_cpu_has(all, LWC_CPU_LEVEL_AVX512VNNI), vnni);
    if (vnni) ck_assert_str_eq(lwc_intconv_kernel_name(), "avx512vnni");
    else if (__builtin_cpu_supports("avx2")) ck_assert_str_eq(lwc_intconv_kernel_name(), "avx2");
    /* masking AVX-512 out (LWC_CPU_MASK=ff0f) falls back to AVX2 */
    lwc_cpu_set_flags_mask(~(LWC_CPU_AVX512F | LWC_CPU_AVX512BW | LWC_CPU_AVX512VL | LWC_CPU_AVX512VNNI));
    if (__builtin_cpu_supports("avx2")) ck_assert_str_eq(lwc_intconv_kernel_name(), "avx2");
    lwc_cpu_set_flags_mask(~0u);
#elif defined(__aarch64__)
    ck_assert(all & LWC_CPU_NEON); /* Advanced SIMD is baseline on AArch64 */
    ck_assert_str_eq(lwc_wpt_kernel_name(), "neon");
    ck_assert_str_eq(lwc_wpt_dsp(LWC_CPU_LEVEL_AVX2)->name, "c");
#endif
    for (unsigned bit = 1; bit; bit <<= 1)
        if (all & bit) ck_assert_ptr_nonnull(lwc_cpu_flag_name(bit)); /* every detected flag has a name */
    lwc_cpu_set_flags_mask(old);
}
END_TEST

/* lwc_cpu_flags() of this program run again with LWC_CPU_MASK=env. */
static unsigned child_flags(const char *env)
{
    char exe[4096], cmd[4300];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    ck_assert(len > 0);
    exe[len] = '\0';
    snprintf(cmd, sizeof(cmd), "LWC_CPU_MASK='%s' '%s' --flags", env, exe);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    unsigned v = 0;
    int got = fscanf(f, "%x", &v);
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_int_eq(got, 1);
    return v;
}

START_TEST(test_env_mask)
{
    lwc_cpu_set_flags_mask(~0u);
    unsigned all = lwc_cpu_flags();
    ck_assert_uint_eq(child_flags("0"), 0);
    ck_assert_uint_eq(child_flags("1"), all & 1u);
    ck_assert_uint_eq(child_flags("0x104"), all & 0x104u);
    ck_assert_uint_eq(child_flags("fffffffff"), all); /* does not fit: ignored */
    ck_assert_uint_eq(child_flags("zz"), all);        /* not hex: ignored */
    ck_assert_uint_eq(child_flags(""), all);
}
END_TEST

/* ==== exact integer Winograd (intwino) ======================================== */

/* A 3x3 layer within the exact Winograd's bound (intwino.h) for inputs in
 * +-LWC_SYN_ACT, its transformed weights attached. Modes: TV_TYPICAL random
 * weights; TV_EXTREME weights +-2047 of random signs; TV_ALL_MAX / TV_ALL_MIN
 * every weight +2047 / -2047 and the bias at the bound's end, so that with
 * inputs +2047 4 * acc comes within 4 * 2047 of 2^31. Channels whose sum
 * would pass the bound get weights zeroed from their end. */
#define LWC_SYN_ACT_TEST LWC_SYN_ACT

typedef struct IwLayer {
    LwcIntConv l;
    int mode;
} IwLayer;

static IwLayer iw_layer(TestRng *r, int cin, int cout, int mode)
{
    IwLayer L = { .mode = mode };
    int kk = 9 * cin;
    int16_t *w = need(lwc_malloc_array((size_t)cout * kk, sizeof(int16_t)));
    int32_t *bias = need(lwc_malloc_array((size_t)cout, sizeof(int32_t)));
    int32_t *mult = need(lwc_malloc_array((size_t)cout, sizeof(int32_t)));
    uint8_t *shift = need(lwc_malloc((size_t)cout));
    const int64_t bound = LWC_INTWINO_ACC_BOUND, act = LWC_SYN_ACT_TEST;
    for (int o = 0; o < cout; o++) {
        int16_t *wo = w + (size_t)o * kk;
        int64_t sum = 0;
        for (int i = 0; i < kk; i++) {
            int v = mode == TV_TYPICAL ? trng_range(r, -400, 400)
                  : mode == TV_EXTREME ? (trng_u64(r) & 1 ? 2047 : -2047)
                  : mode == TV_ALL_MAX ? 2047 : -2047;
            if ((sum + abs(v)) * act >= bound) v = 0;
            wo[i] = (int16_t)v;
            sum += abs(v);
        }
        int64_t slack = bound - 1 - sum * act; /* >= 0 */
        if (mode == TV_TYPICAL || mode == TV_EXTREME)
            bias[o] = (int32_t)trng_range(r, -(int)LWC_MIN(slack, 1 << 30), (int)LWC_MIN(slack, 1 << 30));
        else bias[o] = (int32_t)(mode == TV_ALL_MAX ? slack : -slack);
        /* requantisation that shows the low bits of acc half the time */
        mult[o] = trng_u64(r) & 1 ? 1 : trng_range(r, 1, 1 << 20);
        shift[o] = (uint8_t)(mult[o] == 1 ? trng_range(r, 1, 4) : trng_range(r, 16, 40));
    }
    int32_t lo = -32768, hi = 32767;
    if (trng_u64(r) % 3 == 0) {
        lo = -LWC_SYN_ACT_TEST;
        hi = LWC_SYN_ACT_TEST;
    }
    L.l = (LwcIntConv){ .cin = cin, .cout = cout, .k = 3, .w = w, .bias = bias, .mult = mult,
                        .shift = shift, .lo = lo, .hi = hi };
    if (!lwc_intwino_eligible(&L.l, LWC_SYN_ACT_TEST)) return L; /* wu NULL: the callers check */
    L.l.wu = need(lwc_malloc_array(lwc_intwino_weight_count(&L.l), sizeof(int16_t)));
    lwc_intwino_weights(&L.l, L.l.wu);
    return L;
}

static void iw_layer_free(IwLayer *L)
{
    lwc_free(L->l.w); lwc_free(L->l.bias); lwc_free(L->l.mult); lwc_free(L->l.shift); lwc_free(L->l.wu);
}

/* Inputs in +-2047: uniform (typical), +-2047 of random signs (extreme), all +2047. */
static Buf iw_input(TestRng *r, int cin, int h, int w, int mode)
{
    size_t n = (size_t)cin * h * w;
    Buf b = buf_new(n, sizeof(int16_t), 0);
    int16_t *x = b.p;
    for (size_t i = 0; i < n; i++)
        x[i] = (int16_t)(mode == TV_TYPICAL ? trng_range(r, -LWC_SYN_ACT_TEST, LWC_SYN_ACT_TEST)
                         : mode == TV_EXTREME ? (trng_u64(r) & 1 ? LWC_SYN_ACT_TEST : -LWC_SYN_ACT_TEST)
                         : LWC_SYN_ACT_TEST);
    return b;
}

typedef struct IwShape { int cin, cout, h, w; } IwShape;

/* Odd sizes, channel counts off the vector widths, the shipped shapes
 * (128 -> 96, 96 -> 96), and maps of several chunks of tiles. */
static const IwShape k_iw_shapes[] = {
    { 1, 1, 1, 1 },   { 1, 3, 2, 1 },    { 3, 5, 5, 7 },    { 5, 6, 9, 11 },  { 7, 9, 13, 3 },
    { 13, 11, 1, 17 }, { 2, 4, 3, 17 },  { 9, 13, 17, 19 }, { 33, 7, 6, 5 },  { 15, 17, 2, 2 },
    { 31, 5, 21, 35 }, { 96, 96, 9, 13 }, { 128, 96, 8, 12 }, { 96, 96, 27, 41 }, { 6, 18, 35, 70 },
};
#define N_IW_SHAPES ((int)(sizeof(k_iw_shapes) / sizeof(k_iw_shapes[0])))

/* Set d over rows [r0, r1) of the map against the direct convolution's C
 * reference (lwc_intconv_forward_range over the same positions): equal in
 * those rows, the rest of y (and its guards) untouched, no write past the
 * work buffer. */
static void iw_case(const LwcIntWinoDsp *d, const IwLayer *L, const Buf *x, int h, int w, int r0, int r1,
                    Report *rp)
{
    size_t ny = (size_t)L->l.cout * h * w;
    Buf ref = buf_new(ny, sizeof(int16_t), 0), got = buf_clone(&ref);
    size_t nwork = LWC_MAX(lwc_intconv_work_size(&L->l, h, w), lwc_intwino_work_size(&L->l, h, w));
    Buf work = buf_new(nwork, sizeof(int32_t), 0);
    lwc_intconv_force_reference(1);
    lwc_intconv_forward_range(&L->l, x->p, h, w, LWC_INT_ALL, r0 * w, r1 * w, ref.p, work.p);
    lwc_intconv_force_reference(0);
    Buf work2 = buf_new(lwc_intwino_work_size(&L->l, h, w), sizeof(int32_t), 0);
    lwc_intwino_forward_rows_dsp(d, &L->l, x->p, h, w, r0, r1, got.p, work2.p);
    char what[200];
    snprintf(what, sizeof(what), "intwino %s: cin %d cout %d %dx%d rows [%d, %d), %s values", d->name, L->l.cin,
             L->l.cout, h, w, r0, r1, k_vnames[L->mode]);
    buf_check(rp, &ref, &got, what);
    if (!buf_tail_intact(&work2, lwc_intwino_work_size(&L->l, h, w))) report(rp, "%s: write past the work buffer", what);
    buf_free(&ref); buf_free(&got); buf_free(&work); buf_free(&work2);
}

/* Every set, every value mode, the whole map and random row ranges (odd
 * starts and ends included). */
static void iw_shape(const IwShape *sh, uint64_t seed)
{
    Sets s = find_sets(&k_intwino);
    for (int mode = 0; mode < TV_COUNT; mode++) {
        TestRng r;
        trng_seed(&r, seed * 16 + (uint64_t)mode);
        IwLayer L = iw_layer(&r, sh->cin, sh->cout, mode);
        ck_assert(L.l.wu != NULL);
        Buf x = iw_input(&r, sh->cin, sh->h, sh->w, mode);
        for (int rep = 0; rep < 4; rep++) {
            int r0 = rep ? trng_range(&r, 0, sh->h - 1) : 0, r1 = rep ? trng_range(&r, r0 + 1, sh->h) : sh->h;
            if (rep == 3 && sh->h > 2) { /* odd start and end */
                r0 = 1;
                r1 = sh->h - 1 - !(sh->h & 1);
                if (r1 <= r0) r1 = r0 + 1;
            }
            for (int k = 0; k < s.n; k++) {
                Report rp = { 0 };
                iw_case(s.d[k], &L, &x, sh->h, sh->w, r0, r1, &rp);
                CK_REPORT(rp);
            }
        }
        buf_free(&x);
        iw_layer_free(&L);
    }
}

START_TEST(test_intwino_shapes)
{
    iw_shape(&k_iw_shapes[_i], 300 + (uint64_t)_i);
}
END_TEST

START_TEST(test_intwino_random)
{
    TestRng r;
    trng_seed(&r, 8000 + (uint64_t)_i);
    IwShape sh = { trng_range(&r, 1, 40), trng_range(&r, 1, 21), trng_range(&r, 1, 23), trng_range(&r, 1, 23) };
    iw_shape(&sh, 8100 + (uint64_t)_i);
}
END_TEST

/* ---- intwino kernels, called directly ----------------------------------------
 * Values past what a layer can reach: int16 weights and inputs over their
 * whole range, int32 products of the Winograd domain anywhere (the sums and
 * the output transform wrap), requantisation at its extremes. */

/* n int16 (full range, the extremes often) at an unaligned offset. */
static Buf buf_i16(TestRng *r, size_t n)
{
    Buf b = buf_new(n, sizeof(int16_t), rnd_off(r));
    for (size_t i = 0; i < n; i++) ((int16_t *)b.p)[i] = trng_ic_input(r, TV_EXTREME);
    return b;
}

/* gemm: cinp (even) x ob (a multiple of 4) x n (a multiple of 16) tiles. */
static void iw_gemm_case(const LwcIntWinoDsp *d, int cinp, int ob, int n, TestRng *r, Report *rp)
{
    Buf u = buf_i16(r, (size_t)ob * cinp), v = buf_i16(r, (size_t)cinp * n);
    Buf m0 = buf_new((size_t)ob * n, sizeof(int32_t), rnd_off(r)), m1 = buf_clone(&m0);
    lwc_intwino_dsp(0)->gemm(u.p, cinp, ob, v.p, n, m0.p);
    d->gemm(u.p, cinp, ob, v.p, n, m1.p);
    char what[100];
    snprintf(what, sizeof(what), "intwino %s gemm, cinp %d ob %d n %d", d->name, cinp, ob, n);
    buf_check(rp, &m0, &m1, what);
    buf_free(&u); buf_free(&v); buf_free(&m0); buf_free(&m1);
}

/* out: 16 products of n tiles ts >= n apart, any int32, extreme requantisation. */
static void iw_out_case(const LwcIntWinoDsp *d, int n, TestRng *r, Report *rp)
{
    static const int32_t ext[] = { INT32_MIN, INT32_MIN + 3, -4, -1, 0, 1, 3, 4, INT32_MAX - 3, INT32_MAX };
    size_t ts = (size_t)n + (size_t)(trng_u64(r) % 5);
    Buf m = buf_new(16 * ts, sizeof(int32_t), rnd_off(r));
    for (size_t i = 0; i < 16 * ts; i++)
        ((int32_t *)m.p)[i] = trng_u64(r) & 1 ? trng_pick(r, ext, 10) : (int32_t)trng_u64(r);
    int32_t bias, mult, lo = trng_range(r, -32768, 32767), hi = trng_range(r, lo, 32767);
    uint8_t shift;
    trng_ic_requant(r, TV_EXTREME, &bias, &mult, &shift);
    Buf q0 = buf_new((size_t)4 * n, sizeof(int16_t), rnd_off(r)), q1 = buf_clone(&q0);
    lwc_intwino_dsp(0)->out(m.p, ts, n, bias, mult, shift, lo, hi, q0.p);
    d->out(m.p, ts, n, bias, mult, shift, lo, hi, q1.p);
    char what[140];
    snprintf(what, sizeof(what), "intwino %s out, n %d ts %zu, bias %d mult %d shift %d clamp [%d, %d]", d->name, n,
             ts, bias, mult, shift, lo, hi);
    buf_check(rp, &q0, &q1, what);
    buf_free(&m); buf_free(&q0); buf_free(&q1);
}

/* vin: nt tiles (any count) from 8 rows of full-range int16 readable as far
 * as intwino.h allows; words of other tiles (and the guards) untouched. */
static void iw_vin_case(const LwcIntWinoDsp *d, int nt, TestRng *r, Report *rp)
{
    size_t len = (size_t)2 * ((nt + 15) / 16 * 16) + 34, ts = (size_t)2 * nt + (size_t)(trng_u64(r) % 7);
    Buf rows[2][4];
    const int16_t *rp_[2][4];
    for (int ch = 0; ch < 2; ch++)
        for (int a = 0; a < 4; a++) rp_[ch][a] = (rows[ch][a] = buf_i16(r, len)).p;
    Buf v0 = buf_new(16 * ts, sizeof(int16_t), rnd_off(r)), v1 = buf_clone(&v0);
    lwc_intwino_dsp(0)->vin(rp_, nt, v0.p, ts);
    d->vin(rp_, nt, v1.p, ts);
    char what[100];
    snprintf(what, sizeof(what), "intwino %s vin, nt %d ts %zu", d->name, nt, ts);
    buf_check(rp, &v0, &v1, what);
    for (int ch = 0; ch < 2; ch++)
        for (int a = 0; a < 4; a++) buf_free(&rows[ch][a]);
    buf_free(&v0); buf_free(&v1);
}

/* Every set's three kernels; sizes from k_sizes (the gemm's and out's
 * rounded up to their multiple of 16). */
START_TEST(test_intwino_kernels)
{
    Sets s = find_sets(&k_intwino);
    TestRng r;
    trng_seed(&r, 900 + (uint64_t)_i);
    int sz = k_sizes[_i] % 200 + 1, n16 = (sz + 15) / 16 * 16;
    for (int k = 1; k < s.n; k++)
        for (int rep = 0; rep < 3; rep++) {
            Report rp = { 0 };
            iw_gemm_case(s.d[k], 2 * trng_range(&r, 1, 40), 4 * trng_range(&r, 1, 4), n16, &r, &rp);
            iw_out_case(s.d[k], n16, &r, &rp);
            iw_vin_case(s.d[k], sz, &r, &rp);
            CK_REPORT(rp);
        }
}
END_TEST

/* The public entry point (lwc_intwino_forward_rows) follows the CPU flags,
 * and each set it picks equals the direct convolution. */
START_TEST(test_intwino_entry)
{
    Sets s = find_sets(&k_intwino);
    TestRng r;
    trng_seed(&r, 42);
    IwLayer L = iw_layer(&r, 19, 10, TV_EXTREME);
    ck_assert(L.l.wu != NULL);
    int h = 11, w = 9;
    Buf x = iw_input(&r, 19, h, w, TV_EXTREME);
    size_t ny = (size_t)L.l.cout * h * w;
    Buf ref = buf_new(ny, sizeof(int16_t), 0), work = buf_new(LWC_MAX(lwc_intconv_work_size(&L.l, h, w), lwc_intwino_work_size(&L.l, h, w)), sizeof(int32_t), 0);
    lwc_intconv_forward_range(&L.l, x.p, h, w, LWC_INT_ALL, 3 * w, 8 * w, ref.p, work.p);
    for (int k = 0; k < s.n; k++) {
        unsigned old = lwc_cpu_set_flags_mask(s.flags[k]);
        /* the synthesis prefers it with a SIMD set, or with the direct C reference */
        ck_assert_int_eq(lwc_intwino_preferred(), k > 0 || !strcmp(lwc_intconv_kernel_name(), "c"));
        Buf got = buf_new(ny, sizeof(int16_t), 0);
        lwc_intwino_forward_rows(&L.l, x.p, h, w, 3, 5, got.p, work.p);
        lwc_intwino_forward_rows(&L.l, x.p, h, w, 5, 8, got.p, work.p);
        Report rp = { 0 };
        buf_check(&rp, &ref, &got, s.name[k]);
        CK_REPORT(rp);
        buf_free(&got);
        lwc_cpu_set_flags_mask(old);
    }
    unsigned old = lwc_cpu_set_flags_mask(LWC_CPU_SSE2 | LWC_CPU_NEON); /* a direct SIMD set, no intwino one */
    if (strcmp(lwc_intconv_kernel_name(), "c") && lwc_intwino_dsp(lwc_cpu_flags()) == lwc_intwino_dsp(0))
        ck_assert(!lwc_intwino_preferred());
    lwc_cpu_set_flags_mask(old);
    buf_free(&x); buf_free(&ref); buf_free(&work);
    iw_layer_free(&L);
}
END_TEST

/* Layers past the bound get no Winograd weights: sum |w| * act + |bias|
 * reaching 2^29 in one channel, a 1x1 layer, transformed weights past int16. */
START_TEST(test_intwino_eligible)
{
    int16_t w[2 * 9];
    int32_t bias[2] = { 0, 0 }, mult[2] = { 1, 1 };
    uint8_t shift[2] = { 1, 1 };
    for (int i = 0; i < 18; i++) w[i] = 2047;
    LwcIntConv l = { .cin = 1, .cout = 2, .k = 3, .w = w, .bias = bias, .mult = mult, .shift = shift,
                     .lo = -32768, .hi = 32767 };
    int64_t s = 9 * 2047 * (int64_t)LWC_SYN_ACT_TEST;
    bias[1] = (int32_t)(LWC_INTWINO_ACC_BOUND - 1 - s); /* the largest allowed */
    ck_assert(lwc_intwino_eligible(&l, LWC_SYN_ACT_TEST));
    bias[1] = -bias[1];
    ck_assert(lwc_intwino_eligible(&l, LWC_SYN_ACT_TEST));
    bias[1] = (int32_t)(LWC_INTWINO_ACC_BOUND - s); /* 2^29 exactly: out */
    ck_assert(!lwc_intwino_eligible(&l, LWC_SYN_ACT_TEST));
    bias[1] = -bias[1];
    ck_assert(!lwc_intwino_eligible(&l, LWC_SYN_ACT_TEST));
    bias[1] = 0;
    ck_assert(!lwc_intwino_eligible(&l, 2 * LWC_SYN_ACT_TEST * 15)); /* a larger input range */
    l.k = 1;
    ck_assert(!lwc_intwino_eligible(&l, LWC_SYN_ACT_TEST));
    l.k = 3;
    for (int i = 0; i < 18; i++) w[i] = 10000; /* U' = 9 * 10000 > int16, though 90000 * 1 < 2^29 */
    ck_assert(!lwc_intwino_eligible(&l, 1));
    for (int i = 0; i < 18; i++) w[i] = 3640; /* 9 * 3640 = 32760: fits */
    ck_assert(lwc_intwino_eligible(&l, 1));
}
END_TEST

/* The C set with the last output of a call off by one code value. */
static const LwcIntWinoDsp *g_iw_wrapped;

static void iw_out_off(const int32_t *m, size_t ts, int n, int32_t bias, int32_t mult, int shift, int32_t lo,
                       int32_t hi, int16_t *q)
{
    g_iw_wrapped->out(m, ts, n, bias, mult, shift, lo, hi, q);
    q[0] ^= 1; /* row 0, column 0 of the chunk's first tile */
}

/* Each set against the C reference passes, its perturbed copy fails. */
static void iw_selfcheck(void)
{
    Sets s = find_sets(&k_intwino);
    TestRng r;
    trng_seed(&r, 78);
    IwLayer L = iw_layer(&r, 5, 6, TV_TYPICAL);
    ck_assert(L.l.wu != NULL);
    Buf x = iw_input(&r, 5, 7, 8, TV_TYPICAL);
    for (int k = 0; k < s.n; k++) {
        g_iw_wrapped = s.d[k];
        LwcIntWinoDsp bad = *g_iw_wrapped;
        bad.out = iw_out_off;
        Report ok = { 0 }, fail = { 0 };
        iw_case(s.d[k], &L, &x, 7, 8, 0, 7, &ok);
        iw_case(&bad, &L, &x, 7, 8, 0, 7, &fail);
        ck_assert_msg(!ok.fail && fail.fail, "intwino %s: harness %s", s.name[k],
                      ok.fail ? ok.msg : "missed a wrong kernel");
    }
    buf_free(&x);
    iw_layer_free(&L);
}

/* ==== self-check: the harness must see a wrong kernel ========================= */

static void flip_lsb(float *v)
{
    uint32_t u;
    memcpy(&u, v, sizeof(u));
    u ^= 1;
    memcpy(v, &u, sizeof(u));
}

/* The C kernels with the last output element off by one unit in the last
 * place (or one code value): what a tail bug looks like. */
static void ic_gemm_off(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys, uint32_t *scratch)
{
    lwc_intconv_dsp(0)->gemm(l, xp, n, y, ys, scratch);
    y[(size_t)(l->cout - 1) * ys + (size_t)(n - 1)] ^= 1;
}

/* The same perturbation of any set: g_ic_wrapped's gemm, last output off by
 * one (so every SIMD set's own tail path is covered, not only C's). */
static const LwcIntConvDsp *g_ic_wrapped;

static void ic_gemm_set_off(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys,
                            uint32_t *scratch)
{
    g_ic_wrapped->gemm(l, xp, n, y, ys, scratch);
    y[(size_t)(l->cout - 1) * ys + (size_t)(n - 1)] ^= 1;
}

static void wpt_scale_off(float *restrict dst, const float *restrict src, float k, size_t n)
{
    lwc_wpt_dsp(0)->scale(dst, src, k, n);
    if (n) flip_lsb(&dst[n - 1]);
}

static void wino_store_off(float *restrict out, const float *restrict src, size_t n, int w, float bias, int relu)
{
    lwc_wino_dsp(0)->store_row(out, src, n, w, bias, relu);
    flip_lsb(&out[w - 1]);
}

static void sgemm_off(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                      int ldb, float beta, float *c, int ldc)
{
    lwc_gemm_dsp(1)->sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    c[(size_t)(m - 1) * ldc + (size_t)(n - 1)] += 0.01f;
}

/* Each family's case run twice: the C set against itself passes, the
 * perturbed copy fails. */
START_TEST(test_selfcheck_kernels)
{
    TestRng r;
    trng_seed(&r, 77);
    int n = k_sizes[_i];
    IcLayer L = ic_layer(&r, 5, 6, 3, TV_TYPICAL);
    LwcIntConvDsp ic_bad = *lwc_intconv_dsp(0);
    ic_bad.gemm = ic_gemm_off;
    Report ok = { 0 }, bad = { 0 };
    ic_gemm_case(lwc_intconv_dsp(0), lwc_intconv_dsp(0), &L, n, &r, &ok);
    ic_gemm_case(lwc_intconv_dsp(0), &ic_bad, &L, n, &r, &bad);
    ck_assert_msg(!ok.fail && bad.fail, "intconv: harness %s", ok.fail ? ok.msg : "missed a wrong kernel");
    Sets is = find_sets(&k_intconv);
    for (int k = 1; k < is.n; k++) { /* each SIMD set: itself passes, perturbed it fails */
        g_ic_wrapped = is.d[k];
        LwcIntConvDsp set_bad = *g_ic_wrapped;
        set_bad.gemm = ic_gemm_set_off;
        Report sok = { 0 }, sbad = { 0 };
        ic_gemm_case(lwc_intconv_dsp(0), is.d[k], &L, n, &r, &sok);
        ic_gemm_case(lwc_intconv_dsp(0), &set_bad, &L, n, &r, &sbad);
        ck_assert_msg(!sok.fail && sbad.fail, "intconv %s: harness %s", is.name[k],
                      sok.fail ? sok.msg : "missed a wrong kernel");
    }
    ic_layer_free(&L);

    LwcWptDsp wpt_bad = *lwc_wpt_dsp(0);
    wpt_bad.scale = wpt_scale_off;
    Report wok = { 0 }, wbad = { 0 };
    wpt_kernels_case(lwc_wpt_dsp(0), lwc_wpt_dsp(0), (size_t)n, &r, &wok);
    wpt_kernels_case(lwc_wpt_dsp(0), &wpt_bad, (size_t)n, &r, &wbad);
    ck_assert_msg(!wok.fail && wbad.fail, "wpt: harness %s", wok.fail ? wok.msg : "missed a wrong kernel");

    LwcWinoDsp wino_bad = *lwc_wino_dsp(0);
    wino_bad.store_row = wino_store_off;
    Report cok = { 0 }, cbad = { 0 };
    wino_kernels_case(lwc_wino_dsp(0), lwc_wino_dsp(0), (size_t)n, &r, &cok);
    wino_kernels_case(lwc_wino_dsp(0), &wino_bad, (size_t)n, &r, &cbad);
    ck_assert_msg(!cok.fail && cbad.fail, "winograd: harness %s", cok.fail ? cok.msg : "missed a wrong kernel");

    LwcGemmDsp gemm_bad = *lwc_gemm_dsp(1);
    gemm_bad.sgemm = sgemm_off;
    GemmShape g = { n % 40 + 1, n % 33 + 1, 17, 0, 1, 0.75f, 1.0f };
    Report gok = { 0 }, gbad = { 0 };
    gemm_case(lwc_gemm_dsp(1), lwc_gemm_dsp(1), &g, &r, &gok);
    gemm_case(lwc_gemm_dsp(1), &gemm_bad, &g, &r, &gbad);
    ck_assert_msg(!gok.fail && gbad.fail, "gemm: harness %s", gok.fail ? gok.msg : "missed a wrong kernel");

    if (_i == 0) iw_selfcheck();
}
END_TEST

/* The buffer comparison itself: equal buffers pass, one flipped bit
 * anywhere (output or guard) is found at its place. */
START_TEST(test_selfcheck_compare)
{
    TestRng r;
    trng_seed(&r, 78);
    Buf a = buf_floats(&r, 37, 3), b = buf_clone(&a);
    Report rp = { 0 };
    buf_check(&rp, &a, &b, "equal");
    ck_assert_msg(!rp.fail, "%s", rp.msg);
    for (size_t byte = 0; byte < a.total * sizeof(float); byte += 13) {
        b.base[byte] ^= 0x10;
        ck_assert_uint_eq(first_diff(a.base, b.base, a.total, sizeof(float)), byte / sizeof(float));
        Report bad = { 0 };
        buf_check(&bad, &a, &b, "flipped");
        ck_assert(bad.fail);
        b.base[byte] ^= 0x10;
    }
    buf_free(&a);
    buf_free(&b);
}
END_TEST

/* ==== --bench: each set's speed-up over C, per kernel ========================= */

typedef void (*BenchFn)(const void *dsp, void *ctx);

/* Seconds per call of fn with table d: the best of 7 timed batches. */
static double bench_time(BenchFn fn, const void *d, void *ctx, long iters)
{
    double best = 1e30;
    for (int rep = 0; rep < 7; rep++) {
        double t0 = lwc_now();
        for (long i = 0; i < iters; i++) fn(d, ctx);
        double t = (lwc_now() - t0) / (double)iters;
        best = t < best ? t : best;
    }
    return best;
}

static void bench_row(const char *family, const char *kernel, const Sets *s, BenchFn fn, void *ctx)
{
    long iters = 1;
    for (double t0 = lwc_now(); lwc_now() - t0 < 2e-3; iters *= 2) /* batches of >= ~2 ms */
        for (long i = 0; i < iters; i++) fn(s->d[0], ctx);
    double tref = bench_time(fn, s->d[0], ctx, iters);
    printf("  %-8s %-26s %s %9.2f us", family, kernel, s->name[0], tref * 1e6);
    for (int k = 1; k < s->n; k++) printf("   %s %5.2fx", s->name[k], tref / bench_time(fn, s->d[k], ctx, iters));
    printf("\n");
}

typedef struct IcBench { IcLayer L; Buf xp, y, scratch; int n; } IcBench;

static void bench_ic_gemm(const void *d, void *ctx)
{
    IcBench *b = ctx;
    ((const LwcIntConvDsp *)d)->gemm(&b->L.l, b->xp.p, b->n, b->y.p, (size_t)b->n, b->scratch.p);
}

typedef struct WptBench { Buf a, b, c, t; size_t n; } WptBench;

static void bench_wpt_axpy2(const void *d, void *ctx)
{
    WptBench *b = ctx;
    ((const LwcWptDsp *)d)->axpy2(b->t.p, b->a.p, b->b.p, 0.25f, b->n);
}

static void bench_wpt_scale(const void *d, void *ctx)
{
    WptBench *b = ctx;
    ((const LwcWptDsp *)d)->scale(b->t.p, b->a.p, 1.25f, b->n);
}

static void bench_wpt_deinterleave(const void *d, void *ctx)
{
    WptBench *b = ctx;
    ((const LwcWptDsp *)d)->deinterleave(b->c.p, b->a.p, b->b.p, (int)b->n);
}

static void bench_wpt_interleave(const void *d, void *ctx)
{
    WptBench *b = ctx;
    ((const LwcWptDsp *)d)->interleave(b->a.p, b->b.p, b->c.p, (int)b->n);
}

static void bench_wpt_lift_rows(const void *d, void *ctx)
{
    WptBench *b = ctx;
    float *c = b->c.p;
    LwcWptRowOp ops[3] = { { b->t.p, b->a.p, b->b.p, 0.25f, 0 }, { b->a.p, b->t.p, c, -0.5f, 0 },
                           { c + b->n, b->a.p, NULL, 0.125f, 1 } };
    ((const LwcWptDsp *)d)->lift_rows(ops, 3, b->n);
}

typedef struct WinoBench { Buf in[6], out[6], wide; size_t n; } WinoBench;

static void bench_wino_bt6(const void *d, void *ctx)
{
    WinoBench *b = ctx;
    ((const LwcWinoDsp *)d)->bt6(F(b->out, 0), F(b->out, 1), F(b->out, 2), F(b->out, 3), F(b->out, 4),
                                 F(b->out, 5), F(b->in, 0), F(b->in, 1), F(b->in, 2), F(b->in, 3), F(b->in, 4),
                                 F(b->in, 5), b->n);
}

static void bench_wino_at6(const void *d, void *ctx)
{
    WinoBench *b = ctx;
    ((const LwcWinoDsp *)d)->at6(F(b->out, 0), F(b->out, 1), F(b->out, 2), F(b->out, 3), F(b->in, 0),
                                 F(b->in, 1), F(b->in, 2), F(b->in, 3), F(b->in, 4), F(b->in, 5), b->n);
}

static void bench_wino_phases(const void *d, void *ctx)
{
    WinoBench *b = ctx;
    ((const LwcWinoDsp *)d)->phases(F(b->in, 0), b->wide.p, b->n / 4);
}

static void bench_wino_store_row(const void *d, void *ctx)
{
    WinoBench *b = ctx;
    ((const LwcWinoDsp *)d)->store_row(b->wide.p, F(b->in, 0), b->n / 4, (int)b->n, 0.5f, 1);
}

typedef struct GemmBench { Buf a, b, c; int m, n, k; } GemmBench;

static void bench_sgemm(const void *d, void *ctx)
{
    GemmBench *g = ctx;
    ((const LwcGemmDsp *)d)->sgemm(0, 0, g->m, g->n, g->k, 1.0f, g->a.p, g->k, g->b.p, g->n, 0.0f, g->c.p, g->n);
}

/* One gemm shape; n 1024, then the chunk the layers use for the shape
 * (intconv.c: about 64 KiB of pair rows, 48 positions for hs1). */
static void bench_ic_shape(TestRng *r, const Sets *s, int cin, int cout, int k, int n, const char *label)
{
    IcBench b = { .n = n };
    b.L = ic_layer(r, cin, cout, k, TV_TYPICAL);
    b.xp = ic_pairs(r, &b.L, b.n);
    b.y = buf_new((size_t)cout * b.n, sizeof(int16_t), 0);
    b.scratch = buf_new((size_t)b.n, sizeof(uint32_t), 0);
    bench_row("intconv", label, s, bench_ic_gemm, &b);
    ic_layer_free(&b.L);
    buf_free(&b.xp); buf_free(&b.y); buf_free(&b.scratch);
}

static void bench_intconv(TestRng *r)
{
    Sets s = find_sets(&k_intconv);
    bench_ic_shape(r, &s, 64, 64, 3, 1024, "gemm 64->64 3x3, n 1024");
    bench_ic_shape(r, &s, 64, 64, 3, 48, "gemm 64->64 3x3, n 48");
    bench_ic_shape(r, &s, 32, 64, 3, 112, "gemm 32->64 3x3, n 112");
    bench_ic_shape(r, &s, 96, 96, 1, 336, "gemm 96->96 1x1, n 336");
    bench_ic_shape(r, &s, 96, 32, 1, 333, "gemm 96->32 1x1, n 333");
}

static void bench_wpt(TestRng *r)
{
    Sets s = find_sets(&k_wpt);
    WptBench b = { .n = 2048 };
    b.a = buf_floats(r, b.n, 0);
    b.b = buf_floats(r, b.n, 0);
    b.c = buf_floats(r, 2 * b.n, 0);
    b.t = buf_floats(r, b.n, 0);
    bench_row("wpt", "axpy2, n 2048", &s, bench_wpt_axpy2, &b);
    bench_row("wpt", "scale, n 2048", &s, bench_wpt_scale, &b);
    bench_row("wpt", "deinterleave, m 2048", &s, bench_wpt_deinterleave, &b);
    bench_row("wpt", "interleave, m 2048", &s, bench_wpt_interleave, &b);
    bench_row("wpt", "lift_rows, 3 ops, n 2048", &s, bench_wpt_lift_rows, &b);
    buf_free(&b.a); buf_free(&b.b); buf_free(&b.c); buf_free(&b.t);
}

static void bench_wino(TestRng *r)
{
    Sets s = find_sets(&k_wino);
    WinoBench b = { .n = 1024 };
    for (int i = 0; i < 6; i++) {
        b.in[i] = buf_floats(r, b.n, 0);
        b.out[i] = buf_new(b.n, sizeof(float), 0);
    }
    b.wide = buf_new(b.n, sizeof(float), 0);
    bench_row("winograd", "bt6, n 1024", &s, bench_wino_bt6, &b);
    bench_row("winograd", "at6, n 1024", &s, bench_wino_at6, &b);
    bench_row("winograd", "phases, np 256", &s, bench_wino_phases, &b);
    bench_row("winograd", "store_row, w 1024", &s, bench_wino_store_row, &b);
    for (int i = 0; i < 6; i++) {
        buf_free(&b.in[i]);
        buf_free(&b.out[i]);
    }
    buf_free(&b.wide);
}

static void bench_gemm(TestRng *r)
{
    Sets s = gemm_sets();
    GemmBench g = { .m = 64, .n = 1024, .k = 576 };
    g.a = buf_floats(r, (size_t)g.m * g.k, 0);
    g.b = buf_floats(r, (size_t)g.k * g.n, 0);
    g.c = buf_new((size_t)g.m * g.n, sizeof(float), 0);
    bench_row("gemm", "64x576 * 576x1024", &s, bench_sgemm, &g);
    buf_free(&g.a); buf_free(&g.b); buf_free(&g.c);
}

typedef struct IwBench { IwLayer L; Buf x, y, work; int h, w; } IwBench;

static void bench_iw_forward(const void *d, void *ctx)
{
    IwBench *b = ctx;
    lwc_intwino_forward_rows_dsp(d, &b->L.l, b->x.p, b->h, b->w, 0, b->h, b->y.p, b->work.p);
}

/* A whole layer of the shipped synthesis (96 -> 96 3x3) on a 24 x 96 band. */
static void bench_intwino(TestRng *r)
{
    Sets s = find_sets(&k_intwino);
    IwBench b = { .h = 24, .w = 96 };
    b.L = iw_layer(r, 96, 96, TV_TYPICAL);
    b.x = iw_input(r, 96, b.h, b.w, TV_TYPICAL);
    b.y = buf_new((size_t)96 * b.h * b.w, sizeof(int16_t), 0);
    b.work = buf_new(lwc_intwino_work_size(&b.L.l, b.h, b.w), sizeof(int32_t), 0);
    if (b.L.l.wu) bench_row("intwino", "forward 96->96, 24x96", &s, bench_iw_forward, &b);
    /* the direct layer's best set, for comparison */
    Buf w2 = buf_new(lwc_intconv_work_size(&b.L.l, b.h, b.w), sizeof(int32_t), 0);
    double t0 = lwc_now();
    int n = 0;
    for (; lwc_now() - t0 < 0.2; n++)
        lwc_intconv_forward(&b.L.l, b.x.p, b.h, b.w, LWC_INT_ALL, b.y.p, w2.p);
    printf("  %-8s %-26s %s %9.2f us (direct 3x3, for comparison)\n", "intconv", "forward 96->96, 24x96",
           lwc_intconv_kernel_name(), (lwc_now() - t0) / n * 1e6);
    buf_free(&w2); buf_free(&b.x); buf_free(&b.y); buf_free(&b.work);
    iw_layer_free(&b.L);
}

static void run_bench(void)
{
    TestRng r;
    trng_seed(&r, 1);
    printf("checkasm --bench: time per call of the reference, speed-up of each set over it (best of 7)\n");
    bench_intconv(&r);
    bench_wpt(&r);
    bench_wino(&r);
    bench_intwino(&r);
    bench_gemm(&r);
}

/* ==== main ===================================================================== */

static void print_sets(const char *family, const Sets *s, const char *note)
{
    printf("checkasm: %-8s %s", family, s->name[0]);
    if (s->n == 1) {
        printf(" only: no other set for these CPU flags\n");
        return;
    }
    printf(" vs");
    for (int k = 1; k < s->n; k++) printf(" %s", s->name[k]);
    printf("%s\n", note);
}

static void print_flags(void)
{
    unsigned f = lwc_cpu_flags();
    printf("checkasm: cpu flags 0x%x:", f);
    for (unsigned bit = 1; bit; bit <<= 1)
        if (f & bit) printf(" %s", lwc_cpu_flag_name(bit) ? lwc_cpu_flag_name(bit) : "?");
    printf("\n");
    Sets si = find_sets(&k_intconv), sw = find_sets(&k_wpt), sc = find_sets(&k_wino), sg = gemm_sets();
    Sets sx = find_sets(&k_intwino);
    print_sets("intconv", &si, ", bit-exact");
    print_sets("intwino", &sx, ", bit-exact");
    print_sets("wpt", &sw, ", bit-exact");
    print_sets("winograd", &sc, ", bit-exact");
    print_sets("gemm", &sg, ", within a tolerance (not bit-exact by design)");
    fflush(stdout); /* before Check forks */
}

static Suite *checkasm_suite(void)
{
    Suite *s = suite_create("checkasm");
    TCase *t = tcase_create("checkasm");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_dispatch);
    tcase_add_test(t, test_env_mask);
    tcase_add_loop_test(t, test_selfcheck_kernels, 0, N_SIZES);
    tcase_add_test(t, test_selfcheck_compare);
    tcase_add_loop_test(t, test_intconv_gemm, 0, N_SIZES);
    tcase_add_loop_test(t, test_intconv_gemm_page_end, 0, N_SIZES);
    tcase_add_loop_test(t, test_intconv_requant_grid, 0, N_RQ_BIASES);
    tcase_add_loop_test(t, test_intconv_entries, 0, N_IC_SHAPES);
    tcase_add_loop_test(t, test_intconv_entries_random, 0, 40);
    tcase_add_loop_test(t, test_wpt_kernels, 0, N_SIZES);
    tcase_add_loop_test(t, test_wpt_entries, 0, N_WPT_SHAPES);
    tcase_add_loop_test(t, test_wpt_entries_random, 0, 8);
    tcase_add_loop_test(t, test_wino_kernels, 0, N_SIZES);
    tcase_add_loop_test(t, test_wino_entries, 0, N_WINO_CASES);
    tcase_add_loop_test(t, test_gemm_tolerance, 0, N_SIZES);
    tcase_add_loop_test(t, test_intwino_shapes, 0, N_IW_SHAPES);
    tcase_add_loop_test(t, test_intwino_random, 0, 24);
    tcase_add_loop_test(t, test_intwino_kernels, 0, N_SIZES);
    tcase_add_test(t, test_intwino_entry);
    tcase_add_test(t, test_intwino_eligible);
    suite_add_tcase(s, t);
    return s;
}

int main(int argc, char **argv)
{
    int bench = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--flags")) {
            printf("%x\n", lwc_cpu_flags());
            return 0;
        }
        if (!strcmp(argv[i], "--bench")) bench = 1;
        else {
            fprintf(stderr, "usage: test_checkasm [--bench | --flags]\n");
            return 2;
        }
    }
    print_flags();
    int ret = test_run_suite(checkasm_suite());
    if (ret == 0 && bench) run_bench();
    return ret;
}
