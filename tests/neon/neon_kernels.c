/* SIMD kernel sets vs the C reference, bit for bit, in a plain program (no
 * Check, no image libraries) so that it can be cross-compiled for AArch64
 * and run under qemu-user: tests/cli_neon.sh builds it with
 * transforms/wpt.c, transforms/wpt_enc.c, entropy/intconv.c,
 * entropy/intwino.c, common/alloc.c and common/cpu.c and nothing else.
 *
 * What it compares (the entry-point checks of tests/test_checkasm.c, on
 * more random shapes), selecting each set with lwc_cpu_set_flags_mask:
 *   wpt:     forward, inverse and both adjoints, with the kernels each
 *            selectable SIMD set gives vs the C reference (flags 0), memcmp
 *            of the whole output; guard floats behind the output and the
 *            work buffer must stay untouched.
 *   intconv: lwc_intconv_forward, _forward_range (random cuts),
 *            lwc_intconv_1x1_forward and _1x1_forward_range on 1x1 and 3x3
 *            layers, every parity, typical / extreme / all-min / all-max
 *            values (the pmaddwd-style overflow case included), vs the C
 *            reference; guards as above.
 *   intwino: lwc_intwino_forward_rows (the exact integer Winograd; its C
 *            set on AArch64) on 3x3 layers within its bound, inputs +-2047,
 *            rows in random ranges, vs the direct convolution of the
 *            default intconv set (NEON on AArch64).
 * It prints the kernel sets it compared. Built for AArch64 it fails unless
 * the NEON sets were selected (by default and by their mask bit), so a
 * build that silently fell back to C cannot pass.
 *     neon_kernels [random-shapes]     (default 200 per area)
 * Exit status 0: every output identical; 1: a mismatch or a set missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "entropy/intconv.h"
#include "entropy/intwino.h"
#include "transforms/wpt.h"

#define GUARD 64

static int g_fail;

#define CHECK(cond, ...)                                     \
    do {                                                     \
        if (!(cond)) {                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                    \
            fputc('\n', stderr);                             \
            g_fail = 1;                                      \
        }                                                    \
    } while (0)

/* ---- helpers -------------------------------------------------------------- */

/* xorshift64*, as tests/testutil.c. */
typedef struct { uint64_t s; } Rng;

static void rng_seed(Rng *r, uint64_t seed)
{
    r->s = seed * 2654435761u + 0x9E3779B97F4A7C15ull;
    if (!r->s) r->s = 1;
}

