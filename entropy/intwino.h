/* Exact integer Winograd F(2x2, 3x3) for 3x3 integer layers (LwcIntConv).
 *
 * With G' = 2G = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]], B^T = [[1,0,-1,0],
 * [0,1,1,0],[0,-1,1,0],[0,1,0,-1]] and A^T = [[1,1,1,0],[0,1,-1,-1]]:
 *   U' = G' g G'^T      (per output/input channel pair, int16: |U'| <= 9 max|w|)
 *   V  = B^T d B        (per 4x4 input tile d, int16 for |d| <= 8191/4)
 *   Y' = A^T (sum_ci U' (.) V) A = 4 * (the 3x3 sums of the tile's 2x2 outputs)
 * an identity of integer polynomials, so it holds in Z/2^32 (uint32 wrap,
 * pmaddwd/vpdpwssd) too. When the layer's inputs lie in [-act, act] and every
 * output channel has sum|w| * act + |bias| < 2^29 (lwc_intwino_eligible), the
 * true 4 * sum lies within int32, so the wrapped Y' is it exactly; then
 * sum = Y' / 4 (exact), acc = sum + bias and the requantisation of
 * intconv.h give the same bits as lwc_intconv_forward_range.
 *
 * Tiles sit at even rows and columns of the map (zero padding outside);
 * a call over output rows [r0, r1) reads only input rows [r0-1, r1+1) (the
 * others are taken as zero: they reach only outputs it does not write) and
 * writes only rows r0 .. r1-1. */
#ifndef LWC_INTWINO_H
#define LWC_INTWINO_H

#include <stddef.h>
#include <stdint.h>

#include "entropy/intconv.h"

#define LWC_INTWINO_ACC_BOUND (1 << 29)

/* 1 when l is a 3x3 layer whose every output channel has
 * sum|w| * act + |bias| < 2^29 and whose transformed weights fit int16. */
int lwc_intwino_eligible(const LwcIntConv *l, int act);
/* int16 elements of the transformed weights:
 * 16 * round_up(cout, 4) * round_up(cin, 2), layout [t][cout][cin], zero padded. */
size_t lwc_intwino_weight_count(const LwcIntConv *l);
void lwc_intwino_weights(const LwcIntConv *l, int16_t *wu);

/* Work buffer of a forward over an h x w map, in int32 elements (bounded:
 * it does not grow with h). */
size_t lwc_intwino_work_size(const LwcIntConv *l, int h, int w);
/* Output rows [r0, r1) of the layer over planar x [cin][h][w] (values in
 * [-act, act] of lwc_intwino_eligible; l->wu set by lwc_intwino_weights):
 * y[o*h*w + i*w + j] for r0 <= i < r1, as lwc_intconv_forward_range over
 * positions r0*w .. r1*w with LWC_INT_ALL. */
void lwc_intwino_forward_rows(const LwcIntConv *l, const int16_t *x, int h, int w, int r0, int r1,
                              int16_t *y, int32_t *work);

/* Kernel table (all sets give the same bits).
 * gemm: m[o*n + p] = sum_c u[o*cinp + c] * v[(c/2)*2n + 2p + (c&1)] mod 2^32
 *       for o < ob (a multiple of 4), p < n (a multiple of 16);
 * out:  for p < n (a multiple of 16), the 2x2 outputs of tile p of one
 *       output channel from m[t*ts + p] (t = 4*row + column of the 4x4
 *       product): q[row*2n + 2p + col] = requant(Y'_(row,col) / 4 + bias);
 * vin:  the input transform of nt tiles of one channel pair: r[ch][a] is
 *       input row a of the tiles from the first one's left neighbour (2nt + 2
 *       columns, readable up to 2 * round_up(nt, 16) + 34); V_t of tile k
 *       and channel ch goes to v[t*ts + 2k + ch], computed in 16-bit
 *       wrapping arithmetic (exact for inputs within +-2047). */
typedef struct LwcIntWinoDsp {
    const char *name; /* "c", "sse41", "avx2", "avx512vnni" */
    void (*gemm)(const int16_t *u, int cinp, int ob, const int16_t *v, int n, int32_t *m);
    void (*out)(const int32_t *m, size_t ts, int n, int32_t bias, int32_t mult, int shift, int32_t lo,
                int32_t hi, int16_t *q);
    void (*vin)(const int16_t *const r[2][4], int nt, int16_t *v, size_t ts);
} LwcIntWinoDsp;

/* The best set that CPU flags `flags` allow (0: the C reference; NEON
 * uses the C reference). lwc_intwino_forward_rows uses
 * lwc_intwino_dsp(lwc_cpu_flags()), or the C set while
 * lwc_intconv_force_reference(1) holds. */
const LwcIntWinoDsp *lwc_intwino_dsp(unsigned flags);
/* 1 when lwc_intwino_forward_rows would run a SIMD set, or the direct
 * layers run their C reference too: where it returns 0 (AArch64, an x86
 * with SSE2 only) the direct SIMD convolution is the faster of the two
 * (same bits either way). */
int lwc_intwino_preferred(void);
void lwc_intwino_forward_rows_dsp(const LwcIntWinoDsp *d, const LwcIntConv *l, const int16_t *x, int h,
                                  int w, int r0, int r1, int16_t *y, int32_t *work);

#endif
