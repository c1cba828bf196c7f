/* CDF 9/7 wavelet packet transform (see wpt.h for the definition).
 *
 * How it is organised. The four public transforms are two level orders
 * running four 1D "programs" (four lifting steps plus a scaling):
 *   analysis  (levels 1..J; 1D: deinterleave, lift, scale):  forward, inverse^T
 *   synthesis (levels J..1; 1D: scale, lift, interleave):    inverse, forward^T
 * A transposed lifting step is again a lifting step, with source and target
 * swapped and the boundary terms kept: every step is described by its
 * coefficient, its target (s or d) and two boundary flags. Transposing a
 * separable level also swaps rows and columns in time, which the streaming
 * scheme below does by construction (analysis filters a row as it enters,
 * synthesis as it leaves).
 *
 * Memory: per level, one streaming pass that reads the parent planes once
 * and writes the subbands once (see "columns" below); levels ping-pong
 * between the output and one image-sized plane of work so that the last
 * level lands in the output. No allocation.
 *
 * Files: this one holds the engine, the kernels and the synthesis (the
 * decoder's direction); wpt_enc.c the analysis and the adjoints, which only
 * the encoder and the trainer run (wpt_prog.h between them).
 *
 * Kernels: the inner loops (lifting updates, scalings, (de)interleaves) go
 * through a table of C / SSE2 / AVX2 / NEON versions chosen at run time, all
 * bit-identical (see "kernels" below). */
#include <assert.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "transforms/wpt.h"
#include "transforms/wpt_prog.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LWC_WPT_X86 1
#include <immintrin.h>
#else
#define LWC_WPT_X86 0
#endif
/* Advanced SIMD is part of the AArch64 base ISA (LWC_CPU_NEON always set). */
#if defined(__aarch64__) && defined(__ARM_NEON)
#define LWC_WPT_NEON 1
#include <arm_neon.h>
#else
#define LWC_WPT_NEON 0
#endif

/* JPEG 2000 irreversible 9/7 lifting constants. */
static const LwcWptProg g_inverse = {
    { SSTEP(-W97_DELTA, 1, 0), DSTEP(-W97_GAMMA, 0, 1),
      SSTEP(-W97_BETA, 1, 0), DSTEP(-W97_ALPHA, 0, 1) },
    (float)(1.0 / W97_KS), (float)(1.0 / W97_KD) };

/* --- kernels ------------------------------------------------------------
 *
 * Every sample is computed by the same float operations in the same order
 * whichever kernels run: a lifting update is t = t + a * (p + q) (or
 * t = t + a * p), a scaling dst = src * k, and the (de)interleaves only move
 * data. The SIMD kernels apply exactly those operations, one lane per
 * sample, with separate multiply and add instructions (no FMA: the project
 * builds with -ffp-contract=off and the x86 kernels do not enable "fma"; the
 * NEON ones use vmulq + vaddq, never vfmaq / vmlaq, and GCC's vmulq / vaddq
 * are plain vector * and +, kept apart by the same flag), so their results
 * are bit-identical to the C reference. What they change is
 * width and order *across independent samples*: the vertical lifting steps
 * of one wavefront iteration run column chunk by column chunk (the steps
 * only couple samples of the same column), the horizontal ones in vectors
 * along the row (neighbours come from unaligned loads).
 *
 * The table (LwcWptDsp in wpt.h, dav1d habit): C reference first,
 * replaced by SSE2 or AVX2 (target attributes, as entropy/intconv.c; no
 * -mavx2 needed) as the CPU flags allow (common/cpu.h); on AArch64 by NEON. */

/* --- C reference --------------------------------------------------------- */

/* Inner loops run in chunks of VL with a constant trip count, and each chunk
 * reads all its sources before writing: vectorising that is legal whatever
 * the compiler knows about aliasing, so -O2 (whose cost model only takes
 * loops without a scalar epilogue) and -O3 after inlining both emit SIMD. */
enum { VL = 8 };

static void axpy2_c(float *restrict t, const float *p, const float *q, float a, size_t n)
{
    size_t i = 0;
    float v[VL];
    if (q) {
        for (; i + VL <= n; i += VL) {
            for (int k = 0; k < VL; k++) v[k] = a * (p[i + k] + q[i + k]);
            for (int k = 0; k < VL; k++) t[i + k] += v[k];
        }
        for (; i < n; i++) t[i] += a * (p[i] + q[i]);
    } else {
        for (; i + VL <= n; i += VL) {
            for (int k = 0; k < VL; k++) v[k] = a * p[i + k];
            for (int k = 0; k < VL; k++) t[i + k] += v[k];
        }
        for (; i < n; i++) t[i] += a * p[i];
    }
}

