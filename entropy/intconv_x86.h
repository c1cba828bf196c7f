/* The x86 pieces shared by the integer layers' kernels (intconv.c,
 * intwino.c): the 128-bit pmaddwd GEMM tile of the SSE2 and SSE4.1 sets, and
 * the requantisation clamp(floor((v + half) / 2^s), lo, hi) of the SSE4.1
 * and AVX2 sets, exactly as the C reference (entropy/intconv.h). Included by
 * x86 builds only, after <immintrin.h>. */
#ifndef LWC_INTCONV_X86_H
#define LWC_INTCONV_X86_H

#include <stdint.h>
#include <string.h>

/* ---- SSE2: the 128-bit GEMM tile ---- */
#define SSE2_INLINE static inline __attribute__((target("sse2"), always_inline))

/* acc += pmaddwd(x, (w[0], w[1])) */
#define MADD128(acc, x, wv) acc = _mm_add_epi32(acc, _mm_madd_epi16(x, wv))

/* The weight pair ip of row w broadcast: (w[2ip], w[2ip+1]), or (w[2ip], 0)
 * for the odd last row (ip == npair). */
SSE2_INLINE __m128i bcast_sse2(const int16_t *w, int ip, int npair)
{
    int32_t v;
    if (ip < npair) memcpy(&v, w + 2 * ip, sizeof(v)); /* unaligned (w[2ip], w[2ip+1]) */
    else v = (uint16_t)w[2 * ip];
    return _mm_set1_epi32(v);
}

/* a[2k + j] += the products of pair rows 0 .. nrow-1 (x, x + xs, ...: 8
 * words each, j = 0 the first 4, j = 1 the next 4) with the weight pairs of
 * output k (row w + k * ws; pair npair, if nrow > npair, is the odd last
 * row), for k < ob (4 or 1, a constant after inlining): sums mod 2^32. The
 * accumulators live in named registers through the loop (an array there
 * makes GCC spill them). */
SSE2_INLINE void madd_tile_sse2(const int16_t *w, size_t ws, int ob, int npair, int nrow, const uint32_t *x,
                                size_t xs, __m128i a[8])
{
    const int16_t *w0 = w, *w1 = w0 + ws, *w2 = w1 + ws, *w3 = w2 + ws;
    __m128i a00 = a[0], a01 = a[1], a10 = a[2], a11 = a[3], a20 = a[4], a21 = a[5], a30 = a[6], a31 = a[7];
    for (int ip = 0; ip < nrow; ip++, x += xs) {
        __m128i x0 = _mm_loadu_si128((const __m128i *)x), x1 = _mm_loadu_si128((const __m128i *)(x + 4));
        __m128i b = bcast_sse2(w0, ip, npair);
        MADD128(a00, x0, b);
        MADD128(a01, x1, b);
        if (ob > 1) {
            b = bcast_sse2(w1, ip, npair);
            MADD128(a10, x0, b);
            MADD128(a11, x1, b);
            b = bcast_sse2(w2, ip, npair);
            MADD128(a20, x0, b);
            MADD128(a21, x1, b);
            b = bcast_sse2(w3, ip, npair);
            MADD128(a30, x0, b);
            MADD128(a31, x1, b);
        }
    }
    a[0] = a00; a[1] = a01; a[2] = a10; a[3] = a11; a[4] = a20; a[5] = a21; a[6] = a30; a[7] = a31;
}

/* ---- SSE4.1: requantisation in vectors ----
 * target("sse4.1") also enables SSSE3 (pshufb), which every SSE4.1 CPU
 * has. */
#define SSE41_FN __attribute__((target("sse4.1")))
#define SSE41_INLINE static inline __attribute__((target("sse4.1"), always_inline))

typedef struct RqSse41 {
    __m128i mult, add, sub, lo, hi, cnt;
} RqSse41;

/* add = half + 2^63 and sub = 2^(63-s) (as int64 bit patterns): see
 * rq_shift_sse41. */
SSE41_INLINE RqSse41 rq_sse41(int32_t mult, int shift, int32_t lo, int32_t hi)
{
    RqSse41 q;
    q.mult = _mm_set1_epi32(mult);
    q.add = _mm_set1_epi64x(INT64_MIN + ((int64_t)1 << (shift - 1)));
    q.sub = _mm_set1_epi64x((int64_t)1 << (63 - shift));
    q.lo = _mm_set1_epi32(lo);
    q.hi = _mm_set1_epi32(hi);
    q.cnt = _mm_cvtsi32_si128(shift);
    return q;
}

