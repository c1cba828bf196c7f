/* Integer convolution layers of the entropy-parameter path (see intconv.h).
 *
 * How a layer runs: the k x k neighbourhoods of the selected positions are
 * gathered ("im2col") into int16 rows r = (ci*k + ky)*k + kx, stored two rows
 * per 32-bit word ("pair layout": word xp[(r/2)*n + p] holds row r in its
 * low half and row r+1 in its high half; a missing last row is zero). One
 * pmaddwd then multiplies two weights with two inputs and adds them, and the
 * GEMM with the requantisation fused behind it is a kernel in a table of
 * function pointers (dav1d habit): the C reference first, overridden by SSE2,
 * SSE4.1, AVX2 and AVX-512 VNNI versions as the CPU flags allow
 * (common/cpu.h; the x86 kernels use target attributes, so no -mavx2 is
 * needed), or on AArch64 by NEON (part of the base ISA, so always);
 * lwc_intconv_force_reference(1) keeps the C entries.
 *
 * Why the SIMD sums are bit-exact: the reference accumulates in Z/2^32
 * (uint32 wrap), a ring, so any order or grouping of the additions gives the
 * same result. Every int16 x int16 product is exact in int32 (|p| <= 2^30);
 * pmaddwd adds two of them in 32 bits, which leaves the int32 range only for
 * (-32768)(-32768) + (-32768)(-32768) = 2^31, returned as 0x80000000: the
 * same residue mod 2^32. paddd then wraps exactly like the reference, and so
 * does VPDPWSSD (AVX-512 VNNI), which fuses the two. NEON
 * has no pmaddwd: SMLAL multiplies lane by lane into int32 (exact) and adds
 * with wrap-around, and a pairwise add folds the two halves of each word at
 * the end, again sums mod 2^32.
 *
 * Positions are processed in chunks (CHUNK_BYTES of pair rows) so that what
 * the gather writes is still in L2 when the GEMM reads it.
 *
 * The work buffer (lwc_intconv_work_size) holds one chunk and scratch, so it
 * no longer grows with the image: ~64 KiB per layer instead of
 * 4*(cin*k*k+1)*h*w bytes (14 MiB for hs1 on a Kodak image). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "entropy/intconv.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LWC_INTCONV_X86 1
#include <immintrin.h>
#else
#define LWC_INTCONV_X86 0
#endif
/* The NEON kernel reads each pair word as two int16 lanes, low half first:
 * little-endian AArch64 only (Advanced SIMD is in its base ISA). */
#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LWC_INTCONV_NEON 1
#include <arm_neon.h>
#else
#define LWC_INTCONV_NEON 0
#endif

/* Atomic: a benchmark or test may flip it while other threads run layers. */
static atomic_int g_force_ref;

void lwc_intconv_force_reference(int on) { atomic_store_explicit(&g_force_ref, on, memory_order_relaxed); }

int lwc_int_npos(int h, int w, int parity)
{
    if (parity == LWC_INT_ALL) return h * w;
    int n = 0;
    for (int i = 0; i < h; i++) n += (w + (((i & 1) ^ parity) ? 0 : 1)) / 2;
    return n;
}

static inline int64_t round_shift(int64_t v, int s)
{
    int64_t half = (int64_t)1 << (s - 1);
    /* floor((v + half) / 2^s) without shifting a negative number. */
    int64_t t = v + half;
    if (t >= 0) return t >> s;
    return -(((-t) + ((int64_t)1 << s) - 1) >> s);
}

int64_t lwc_round_shift(int64_t v, int s) { return round_shift(v, s); }

int64_t lwc_intconv_max_acc(const LwcIntConv *l, int act)
{
    int K = l->cin * l->k * l->k;
    int64_t worst = 0;
    for (int o = 0; o < l->cout; o++) {
        int64_t sum = 0, b = l->bias[o];
        for (int i = 0; i < K; i++) sum += abs(l->w[(size_t)o * K + i]);
        worst = LWC_MAX(worst, sum * act + (b < 0 ? -b : b));
    }
    return worst;
}

/* ---- C reference GEMM ----------------------------------------------------- */