static uint64_t rng_u64(Rng *r)
{
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static double rng_uniform(Rng *r) { return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

static int32_t rng_range(Rng *r, int32_t lo, int32_t hi)
{
    return (int32_t)(lo + (int64_t)(rng_u64(r) % (uint64_t)((int64_t)hi - lo + 1)));
}

/* n elements of `size` bytes followed by GUARD guard elements, all 0xA5. */
static void *alloc_guarded(size_t n, size_t size)
{
    unsigned char *p = lwc_malloc_array(n + GUARD, size);
    if (!p) {
        fprintf(stderr, "neon_kernels: out of memory\n");
        exit(1);
    }
    memset(p, 0xA5, (n + GUARD) * size);
    return p;
}

static int guard_ok(const void *p, size_t n, size_t size)
{
    const unsigned char *g = (const unsigned char *)p + n * size;
    for (size_t i = 0; i < GUARD * size; i++)
        if (g[i] != 0xA5) return 0;
    return 1;
}

/* The kernel sets to compare: the first CPU flag mask giving each name
 * other than "c", from `masks`; the mask is restored afterwards. */
typedef struct KernelSets {
    int n;
    unsigned mask[4];
    const char *name[4];
} KernelSets;

static KernelSets find_sets(const char *(*get_name)(void), const unsigned *masks, int nmasks)
{
    KernelSets ks = { 0, { 0 }, { NULL } };
    unsigned old = lwc_cpu_set_flags_mask(~0u);
    for (int m = 0; m < nmasks; m++) {
        lwc_cpu_set_flags_mask(masks[m]);
        const char *name = get_name();
        int seen = !strcmp(name, "c");
        for (int k = 0; k < ks.n; k++) seen |= !strcmp(ks.name[k], name);
        if (!seen && ks.n < 4) {
            ks.mask[ks.n] = masks[m];
            ks.name[ks.n++] = name;
        }
    }
    lwc_cpu_set_flags_mask(old);
    return ks;
}

static int has_set(const KernelSets *ks, const char *name)
{
    for (int k = 0; k < ks->n; k++)
        if (!strcmp(ks->name[k], name)) return 1;
    return 0;
}

static void print_sets(const char *area, const KernelSets *ks, const char *dflt)
{
    printf("%s: default kernels \"%s\"; compared with \"c\":", area, dflt);
    for (int k = 0; k < ks->n; k++) printf(" \"%s\" (mask 0x%x)", ks->name[k], ks->mask[k]);
    printf("%s\n", ks->n ? "" : " none (no SIMD set on this target)");
}

/* ---- wavelet packet transform ---------------------------------------------- */

typedef void (*WptFn)(const float *in, int c, int h, int w, int levels, float *out, float *work);

static const WptFn k_wpt_fns[4] = { lwc_wpt_forward, lwc_wpt_inverse, lwc_wpt_forward_adjoint,
                                    lwc_wpt_inverse_adjoint };
static const char *const k_wpt_names[4] = { "forward", "inverse", "forward_adjoint", "inverse_adjoint" };

typedef struct { int levels, h, w; } WptShape;

/* tests/test_wpt.c g_simd: half-widths of 1..9 and around multiples of 4
 * and 8, rows longer than the 512-float column chunk. */
static const WptShape k_wpt_shapes[] = {
    { 1, 2, 2 }, { 1, 2, 4 }, { 1, 4, 2 }, { 2, 4, 4 }, { 3, 8, 8 }, { 4, 16, 16 },
    { 1, 8, 8 }, { 1, 6, 10 }, { 1, 10, 14 }, { 1, 8, 16 }, { 1, 4, 18 }, { 1, 2, 34 },
    { 2, 12, 36 }, { 2, 20, 68 }, { 3, 24, 72 }, { 3, 56, 200 }, { 4, 48, 80 },
    { 4, 16, 272 }, { 1, 6, 1040 }, { 2, 8, 1036 }, { 3, 16, 1064 }, { 1, 1034, 6 },
    { 2, 36, 516 }, { 0, 4, 6 }, { 5, 32, 96 },
};
#define N_WPT_SHAPES ((int)(sizeof(k_wpt_shapes) / sizeof(k_wpt_shapes[0])))

typedef struct Counts { long shapes, calls, values; } Counts;

/* Image-range values with exact zeros, tiny and subnormal ones. */
static void wpt_fill(Rng *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double u = rng_uniform(r);
        v[i] = u < 0.04 ? 0.0f : u < 0.06 ? (float)((u - 0.05) * 1e-36)
             : (float)((u - 0.5) * (u < 0.1 ? 1e-3 : 300.0));
    }
}

static void wpt_check(const KernelSets *ks, const WptShape *sh, int c, uint64_t seed, Counts *cnt)
{
    size_t n = (size_t)c * sh->h * sh->w, nwork = lwc_wpt_work_size(sh->h, sh->w);
    float *x = alloc_guarded(n, sizeof(float)), *ref = alloc_guarded(n, sizeof(float));
    float *got = alloc_guarded(n, sizeof(float)), *work = alloc_guarded(nwork, sizeof(float));
    Rng r;
    rng_seed(&r, seed);
    unsigned old = lwc_cpu_set_flags_mask(0);
    for (int f = 0; f < 4; f++) {
        wpt_fill(&r, x, n);
        lwc_cpu_set_flags_mask(0);
        k_wpt_fns[f](x, c, sh->h, sh->w, sh->levels, ref, work);
        for (int k = 0; k < ks->n; k++) {
            lwc_cpu_set_flags_mask(ks->mask[k]);
            memset(got, 0xA5, n * sizeof(float));
            k_wpt_fns[f](x, c, sh->h, sh->w, sh->levels, got, work);
            size_t i = 0;
            while (i < n && !memcmp(&got[i], &ref[i], sizeof(float))) i++;
            CHECK(i == n, "wpt %s kernels, %s c=%d J=%d %dx%d: out[%zu] = %a, C reference %a",
                  ks->name[k], k_wpt_names[f], c, sh->levels, sh->h, sh->w, i,
                  i < n ? got[i] : 0.0f, i < n ? ref[i] : 0.0f);
            CHECK(guard_ok(got, n, sizeof(float)) && guard_ok(work, nwork, sizeof(float)),
                  "wpt %s kernels, %s J=%d %dx%d: write past the output or work buffer",
                  ks->name[k], k_wpt_names[f], sh->levels, sh->h, sh->w);
            cnt->calls++;
            cnt->values += (long)n;
        }
    }
    lwc_cpu_set_flags_mask(old);
    cnt->shapes++;
    lwc_free(x); lwc_free(ref); lwc_free(got); lwc_free(work);
}

static Counts wpt_run(const KernelSets *ks, int nrandom)
{
    Counts cnt = { 0, 0, 0 };
    for (int s = 0; s < N_WPT_SHAPES; s++) wpt_check(ks, &k_wpt_shapes[s], 1 + s % 2, 600 + (uint64_t)s, &cnt);
    Rng r;
    rng_seed(&r, 700);
    for (int s = 0; s < nrandom; s++) {
        int levels = 1 + (int)(rng_u64(&r) % 4);
        /* mostly narrow; one in eight wider than the 512-float column chunk */
        int wmax = rng_u64(&r) % 8 ? 40 : 1200 >> levels;
        WptShape sh = { levels, (1 + (int)(rng_u64(&r) % 12)) << levels,
                        (1 + (int)(rng_u64(&r) % (uint64_t)wmax)) << levels };
        wpt_check(ks, &sh, 1 + (int)(rng_u64(&r) % 3), rng_u64(&r), &cnt);
    }
    return cnt;
}

/* ---- integer convolutions ---------------------------------------------------- */

enum { V_TYPICAL, V_EXTREME, V_ALL_MIN, V_ALL_MAX, V_COUNT };

static int32_t pick(Rng *r, const int32_t *set, int n) { return set[rng_u64(r) % (uint64_t)n]; }

static int16_t rnd_weight(Rng *r, int mode)
{
    static const int32_t ext[] = { -32768, -32767, 32767, -2047, 2047, 0, 1, -1 };
    if (mode == V_ALL_MIN) return -32768;
    if (mode == V_ALL_MAX) return 32767;
    if (mode == V_EXTREME) return (int16_t)(rng_u64(r) & 1 ? pick(r, ext, 8) : rng_range(r, -32768, 32767));
    return (int16_t)rng_range(r, -2047, 2047);
}

static int16_t rnd_input(Rng *r, int mode)
{
    static const int32_t ext[] = { -32768, -32767, 32767, 0 };
    if (mode == V_ALL_MIN) return -32768;
    if (mode == V_ALL_MAX) return 32767;
    if (mode == V_EXTREME) return (int16_t)(rng_u64(r) & 1 ? pick(r, ext, 4) : rng_range(r, -32768, 32767));
    return (int16_t)rng_range(r, -600, 600);
}

/* Requantisation of output o: typical, or int32 extremes and shifts 1..62. */
static void rnd_requant(Rng *r, int mode, int32_t *bias, int32_t *mult, uint8_t *shift)
{
    static const int32_t ext[] = { INT32_MIN, INT32_MAX, INT32_MIN + 1, -1, 1, 0 };
    if (mode == V_TYPICAL) {
        *bias = rng_range(r, -(1 << 20), 1 << 20);
        *mult = rng_range(r, 1, 1 << 16);
        *shift = (uint8_t)rng_range(r, 8, 30);
        return;
    }
    *bias = rng_u64(r) & 1 ? pick(r, ext, 6) : (int32_t)rng_u64(r);
    *mult = rng_u64(r) & 1 ? pick(r, ext, 6) : (int32_t)rng_u64(r);
    int32_t s = rng_range(r, 0, 3);
    *shift = (uint8_t)(s == 0 ? 1 : s == 1 ? 62 : rng_range(r, 1, 62));
}

typedef struct IcShape { int cin, cout, k, h, w, parity; } IcShape;

/* tests/test_intconv.c g_shapes: the shipped layers on small maps, odd and
 * degenerate ones, several position chunks. */
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

typedef struct Layer {
    LwcIntConv l;
    int16_t *x;  /* [cin][h][w] */
    int16_t *xg; /* [cin][npos]: the selected positions, for the 1x1 entries */
} Layer;

static Layer layer_make(Rng *r, const IcShape *s, int mode)
{
    size_t nw = (size_t)s->cout * s->cin * s->k * s->k, nx = (size_t)s->cin * s->h * s->w;
    int npos = lwc_int_npos(s->h, s->w, s->parity);
    Layer L;
    int16_t *w = alloc_guarded(nw, sizeof(int16_t));
    int32_t *bias = alloc_guarded((size_t)s->cout, sizeof(int32_t));
    int32_t *mult = alloc_guarded((size_t)s->cout, sizeof(int32_t));
    uint8_t *shift = alloc_guarded((size_t)s->cout, 1);
    for (size_t i = 0; i < nw; i++) w[i] = rnd_weight(r, mode);
    for (int o = 0; o < s->cout; o++) rnd_requant(r, mode, &bias[o], &mult[o], &shift[o]);
    int32_t lo = -32768, hi = 32767;
    if (rng_u64(r) % 3 == 0) { /* a narrower clamp, as the trained layers use */
        lo = rng_range(r, -32768, 0);
        hi = rng_range(r, lo, 32767);
    }
    L.l = (LwcIntConv){ .cin = s->cin, .cout = s->cout, .k = s->k, .w = w, .bias = bias,
                        .mult = mult, .shift = shift, .lo = lo, .hi = hi };
    L.x = alloc_guarded(nx, sizeof(int16_t));
    for (size_t i = 0; i < nx; i++) L.x[i] = rnd_input(r, mode);
    L.xg = alloc_guarded((size_t)s->cin * npos, sizeof(int16_t));
    for (int ci = 0, q = 0; ci < s->cin; ci++)
        for (int i = 0; i < s->h; i++)
            for (int j = 0; j < s->w; j++)
                if (s->parity == LWC_INT_ALL || ((i + j) & 1) == s->parity)
                    L.xg[q++] = L.x[((size_t)ci * s->h + i) * s->w + j];
    return L;
}

/* The madd overflow case: every weight and input -32768, bias 0, mult 1. */
static void layer_all_min(Layer *L)
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
}