static void scale_c(float *restrict dst, const float *restrict src, float k, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        for (int j = 0; j < VL; j++) dst[i + j] = src[i + j] * k;
    for (; i < n; i++) dst[i] = src[i] * k;
}

static void deinterleave_c(const float *restrict x, float *restrict s, float *restrict d, int m)
{
    int i = 0;
    for (; i + VL <= m; i += VL)
        for (int k = 0; k < VL; k++) {
            s[i + k] = x[2 * (i + k)];
            d[i + k] = x[2 * (i + k) + 1];
        }
    for (; i < m; i++) {
        s[i] = x[2 * i];
        d[i] = x[2 * i + 1];
    }
}

static void interleave_c(const float *restrict s, const float *restrict d, float *restrict x, int m)
{
    int i = 0;
    for (; i + VL <= m; i += VL)
        for (int k = 0; k < VL; k++) {
            x[2 * (i + k)] = s[i + k];
            x[2 * (i + k) + 1] = d[i + k];
        }
    for (; i < m; i++) {
        x[2 * i] = s[i];
        x[2 * i + 1] = d[i];
    }
}

/* The reference: each update over the whole row, one after the other. */
static void lift_rows_c(const LwcWptRowOp *ops, int nops, size_t n)
{
    for (int k = 0; k < nops; k++) {
        axpy2_c(ops[k].t, ops[k].p, ops[k].q, ops[k].a, n);
        if (ops[k].twice) axpy2_c(ops[k].t, ops[k].p, NULL, ops[k].a, n);
    }
}

static const LwcWptDsp k_dsp_c = { "c", axpy2_c, scale_c, deinterleave_c, interleave_c, lift_rows_c };

/* Column chunk of the SIMD lift_rows: all updates of a wavefront iteration
 * run on CHUNK columns before the next CHUNK, so the ~6 rows involved stay in
 * L1 (the reference streams each update over whole rows, from L2 on wide
 * images). Same per-sample operations, hence the same results. */
enum { CHUNK = 512 };

#if LWC_WPT_X86
/* --- SSE2: 4 samples per vector ---------------------------------------- */
#define SSE2_FN __attribute__((target("sse2")))

SSE2_FN static void axpy2_sse2(float *restrict t, const float *p, const float *q, float a, size_t n)
{
    const __m128 va = _mm_set1_ps(a);
    size_t i = 0;
    if (q) {
        for (; i + 8 <= n; i += 8) {
            __m128 v0 = _mm_mul_ps(va, _mm_add_ps(_mm_loadu_ps(p + i), _mm_loadu_ps(q + i)));
            __m128 v1 = _mm_mul_ps(va, _mm_add_ps(_mm_loadu_ps(p + i + 4), _mm_loadu_ps(q + i + 4)));
            _mm_storeu_ps(t + i, _mm_add_ps(_mm_loadu_ps(t + i), v0));
            _mm_storeu_ps(t + i + 4, _mm_add_ps(_mm_loadu_ps(t + i + 4), v1));
        }
        for (; i + 4 <= n; i += 4) {
            __m128 v = _mm_mul_ps(va, _mm_add_ps(_mm_loadu_ps(p + i), _mm_loadu_ps(q + i)));
            _mm_storeu_ps(t + i, _mm_add_ps(_mm_loadu_ps(t + i), v));
        }
        for (; i < n; i++) t[i] += a * (p[i] + q[i]);
    } else {
        for (; i + 4 <= n; i += 4) {
            __m128 v = _mm_mul_ps(va, _mm_loadu_ps(p + i));
            _mm_storeu_ps(t + i, _mm_add_ps(_mm_loadu_ps(t + i), v));
        }
        for (; i < n; i++) t[i] += a * p[i];
    }
}

SSE2_FN static void scale_sse2(float *restrict dst, const float *restrict src, float k, size_t n)
{
    const __m128 vk = _mm_set1_ps(k);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 a = _mm_loadu_ps(src + i), b = _mm_loadu_ps(src + i + 4);
        _mm_storeu_ps(dst + i, _mm_mul_ps(a, vk));
        _mm_storeu_ps(dst + i + 4, _mm_mul_ps(b, vk));
    }
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(dst + i, _mm_mul_ps(_mm_loadu_ps(src + i), vk));
    for (; i < n; i++) dst[i] = src[i] * k;
}