static inline int16_t requant(uint32_t acc, int32_t mult, int shift, int32_t lo, int32_t hi)
{
    int64_t v = round_shift((int64_t)(int32_t)acc * mult, shift);
    return (int16_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Weight pair (w[i], w[i+1]) as the 32-bit word the pair layout multiplies
 * with; w[kk] does not exist (zero). */
static inline uint32_t weight_pair(const int16_t *w, int i, int kk)
{
    uint32_t hi = i + 1 < kk ? (uint16_t)w[i + 1] : 0;
    return (uint16_t)w[i] | hi << 16;
}

/* a.lo*b.lo + a.hi*b.hi of two int16 pairs, mod 2^32. */
static inline uint32_t madd_pair(uint32_t a, uint32_t b)
{
    return (uint32_t)(int32_t)(int16_t)a * (uint32_t)(int32_t)(int16_t)b +
           (uint32_t)(int32_t)(int16_t)(a >> 16) * (uint32_t)(int32_t)(int16_t)(b >> 16);
}

#if LWC_INTCONV_X86 || LWC_INTCONV_NEON
#define OB 4 /* output channels per tile of the SIMD kernels */

/* Positions [p0, p1) one at a time (the tails of the SIMD kernels). */
static void gemm_range_c(const LwcIntConv *l, const uint32_t *xp, int n, int p0, int p1, int16_t *y,
                         size_t ys)
{
    int kk = l->cin * l->k * l->k, np = (kk + 1) / 2;
    for (int o = 0; o < l->cout; o++) {
        const int16_t *wo = l->w + (size_t)o * kk;
        for (int p = p0; p < p1; p++) {
            uint32_t acc = (uint32_t)l->bias[o];
            for (int ip = 0; ip < np; ip++) acc += madd_pair(weight_pair(wo, 2 * ip, kk), xp[(size_t)ip * n + p]);
            y[o * ys + p] = requant(acc, l->mult[o], l->shift[o], l->lo, l->hi);
        }
    }
}

static inline int32_t load_pair(const int16_t *w)
{
    int32_t v;
    memcpy(&v, w, sizeof(v)); /* unaligned 32-bit load of (w[0], w[1]) */
    return v;
}
#endif

/* The reference: acc[p] over all positions, one pair row at a time. */
static void gemm_c(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys, uint32_t *acc)
{
    int kk = l->cin * l->k * l->k, np = (kk + 1) / 2;
    for (int o = 0; o < l->cout; o++) {
        const int16_t *wo = l->w + (size_t)o * kk;
        for (int p = 0; p < n; p++) acc[p] = (uint32_t)l->bias[o];
        for (int ip = 0; ip < np; ip++) {
            uint32_t wp = weight_pair(wo, 2 * ip, kk);
            if (!wp) continue;
            const uint32_t *x = xp + (size_t)ip * n;
            for (int p = 0; p < n; p++) acc[p] += madd_pair(wp, x[p]);
        }
        int16_t *yo = y + o * ys;
        for (int p = 0; p < n; p++) yo[p] = requant(acc[p], l->mult[o], l->shift[o], l->lo, l->hi);
    }
}

static const LwcIntConvDsp k_dsp_c = { "c", gemm_c };

#if LWC_INTCONV_X86
/* ---- x86 kernels ----------------------------------------------------------
 * Blocking: a tile of OB output channels x NV vectors of positions; the tile
 * walks the pair rows (one cache line of xp per row for 16 positions), so
 * position tiles are the outer loop and the tile's column of xp stays in L1
 * while all output blocks reuse it. Positions left over after the last full
 * vector go through gemm_range_c. */

/* --- AVX2: 8 positions per vector, requantisation in 64-bit lanes --- */
#include "entropy/intconv_x86.h"

AVX2_INLINE RqAvx2 rq_avx2(const LwcIntConv *l, int o)
{
    RqAvx2 q;
    q.mult = _mm256_set1_epi32(l->mult[o]);
    q.half = _mm256_set1_epi64x((int64_t)1 << (l->shift[o] - 1));
    q.lo = _mm256_set1_epi64x(l->lo);
    q.hi = _mm256_set1_epi64x(l->hi);
    q.cnt = _mm_cvtsi32_si128(l->shift[o]);
    return q;
}

AVX2_INLINE __m256i bcast_avx2(const int16_t *w, int ip, int npair)
{
    /* (w[2ip], w[2ip+1]), or (w[2ip], 0) for the odd last row */
    return _mm256_set1_epi32(ip < npair ? load_pair(w + 2 * ip) : (uint16_t)w[2 * ip]);
}

AVX2_INLINE void store_rq_avx2(const LwcIntConv *l, int o, __m256i acc, int16_t *y)
{
    RqAvx2 q = rq_avx2(l, o);
    _mm_storeu_si128((__m128i *)y, rq8_avx2(acc, &q));
}

/* Outputs o..o+3 at positions p..p+8*nv-1 (nv = 1 or 2): 4*nv accumulators
 * in named registers (an array makes GCC spill them). */
AVX2_INLINE void tile4_avx2(const LwcIntConv *l, const uint32_t *xp, int n, int o, int p, int nv,
                            int16_t *y, size_t ys)
{
    int kk = l->cin * l->k * l->k, npair = kk / 2, nrow = (kk + 1) / 2;
    const int16_t *w0 = l->w + (size_t)o * kk, *w1 = w0 + kk, *w2 = w1 + kk, *w3 = w2 + kk;
    __m256i a00 = _mm256_set1_epi32(l->bias[o]), a01 = a00;
    __m256i a10 = _mm256_set1_epi32(l->bias[o + 1]), a11 = a10;
    __m256i a20 = _mm256_set1_epi32(l->bias[o + 2]), a21 = a20;
    __m256i a30 = _mm256_set1_epi32(l->bias[o + 3]), a31 = a30;
    const uint32_t *x = xp + p;
    for (int ip = 0; ip < nrow; ip++, x += n) {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)x);
        __m256i x1 = nv > 1 ? _mm256_loadu_si256((const __m256i *)(x + 8)) : x0;
        __m256i b = bcast_avx2(w0, ip, npair);
        MADD256(a00, x0, b);
        if (nv > 1) MADD256(a01, x1, b);
        b = bcast_avx2(w1, ip, npair);
        MADD256(a10, x0, b);
        if (nv > 1) MADD256(a11, x1, b);
        b = bcast_avx2(w2, ip, npair);
        MADD256(a20, x0, b);
        if (nv > 1) MADD256(a21, x1, b);
        b = bcast_avx2(w3, ip, npair);
        MADD256(a30, x0, b);
        if (nv > 1) MADD256(a31, x1, b);
    }
    int16_t *yo = y + o * ys + p;
    store_rq_avx2(l, o, a00, yo);
    store_rq_avx2(l, o + 1, a10, yo + ys);
    store_rq_avx2(l, o + 2, a20, yo + 2 * ys);
    store_rq_avx2(l, o + 3, a30, yo + 3 * ys);
    if (nv > 1) {
        store_rq_avx2(l, o, a01, yo + 8);
        store_rq_avx2(l, o + 1, a11, yo + ys + 8);
        store_rq_avx2(l, o + 2, a21, yo + 2 * ys + 8);
        store_rq_avx2(l, o + 3, a31, yo + 3 * ys + 8);
    }
}