static void layer_free(Layer *L)
{
    lwc_free(L->l.w); lwc_free(L->l.bias); lwc_free(L->l.mult); lwc_free(L->l.shift);
    lwc_free(L->x); lwc_free(L->xg);
}

static const char *const k_ic_entries[4] = { "forward", "forward_range", "1x1_forward", "1x1_forward_range" };

/* One entry point into y; ranges split [0, npos) at 3 random cuts. */
static void ic_call(const Layer *L, const IcShape *s, int entry, const int *cut, int16_t *y, int32_t *work)
{
    int npos = lwc_int_npos(s->h, s->w, s->parity);
    if (entry == 0) lwc_intconv_forward(&L->l, L->x, s->h, s->w, s->parity, y, work);
    if (entry == 2) lwc_intconv_1x1_forward(&L->l, L->xg, npos, y, work);
    for (int part = 0; part < 4 && (entry & 1); part++) {
        if (entry == 1) lwc_intconv_forward_range(&L->l, L->x, s->h, s->w, s->parity, cut[part], cut[part + 1], y, work);
        else lwc_intconv_1x1_forward_range(&L->l, L->xg, npos, cut[part], cut[part + 1], y, work);
    }
}

static void ic_check_layer(const KernelSets *ks, const Layer *L, const IcShape *s, Rng *r, const char *tag,
                           Counts *cnt)
{
    int npos = lwc_int_npos(s->h, s->w, s->parity);
    size_t ny = (size_t)s->cout * npos, nwork = lwc_intconv_work_size(&L->l, s->h, s->w);
    int16_t *ref = alloc_guarded(ny, sizeof(int16_t)), *got = alloc_guarded(ny, sizeof(int16_t));
    int32_t *work = alloc_guarded(nwork, sizeof(int32_t));
    int cut[5] = { 0, rng_range(r, 0, npos), rng_range(r, 0, npos), rng_range(r, 0, npos), npos };
    for (int i = 1; i < 4; i++) /* sort the three cuts */
        for (int j = i; j > 1 && cut[j] < cut[j - 1]; j--) {
            int t = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = t;
        }
    unsigned old = lwc_cpu_set_flags_mask(0);
    CHECK(!strcmp(lwc_intconv_kernel_name(), "c"), "intconv: flags 0 do not give the C reference");
    lwc_intconv_forward(&L->l, L->x, s->h, s->w, s->parity, ref, work);
    for (int k = 0; k < ks->n; k++) {
        lwc_cpu_set_flags_mask(ks->mask[k]);
        for (int entry = 0; entry < (s->k == 1 ? 4 : 2); entry++) {
            memset(got, 0x77, ny * sizeof(int16_t));
            ic_call(L, s, entry, cut, got, work);
            size_t i = 0;
            while (i < ny && got[i] == ref[i]) i++;
            CHECK(i == ny, "intconv %s kernels, %s, %s: cin %d cout %d k %d %dx%d parity %d: "
                  "out[%zu] (o %zu p %zu) = %d, C reference %d", ks->name[k], k_ic_entries[entry], tag,
                  s->cin, s->cout, s->k, s->h, s->w, s->parity, i, i / (size_t)(npos ? npos : 1),
                  i % (size_t)(npos ? npos : 1), i < ny ? got[i] : 0, i < ny ? ref[i] : 0);
            CHECK(guard_ok(got, ny, sizeof(int16_t)) && guard_ok(work, nwork, sizeof(int32_t)),
                  "intconv %s kernels, %s, %s: write past the output or work buffer", ks->name[k],
                  k_ic_entries[entry], tag);
            cnt->calls++;
            cnt->values += (long)ny;
        }
    }
    lwc_cpu_set_flags_mask(old);
    lwc_free(ref); lwc_free(got); lwc_free(work);
}