SSE2_FN static void deinterleave_sse2(const float *restrict x, float *restrict s, float *restrict d, int m)
{
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        __m128 a = _mm_loadu_ps(x + 2 * i), b = _mm_loadu_ps(x + 2 * i + 4);
        _mm_storeu_ps(s + i, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm_storeu_ps(d + i, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    }
    for (; i < m; i++) {
        s[i] = x[2 * i];
        d[i] = x[2 * i + 1];
    }
}

SSE2_FN static void interleave_sse2(const float *restrict s, const float *restrict d, float *restrict x, int m)
{
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        __m128 a = _mm_loadu_ps(s + i), b = _mm_loadu_ps(d + i);
        _mm_storeu_ps(x + 2 * i, _mm_unpacklo_ps(a, b));
        _mm_storeu_ps(x + 2 * i + 4, _mm_unpackhi_ps(a, b));
    }
    for (; i < m; i++) {
        x[2 * i] = s[i];
        x[2 * i + 1] = d[i];
    }
}

SSE2_FN static void lift_rows_sse2(const LwcWptRowOp *ops, int nops, size_t n)
{
    for (size_t c = 0; c < n; c += CHUNK) {
        size_t len = n - c < CHUNK ? n - c : CHUNK;
        for (int k = 0; k < nops; k++) {
            const LwcWptRowOp *o = &ops[k];
            axpy2_sse2(o->t + c, o->p + c, o->q ? o->q + c : NULL, o->a, len);
            if (o->twice) axpy2_sse2(o->t + c, o->p + c, NULL, o->a, len);
        }
    }
}

static const LwcWptDsp k_dsp_sse2 = { "sse2", axpy2_sse2, scale_sse2, deinterleave_sse2,
                                   interleave_sse2, lift_rows_sse2 };

/* --- AVX2: 8 samples per vector (AVX floats; "avx2" is what is detected) - */
#define AVX2_FN __attribute__((target("avx2")))

AVX2_FN static void axpy2_avx2(float *restrict t, const float *p, const float *q, float a, size_t n)
{
    const __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    if (q) {
        for (; i + 16 <= n; i += 16) {
            __m256 v0 = _mm256_mul_ps(va, _mm256_add_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(q + i)));
            __m256 v1 = _mm256_mul_ps(va, _mm256_add_ps(_mm256_loadu_ps(p + i + 8), _mm256_loadu_ps(q + i + 8)));
            _mm256_storeu_ps(t + i, _mm256_add_ps(_mm256_loadu_ps(t + i), v0));
            _mm256_storeu_ps(t + i + 8, _mm256_add_ps(_mm256_loadu_ps(t + i + 8), v1));
        }
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_mul_ps(va, _mm256_add_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(q + i)));
            _mm256_storeu_ps(t + i, _mm256_add_ps(_mm256_loadu_ps(t + i), v));
        }
        for (; i < n; i++) t[i] += a * (p[i] + q[i]);
    } else {
        for (; i + 8 <= n; i += 8) {
            __m256 v = _mm256_mul_ps(va, _mm256_loadu_ps(p + i));
            _mm256_storeu_ps(t + i, _mm256_add_ps(_mm256_loadu_ps(t + i), v));
        }
        for (; i < n; i++) t[i] += a * p[i];
    }
}

AVX2_FN static void scale_avx2(float *restrict dst, const float *restrict src, float k, size_t n)
{
    const __m256 vk = _mm256_set1_ps(k);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(src + i), b = _mm256_loadu_ps(src + i + 8);
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(a, vk));
        _mm256_storeu_ps(dst + i + 8, _mm256_mul_ps(b, vk));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_loadu_ps(src + i), vk));
    for (; i < n; i++) dst[i] = src[i] * k;
}

/* shuffle_ps works within 128-bit lanes: evens come out as (a0 a2 b0 b2 |
 * a4 a6 b4 b6); the 64-bit permute 0,2,1,3 puts them in order. */
