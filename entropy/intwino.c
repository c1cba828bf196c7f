/* Exact integer Winograd F(2x2, 3x3) (see intwino.h).
 *
 * A call walks the tiles of its rows (tile row ty holds output rows 2ty and
 * 2ty+1, tile tx columns 2tx and 2tx+1) in chunks of T tiles: the input
 * transform writes V in the pair layout of intconv.c ([t][cin/2][T] words,
 * channel 2i in the low half, 2i+1 in the high half), then for each block of
 * output channels 16 GEMMs (one per tile position t: [cout x cin] U'_t times
 * [cin x T] V_t, cin paired for pmaddwd / vpdpwssd) give M, and the output
 * transform, the division by 4, the bias and the requantisation give the
 * int16 outputs, which are scattered to the map. The GEMMs dominate: per
 * output 4 * cin multiply-adds instead of the direct 3x3's 9 * cin.
 *
 * Bit-exactness between sets: every set computes M in Z/2^32 (the C
 * reference in uint32, pmaddwd + paddd or vpdpwssd, never the saturating
 * vpdpwssds), the output transform in Z/2^32, Y' / 4 as an arithmetic shift
 * of the wrapped int32 (floor; exact when Y' = 4 * sum), and the same
 * requantisation as intconv.c. The input transform runs in 16-bit wrapping
 * arithmetic (V is exact for inputs within +-2047: |V| <= 4 * 2047). Sets:
 * C, SSE4.1 (the GEMM tile of intconv.c's SSE2 and SSE4.1 sets, the AVX2
 * transforms at 128 bits), AVX2, AVX-512 VNNI (AVX2's transforms); NEON
 * and SSE2-only CPUs use the C reference (no kernels there yet; the layers
 * then run as direct convolutions, lwc_intwino_preferred). */
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "entropy/intwino.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LWC_INTWINO_X86 1
#include <immintrin.h>
#else
#define LWC_INTWINO_X86 0
#endif

#define OBLK 16 /* output channels per block of GEMMs (M stays in L1/L2) */

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

/* ---- weights ---------------------------------------------------------------- */


/* U' = G' g G'^T of one 3x3 kernel, in int32. */
static void wino_kernel(const int16_t *g, int32_t u[16])
{
    int32_t t[4][3];
    for (int c = 0; c < 3; c++) {
        int32_t g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
        t[0][c] = 2 * g0;
        t[1][c] = g0 + g1 + g2;
        t[2][c] = g0 - g1 + g2;
        t[3][c] = 2 * g2;
    }
    for (int r = 0; r < 4; r++) {
        u[4 * r + 0] = 2 * t[r][0];
        u[4 * r + 1] = t[r][0] + t[r][1] + t[r][2];
        u[4 * r + 2] = t[r][0] - t[r][1] + t[r][2];
        u[4 * r + 3] = 2 * t[r][2];
    }
}

int lwc_intwino_eligible(const LwcIntConv *l, int act)
{
    if (l->k != 3 || l->cin < 1 || l->cout < 1 || act < 0) return 0;
    if (lwc_intconv_max_acc(l, act) >= LWC_INTWINO_ACC_BOUND) return 0;
    int kk = 9 * l->cin;
    for (int o = 0; o < l->cout; o++) {
        for (int c = 0; c < l->cin; c++) {
            int32_t u[16];
            wino_kernel(l->w + (size_t)o * kk + 9 * c, u);
            for (int t = 0; t < 16; t++)
                if (u[t] < INT16_MIN || u[t] > INT16_MAX) return 0;
        }
    }
    return 1;
}

size_t lwc_intwino_weight_count(const LwcIntConv *l)
{
    return (size_t)16 * round_up(l->cout, 4) * round_up(l->cin, 2);
}

void lwc_intwino_weights(const LwcIntConv *l, int16_t *wu)
{
    int coutp = round_up(l->cout, 4), cinp = round_up(l->cin, 2);
    memset(wu, 0, lwc_intwino_weight_count(l) * sizeof(*wu));
    for (int o = 0; o < l->cout; o++)
        for (int c = 0; c < l->cin; c++) {
            int32_t u[16];
            wino_kernel(l->w + ((size_t)o * l->cin + c) * 9, u);
            for (int t = 0; t < 16; t++) wu[((size_t)t * coutp + o) * cinp + c] = (int16_t)u[t];
        }
}

/* ---- C reference ------------------------------------------------------------ */

static inline int64_t round_shift(int64_t v, int s)
{
    int64_t half = (int64_t)1 << (s - 1);
    int64_t t = v + half;
    if (t >= 0) return t >> s;
    return -(((-t) + ((int64_t)1 << s) - 1) >> s);
}