/* One output channel (the cout % 4 left over), nv = 1 or 2. */
AVX2_INLINE void tile1_avx2(const LwcIntConv *l, const uint32_t *xp, int n, int o, int p, int nv,
                            int16_t *y, size_t ys)
{
    int kk = l->cin * l->k * l->k, npair = kk / 2, nrow = (kk + 1) / 2;
    const int16_t *w0 = l->w + (size_t)o * kk;
    __m256i a0 = _mm256_set1_epi32(l->bias[o]), a1 = a0;
    const uint32_t *x = xp + p;
    for (int ip = 0; ip < nrow; ip++, x += n) {
        __m256i b = bcast_avx2(w0, ip, npair);
        MADD256(a0, _mm256_loadu_si256((const __m256i *)x), b);
        if (nv > 1) MADD256(a1, _mm256_loadu_si256((const __m256i *)(x + 8)), b);
    }
    int16_t *yo = y + o * ys + p;
    store_rq_avx2(l, o, a0, yo);
    if (nv > 1) store_rq_avx2(l, o, a1, yo + 8);
}

AVX2_FN static void gemm_avx2(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys,
                              uint32_t *scratch)
{
    int o_full = l->cout / OB * OB, p = 0;
    for (; p + 16 <= n; p += 16) {
        for (int o = 0; o < o_full; o += OB) tile4_avx2(l, xp, n, o, p, 2, y, ys);
        for (int o = o_full; o < l->cout; o++) tile1_avx2(l, xp, n, o, p, 2, y, ys);
    }
    if (p + 8 <= n) {
        for (int o = 0; o < o_full; o += OB) tile4_avx2(l, xp, n, o, p, 1, y, ys);
        for (int o = o_full; o < l->cout; o++) tile1_avx2(l, xp, n, o, p, 1, y, ys);
        p += 8;
    }
    if (p < n) gemm_range_c(l, xp, n, p, n, y, ys);
}

static const LwcIntConvDsp k_dsp_avx2 = { "avx2", gemm_avx2 };

/* --- AVX-512 VNNI: 16 positions per vector, VPDPWSSD ---
 * VPDPWSSD does pmaddwd and the add in one instruction: each int32 lane
 * gets lo*lo + hi*hi of its two int16 pairs added, all in 32 bits with
 * wrap-around (the non-saturating form; VPDPWSSDS would saturate and break
 * the sums mod 2^32), so it gives the reference's residues like pmaddwd +
 * paddd. Tiles of 4 outputs x up to 4 vectors (64 positions) in 16 named
 * zmm accumulators; no C tail: the last vector of a range is masked (masked
 * loads do not touch the masked-off words, masked stores do not write them).
 * Requantisation in 64-bit lanes: VPMULDQ is exact, VPSRAQ (the arithmetic
 * shift AVX2 lacks) is the floor of round_shift, the clamp tests v < lo
 * after v > hi as requant() does, and VPMOVDW narrows by truncation as the
 * conversion to int16_t does. */
#define AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512vnni"
#define AVX512_FN __attribute__((target(AVX512_TARGET)))
#define AVX512_INLINE static inline __attribute__((target(AVX512_TARGET), always_inline))

/* 16 int32 accumulators of output o -> int16 at y[0..15] where `m` is set. */
AVX512_INLINE void store_rq_avx512(const LwcIntConv *l, int o, __m512i acc, __mmask16 m, int16_t *y)
{
    __m512i mult = _mm512_set1_epi32(l->mult[o]);
    __m512i half = _mm512_set1_epi64((int64_t)1 << (l->shift[o] - 1));
    __m512i lo = _mm512_set1_epi64(l->lo), hi = _mm512_set1_epi64(l->hi);
    __m128i cnt = _mm_cvtsi32_si128(l->shift[o]);
    /* even positions in the 64-bit lanes' low halves, odd ones shifted down */
    __m512i ev = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(acc, mult), half), cnt);
    __m512i od = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), mult), half), cnt);
    __m512i e = _mm512_mask_mov_epi64(_mm512_min_epi64(ev, hi), _mm512_cmplt_epi64_mask(ev, lo), lo);
    __m512i d = _mm512_mask_mov_epi64(_mm512_min_epi64(od, hi), _mm512_cmplt_epi64_mask(od, lo), lo);
    __m512i r = _mm512_mask_blend_epi32(0xAAAA, e, _mm512_slli_epi64(d, 32));
    _mm512_mask_cvtepi32_storeu_epi16(y, m, r);
}

/* The broadcast weight pair ip of row w: (w[2ip], w[2ip+1]), and the odd
 * last row of a layer with kk odd: (w[2ip], 0). */