AVX2_FN static void deinterleave_avx2(const float *restrict x, float *restrict s, float *restrict d, int m)
{
    int i = 0;
    for (; i + 8 <= m; i += 8) {
        __m256 a = _mm256_loadu_ps(x + 2 * i), b = _mm256_loadu_ps(x + 2 * i + 8);
        __m256 ev = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        __m256 od = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        _mm256_storeu_ps(s + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8)));
        _mm256_storeu_ps(d + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xD8)));
    }
    for (; i < m; i++) {
        s[i] = x[2 * i];
        d[i] = x[2 * i + 1];
    }
}

/* unpack works within lanes: (s0 d0 s1 d1 | s4 d4 s5 d5) and (s2 d2 s3 d3 |
 * s6 d6 s7 d7); the lane permutes reassemble 0..3 and 4..7. */
AVX2_FN static void interleave_avx2(const float *restrict s, const float *restrict d, float *restrict x, int m)
{
    int i = 0;
    for (; i + 8 <= m; i += 8) {
        __m256 a = _mm256_loadu_ps(s + i), b = _mm256_loadu_ps(d + i);
        __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
        _mm256_storeu_ps(x + 2 * i, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(x + 2 * i + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
    for (; i < m; i++) {
        x[2 * i] = s[i];
        x[2 * i + 1] = d[i];
    }
}

AVX2_FN static void lift_rows_avx2(const LwcWptRowOp *ops, int nops, size_t n)
{
    for (size_t c = 0; c < n; c += CHUNK) {
        size_t len = n - c < CHUNK ? n - c : CHUNK;
        for (int k = 0; k < nops; k++) {
            const LwcWptRowOp *o = &ops[k];
            axpy2_avx2(o->t + c, o->p + c, o->q ? o->q + c : NULL, o->a, len);
            if (o->twice) axpy2_avx2(o->t + c, o->p + c, NULL, o->a, len);
        }
    }
}

static const LwcWptDsp k_dsp_avx2 = { "avx2", axpy2_avx2, scale_avx2, deinterleave_avx2,
                                   interleave_avx2, lift_rows_avx2 };
#endif /* LWC_WPT_X86 */

#if LWC_WPT_NEON
/* --- NEON (AArch64 Advanced SIMD): 4 samples per vector ---------------- */

static void axpy2_neon(float *restrict t, const float *p, const float *q, float a, size_t n)
{
    const float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    if (q) {
        for (; i + 8 <= n; i += 8) {
            float32x4_t v0 = vmulq_f32(va, vaddq_f32(vld1q_f32(p + i), vld1q_f32(q + i)));
            float32x4_t v1 = vmulq_f32(va, vaddq_f32(vld1q_f32(p + i + 4), vld1q_f32(q + i + 4)));
            vst1q_f32(t + i, vaddq_f32(vld1q_f32(t + i), v0));
            vst1q_f32(t + i + 4, vaddq_f32(vld1q_f32(t + i + 4), v1));
        }
        for (; i + 4 <= n; i += 4) {
            float32x4_t v = vmulq_f32(va, vaddq_f32(vld1q_f32(p + i), vld1q_f32(q + i)));
            vst1q_f32(t + i, vaddq_f32(vld1q_f32(t + i), v));
        }
        for (; i < n; i++) t[i] += a * (p[i] + q[i]);
    } else {
        for (; i + 4 <= n; i += 4) {
            float32x4_t v = vmulq_f32(va, vld1q_f32(p + i));
            vst1q_f32(t + i, vaddq_f32(vld1q_f32(t + i), v));
        }
        for (; i < n; i++) t[i] += a * p[i];
    }
}

static void scale_neon(float *restrict dst, const float *restrict src, float k, size_t n)
{
    const float32x4_t vk = vdupq_n_f32(k);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a = vld1q_f32(src + i), b = vld1q_f32(src + i + 4);
        vst1q_f32(dst + i, vmulq_f32(a, vk));
        vst1q_f32(dst + i + 4, vmulq_f32(b, vk));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vmulq_f32(vld1q_f32(src + i), vk));
    for (; i < n; i++) dst[i] = src[i] * k;
}

/* LD2 / ST2 do the (de)interleave of 4 pairs in the load or store itself. */
static void deinterleave_neon(const float *restrict x, float *restrict s, float *restrict d, int m)
{
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        float32x4x2_t v = vld2q_f32(x + 2 * i);
        vst1q_f32(s + i, v.val[0]);
        vst1q_f32(d + i, v.val[1]);
    }
    for (; i < m; i++) {
        s[i] = x[2 * i];
        d[i] = x[2 * i + 1];
    }
}

static void interleave_neon(const float *restrict s, const float *restrict d, float *restrict x, int m)
{
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        float32x4x2_t v = { { vld1q_f32(s + i), vld1q_f32(d + i) } };
        vst2q_f32(x + 2 * i, v);
    }
    for (; i < m; i++) {
        x[2 * i] = s[i];
        x[2 * i + 1] = d[i];
    }
}