/* intconv.c's requantisation of a wrapped accumulator. */
static inline int16_t requant(uint32_t acc, int32_t mult, int shift, int32_t lo, int32_t hi)
{
    int64_t v = round_shift((int64_t)(int32_t)acc * mult, shift);
    return (int16_t)(v < lo ? lo : v > hi ? hi : v);
}

static void gemm_c(const int16_t *u, int cinp, int ob, const int16_t *v, int n, int32_t *m)
{
    for (int o = 0; o < ob; o++) {
        uint32_t *acc = (uint32_t *)m + (size_t)o * n;
        for (int p = 0; p < n; p++) acc[p] = 0;
        for (int c = 0; c < cinp; c++) {
            uint32_t wc = (uint32_t)(int32_t)u[(size_t)o * cinp + c];
            if (!wc) continue;
            const int16_t *x = v + (size_t)(c / 2) * 2 * n + (c & 1);
            for (int p = 0; p < n; p++) acc[p] += wc * (uint32_t)(int32_t)x[2 * p];
        }
    }
}

/* floor(y / 4) of the wrapped int32 y, without shifting a negative number
 * (y & ~3 is a multiple of 4, so the division is exact). */
static inline uint32_t quarter(uint32_t y) { return (uint32_t)((int32_t)(y & ~3u) / 4); }

static void out_c(const int32_t *m, size_t ts, int n, int32_t bias, int32_t mult, int shift, int32_t lo,
                  int32_t hi, int16_t *q)
{
    const uint32_t *mu = (const uint32_t *)m;
    for (int p = 0; p < n; p++) {
        uint32_t r[2][4];
        for (int b = 0; b < 4; b++) {
            uint32_t m0 = mu[(0 + b) * ts + p], m1 = mu[(4 + b) * ts + p];
            uint32_t m2 = mu[(8 + b) * ts + p], m3 = mu[(12 + b) * ts + p];
            r[0][b] = m0 + m1 + m2;
            r[1][b] = m1 - m2 - m3;
        }
        for (int a = 0; a < 2; a++) {
            uint32_t y0 = r[a][0] + r[a][1] + r[a][2], y1 = r[a][1] - r[a][2] - r[a][3];
            q[(size_t)a * 2 * n + 2 * p] = requant(quarter(y0) + (uint32_t)bias, mult, shift, lo, hi);
            q[(size_t)a * 2 * n + 2 * p + 1] = requant(quarter(y1) + (uint32_t)bias, mult, shift, lo, hi);
        }
    }
}

/* The input transform of nt tiles of one channel pair: r[ch][a] is input
 * row a of the tiles (2 * nt + 2 columns from the first tile's left
 * neighbour, readable up to a multiple of 32 plus 2). V_t = B^T d B of tile
 * k goes to the int16 pair (v[t*ts + 2k], v[t*ts + 2k + 1]) = (channel 0,
 * channel 1), in 16-bit wrapping arithmetic (exact for |d| <= 2047). */
static void vin_c(const int16_t *const r[2][4], int nt, int16_t *v, size_t ts)
{
    for (int ch = 0; ch < 2; ch++)
        for (int k = 0; k < nt; k++) {
            uint16_t f[4][4];
            for (int b = 0; b < 4; b++) {
                uint16_t d0 = (uint16_t)r[ch][0][2 * k + b], d1 = (uint16_t)r[ch][1][2 * k + b];
                uint16_t d2 = (uint16_t)r[ch][2][2 * k + b], d3 = (uint16_t)r[ch][3][2 * k + b];
                f[0][b] = (uint16_t)(d0 - d2);
                f[1][b] = (uint16_t)(d1 + d2);
                f[2][b] = (uint16_t)(d2 - d1);
                f[3][b] = (uint16_t)(d1 - d3);
            }
            for (int a = 0; a < 4; a++) {
                int16_t *va = v + (size_t)(4 * a) * ts + 2 * k + ch;
                va[0] = (int16_t)(uint16_t)(f[a][0] - f[a][2]);
                va[ts] = (int16_t)(uint16_t)(f[a][1] + f[a][2]);
                va[2 * ts] = (int16_t)(uint16_t)(f[a][2] - f[a][1]);
                va[3 * ts] = (int16_t)(uint16_t)(f[a][1] - f[a][3]);
            }
        }
}

static const LwcIntWinoDsp k_dsp_c = { "c", gemm_c, out_c, vin_c };

#if LWC_INTWINO_X86
static inline int32_t load_pair(const int16_t *w)
{
    int32_t v;
    memcpy(&v, w, sizeof(v));
    return v;
}

#include "entropy/intconv_x86.h"