#define PAIR512(w, ip) _mm512_set1_epi32(load_pair((w) + 2 * (ip)))
#define LAST512(w, ip) _mm512_set1_epi32((uint16_t)(w)[2 * (ip)])

/* GCC 12 adds zmm register copies around the VPDPWSSDs of the 4-vector
 * loop below (it does not keep each accumulator in the instruction's tied
 * destination register; clang does): 1.25x slower on the n 1024 row of test_checkasm --bench, no
 * difference at the chunk sizes the layers use (48-336 positions). */
#define DP512(acc, x, wv) acc = _mm512_dpwssd_epi32(acc, x, wv)

/* Vector j (0..3) of the pair row at x, the last of the nv masked by m. */
#define LOADX512(j) _mm512_maskz_loadu_epi32((j) + 1 < nv ? (__mmask16)0xFFFF : m, x + 16 * (j))

/* One pair row of tile4_avx512 (BC = PAIR512 or LAST512). */
#define STEP4_512(BC)                                                          \
    do {                                                                       \
        __m512i b0 = BC(w0, ip), b1 = BC(w1, ip), b2 = BC(w2, ip), b3 = BC(w3, ip); \
        __m512i xv = LOADX512(0);                                              \
        DP512(a00, xv, b0); DP512(a10, xv, b1); DP512(a20, xv, b2); DP512(a30, xv, b3); \
        if (nv > 1) {                                                          \
            xv = LOADX512(1);                                                  \
            DP512(a01, xv, b0); DP512(a11, xv, b1); DP512(a21, xv, b2); DP512(a31, xv, b3); \
        }                                                                      \
        if (nv > 2) {                                                          \
            xv = LOADX512(2);                                                  \
            DP512(a02, xv, b0); DP512(a12, xv, b1); DP512(a22, xv, b2); DP512(a32, xv, b3); \
        }                                                                      \
        if (nv > 3) {                                                          \
            xv = LOADX512(3);                                                  \
            DP512(a03, xv, b0); DP512(a13, xv, b1); DP512(a23, xv, b2); DP512(a33, xv, b3); \
        }                                                                      \
    } while (0)

/* Requantise and store output o's accumulators a_0..a_(nv-1). */
#define STORE512(o, a0, a1, a2, a3)                                            \
    do {                                                                       \
        int16_t *yr = y + (o) * ys + p;                                        \
        store_rq_avx512(l, o, a0, nv > 1 ? (__mmask16)0xFFFF : m, yr);         \
        if (nv > 1) store_rq_avx512(l, o, a1, nv > 2 ? (__mmask16)0xFFFF : m, yr + 16); \
        if (nv > 2) store_rq_avx512(l, o, a2, nv > 3 ? (__mmask16)0xFFFF : m, yr + 32); \
        if (nv > 3) store_rq_avx512(l, o, a3, m, yr + 48);                     \
    } while (0)

/* Outputs o..o+3 at positions p..p+16*nv-1 (nv = 1..4, a constant after
 * inlining); m masks the positions of the last vector. The odd last row (kk
 * odd) comes first, so the loop over the full pairs broadcasts plain 32-bit
 * loads, with no test per row, and ends at the stores. */
AVX512_INLINE void tile4_avx512(const LwcIntConv *l, const uint32_t *xp, int n, int o, int p, int nv,
                                __mmask16 m, int16_t *y, size_t ys)
{
    int kk = l->cin * l->k * l->k, npair = kk / 2;
    const int16_t *w0 = l->w + (size_t)o * kk, *w1 = w0 + kk, *w2 = w1 + kk, *w3 = w2 + kk;
    __m512i a00 = _mm512_set1_epi32(l->bias[o]), a01 = a00, a02 = a00, a03 = a00;
    __m512i a10 = _mm512_set1_epi32(l->bias[o + 1]), a11 = a10, a12 = a10, a13 = a10;
    __m512i a20 = _mm512_set1_epi32(l->bias[o + 2]), a21 = a20, a22 = a20, a23 = a20;
    __m512i a30 = _mm512_set1_epi32(l->bias[o + 3]), a31 = a30, a32 = a30, a33 = a30;
    int ip = npair;
    const uint32_t *x = xp + p + (size_t)npair * n;
    if (kk & 1) STEP4_512(LAST512);
    for (ip = 0, x = xp + p; ip < npair; ip++, x += n) STEP4_512(PAIR512);
    STORE512(o, a00, a01, a02, a03);
    STORE512(o + 1, a10, a11, a12, a13);
    STORE512(o + 2, a20, a21, a22, a23);
    STORE512(o + 3, a30, a31, a32, a33);
}

/* One pair row of tile1_avx512. */
#define STEP1_512(BC)                                                          \
    do {                                                                       \
        __m512i b0 = BC(w0, ip);                                               \
        DP512(a00, LOADX512(0), b0);                                           \
        if (nv > 1) DP512(a01, LOADX512(1), b0);                               \
        if (nv > 2) DP512(a02, LOADX512(2), b0);                               \
        if (nv > 3) DP512(a03, LOADX512(3), b0);                               \
    } while (0)