static void lift_rows_neon(const LwcWptRowOp *ops, int nops, size_t n)
{
    for (size_t c = 0; c < n; c += CHUNK) {
        size_t len = n - c < CHUNK ? n - c : CHUNK;
        for (int k = 0; k < nops; k++) {
            const LwcWptRowOp *o = &ops[k];
            axpy2_neon(o->t + c, o->p + c, o->q ? o->q + c : NULL, o->a, len);
            if (o->twice) axpy2_neon(o->t + c, o->p + c, NULL, o->a, len);
        }
    }
}

static const LwcWptDsp k_dsp_neon = { "neon", axpy2_neon, scale_neon, deinterleave_neon,
                                   interleave_neon, lift_rows_neon };
#endif /* LWC_WPT_NEON */

const LwcWptDsp *lwc_wpt_dsp(unsigned flags)
{
    const LwcWptDsp *d = &k_dsp_c;
#if LWC_WPT_X86
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_SSE2)) d = &k_dsp_sse2;
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_AVX2)) d = &k_dsp_avx2;
#endif
#if LWC_WPT_NEON
    if (flags & LWC_CPU_NEON) d = &k_dsp_neon;
#endif
    return d;
}

const char *lwc_wpt_kernel_name(void) { return lwc_wpt_dsp(lwc_cpu_flags())->name; }

/* --- rows: horizontal 1D transform, s and d halves contiguous ----------- */

/* One lifting step along a row of m (s, d) pairs held in two arrays. */
static void lift_1d(const LwcWptDsp *dsp, float *restrict s, float *restrict d, int m, const LwcLift *st)
{
    const float a = st->a;
    if (st->to_d) { /* d[i] += a (s[i] + s[i+1]) */
        dsp->axpy2(d, s, s + 1, a, (size_t)m - 1);
        d[m - 1] += st->em ? a * (s[m - 1] + s[m - 1]) : a * s[m - 1];
        if (st->e0) d[0] += a * s[0];
    } else {        /* s[i] += a (d[i-1] + d[i]) */
        s[0] += st->e0 ? a * (d[0] + d[0]) : a * d[0];
        dsp->axpy2(s + 1, d, d + 1, a, (size_t)m - 1);
        if (st->em) s[m - 1] += a * d[m - 1];
    }
}

/* dst = [low | high] of the w samples at src (dst != src). */
static void row_analysis(const LwcWptDsp *dsp, const LwcWptProg *pg, const float *restrict src,
                         float *restrict dst, int w, float *restrict tmp)
{
    int m = w / 2;
    float *s = tmp, *d = tmp + m;
    dsp->deinterleave(src, s, d, m);
    for (int k = 0; k < 4; k++) lift_1d(dsp, s, d, m, &pg->step[k]);
    dsp->scale(dst, s, pg->ks, (size_t)m);
    dsp->scale(dst + m, d, pg->kd, (size_t)m);
}

/* [low | high] at src -> w samples at dst (dst != src). */
static void row_synthesis(const LwcWptDsp *dsp, const LwcWptProg *pg, const float *restrict src,
                          float *restrict dst, int w, float *restrict tmp)
{
    int m = w / 2;
    float *s = tmp, *d = tmp + m;
    dsp->scale(s, src, pg->ks, (size_t)m);
    dsp->scale(d, src + m, pg->kd, (size_t)m);
    for (int k = 0; k < 4; k++) lift_1d(dsp, s, d, m, &pg->step[k]);
    dsp->interleave(s, d, dst, m);
}

/* --- columns: vertical lifting streamed over whole rows ------------------
 *
 * Vertically, s_i and d_i are whole rows (rows 2i and 2i+1), so a lifting
 * step is an axpy over a row. Instead of one pass over the plane per step,
 * the steps run as a wavefront: in iteration j, step k lifts pair j - lag[k],
 * where lag[k] grows by one whenever a d-step follows an s-step (it needs
 * s_{i+1} from the step before). Pair j - maxlag is then final and leaves,
 * and only RING pairs are ever live, so each level reads its input once and
 * writes its output once. Rows enter through load() (which for analysis also
 * does the horizontal transform) and leave through store(). */