/* The transforms' butterflies, shared by the SSE4.1 and AVX2 sets (ADD and
 * SUB: the wrapping lane adds of the set's width).
 * WINO_OUT: y[0], y[1] (output row 0, columns 0 and 1) and y[2], y[3] (row
 * 1) of Y' = A^T M A, M_t = LD(t) for t = 4 * row + column, in int32 lanes.
 * WINO_VIN_COLS: the horizontal input transform of rows a = 0..3 into
 * vt[4a + b]: called with h = 0 on the even and odd columns 2j, 2j+1 of
 * tile j (g0, g1), then with h = 1 on 2j+2, 2j+3 (g2, g3), in int16 lanes:
 * V = (g0 - g2, g1 + g2, g2 - g1, g1 - g3). */
#define WINO_OUT(y, LD, ADD, SUB)                                              \
    do {                                                                       \
        __typeof__(y[0]) r0_[4], r1_[4];                                       \
        for (int b_ = 0; b_ < 4; b_++) {                                       \
            r0_[b_] = ADD(ADD(LD(b_), LD(4 + b_)), LD(8 + b_));                \
            r1_[b_] = SUB(SUB(LD(4 + b_), LD(8 + b_)), LD(12 + b_));           \
        }                                                                      \
        y[0] = ADD(ADD(r0_[0], r0_[1]), r0_[2]);                               \
        y[1] = SUB(SUB(r0_[1], r0_[2]), r0_[3]);                               \
        y[2] = ADD(ADD(r1_[0], r1_[1]), r1_[2]);                               \
        y[3] = SUB(SUB(r1_[1], r1_[2]), r1_[3]);                               \
    } while (0)

#define WINO_VIN_COLS(vt, ev, od, h, ADD, SUB)                                 \
    do {                                                                       \
        for (int a_ = 0; a_ < 4; a_++) {                                       \
            if (!(h)) {                                                        \
                vt[4 * a_ + 0] = ev[a_];                                       \
                vt[4 * a_ + 1] = od[a_];                                       \
                vt[4 * a_ + 3] = od[a_];                                       \
            } else {                                                           \
                vt[4 * a_ + 0] = SUB(vt[4 * a_ + 0], ev[a_]);                  \
                vt[4 * a_ + 2] = SUB(ev[a_], vt[4 * a_ + 1]);                  \
                vt[4 * a_ + 1] = ADD(vt[4 * a_ + 1], ev[a_]);                  \
                vt[4 * a_ + 3] = SUB(vt[4 * a_ + 3], od[a_]);                  \
            }                                                                  \
        }                                                                      \
    } while (0)

/* The vertical input transform of rows d0..d3 (B^T d): f[0..3]. */
#define WINO_VIN_ROWS(f, d0, d1, d2, d3, ADD, SUB)                             \
    do {                                                                       \
        f[0] = SUB(d0, d2);                                                    \
        f[1] = ADD(d1, d2);                                                    \
        f[2] = SUB(d2, d1);                                                    \
        f[3] = SUB(d1, d3);                                                    \
    } while (0)

/* --- SSE4.1: 4 tiles per vector ---
 * The GEMM is the 128-bit tile of intconv.c's SSE2 and SSE4.1 sets
 * (madd_tile_sse2: 4 outputs x 8 tiles), the requantisation theirs
 * (rq4_sse41); the transforms follow the AVX2 set, 8 tiles per step. */
SSE41_FN static void gemm_sse41(const int16_t *u, int cinp, int ob, const int16_t *v, int n, int32_t *m)
{
    int npair = cinp / 2;
    for (int p = 0; p < n; p += 8)
        for (int o = 0; o < ob; o += 4) {
            __m128i a[8];
            for (int k = 0; k < 8; k++) a[k] = _mm_setzero_si128();
            madd_tile_sse2(u + (size_t)o * cinp, (size_t)cinp, 4, npair, npair,
                           (const uint32_t *)(v + 2 * (size_t)p), (size_t)n, a);
            int32_t *mo = m + (size_t)o * n + p;
            for (int k = 0; k < 8; k++) _mm_storeu_si128((__m128i *)(mo + (size_t)(k / 2) * n + 4 * (k & 1)), a[k]);
        }
}

#define LD4(t) _mm_loadu_si128((const __m128i *)(m + (t) * ts + p))

SSE41_FN static void out_sse41(const int32_t *m, size_t ts, int n, int32_t bias, int32_t mult, int shift,
                               int32_t lo, int32_t hi, int16_t *q)
{
    RqSse41 rq = rq_sse41(mult, shift, lo, hi);
    __m128i vb = _mm_set1_epi32(bias);
    for (int p = 0; p < n; p += 4) {
        __m128i y[4], o[4];
        WINO_OUT(y, LD4, _mm_add_epi32, _mm_sub_epi32);
        for (int k = 0; k < 4; k++) o[k] = rq4_sse41(_mm_add_epi32(_mm_srai_epi32(y[k], 2), vb), &rq);
        /* rows a = 0, 1: the two columns of each tile interleaved */
        _mm_storeu_si128((__m128i *)(q + 2 * p),
                         narrow8_sse41(_mm_unpacklo_epi32(o[0], o[1]), _mm_unpackhi_epi32(o[0], o[1])));
        _mm_storeu_si128((__m128i *)(q + 2 * (size_t)n + 2 * p),
                         narrow8_sse41(_mm_unpacklo_epi32(o[2], o[3]), _mm_unpackhi_epi32(o[2], o[3])));
    }
}
#undef LD4

