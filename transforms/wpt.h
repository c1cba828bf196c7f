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

/* Kernel tables (transforms/wpt.c): the inner loops of every transform.
 * All sets give bit-identical results (same float operations per sample,
 * no FMA); the choice only changes speed. */

/* One vertical lifting update over a row: t += a (p + q), or t += a p when
 * q is NULL; then, if twice, t += a p again (the boundary terms). */
typedef struct LwcWptRowOp {
    float *t;
    const float *p, *q;
    float a;
    int twice;
} LwcWptRowOp;

typedef struct LwcWptDsp {
    const char *name; /* "c", "sse2", "avx2" or "neon" */
    /* t[i] += a (p[i] + q[i]), or t[i] += a p[i] when q is NULL, i < n; t
     * does not overlap p or q (p and q may overlap each other). */
    void (*axpy2)(float *restrict t, const float *p, const float *q, float a, size_t n);
    /* dst[i] = src[i] * k, i < n. */
    void (*scale)(float *restrict dst, const float *restrict src, float k, size_t n);
    /* s[i] = x[2i], d[i] = x[2i+1] for i < m, and the reverse. */
    void (*deinterleave)(const float *restrict x, float *restrict s, float *restrict d, int m);
    void (*interleave)(const float *restrict s, const float *restrict d, float *restrict x, int m);
    /* ops[0..nops) on rows of n floats, with the result of running them
     * one after the other over whole rows (later ops read rows earlier ones
     * wrote); the rows of all ops are the same or do not overlap. */
    void (*lift_rows)(const LwcWptRowOp *ops, int nops, size_t n);
} LwcWptDsp;

/* The best set that CPU flags `flags` (common/cpu.h) allow; flags 0 gives
 * the C reference. The transforms use lwc_wpt_dsp(lwc_cpu_flags()). */
const LwcWptDsp *lwc_wpt_dsp(unsigned flags);
/* Name of the set the transforms use now. */
const char *lwc_wpt_kernel_name(void);

#endif
