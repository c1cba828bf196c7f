/* Internal to transforms/: the sizes of one conv shape and the im2col
 * they share (layers.c, layers_enc.c). */
#ifndef LWC_CONV_DIMS_H
#define LWC_CONV_DIMS_H

#include <stddef.h>

/* Sizes of one conv shape, checked once. */
typedef struct LwcConvDims {
    int cin, h, w, k, s, pad, ho, wo;
    size_t in_plane, taps, out_plane; /* h*w, cin*k*k, ho*wo */
} LwcConvDims;

/* The sizes of a shape (k in {1, 3}, s in {1, 2}; asserted). */
LwcConvDims lwc_conv_dims(int cin, int h, int w, int k, int s);
/* 1x1 stride 1 needs no im2col: the input already is the GEMM operand. */
static inline int lwc_conv_is_pointwise(const LwcConvDims *d) { return d->k == 1 && d->s == 1; }
/* Output positions o in [*lo, *hi) whose input o*s + off lies in [0, n). */
void lwc_conv_valid_range(int off, int s, int n, int no, int *lo, int *hi);
/* col[(ci*k + ky)*k + kx][(oy - oy0)*wo + ox] = x[ci][oy*s + ky - pad][ox*s + kx - pad]
 * for output rows oy in [oy0, oy1), zero outside the image. */
void lwc_im2col_rows(const LwcConvDims *d, const float *x, int oy0, int oy1, float *col);

#endif