/* 16 int16 at a and b -> their even lanes and their odd lanes (8 each). */
SSE41_INLINE void deint_sse41(__m128i a, __m128i b, __m128i *ev, __m128i *od)
{
    const __m128i split = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    a = _mm_shuffle_epi8(a, split);
    b = _mm_shuffle_epi8(b, split);
    *ev = _mm_unpacklo_epi64(a, b);
    *od = _mm_unpackhi_epi64(a, b);
}

#define LDR4(ch, a, off) _mm_loadu_si128((const __m128i *)(r[ch][a] + 2 * k + (off)))

/* 8 tiles from column 2k, as vin16_avx2: the vertical transform on the
 * columns 2k .. 2k+17 (at 2k and 2k+2), then the horizontal one. */
SSE41_INLINE void vin8_sse41(const int16_t *const r[2][4], int k, __m128i vt[2][16])
{
    for (int ch = 0; ch < 2; ch++)
        for (int h = 0; h < 2; h++) {
            __m128i f[2][4], ev[4], od[4];
            for (int half = 0; half < 2; half++) {
                int off = 2 * h + 8 * half;
                WINO_VIN_ROWS(f[half], LDR4(ch, 0, off), LDR4(ch, 1, off), LDR4(ch, 2, off), LDR4(ch, 3, off),
                              _mm_add_epi16, _mm_sub_epi16);
            }
            for (int a = 0; a < 4; a++) deint_sse41(f[0][a], f[1][a], &ev[a], &od[a]);
            WINO_VIN_COLS(vt[ch], ev, od, h, _mm_add_epi16, _mm_sub_epi16);
        }
}
#undef LDR4

/* The first `left` words (at most 8) of w0, w1 to dst. */
SSE41_INLINE void store_words_sse41(int16_t *dst, __m128i w0, __m128i w1, int left)
{
    if (left >= 4) {
        _mm_storeu_si128((__m128i *)dst, w0);
        if (left >= 8) {
            _mm_storeu_si128((__m128i *)(dst + 8), w1);
            return;
        }
        dst += 8;
        w0 = w1;
        left -= 4;
    }
    if (left >= 2) {
        _mm_storel_epi64((__m128i *)dst, w0);
        dst += 4;
        w0 = _mm_srli_si128(w0, 8);
    }
    if (left & 1) {
        int32_t word = _mm_cvtsi128_si32(w0);
        memcpy(dst, &word, sizeof(word));
    }
}

SSE41_FN static void vin_sse41(const int16_t *const r[2][4], int nt, int16_t *v, size_t ts)
{
    for (int k = 0; k < nt; k += 8) {
        __m128i vt[2][16];
        vin8_sse41(r, k, vt);
        for (int t = 0; t < 16; t++)
            store_words_sse41(v + (size_t)t * ts + 2 * k, _mm_unpacklo_epi16(vt[0][t], vt[1][t]),
                              _mm_unpackhi_epi16(vt[0][t], vt[1][t]), nt - k);
    }
}

static const LwcIntWinoDsp k_dsp_sse41 = { "sse41", gemm_sse41, out_sse41, vin_sse41 };

/* --- AVX2 --- */