static const char *const k_vnames[V_COUNT] = { "typical", "extreme", "all-min", "all-max" };

static void ic_check_shape(const KernelSets *ks, const IcShape *s, uint64_t seed, Counts *cnt)
{
    for (int mode = 0; mode < V_COUNT; mode++) {
        Rng r;
        rng_seed(&r, seed * 16 + (uint64_t)mode);
        Layer L = layer_make(&r, s, mode);
        ic_check_layer(ks, &L, s, &r, k_vnames[mode], cnt);
        if (mode == V_ALL_MIN) {
            layer_all_min(&L);
            ic_check_layer(ks, &L, s, &r, "madd-overflow", cnt);
        }
        layer_free(&L);
    }
    cnt->shapes++;
}

static Counts ic_run(const KernelSets *ks, int nrandom)
{
    Counts cnt = { 0, 0, 0 };
    for (int s = 0; s < N_IC_SHAPES; s++) ic_check_shape(ks, &k_ic_shapes[s], 100 + (uint64_t)s, &cnt);
    Rng r;
    rng_seed(&r, 7000);
    for (int s = 0; s < nrandom; s++) {
        IcShape sh;
        sh.k = rng_u64(&r) & 1 ? 3 : 1;
        sh.cin = rng_range(&r, 1, sh.k == 3 ? 24 : 70);
        sh.cout = rng_range(&r, 1, 13);
        sh.h = rng_range(&r, 1, 21);
        sh.w = rng_range(&r, 1, 21);
        sh.parity = rng_range(&r, -1, 1);
        if (lwc_int_npos(sh.h, sh.w, sh.parity) == 0) sh.parity = LWC_INT_ALL;
        ic_check_shape(ks, &sh, 9000 + (uint64_t)s, &cnt);
    }
    return cnt;
}

