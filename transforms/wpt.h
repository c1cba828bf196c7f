/* Wavelet packet transform: CDF 9/7 lifting, full packet tree, NCHW floats.
 *
 * 1D step (the JPEG 2000 irreversible 9/7 lifting, Daubechies-Sweldens
 * factorisation), on an even-length signal split into s[i] = x[2i] and
 * d[i] = x[2i+1]:
 *     d += alpha (s[i] + s[i+1]);  s += beta (d[i-1] + d[i]);
 *     d += gamma (s[i] + s[i+1]);  s += delta (d[i-1] + d[i]);
 *     low = s * K/sqrt2,  high = d / (K*sqrt2)
 * Borders use whole-sample symmetric extension (x[-i] = x[i],
 * x[n-1+i] = x[n-1-i]), the standard 9/7 boundary handling.
 *
 * Normalisation (unit gain): after the four lifting steps the lowpass has DC
 * gain sqrt2/K and the highpass Nyquist gain K*sqrt2, so the final scaling
 * gives exactly 1 for both: a constant image stays the same constant in the
 * all-lowpass band, and coefficients keep the input's range. The filters are
 * the JPEG 2000 9/7 analysis filters with the highpass halved. The transform
 * is biorthogonal, not orthogonal: the inverse is not the transpose (use the
 * _adjoint functions for backpropagation). Each 2D level divides the energy
 * of a smooth image by about 4; multiply the coefficients by 2 per level
 * for a near-orthonormal scale.
 *
 * Packet tree: at each of `levels` (J) levels every subband is split again in
 * 2D, rows (horizontal filtering) first, then columns. Input channel c of
 * H x W becomes output channels c*4^J + b, b in [0, 4^J), each of
 * (H>>J) x (W>>J). b has J base-4 digits, the first split most significant:
 *     b = q_1*4^(J-1) + q_2*4^(J-2) + ... + q_J,
 *     q = 2*vertical_high + horizontal_high: 0 LL, 1 HL, 2 LH, 3 HH,
 * (HL = horizontally highpass, vertically lowpass, as in JPEG 2000), so the
 * descendants of one band are contiguous (recursive quad order). Example,
 * J = 2: b = 1 is the HL split of the level-1 LL band; b = 4 is the LL split
 * of the level-1 HL band.
 *
 * Sizes: H and W must be multiples of 2^J (H, W >= 2^J); the codec pads the
 * image before transforming and crops after. Channels may be batch*channels:
 * every channel is independent. x and y must not overlap, and neither may
 * overlap the work buffer, which must hold lwc_wpt_work_size(h, w) floats.
 * levels == 0 copies. h and w are always the image-domain sizes. No call
 * allocates; all are deterministic (fixed operation order). */
#ifndef LWC_WPT_H
#define LWC_WPT_H

#include <stddef.h>

/* Scratch floats needed by every function below for an h x w image. */
size_t lwc_wpt_work_size(int h, int w);

/* x: c x h x w  ->  y: c*4^J x (h>>J) x (w>>J). */
void lwc_wpt_forward(const float *x, int c, int h, int w, int levels,
                     float *y, float *work);
/* y: c*4^J x (h>>J) x (w>>J)  ->  x: c x h x w; exact inverse of forward. */
void lwc_wpt_inverse(const float *y, int c, int h, int w, int levels,
                     float *x, float *work);
/* Transpose of forward: y-shaped in, x-shaped out (dL/dx = F^T dL/dy). */
void lwc_wpt_forward_adjoint(const float *y, int c, int h, int w, int levels,
                             float *x, float *work);
/* Transpose of inverse: x-shaped in, y-shaped out (dL/dy = I^T dL/dx). */
void lwc_wpt_inverse_adjoint(const float *x, int c, int h, int w, int levels,
                             float *y, float *work);

/* Kernel selection (transforms/wpt.c). Every kernel set gives bit-identical
 * results (same float operations per sample, no FMA); the choice only
 * changes speed. The mask limits the SIMD kernels tried (bit 0 SSE2, bit 1
 * AVX2 on x86; bit 2 NEON on AArch64, where it is always available; 0 = the
 * C reference); returns the old mask. Not thread-safe: for tests and
 * benchmarks. */
#define LWC_WPT_CPU_SSE2 1u
#define LWC_WPT_CPU_AVX2 2u
#define LWC_WPT_CPU_NEON 4u
unsigned lwc_wpt_set_cpu_mask(unsigned mask);
/* Name of the kernels the transforms use now: "c", "sse2", "avx2" or "neon". */
const char *lwc_wpt_kernel_name(void);

#endif