/* Outputs o..o+3 x tiles p..p+15: 8 named accumulators. */
AVX2_FN static void gemm_avx2(const int16_t *u, int cinp, int ob, const int16_t *v, int n, int32_t *m)
{
    int npair = cinp / 2;
    for (int p = 0; p < n; p += 16)
        for (int o = 0; o < ob; o += 4) {
            const int16_t *w0 = u + (size_t)o * cinp, *w1 = w0 + cinp, *w2 = w1 + cinp, *w3 = w2 + cinp;
            __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
            __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            const int16_t *x = v + 2 * (size_t)p;
            for (int ip = 0; ip < npair; ip++, x += 2 * (size_t)n) {
                __m256i x0 = _mm256_loadu_si256((const __m256i *)x);
                __m256i x1 = _mm256_loadu_si256((const __m256i *)(x + 16));
                __m256i b = _mm256_set1_epi32(load_pair(w0 + 2 * ip));
                MADD256(a00, x0, b);
                MADD256(a01, x1, b);
                b = _mm256_set1_epi32(load_pair(w1 + 2 * ip));
                MADD256(a10, x0, b);
                MADD256(a11, x1, b);
                b = _mm256_set1_epi32(load_pair(w2 + 2 * ip));
                MADD256(a20, x0, b);
                MADD256(a21, x1, b);
                b = _mm256_set1_epi32(load_pair(w3 + 2 * ip));
                MADD256(a30, x0, b);
                MADD256(a31, x1, b);
            }
            int32_t *mo = m + (size_t)o * n + p;
            _mm256_storeu_si256((__m256i *)mo, a00);
            _mm256_storeu_si256((__m256i *)(mo + 8), a01);
            _mm256_storeu_si256((__m256i *)(mo + n), a10);
            _mm256_storeu_si256((__m256i *)(mo + n + 8), a11);
            _mm256_storeu_si256((__m256i *)(mo + 2 * n), a20);
            _mm256_storeu_si256((__m256i *)(mo + 2 * n + 8), a21);
            _mm256_storeu_si256((__m256i *)(mo + 3 * n), a30);
            _mm256_storeu_si256((__m256i *)(mo + 3 * n + 8), a31);
        }
}

#define LD8(t) _mm256_loadu_si256((const __m256i *)(m + (t) * ts + p))

AVX2_FN static void out_avx2(const int32_t *m, size_t ts, int n, int32_t bias, int32_t mult, int shift,
                             int32_t lo, int32_t hi, int16_t *q)
{
    RqAvx2 rq;
    rq.mult = _mm256_set1_epi32(mult);
    rq.half = _mm256_set1_epi64x((int64_t)1 << (shift - 1));
    rq.lo = _mm256_set1_epi64x(lo);
    rq.hi = _mm256_set1_epi64x(hi);
    rq.cnt = _mm_cvtsi32_si128(shift);
    __m256i vb = _mm256_set1_epi32(bias);
    for (int p = 0; p < n; p += 8) {
        __m256i y[4];
        WINO_OUT(y, LD8, _mm256_add_epi32, _mm256_sub_epi32);
        __m128i o[4];
        for (int k = 0; k < 4; k++) o[k] = rq8_avx2(_mm256_add_epi32(_mm256_srai_epi32(y[k], 2), vb), &rq);
        /* rows a = 0, 1: the two columns of each tile interleaved */
        _mm_storeu_si128((__m128i *)(q + 2 * p), _mm_unpacklo_epi16(o[0], o[1]));
        _mm_storeu_si128((__m128i *)(q + 2 * p + 8), _mm_unpackhi_epi16(o[0], o[1]));
        _mm_storeu_si128((__m128i *)(q + 2 * (size_t)n + 2 * p), _mm_unpacklo_epi16(o[2], o[3]));
        _mm_storeu_si128((__m128i *)(q + 2 * (size_t)n + 2 * p + 8), _mm_unpackhi_epi16(o[2], o[3]));
    }
}
#undef LD8

/* 32 int16 at a and a + 16 -> their even lanes and their odd lanes (16 each). */
AVX2_INLINE void deint_avx2(__m256i a, __m256i b, __m256i *ev, __m256i *od)
{
    __m256i ea = _mm256_srai_epi32(_mm256_slli_epi32(a, 16), 16), eb = _mm256_srai_epi32(_mm256_slli_epi32(b, 16), 16);
    __m256i oa = _mm256_srai_epi32(a, 16), ob = _mm256_srai_epi32(b, 16);
    *ev = _mm256_permute4x64_epi64(_mm256_packs_epi32(ea, eb), 0xD8); /* exact: sign-extended int16 */
    *od = _mm256_permute4x64_epi64(_mm256_packs_epi32(oa, ob), 0xD8);
}

#define LDR(ch, a, off) _mm256_loadu_si256((const __m256i *)(r[ch][a] + 2 * k + (off)))

/* 16 tiles from column 2k: the vertical transform on the columns 2k .. 2k+33
 * (as two pairs of vectors, at 2k and 2k+2), then the horizontal one on
 * their even and odd lanes. */
AVX2_INLINE void vin16_avx2(const int16_t *const r[2][4], int k, __m256i vt[2][16])
{
    for (int ch = 0; ch < 2; ch++)
        for (int h = 0; h < 2; h++) { /* h = 0: columns 2k.., h = 1: 2k+2.. */
            __m256i ev[4], od[4];
            for (int half = 0; half < 2; half++) {
                int off = 2 * h + 16 * half;
                __m256i f[4];
                WINO_VIN_ROWS(f, LDR(ch, 0, off), LDR(ch, 1, off), LDR(ch, 2, off), LDR(ch, 3, off),
                              _mm256_add_epi16, _mm256_sub_epi16);
                for (int a = 0; a < 4; a++) {
                    if (!half) ev[a] = f[a];
                    else deint_avx2(ev[a], f[a], &ev[a], &od[a]);
                }
            }
            WINO_VIN_COLS(vt[ch], ev, od, h, _mm256_add_epi16, _mm256_sub_epi16);
        }
}
#undef LDR