/* ---- exact integer Winograd (entropy/intwino.c; the C set on AArch64) ------ */

/* A 3x3 layer of shape s within the Winograd bound for inputs in +-2047
 * (weights zeroed from a channel's end past it), inputs +-2047 (uniform or
 * extreme): lwc_intwino_forward_rows over rows cut at random (odd rows
 * too) equals the direct convolution of the selected intconv set. */
static void iw_check_shape(const IcShape *s, uint64_t seed, int extreme, Counts *cnt)
{
    Rng r;
    rng_seed(&r, seed);
    int kk = 9 * s->cin, h = s->h, w = s->w;
    size_t nw = (size_t)s->cout * kk, nx = (size_t)s->cin * h * w, ny = (size_t)s->cout * h * w;
    int16_t *wt = alloc_guarded(nw, sizeof(int16_t)), *x = alloc_guarded(nx, sizeof(int16_t));
    int32_t *bias = alloc_guarded((size_t)s->cout, sizeof(int32_t)), *mult = alloc_guarded((size_t)s->cout, sizeof(int32_t));
    uint8_t *shift = alloc_guarded((size_t)s->cout, 1);
    for (int o = 0; o < s->cout; o++) {
        int64_t sum = 0;
        for (int i = 0; i < kk; i++) {
            int v = extreme ? (rng_u64(&r) & 1 ? 2047 : -2047) : rng_range(&r, -400, 400);
            if ((sum + abs(v)) * 2047 >= LWC_INTWINO_ACC_BOUND) v = 0;
            wt[(size_t)o * kk + i] = (int16_t)v;
            sum += abs(v);
        }
        int32_t slack = (int32_t)(LWC_INTWINO_ACC_BOUND - 1 - sum * 2047);
        bias[o] = extreme ? (rng_u64(&r) & 1 ? slack : -slack) : rng_range(&r, -100000, 100000);
        mult[o] = rng_u64(&r) & 1 ? 1 : rng_range(&r, 1, 1 << 20);
        shift[o] = (uint8_t)(mult[o] == 1 ? rng_range(&r, 1, 4) : rng_range(&r, 16, 40));
    }
    for (size_t i = 0; i < nx; i++) x[i] = (int16_t)(extreme ? (rng_u64(&r) & 1 ? 2047 : -2047) : rng_range(&r, -2047, 2047));
    LwcIntConv l = { .cin = s->cin, .cout = s->cout, .k = 3, .w = wt, .bias = bias, .mult = mult,
                     .shift = shift, .lo = -32768, .hi = 32767 };
    CHECK(lwc_intwino_eligible(&l, 2047), "intwino: cin %d cout %d: layer not eligible", s->cin, s->cout);
    l.wu = alloc_guarded(lwc_intwino_weight_count(&l), sizeof(int16_t));
    lwc_intwino_weights(&l, l.wu);
    size_t nwork = lwc_intconv_work_size(&l, h, w), nwork2 = lwc_intwino_work_size(&l, h, w);
    int16_t *ref = alloc_guarded(ny, sizeof(int16_t)), *got = alloc_guarded(ny, sizeof(int16_t));
    int32_t *work = alloc_guarded(nwork, sizeof(int32_t)), *work2 = alloc_guarded(nwork2, sizeof(int32_t));
    memset(ref, 0x55, ny * sizeof(int16_t));
    memset(got, 0x55, ny * sizeof(int16_t));
    lwc_intconv_forward(&l, x, h, w, LWC_INT_ALL, ref, work);
    int cut[4] = { 0, rng_range(&r, 0, h), rng_range(&r, 0, h), h };
    if (cut[1] > cut[2]) { int t = cut[1]; cut[1] = cut[2]; cut[2] = t; }
    for (int part = 0; part < 3; part++) lwc_intwino_forward_rows(&l, x, h, w, cut[part], cut[part + 1], got, work2);
    size_t i = 0;
    while (i < ny && got[i] == ref[i]) i++;
    CHECK(i == ny, "intwino (%s) vs intconv %s: cin %d cout %d %dx%d cuts %d %d, %s: out[%zu] = %d, direct %d",
          lwc_intwino_dsp(lwc_cpu_flags())->name, lwc_intconv_kernel_name(), s->cin, s->cout, h, w, cut[1], cut[2],
          extreme ? "extreme" : "typical", i, i < ny ? got[i] : 0, i < ny ? ref[i] : 0);
    CHECK(guard_ok(got, ny, sizeof(int16_t)) && guard_ok(work2, nwork2, sizeof(int32_t)),
          "intwino: write past the output or work buffer");
    cnt->calls += 3;
    cnt->values += (long)ny;
    cnt->shapes++;
    lwc_free(wt); lwc_free(x); lwc_free(bias); lwc_free(mult); lwc_free(shift); lwc_free(l.wu);
    lwc_free(ref); lwc_free(got); lwc_free(work); lwc_free(work2);
}