/* One output channel (the cout % 4 left over), as tile4_avx512. */
AVX512_INLINE void tile1_avx512(const LwcIntConv *l, const uint32_t *xp, int n, int o, int p, int nv,
                                __mmask16 m, int16_t *y, size_t ys)
{
    int kk = l->cin * l->k * l->k, npair = kk / 2;
    const int16_t *w0 = l->w + (size_t)o * kk;
    __m512i a00 = _mm512_set1_epi32(l->bias[o]), a01 = a00, a02 = a00, a03 = a00;
    int ip = npair;
    const uint32_t *x = xp + p + (size_t)npair * n;
    if (kk & 1) STEP1_512(LAST512);
    for (ip = 0, x = xp + p; ip < npair; ip++, x += n) STEP1_512(PAIR512);
    STORE512(o, a00, a01, a02, a03);
}

/* Positions [p, p + 16*nv) of every output, the last vector masked by m. */
AVX512_INLINE void cols_avx512(const LwcIntConv *l, const uint32_t *xp, int n, int p, int nv, __mmask16 m,
                               int16_t *y, size_t ys)
{
    int o_full = l->cout / OB * OB;
    for (int o = 0; o < o_full; o += OB) tile4_avx512(l, xp, n, o, p, nv, m, y, ys);
    for (int o = o_full; o < l->cout; o++) tile1_avx512(l, xp, n, o, p, nv, m, y, ys);
}

AVX512_FN static void gemm_avx512vnni(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys,
                                      uint32_t *scratch)
{
    int p = 0;
    for (; p + 64 <= n; p += 64) cols_avx512(l, xp, n, p, 4, 0xFFFF, y, ys);
    int r = n - p; /* 0..63 positions left: nv vectors, the last one holding 1..16 */
    __mmask16 m = (__mmask16)((1u << (r - (r - 1) / 16 * 16)) - 1);
    switch ((r + 15) / 16) {
    case 4: cols_avx512(l, xp, n, p, 4, m, y, ys); break;
    case 3: cols_avx512(l, xp, n, p, 3, m, y, ys); break;
    case 2: cols_avx512(l, xp, n, p, 2, m, y, ys); break;
    case 1: cols_avx512(l, xp, n, p, 1, m, y, ys); break;
    default: break;
    }
}

static const LwcIntConvDsp k_dsp_avx512vnni = { "avx512vnni", gemm_avx512vnni };

/* --- SSE2 and SSE4.1: 4 positions per vector ---
 * The same GEMM tiles (madd_tile_sse2, intconv_x86.h: 4 outputs x 8
 * positions); the SSE2 set requantises in C, the SSE4.1 set in vectors
 * (rq4_sse41: pmuldq, the floor shift as a logical one, the 64-bit clamp
 * through an exact saturation to int32, truncating narrow). */

/* Requantise output o's 8 accumulators (a0: positions 0-3, a1: 4-7) to y. */
typedef void (*StoreRq128)(const LwcIntConv *l, int o, __m128i a0, __m128i a1, int16_t *y);

SSE2_INLINE void store_rq_sse2(const LwcIntConv *l, int o, __m128i a0, __m128i a1, int16_t *y)
{
    uint32_t a[8];
    _mm_storeu_si128((__m128i *)a, a0);
    _mm_storeu_si128((__m128i *)(a + 4), a1);
    for (int v = 0; v < 8; v++) y[v] = requant(a[v], l->mult[o], l->shift[o], l->lo, l->hi);
}

SSE41_INLINE void store_rq_sse41(const LwcIntConv *l, int o, __m128i a0, __m128i a1, int16_t *y)
{
    RqSse41 q = rq_sse41(l->mult[o], l->shift[o], l->lo, l->hi);
    _mm_storeu_si128((__m128i *)y, narrow8_sse41(rq4_sse41(a0, &q), rq4_sse41(a1, &q)));
}

/* Outputs o..o+ob-1 (ob = 4 or 1) at positions p..p+7. */
SSE2_INLINE void tile_sse2(const LwcIntConv *l, const uint32_t *xp, int n, int o, int ob, int p, int16_t *y,
                           size_t ys, StoreRq128 store)
{
    int kk = l->cin * l->k * l->k;
    __m128i a[8];
    for (int k = 0; k < 4; k++) a[2 * k] = a[2 * k + 1] = _mm_set1_epi32(l->bias[o + (k < ob ? k : 0)]);
    madd_tile_sse2(l->w + (size_t)o * kk, (size_t)kk, ob, kk / 2, (kk + 1) / 2, xp + p, (size_t)n, a);
    for (int k = 0; k < ob; k++) store(l, o + k, a[2 * k], a[2 * k + 1], y + (o + k) * ys + p);
}

/* The GEMM of both sets: 8 positions at a time, then the C tail. */
SSE2_INLINE void gemm128(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys,
                         StoreRq128 store)
{
    int o_full = l->cout / OB * OB, p = 0;
    for (; p + 8 <= n; p += 8) {
        for (int o = 0; o < o_full; o += OB) tile_sse2(l, xp, n, o, 4, p, y, ys, store);
        for (int o = o_full; o < l->cout; o++) tile_sse2(l, xp, n, o, 1, p, y, ys, store);
    }
    if (p < n) gemm_range_c(l, xp, n, p, n, y, ys);
}

__attribute__((target("sse2"))) static void gemm_sse2(const LwcIntConv *l, const uint32_t *xp,
                                                       int n, int16_t *y, size_t ys, uint32_t *scratch)
{
    gemm128(l, xp, n, y, ys, store_rq_sse2);
}