AVX2_FN static void vin_avx2(const int16_t *const r[2][4], int nt, int16_t *v, size_t ts)
{
    for (int k = 0; k < nt; k += 16) {
        __m256i vt[2][16];
        vin16_avx2(r, k, vt);
        int left = nt - k; /* words of this step: 16 or fewer (masked) */
        __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15));
        for (int t = 0; t < 16; t++) {
            __m256i lo = _mm256_unpacklo_epi16(vt[0][t], vt[1][t]), hi = _mm256_unpackhi_epi16(vt[0][t], vt[1][t]);
            __m256i w0 = _mm256_permute2x128_si256(lo, hi, 0x20), w1 = _mm256_permute2x128_si256(lo, hi, 0x31);
            int *dst = (int *)(v + (size_t)t * ts + 2 * k);
            if (left >= 16) {
                _mm256_storeu_si256((__m256i *)dst, w0);
                _mm256_storeu_si256((__m256i *)(dst + 8), w1);
            } else {
                _mm256_maskstore_epi32(dst, m0, w0);
                _mm256_maskstore_epi32(dst + 8, m1, w1);
            }
        }
    }
}

static const LwcIntWinoDsp k_dsp_avx2 = { "avx2", gemm_avx2, out_avx2, vin_avx2 };

/* --- AVX-512 VNNI: vpdpwssd (wrapping), 4 outputs x 32 or 16 tiles --- */
#define AVX512_TARGET "avx512f,avx512bw,avx512vl,avx512vnni"
#define AVX512_FN __attribute__((target(AVX512_TARGET)))

AVX512_FN static void gemm_avx512vnni(const int16_t *u, int cinp, int ob, const int16_t *v, int n,
                                      int32_t *m)
{
    int npair = cinp / 2, p = 0;
    for (; p + 32 <= n; p += 32)
        for (int o = 0; o < ob; o += 4) {
            const int16_t *w0 = u + (size_t)o * cinp, *w1 = w0 + cinp, *w2 = w1 + cinp, *w3 = w2 + cinp;
            __m512i a00 = _mm512_setzero_si512(), a01 = a00, a10 = a00, a11 = a00;
            __m512i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            const int16_t *x = v + 2 * (size_t)p;
            for (int ip = 0; ip < npair; ip++, x += 2 * (size_t)n) {
                __m512i x0 = _mm512_loadu_si512((const void *)x);
                __m512i x1 = _mm512_loadu_si512((const void *)(x + 32));
                __m512i b = _mm512_set1_epi32(load_pair(w0 + 2 * ip));
                a00 = _mm512_dpwssd_epi32(a00, x0, b);
                a01 = _mm512_dpwssd_epi32(a01, x1, b);
                b = _mm512_set1_epi32(load_pair(w1 + 2 * ip));
                a10 = _mm512_dpwssd_epi32(a10, x0, b);
                a11 = _mm512_dpwssd_epi32(a11, x1, b);
                b = _mm512_set1_epi32(load_pair(w2 + 2 * ip));
                a20 = _mm512_dpwssd_epi32(a20, x0, b);
                a21 = _mm512_dpwssd_epi32(a21, x1, b);
                b = _mm512_set1_epi32(load_pair(w3 + 2 * ip));
                a30 = _mm512_dpwssd_epi32(a30, x0, b);
                a31 = _mm512_dpwssd_epi32(a31, x1, b);
            }
            int32_t *mo = m + (size_t)o * n + p;
            _mm512_storeu_si512((void *)mo, a00);
            _mm512_storeu_si512((void *)(mo + 16), a01);
            _mm512_storeu_si512((void *)(mo + n), a10);
            _mm512_storeu_si512((void *)(mo + n + 16), a11);
            _mm512_storeu_si512((void *)(mo + 2 * n), a20);
            _mm512_storeu_si512((void *)(mo + 2 * n + 16), a21);
            _mm512_storeu_si512((void *)(mo + 3 * n), a30);
            _mm512_storeu_si512((void *)(mo + 3 * n + 16), a31);
        }
    if (p < n) /* 16 tiles left */
        for (int o = 0; o < ob; o += 4) {
            const int16_t *w0 = u + (size_t)o * cinp, *w1 = w0 + cinp, *w2 = w1 + cinp, *w3 = w2 + cinp;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            const int16_t *x = v + 2 * (size_t)p;
            for (int ip = 0; ip < npair; ip++, x += 2 * (size_t)n) {
                __m512i x0 = _mm512_loadu_si512((const void *)x);
                a0 = _mm512_dpwssd_epi32(a0, x0, _mm512_set1_epi32(load_pair(w0 + 2 * ip)));
                a1 = _mm512_dpwssd_epi32(a1, x0, _mm512_set1_epi32(load_pair(w1 + 2 * ip)));
                a2 = _mm512_dpwssd_epi32(a2, x0, _mm512_set1_epi32(load_pair(w2 + 2 * ip)));
                a3 = _mm512_dpwssd_epi32(a3, x0, _mm512_set1_epi32(load_pair(w3 + 2 * ip)));
            }
            int32_t *mo = m + (size_t)o * n + p;
            _mm512_storeu_si512((void *)mo, a0);
            _mm512_storeu_si512((void *)(mo + n), a1);
            _mm512_storeu_si512((void *)(mo + 2 * n), a2);
            _mm512_storeu_si512((void *)(mo + 3 * n), a3);
        }
}

