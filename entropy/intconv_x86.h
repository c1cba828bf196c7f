/* The x86 requantisation shared by the integer layers' AVX2 kernels
 * (intconv.c, intwino.c): clamp(floor((v + half) / 2^s), lo, hi) in 64-bit
 * lanes, exactly as the C reference (entropy/intconv.h). Included by x86
 * builds only, after <immintrin.h>. */
#ifndef LWC_INTCONV_X86_H
#define LWC_INTCONV_X86_H

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