SSE41_FN static void gemm_sse41(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys,
                                uint32_t *scratch)
{
    gemm128(l, xp, n, y, ys, store_rq_sse41);
}

static const LwcIntConvDsp k_dsp_sse2 = { "sse2", gemm_sse2 };
static const LwcIntConvDsp k_dsp_sse41 = { "sse41", gemm_sse41 };
#endif /* LWC_INTCONV_X86 */

#if LWC_INTCONV_NEON
/* ---- NEON kernel (AArch64) ------------------------------------------------
 * Four pair words (4 positions) are one int16x8 (row 2ip in the even lanes,
 * row 2ip+1 in the odd ones) and the weight pair is broadcast the same way,
 * so SMLAL / SMLAL2 add the 8 products into two int32x4 (positions 0-1 and
 * 2-3, each as row 2ip | row 2ip+1 partial sums); ADDP folds them into the
 * 4 sums at the end. Blocking as the x86 kernels: OB outputs x NV groups of
 * 4 positions, named accumulators, C tail for the last n % 4 positions.
 * Requantisation in 64-bit lanes: SMULL is exact, SSHL by -s is the
 * arithmetic shift (floor), and the clamp tests v < lo after v > hi, as
 * requant() does (so even lo > hi would give lo). Narrowing takes the low
 * bits (XTN), as the conversion to int16_t does in the reference. */
#define NEON_INLINE static inline __attribute__((always_inline))

NEON_INLINE int16x8_t bcast_neon(const int16_t *w, int ip, int npair)
{
    /* (w[2ip], w[2ip+1]), or (w[2ip], 0) for the odd last row */
    uint32_t v = ip < npair ? (uint32_t)load_pair(w + 2 * ip) : (uint16_t)w[2 * ip];
    return vreinterpretq_s16_u32(vdupq_n_u32(v));
}

/* (lo, hi) += the products of 4 pair words x and weights b, lane by lane. */
#define MLAL_NEON(lo, hi, x, b)                                         \
    do {                                                                \
        lo = vmlal_s16(lo, vget_low_s16(x), vget_low_s16(b));           \
        hi = vmlal_high_s16(hi, x, b);                                  \
    } while (0)

typedef struct RqNeon {
    int32x4_t mult;
    int64x2_t half, nshift, lo, hi;
} RqNeon;

NEON_INLINE RqNeon rq_neon(const LwcIntConv *l, int o)
{
    RqNeon q;
    q.mult = vdupq_n_s32(l->mult[o]);
    q.half = vdupq_n_s64((int64_t)1 << (l->shift[o] - 1));
    q.nshift = vdupq_n_s64(-(int64_t)l->shift[o]);
    q.lo = vdupq_n_s64(l->lo);
    q.hi = vdupq_n_s64(l->hi);
    return q;
}

/* clamp(floor((v + half) / 2^s), lo, hi) on 2 int64 lanes, as requant(). */
NEON_INLINE int64x2_t rq_lanes_neon(int64x2_t v, const RqNeon *q)
{
    int64x2_t t = vshlq_s64(vaddq_s64(v, q->half), q->nshift);
    int64x2_t r = vbslq_s64(vcgtq_s64(t, q->hi), q->hi, t);
    return vbslq_s64(vcltq_s64(t, q->lo), q->lo, r);
}

/* Accumulators of 4 positions (see MLAL_NEON) + bias -> 4 int16 outputs. */
NEON_INLINE void store_rq_neon(const LwcIntConv *l, int o, int32x4_t lo, int32x4_t hi, int16_t *y)
{
    RqNeon q = rq_neon(l, o);
    int32x4_t acc = vaddq_s32(vdupq_n_s32(l->bias[o]), vpaddq_s32(lo, hi));
    int64x2_t r0 = rq_lanes_neon(vmull_s32(vget_low_s32(acc), vget_low_s32(q.mult)), &q);
    int64x2_t r1 = rq_lanes_neon(vmull_high_s32(acc, q.mult), &q);
    vst1_s16(y, vmovn_s32(vcombine_s32(vmovn_s64(r0), vmovn_s64(r1))));
}