/* The transforms are AVX2's (the GEMMs dominate). */
static const LwcIntWinoDsp k_dsp_avx512vnni = { "avx512vnni", gemm_avx512vnni, out_avx2, vin_avx2 };
#endif /* LWC_INTWINO_X86 */

const LwcIntWinoDsp *lwc_intwino_dsp(unsigned flags)
{
    const LwcIntWinoDsp *d = &k_dsp_c;
#if LWC_INTWINO_X86
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_SSE41)) d = &k_dsp_sse41;
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_AVX2)) d = &k_dsp_avx2;
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_AVX512VNNI)) d = &k_dsp_avx512vnni;
#endif
    return d;
}

/* ---- layer ------------------------------------------------------------------- */

#define CHUNK_BYTES (128 * 1024)

/* Tiles per chunk: V about CHUNK_BYTES, a multiple of 16, at least 32 (two
 * zmm of tiles per GEMM step). */
static int chunk_tiles(const LwcIntConv *l, int ntile)
{
    int npair = (l->cin + 1) / 2;
    int t = CHUNK_BYTES / (64 * npair) / 16 * 16;
    t = LWC_MAX(t, 32);
    return LWC_MIN(t, round_up(LWC_MAX(ntile, 1), 16));
}

static int tiles_of(int h, int w) { return ((h + 1) / 2) * ((w + 1) / 2); }

/* Scratch row width (int16): 2 * T + 2 columns, readable up to a multiple
 * of 32 past them plus 2 (vin_avx2), rounded to 16. */
static size_t row_width(int T) { return (size_t)2 * T + 64; }

size_t lwc_intwino_work_size(const LwcIntConv *l, int h, int w)
{
    size_t t = (size_t)chunk_tiles(l, tiles_of(h, w)), npair = ((size_t)l->cin + 1) / 2;
    size_t ob = (size_t)LWC_MIN(OBLK, round_up(l->cout, 4));
    /* V, M, q (4t int16), 9 scratch rows (int16) */
    return 16 * npair * t + 16 * ob * t + 2 * t + 9 * row_width((int)t) / 2;
}

/* V of tiles [q0, q0+n) (tile q: row ty0 + q / tw, column q % tw) into the
 * pair layout: int16 pair (v[(t*npair + ip)*2*np + 2p], ... + 1) holds
 * channels 2ip and 2ip+1 of tile p. Tiles n .. np-1 and the partner of an
 * odd last channel are zero; so are input rows outside [vlo, vhi). rows:
 * 9 scratch rows of row_width(T) int16 (8 rows, then a zero one). */
static void input_transform(const LwcIntWinoDsp *d, const int16_t *x, int cin, int h, int w, int vlo,
                            int vhi, int ty0, int tw, int q0, int n, int np, size_t rw, int16_t *v,
                            int16_t *rows)
{
    int npair = (cin + 1) / 2;
    size_t ts = (size_t)npair * 2 * np;
    const int16_t *zero = rows + 8 * rw;
    memset(rows + 8 * rw, 0, rw * sizeof(*rows));
    if (n < np)
        for (size_t r = 0; r < 16 * (size_t)npair; r++)
            memset(v + r * 2 * np + 2 * n, 0, (size_t)(np - n) * 2 * sizeof(*v));
    vlo = LWC_MAX(vlo, 0);
    vhi = LWC_MIN(vhi, h);
    for (int q = q0; q < q0 + n;) {
        int ty = ty0 + q / tw, txa = q % tw, nt = LWC_MIN(tw - txa, q0 + n - q), p0 = q - q0;
        int j0 = 2 * txa - 1, cnt = 2 * nt + 2; /* columns j0 .. j0+cnt-1 */
        int ja = LWC_MAX(j0, 0), jb = LWC_MIN(j0 + cnt, w);   /* inside the map */
        for (int ip = 0; ip < npair; ip++) {
            const int16_t *r[2][4];
            for (int ch = 0; ch < 2; ch++) {
                int c = 2 * ip + ch;
                for (int a = 0; a < 4; a++) {
                    int i = 2 * ty - 1 + a;
                    if (c >= cin || i < vlo || i >= vhi) {
                        r[ch][a] = zero;
                        continue;
                    }
                    int16_t *dst = rows + (size_t)(4 * ch + a) * rw;
                    for (int j = j0; j < ja; j++) dst[j - j0] = 0;
                    memcpy(dst + (ja - j0), x + ((size_t)c * h + i) * w + ja, (size_t)(jb - ja) * sizeof(*dst));
                    for (int j = jb; j < j0 + cnt; j++) dst[j - j0] = 0;
                    memset(dst + cnt, 0, (size_t)(2 * round_up(nt, 16) + 34 - cnt) * sizeof(*dst)); /* vector reads */
                    r[ch][a] = dst;
                }
            }
            d->vin(r, nt, v + (size_t)ip * 2 * np + 2 * p0, ts);
        }
        q += nt;
    }
}

