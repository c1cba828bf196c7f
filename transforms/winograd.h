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

/* Kernel selection for the transforms: the C code, or the same code
 * compiled for AVX2 where __builtin_cpu_supports allows and the mask
 * permits (bit 1; 0 = the C build). Both give identical bits. Returns the
 * old mask. Not thread-safe: for tests and benchmarks. */
#define LWC_WINO_CPU_AVX2 2u
unsigned lwc_wino_set_cpu_mask(unsigned mask);
/* Name of the kernels in use: "c" or "avx2". */
const char *lwc_wino_kernel_name(void);

#endif