/* Outputs o..o+ob-1 (ob = 4 or 1) at positions p..p+4*nv-1 (nv = 1 or 2). */
NEON_INLINE void tile_neon(const LwcIntConv *l, const uint32_t *xp, int n, int o, int ob, int p, int nv,
                           int16_t *y, size_t ys)
{
    int kk = l->cin * l->k * l->k, npair = kk / 2, nrow = (kk + 1) / 2;
    const int16_t *w0 = l->w + (size_t)o * kk, *w1 = w0 + kk, *w2 = w1 + kk, *w3 = w2 + kk;
    const int32x4_t z = vdupq_n_s32(0);
    int32x4_t l00 = z, h00 = z, l01 = z, h01 = z, l10 = z, h10 = z, l11 = z, h11 = z;
    int32x4_t l20 = z, h20 = z, l21 = z, h21 = z, l30 = z, h30 = z, l31 = z, h31 = z;
    const uint32_t *x = xp + p;
    for (int ip = 0; ip < nrow; ip++, x += n) {
        int16x8_t x0 = vreinterpretq_s16_u32(vld1q_u32(x));
        int16x8_t x1 = nv > 1 ? vreinterpretq_s16_u32(vld1q_u32(x + 4)) : x0;
        int16x8_t b = bcast_neon(w0, ip, npair);
        MLAL_NEON(l00, h00, x0, b);
        if (nv > 1) MLAL_NEON(l01, h01, x1, b);
        if (ob > 1) {
            b = bcast_neon(w1, ip, npair);
            MLAL_NEON(l10, h10, x0, b);
            if (nv > 1) MLAL_NEON(l11, h11, x1, b);
            b = bcast_neon(w2, ip, npair);
            MLAL_NEON(l20, h20, x0, b);
            if (nv > 1) MLAL_NEON(l21, h21, x1, b);
            b = bcast_neon(w3, ip, npair);
            MLAL_NEON(l30, h30, x0, b);
            if (nv > 1) MLAL_NEON(l31, h31, x1, b);
        }
    }
    int16_t *yo = y + o * ys + p;
    store_rq_neon(l, o, l00, h00, yo);
    if (nv > 1) store_rq_neon(l, o, l01, h01, yo + 4);
    if (ob > 1) {
        store_rq_neon(l, o + 1, l10, h10, yo + ys);
        store_rq_neon(l, o + 2, l20, h20, yo + 2 * ys);
        store_rq_neon(l, o + 3, l30, h30, yo + 3 * ys);
        if (nv > 1) {
            store_rq_neon(l, o + 1, l11, h11, yo + ys + 4);
            store_rq_neon(l, o + 2, l21, h21, yo + 2 * ys + 4);
            store_rq_neon(l, o + 3, l31, h31, yo + 3 * ys + 4);
        }
    }
}

static void gemm_neon(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys,
                      uint32_t *scratch)
{
    int o_full = l->cout / OB * OB, p = 0;
    for (; p + 8 <= n; p += 8) {
        for (int o = 0; o < o_full; o += OB) tile_neon(l, xp, n, o, OB, p, 2, y, ys);
        for (int o = o_full; o < l->cout; o++) tile_neon(l, xp, n, o, 1, p, 2, y, ys);
    }
    if (p + 4 <= n) {
        for (int o = 0; o < o_full; o += OB) tile_neon(l, xp, n, o, OB, p, 1, y, ys);
        for (int o = o_full; o < l->cout; o++) tile_neon(l, xp, n, o, 1, p, 1, y, ys);
        p += 4;
    }
    if (p < n) gemm_range_c(l, xp, n, p, n, y, ys);
}

static const LwcIntConvDsp k_dsp_neon = { "neon", gemm_neon };
#endif /* LWC_INTCONV_NEON */

/* ---- kernel selection ----------------------------------------------------- */

const LwcIntConvDsp *lwc_intconv_dsp(unsigned flags)
{
    const LwcIntConvDsp *d = &k_dsp_c;
#if LWC_INTCONV_X86
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_SSE2)) d = &k_dsp_sse2;
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_SSE41)) d = &k_dsp_sse41;
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_AVX2)) d = &k_dsp_avx2;
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_AVX512VNNI)) d = &k_dsp_avx512vnni;
#endif
#if LWC_INTCONV_NEON
    if (flags & LWC_CPU_NEON) d = &k_dsp_neon;
#endif
    return d;
}

/* The set of this call (looked up per call: the tables are constant). */
static const LwcIntConvDsp *active_dsp(void)
{
    int ref = atomic_load_explicit(&g_force_ref, memory_order_relaxed);
    return lwc_intconv_dsp(ref ? 0 : lwc_cpu_flags());
}

const char *lwc_intconv_kernel_name(void) { return active_dsp()->name; }

/* ---- gather into the pair layout ------------------------------------------ */

/* dst[t] = a[t] | b[t] << 16 (b == NULL: zero high halves). */
static void interleave(const int16_t *a, const int16_t *b, int n, uint32_t *dst)
{
    if (!b) {
        for (int t = 0; t < n; t++) dst[t] = (uint16_t)a[t];
        return;
    }
    for (int t = 0; t < n; t++) dst[t] = (uint16_t)a[t] | (uint32_t)(uint16_t)b[t] << 16;
}

/* Row r of the im2col matrix restricted to image row i: the `cnt` selected
 * positions j = j0, j0+step, ... of that row, read at (i+dy, j+dx), zero
 * outside the map. */
static void gather_line(const int16_t *x, int h, int w, int k, int r, int i, int j0, int step,
                        int cnt, int16_t *line)
{
    int ci = r / (k * k), t = r % (k * k);
    int dy = t / k - k / 2, dx = t % k - k / 2, yy = i + dy;
    if (yy < 0 || yy >= h) {
        memset(line, 0, (size_t)cnt * sizeof(*line));
        return;
    }
    const int16_t *src = x + ((size_t)ci * h + yy) * w + j0 + dx;
    /* Valid t: 0 <= j0 + dx + step*t <= w-1. */
    int first = 0, last = cnt; /* [first, last) */
    while (first < cnt && j0 + dx + step * first < 0) line[first++] = 0;
    while (last > first && j0 + dx + step * (last - 1) >= w) line[--last] = 0;
    if (step == 1) memcpy(line + first, src + first, (size_t)(last - first) * sizeof(*line));
    else
        for (int u = first; u < last; u++) line[u] = src[2 * u];
}

/* Positions [p0, p0+n) of the im2col matrix (raster order of the selected
 * positions) into the pair layout, n words per pair row. Two consecutive
 * image rows hold w positions of a parity, so the row of p0 is direct. */