/* Rows of tiles [q0, q0+n) from q (row a of tile p: q[a*2*np + 2p + col])
 * into rows [r0, r1) of yo. */
static void scatter(const int16_t *q, int np, int q0, int n, int ty0, int tw, int w, int r0, int r1,
                    int16_t *yo)
{
    for (int t = q0; t < q0 + n;) {
        int ty = ty0 + t / tw, txa = t % tw, nt = LWC_MIN(tw - txa, q0 + n - t);
        int j = 2 * txa, cnt = LWC_MIN(2 * nt, w - j);
        for (int a = 0; a < 2; a++) {
            int i = 2 * ty + a;
            if (i < r0 || i >= r1) continue;
            memcpy(yo + (size_t)i * w + j, q + (size_t)a * 2 * np + 2 * (t - q0), (size_t)cnt * sizeof(*yo));
        }
        t += nt;
    }
}

void lwc_intwino_forward_rows_dsp(const LwcIntWinoDsp *d, const LwcIntConv *l, const int16_t *x, int h,
                                  int w, int r0, int r1, int16_t *y, int32_t *work)
{
    r0 = LWC_MAX(r0, 0);
    r1 = LWC_MIN(r1, h);
    if (r0 >= r1) return;
    int tw = (w + 1) / 2, ty0 = r0 / 2, ty1 = (r1 - 1) / 2 + 1, ntile = (ty1 - ty0) * tw;
    int T = chunk_tiles(l, tiles_of(h, w)), npair = (l->cin + 1) / 2, cinp = 2 * npair;
    int coutp = round_up(l->cout, 4);
    size_t rw = row_width(T);
    int16_t *v = (int16_t *)work;
    int32_t *mb = work + (size_t)16 * npair * T;
    int16_t *q = (int16_t *)(mb + (size_t)16 * LWC_MIN(OBLK, coutp) * T);
    int16_t *rows = q + 4 * (size_t)T;
    for (int q0 = 0; q0 < ntile; q0 += T) {
        int n = LWC_MIN(T, ntile - q0), np = round_up(n, 16);
        input_transform(d, x, l->cin, h, w, r0 - 1, r1 + 1, ty0, tw, q0, n, np, rw, v, rows);
        for (int o0 = 0; o0 < coutp; o0 += OBLK) {
            int ob = LWC_MIN(OBLK, coutp - o0);
            size_t ts = (size_t)ob * np;
            for (int t = 0; t < 16; t++)
                d->gemm(l->wu + ((size_t)t * coutp + o0) * cinp, cinp, ob, v + (size_t)t * npair * 2 * np, np,
                        mb + t * ts);
            for (int o = o0; o < LWC_MIN(o0 + ob, l->cout); o++) {
                d->out(mb + (size_t)(o - o0) * np, ts, np, l->bias[o], l->mult[o], l->shift[o], l->lo, l->hi, q);
                scatter(q, np, q0, n, ty0, tw, w, r0, r1, y + (size_t)o * h * w);
            }
        }
    }
}

int lwc_intwino_preferred(void)
{
    return lwc_intwino_dsp(lwc_cpu_flags()) != &k_dsp_c || !strcmp(lwc_intconv_kernel_name(), "c");
}

void lwc_intwino_forward_rows(const LwcIntConv *l, const int16_t *x, int h, int w, int r0, int r1,
                              int16_t *y, int32_t *work)
{
    unsigned flags = strcmp(lwc_intconv_kernel_name(), "c") ? lwc_cpu_flags() : 0;
    lwc_intwino_forward_rows_dsp(lwc_intwino_dsp(flags), l, x, h, w, r0, r1, y, work);
}