enum { RING = 4 }; /* live (s, d) row pairs: enough for lags up to 2 */

typedef struct Stream {
    const LwcWptDsp *dsp;
    const LwcWptProg *pg;
    int m;           /* pairs in the plane (rows / 2) */
    int wl;          /* floats per row */
    float *ring;     /* RING pairs of 2 rows */
    int lag[4], lead, maxlag;
} Stream;

static float *st_s(const Stream *v, int i) { return v->ring + (size_t)(i % RING) * 2 * v->wl; }
static float *st_d(const Stream *v, int i) { return st_s(v, i) + v->wl; }

static void stream_init(Stream *v, const LwcWptDsp *dsp, const LwcWptProg *pg, int hl, int wl, float *ring)
{
    v->dsp = dsp;
    v->pg = pg;
    v->m = hl / 2;
    v->wl = wl;
    v->ring = ring;
    v->lead = pg->step[0].to_d; /* a first d-step needs s_{j+1} already */
    v->lag[0] = 0;
    for (int k = 1; k < 4; k++)
        v->lag[k] = v->lag[k - 1] + (pg->step[k].to_d && !pg->step[k - 1].to_d);
    v->maxlag = v->lag[3];
    assert(v->lead + v->maxlag + 1 < RING);
}

/* The update of step k on pair i, with symmetric-extension / transposed
 * boundary terms. */
static LwcWptRowOp stream_op(const Stream *v, int k, int i)
{
    const LwcLift *st = &v->pg->step[k];
    int last = v->m - 1;
    LwcWptRowOp o;
    o.a = st->a;
    if (st->to_d) {
        const float *s0 = st_s(v, i);
        o.t = st_d(v, i);
        o.p = s0;
        o.q = i < last ? st_s(v, i + 1) : st->em ? s0 : NULL;
        o.twice = i == 0 && st->e0;
    } else {
        const float *d1 = st_d(v, i);
        o.t = st_s(v, i);
        o.p = d1;
        o.q = i > 0 ? st_d(v, i - 1) : st->e0 ? d1 : NULL;
        o.twice = i == last && st->em;
    }
    return o;
}

typedef void (*PairFn)(const Stream *v, int i, void *ctx);

static void stream_run(const Stream *v, PairFn load, PairFn store, void *ctx)
{
    int loaded = 0;
    for (int j = 0; j < v->m + v->maxlag; j++) {
        for (; loaded <= j + v->lead && loaded < v->m; loaded++) load(v, loaded, ctx);
        LwcWptRowOp ops[4];
        int nops = 0;
        for (int k = 0; k < 4; k++) {
            int i = j - v->lag[k];
            if (i >= 0 && i < v->m) ops[nops++] = stream_op(v, k, i);
        }
        v->dsp->lift_rows(ops, nops, (size_t)v->wl);
        if (j >= v->maxlag) store(v, j - v->maxlag, ctx);
    }
}

/* --- one level of each driver -------------------------------------------- */

/* One parent plane of hl x wl (src for analysis, dst for synthesis) and its
 * four subbands of hl/2 x wl/2 in band order (the other side). */
typedef struct Level {
    const float *src;
    float *dst;
    int hl, wl;
    float *tmp;      /* row scratch, wl floats */
} Level;

static size_t band_size(const Level *lv) { return (size_t)(lv->hl / 2) * (lv->wl / 2); }

/* Analysis: rows 2i, 2i+1 of the parent, filtered horizontally, become s_i, d_i. */
static void an_load(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    const float *r = lv->src + (size_t)(2 * i) * lv->wl;
    row_analysis(v->dsp, v->pg, r, st_s(v, i), lv->wl, lv->tmp);
    row_analysis(v->dsp, v->pg, r + lv->wl, st_d(v, i), lv->wl, lv->tmp);
}

/* Analysis: s_i = [LL_i | HL_i], d_i = [LH_i | HH_i] after scaling. */
static void an_store(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    size_t half = (size_t)lv->wl / 2, band = band_size(lv), row = (size_t)i * half;
    const float *s = st_s(v, i), *d = st_d(v, i);
    v->dsp->scale(lv->dst + row, s, v->pg->ks, half);
    v->dsp->scale(lv->dst + band + row, s + half, v->pg->ks, half);
    v->dsp->scale(lv->dst + 2 * band + row, d, v->pg->kd, half);
    v->dsp->scale(lv->dst + 3 * band + row, d + half, v->pg->kd, half);
}