/* floor((v + half) / 2^s) of 2 int64 lanes (|v| <= 2^62: a product of two
 * int32). SSE has no 64-bit arithmetic shift, so the shift is a logical
 * one of u = v + half + 2^63, which lies in [0, 2^64) (the paddq wraps to
 * exactly it): u >> s = floor((v + half) / 2^s) + 2^(63-s), 2^63 being a
 * multiple of 2^s, and the psubq takes the 2^(63-s) off again. */
SSE41_INLINE __m128i rq_shift_sse41(__m128i v, const RqSse41 *q)
{
    return _mm_sub_epi64(_mm_srl_epi64(_mm_add_epi64(v, q->add), q->cnt), q->sub);
}

/* 4 int32 accumulators -> requant()'s 4 results as int32 lanes. The 64-bit
 * results r (even lanes in ev, odd ones in od) are split into low and high
 * halves and saturated to int32 (r fits when its high half is the sign of
 * its low half; otherwise INT32_MAX or INT32_MIN by its sign): lo and hi
 * are int32, so the saturated value compares with them as r does (SSE4.1
 * has no 64-bit compare, pcmpgtq is SSE4.2). The clamp in requant()'s
 * order: lo where r < lo, else min(r, hi). */
SSE41_INLINE __m128i rq4_sse41(__m128i acc, const RqSse41 *q)
{
    __m128i ev = rq_shift_sse41(_mm_mul_epi32(acc, q->mult), q);
    __m128i od = rq_shift_sse41(_mm_mul_epi32(_mm_srli_epi64(acc, 32), q->mult), q);
    __m128i low = _mm_blend_epi16(ev, _mm_slli_epi64(od, 32), 0xCC);
    __m128i high = _mm_blend_epi16(_mm_srli_epi64(ev, 32), od, 0xCC);
    __m128i fits = _mm_cmpeq_epi32(high, _mm_srai_epi32(low, 31));
    __m128i sat = _mm_xor_si128(_mm_srai_epi32(high, 31), _mm_set1_epi32(INT32_MAX));
    __m128i r = _mm_blendv_epi8(sat, low, fits);
    return _mm_blendv_epi8(_mm_min_epi32(r, q->hi), q->lo, _mm_cmpgt_epi32(q->lo, r));
}

/* The low 16 bits of 8 int32 (a, then b), as the conversion to int16_t. */
SSE41_INLINE __m128i narrow8_sse41(__m128i a, __m128i b)
{
    const __m128i m = _mm_set1_epi32(0xFFFF);
    return _mm_packus_epi32(_mm_and_si128(a, m), _mm_and_si128(b, m));
}

#define AVX2_FN __attribute__((target("avx2")))
#define AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

typedef struct RqAvx2 {
    __m256i mult, half, lo, hi;
    __m128i cnt;
} RqAvx2;

/* clamp(floor((v + half) / 2^s), lo, hi) on 4 int64 lanes. The arithmetic
 * shift AVX2 lacks is ((t ^ m) >>> s) ^ m with m the sign mask: for t < 0,
 * ~t = -t-1 >= 0 and ~(floor((-t-1)/2^s)) = floor(t/2^s). */
AVX2_INLINE __m256i rq_lanes_avx2(__m256i v, const RqAvx2 *q)
{
    __m256i t = _mm256_add_epi64(v, q->half);
    __m256i m = _mm256_cmpgt_epi64(_mm256_setzero_si256(), t);
    t = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(t, m), q->cnt), m);
    t = _mm256_blendv_epi8(t, q->lo, _mm256_cmpgt_epi64(q->lo, t));
    return _mm256_blendv_epi8(t, q->hi, _mm256_cmpgt_epi64(t, q->hi));
}

/* 8 int32 accumulators -> 8 int16 outputs (exact: clamped to [lo, hi]). */
AVX2_INLINE __m128i rq8_avx2(__m256i acc, const RqAvx2 *q)
{
    __m256i ev = rq_lanes_avx2(_mm256_mul_epi32(acc, q->mult), q);
    __m256i od = rq_lanes_avx2(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q->mult), q);
    __m256i r = _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xAA);
    r = _mm256_packs_epi32(r, r);
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(r, 0x08));
}

/* acc += pmaddwd(x, (w[0], w[1])) */
#define MADD256(acc, x, wv) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, wv))

#endif
