/* Winograd F(4x4, 3x3) convolution (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016) for the decoder's 3x3 stride-1
 * zero-padded float layers.
 *
 * Each 4x4 block of outputs comes from a 6x6 block of inputs: the input
 * block and the 3x3 kernel are both taken to a 6x6 "Winograd domain"
 * (V = B^T d B, U = G g G^T), multiplied element by element and summed over
 * input channels (36 GEMMs of cout x cin by cin x tiles), and brought back
 * (Y = A^T M A). That is 36 multiplies per 16 outputs instead of 144, and
 * the GEMM operands are 36/16 = 2.25 times the input instead of im2col's 9.
 *
 * Forward only: the trainer and the reference kernels keep the direct
 * (im2col) convolution. Results differ from it by float rounding (about
 * 1e-6 relative), not in which values are computed.
 *
 * Alignment: a caller that computes an image in pieces (bands, row chunks)
 * and wants the same bits as in one piece keeps the tiles at the same
 * absolute rows and the GEMMs the same shape (lwc_wino_group_rows). */
#ifndef LWC_WINOGRAD_H
#define LWC_WINOGRAD_H

#include <stddef.h>

#define LWC_WINO_TILE 4 /* output rows and columns per tile */

/* Floats of transformed weights for a cin -> cout layer (36 * cout * cin). */
size_t lwc_wino_weight_floats(int cin, int cout);
/* c[e][3a + b] = G[e / 6][a] G[e % 6][b]: element e of G g G^T is the sum
 * over the 9 taps of c[e][tap] g[tap] (the trainer's vectorised transform). */
void lwc_wino_weight_coefs(float c[36][9]);
/* u[36][cout][cin] = G g G^T of each 3x3 kernel of wt[cout][cin][3][3]. */
void lwc_wino_weights(const float *wt, int cin, int cout, float *u);
/* Floats of work for `tile_rows` rows of tiles at width w. */
size_t lwc_wino_work_floats(int cin, int cout, int w, int tile_rows);
/* Tile rows per GEMM for width w: the decoder computes every output through
 * groups of this many tile rows, at fixed positions, so that each GEMM has
 * the same shape wherever the rows fall (OpenBLAS's bits for a column can
 * depend on the number of columns). */
int lwc_wino_group_rows(int w);
/* y = conv3x3(x, wt) + bias (zero padding 1, stride 1), x: cin planes of
 * h x w, u from lwc_wino_weights. Computes the `tile_rows` rows of tiles
 * whose first starts at output row ty0 (ty0 may be negative and tiles may
 * pass row h: those outputs are dropped) with one GEMM per Winograd element,
 * and stores the outputs of rows [oy0, oy1), which must lie inside them.
 * Only tiles that hold a stored row read x (rows ty-1 .. ty+4 of a tile at
 * ty; rows outside [0, h) are zeros); the others enter the GEMMs as zeros.
 * y points at row oy0 of plane 0, ldy floats between planes. relu != 0
 * clamps the stored outputs at 0. */
void lwc_wino_conv3x3_rows(const float *x, int cin, int h, int w, const float *u,
                           const float *bias, int cout, int ty0, int tile_rows, int oy0,
                           int oy1, float *y, size_t ldy, int relu, float *work);

/* Kernel table of the transforms (winograd.c): one plain C template
 * compiled as the C set and with target("avx2"); both give identical bits.
 * Arrays passed as restrict do not overlap anything else. */
typedef struct LwcWinoDsp {
    const char *name; /* "c" or "avx2" */
    /* 1-D B^T: t_k[i] from d_0..5[i], i < n. */
    void (*bt6)(float *restrict t0, float *restrict t1, float *restrict t2, float *restrict t3,
                float *restrict t4, float *restrict t5, const float *d0, const float *d1,
                const float *d2, const float *d3, const float *d4, const float *d5, size_t n);
    /* 1-D A^T: o_k[i] from m_0..5[i], i < n. */
    void (*at6)(float *restrict o0, float *restrict o1, float *restrict o2, float *restrict o3,
                const float *m0, const float *m1, const float *m2, const float *m3, const float *m4,
                const float *m5, size_t n);
    /* r[q*np + j] = lin[4j + q], q < 4, j < np. */
    void (*phases)(const float *restrict lin, float *restrict r, size_t np);
    /* out[4j + q] = src[q*n + j] + bias for the w columns 4j + q (w <= 4n),
     * then clamped at 0 when relu != 0. */
    void (*store_row)(float *restrict out, const float *restrict src, size_t n, int w, float bias,
                      int relu);
} LwcWinoDsp;

/* The best set that CPU flags `flags` (common/cpu.h) allow; flags 0 gives
 * the C set. lwc_wino_conv3x3_rows uses lwc_wino_dsp(lwc_cpu_flags()). */
const LwcWinoDsp *lwc_wino_dsp(unsigned flags);
/* Name of the set in use now. */
const char *lwc_wino_kernel_name(void);

#endif