/* Synthesis: the reverse of an_store. */
static void syn_load(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    size_t half = (size_t)lv->wl / 2, band = band_size(lv), row = (size_t)i * half;
    float *s = st_s(v, i), *d = st_d(v, i);
    v->dsp->scale(s, lv->src + row, v->pg->ks, half);
    v->dsp->scale(s + half, lv->src + band + row, v->pg->ks, half);
    v->dsp->scale(d, lv->src + 2 * band + row, v->pg->kd, half);
    v->dsp->scale(d + half, lv->src + 3 * band + row, v->pg->kd, half);
}

/* Synthesis: s_i, d_i become rows 2i, 2i+1 after the horizontal synthesis. */
static void syn_store(const Stream *v, int i, void *ctx)
{
    const Level *lv = ctx;
    float *r = lv->dst + (size_t)(2 * i) * lv->wl;
    row_synthesis(v->dsp, v->pg, st_s(v, i), r, lv->wl, lv->tmp);
    row_synthesis(v->dsp, v->pg, st_d(v, i), r + lv->wl, lv->wl, lv->tmp);
}

/* One level on `planes` planes of hl x wl; src and dst must not overlap.
 * Analysis turns each plane into its 4 subbands (same footprint), synthesis
 * the reverse. */
static void run_level(const LwcWptDsp *dsp, const LwcWptProg *pg, int analysis, const float *src, float *dst,
                      size_t planes, int hl, int wl, float *scratch)
{
    size_t ps = (size_t)hl * wl;
    Stream v;
    stream_init(&v, dsp, pg, hl, wl, scratch);
    for (size_t p = 0; p < planes; p++) {
        Level lv = { src + p * ps, dst + p * ps, hl, wl, scratch + (size_t)RING * 2 * wl };
        if (analysis) stream_run(&v, an_load, an_store, &lv);
        else stream_run(&v, syn_load, syn_store, &lv);
    }
}

/* --- drivers -------------------------------------------------------------- */

static size_t plane_floats(int h, int w)
{
    size_t hw = (size_t)h * (size_t)w;
    return (hw + 15) & ~(size_t)15; /* keep the scratch after it 64-byte aligned */
}

size_t lwc_wpt_work_size(int h, int w)
{
    return plane_floats(h, w) + (size_t)(2 * RING + 1) * (size_t)w;
}

static void check_shape(int c, int h, int w, int levels)
{
    assert(c >= 0 && levels >= 0 && levels < 16);
    assert(h >= (1 << levels) && w >= (1 << levels));
    assert(h % (1 << levels) == 0 && w % (1 << levels) == 0);
    (void)c; (void)h; (void)w; (void)levels;
}

/* Levels 1..J (analysis) or J..1 (synthesis). Each level reads the previous
 * level's output (the input for the first) and writes the other of {out,
 * work plane}, chosen so that the last level lands in out. */
void lwc_wpt_transform(const LwcWptProg *pg, int analysis, const float *in, int c, int h,
                       int w, int levels, float *out, float *work)
{
    size_t hw = (size_t)h * w;
    const LwcWptDsp *dsp = lwc_wpt_dsp(lwc_cpu_flags());
    float *buf = work, *scratch = work + plane_floats(h, w);
    check_shape(c, h, w, levels);
    for (int ch = 0; ch < c; ch++) {
        const float *src = in + (size_t)ch * hw;
        float *o = out + (size_t)ch * hw;
        if (levels == 0) memcpy(o, src, hw * sizeof(float));
        for (int n = 0; n < levels; n++) {
            int l = analysis ? n + 1 : levels - n;  /* level being computed */
            int left = levels - 1 - n;              /* levels still to run after it */
            float *dst = left % 2 == 0 ? o : buf;
            run_level(dsp, pg, analysis, src, dst, (size_t)1 << (2 * (l - 1)),
                      h >> (l - 1), w >> (l - 1), scratch);
            src = dst;
        }
    }
}

void lwc_wpt_inverse(const float *y, int c, int h, int w, int levels,
                     float *x, float *work)
{
    lwc_wpt_transform(&g_inverse, 0, y, c, h, w, levels, x, work);
}