static void im2col_pairs(const int16_t *x, int cin, int h, int w, int k, int parity, int p0, int n,
                         uint32_t *xp, int16_t *lines)
{
    int kk = cin * k * k, step = parity == LWC_INT_ALL ? 1 : 2;
    int16_t *l0 = lines, *l1 = lines + w;
    for (int ip = 0; ip < (kk + 1) / 2; ip++) {
        uint32_t *dst = xp + (size_t)ip * n;
        int has_b = 2 * ip + 1 < kk;
        int base = p0 / w * w; /* first position of row i */
        for (int i = p0 / w * step; i < h && base < p0 + n; i++) {
            int j0 = parity == LWC_INT_ALL ? 0 : ((i & 1) ^ parity);
            int cnt = (w - j0 + step - 1) / step;
            int t0 = LWC_MAX(p0 - base, 0), t1 = LWC_MIN(p0 + n - base, cnt); /* part of row i in the chunk */
            if (t1 > t0) {
                gather_line(x, h, w, k, 2 * ip, i, j0 + step * t0, step, t1 - t0, l0);
                if (has_b) gather_line(x, h, w, k, 2 * ip + 1, i, j0 + step * t0, step, t1 - t0, l1);
                interleave(l0, has_b ? l1 : NULL, t1 - t0, dst);
                dst += t1 - t0;
            }
            base += cnt;
        }
    }
}

/* ---- layers ---------------------------------------------------------------- */

/* Positions per chunk: the chunk's pair rows (gathered, then read by the GEMM
 * while still in L2) take about CHUNK_BYTES; a multiple of the 16-position
 * tile so that only the last chunk has a scalar tail. */
#define CHUNK_BYTES (64 * 1024)

static int chunk_positions(int nrow)
{
    int n = CHUNK_BYTES / (4 * nrow) / 16 * 16;
    return n < 16 ? 16 : n;
}

/* One chunk of pair rows, then scratch for the gather lines (w words) and
 * the C kernel's accumulators (one word per position of the chunk). */
size_t lwc_intconv_work_size(const LwcIntConv *l, int h, int w)
{
    size_t nrow = ((size_t)l->cin * l->k * l->k + 1) / 2;
    size_t n = LWC_MIN((size_t)chunk_positions((int)nrow), (size_t)h * w);
    return nrow * n + LWC_MAX(n, (size_t)w);
}

void lwc_intconv_forward_range(const LwcIntConv *l, const int16_t *x, int h, int w, int parity,
                               int pbeg, int pend, int16_t *y, int32_t *work)
{
    int npos = lwc_int_npos(h, w, parity), nrow = (l->cin * l->k * l->k + 1) / 2;
    int chunk = chunk_positions(nrow);
    const LwcIntConvDsp *d = active_dsp();
    uint32_t *xp = (uint32_t *)work;
    for (int p0 = pbeg; p0 < pend; p0 += chunk) {
        int n = LWC_MIN(chunk, pend - p0);
        uint32_t *scratch = xp + (size_t)nrow * n; /* max(n, w) words: lines and acc */
        im2col_pairs(x, l->cin, h, w, l->k, parity, p0, n, xp, (int16_t *)scratch);
        d->gemm(l, xp, n, y + p0, (size_t)npos, scratch);
    }
}

void lwc_intconv_forward(const LwcIntConv *l, const int16_t *x, int h, int w, int parity,
                         int16_t *y, int32_t *work)
{
    lwc_intconv_forward_range(l, x, h, w, parity, 0, lwc_int_npos(h, w, parity), y, work);
}

void lwc_intconv_1x1_forward_range(const LwcIntConv *l, const int16_t *x, int npos, int pbeg, int pend,
                                   int16_t *y, int32_t *work)
{
    int cin = l->cin, nrow = (cin + 1) / 2, chunk = chunk_positions(nrow);
    const LwcIntConvDsp *d = active_dsp();
    uint32_t *xp = (uint32_t *)work;
    for (int p0 = pbeg; p0 < pend; p0 += chunk) {
        int n = LWC_MIN(chunk, pend - p0);
        for (int ip = 0; ip < nrow; ip++) {
            const int16_t *a = x + (size_t)2 * ip * npos + p0;
            interleave(a, 2 * ip + 1 < cin ? a + npos : NULL, n, xp + (size_t)ip * n);
        }
        d->gemm(l, xp, n, y + p0, (size_t)npos, xp + (size_t)nrow * n);
    }
}

void lwc_intconv_1x1_forward(const LwcIntConv *l, const int16_t *x, int npos, int16_t *y,
                             int32_t *work)
{
    lwc_intconv_1x1_forward_range(l, x, npos, 0, npos, y, work);
}

void lwc_int_upsample2(const int16_t *x, int c, int h, int w, int16_t *y)
{
    int w2 = 2 * w;
    for (int ch = 0; ch < c; ch++) {
        const int16_t *xc = x + (size_t)ch * h * w;
        int16_t *yc = y + (size_t)ch * 4 * h * w;
        for (int i = 0; i < h; i++) {
            int16_t *r0 = yc + (size_t)(2 * i) * w2;
            for (int j = 0; j < w; j++) r0[2 * j] = r0[2 * j + 1] = xc[(size_t)i * w + j];
            memcpy(r0 + w2, r0, (size_t)w2 * sizeof(*r0));
        }
    }
}