static Counts iw_run(int nrandom)
{
    Counts cnt = { 0, 0, 0 };
    for (int s = 0; s < N_IC_SHAPES; s++)
        if (k_ic_shapes[s].k == 3)
            for (int e = 0; e < 2; e++) iw_check_shape(&k_ic_shapes[s], 500 + 2 * (uint64_t)s + e, e, &cnt);
    Rng r;
    rng_seed(&r, 7500);
    for (int s = 0; s < nrandom; s++) {
        IcShape sh = { rng_range(&r, 1, 40), rng_range(&r, 1, 21), 3, rng_range(&r, 1, 23), rng_range(&r, 1, 23),
                       LWC_INT_ALL };
        iw_check_shape(&sh, 9500 + (uint64_t)s, s & 1, &cnt);
    }
    return cnt;
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int nrandom = argc > 1 ? atoi(argv[1]) : 200;
    if (nrandom < 0 || nrandom > 100000) {
        fprintf(stderr, "usage: neon_kernels [random-shapes 0..100000]\n");
        return 2;
    }
    static const unsigned masks[] = { LWC_CPU_LEVEL_SSE2, LWC_CPU_LEVEL_AVX2, LWC_CPU_NEON, ~0u };
    KernelSets kw = find_sets(lwc_wpt_kernel_name, masks, 4);
    KernelSets ki = find_sets(lwc_intconv_kernel_name, masks, 4);
    printf("cpu flags 0x%x\n", lwc_cpu_flags());
    const char *wdef = lwc_wpt_kernel_name(), *idef = lwc_intconv_kernel_name();
    print_sets("wpt", &kw, wdef);
    print_sets("intconv", &ki, idef);
#if defined(__aarch64__)
    CHECK(!strcmp(wdef, "neon") && has_set(&kw, "neon"), "wpt: the NEON kernels are not selected on AArch64");
    CHECK(!strcmp(idef, "neon") && has_set(&ki, "neon"), "intconv: the NEON kernels are not selected on AArch64");
    if (g_fail) return 1;
#else
    (void)has_set;
#endif
    Counts cw = wpt_run(&kw, nrandom);
    printf("wpt: %ld shapes (%d fixed + %d random), 4 transforms each: %ld calls, %ld floats compared\n",
           cw.shapes, N_WPT_SHAPES, nrandom, cw.calls, cw.values);
    Counts ci = ic_run(&ki, nrandom);
    printf("intconv: %ld shapes (%d fixed + %d random) x 4 value sets + madd-overflow, entry points "
           "forward, forward_range, 1x1_forward, 1x1_forward_range (1x1 only): %ld calls, %ld outputs compared\n",
           ci.shapes, N_IC_SHAPES, nrandom, ci.calls, ci.values);
    Counts cx = iw_run(nrandom);
    printf("intwino (%s): %ld 3x3 layers (typical and extreme, inputs +-2047), rows in 3 random ranges: "
           "%ld calls, %ld outputs compared with the direct convolution\n",
           lwc_intwino_dsp(lwc_cpu_flags())->name, cx.shapes, cx.calls, cx.values);
    printf("%s\n", g_fail ? "FAILED: outputs differ from the C reference (see above)"
                          : "ok: every output bit-identical to the C reference");
    return g_fail ? 1 : 0;
}
