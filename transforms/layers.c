/* Float layers, the decoder's part (see layers.h): conv2d rows via im2col +
 * GEMM, ReLU. The whole-image forward passes, the backward passes and the
 * trainer's other layers are in layers_enc.c. */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "common/common.h"
#include "transforms/gemm.h"
#include "transforms/conv_dims.h"
#include "transforms/layers.h"

/* --- conv2d -------------------------------------------------------------- */

int lwc_conv2d_out_dim(int h, int k, int s) { return (h + 2 * (k / 2) - k) / s + 1; }

LwcConvDims lwc_conv_dims(int cin, int h, int w, int k, int s)
{
    LwcConvDims d = { cin, h, w, k, s, k / 2, lwc_conv2d_out_dim(h, k, s),
                   lwc_conv2d_out_dim(w, k, s), 0, 0, 0 };
    assert((k == 1 || k == 3) && (s == 1 || s == 2));
    assert(cin > 0 && h > 0 && w > 0);
    d.in_plane = (size_t)h * w;
    d.taps = (size_t)cin * k * k;
    d.out_plane = (size_t)d.ho * d.wo;
    assert(d.taps <= INT_MAX && d.out_plane <= INT_MAX); /* GEMM sizes are int */
    return d;
}

size_t lwc_conv2d_work_size(int cin, int h, int w, int k, int s)
{
    LwcConvDims d = lwc_conv_dims(cin, h, w, k, s);
    return lwc_conv_is_pointwise(&d) ? 0 : d.taps * d.out_plane;
}

/* Output positions o in [*lo, *hi) whose input o*s + off lies in [0, n). */
void lwc_conv_valid_range(int off, int s, int n, int no, int *lo, int *hi)
{
    int first = off >= 0 ? 0 : (-off + s - 1) / s;
    int last = n - 1 - off; /* largest o*s allowed */
    int end = last < 0 ? 0 : last / s + 1;
    *lo = LWC_MIN(first, no);
    *hi = LWC_MAX(*lo, LWC_MIN(end, no));
}

/* col[(ci*k + ky)*k + kx][(oy - oy0)*wo + ox] = x[ci][oy*s + ky - pad][ox*s + kx - pad]
 * for output rows oy in [oy0, oy1), zero outside the image. */
void lwc_im2col_rows(const LwcConvDims *d, const float *x, int oy0, int oy1, float *col)
{
    float *dst = col;
    for (int ci = 0; ci < d->cin; ci++)
        for (int ky = 0; ky < d->k; ky++)
            for (int kx = 0; kx < d->k; kx++) {
                int ylo, yhi, xlo, xhi, xoff = kx - d->pad;
                lwc_conv_valid_range(ky - d->pad, d->s, d->h, d->ho, &ylo, &yhi);
                lwc_conv_valid_range(xoff, d->s, d->w, d->wo, &xlo, &xhi);
                for (int oy = oy0; oy < oy1; oy++, dst += d->wo) {
                    if (oy < ylo || oy >= yhi) {
                        memset(dst, 0, (size_t)d->wo * sizeof(float));
                        continue;
                    }
                    const float *xr = x + ci * d->in_plane + (size_t)(oy * d->s + ky - d->pad) * d->w;
                    memset(dst, 0, (size_t)xlo * sizeof(float));
                    if (d->s == 1) memcpy(dst + xlo, xr + xlo + xoff, (size_t)(xhi - xlo) * sizeof(float));
                    else for (int ox = xlo; ox < xhi; ox++) dst[ox] = xr[ox * d->s + xoff];
                    memset(dst + xhi, 0, (size_t)(d->wo - xhi) * sizeof(float));
                }
            }
}

/* Rows of output [oy0, oy1): bias first (beta = 1), then one GEMM per chunk
 * of rows whose im2col fits in work_n floats. Every output value is the same
 * dot product as in lwc_conv2d_forward; only the GEMM's n differs. */
void lwc_conv2d_forward_rows(const float *x, int cin, int h, int w, const float *wt,
                             const float *bias, int cout, int k, int s, int oy0, int oy1,
                             float *y, size_t ldy, float *work, size_t work_n)
{
    LwcConvDims d = lwc_conv_dims(cin, h, w, k, s);
    int taps = (int)d.taps, pointwise = lwc_conv_is_pointwise(&d);
    int chunk = pointwise ? oy1 - oy0 : (int)LWC_MIN(work_n / (d.taps * d.wo), (size_t)(oy1 - oy0));
    assert(oy0 >= 0 && oy0 <= oy1 && oy1 <= d.ho && ldy >= (size_t)(oy1 - oy0) * d.wo);
    assert(ldy <= INT_MAX && (pointwise || chunk >= 1));
    if (oy0 == oy1) return;
    for (int co = 0; bias && co < cout; co++)
        for (size_t i = 0; i < (size_t)(oy1 - oy0) * d.wo; i++) y[co * ldy + i] = bias[co];
    for (int r0 = oy0; r0 < oy1; r0 += chunk) {
        int r1 = LWC_MIN(oy1, r0 + chunk), pix = (r1 - r0) * d.wo;
        const float *col = x + (size_t)r0 * w;
        int ldb = (int)d.in_plane;
        if (!pointwise) {
            lwc_im2col_rows(&d, x, r0, r1, work);
            col = work;
            ldb = pix;
        }
        lwc_sgemm(0, 0, cout, pix, taps, 1.0f, wt, taps, col, ldb, bias ? 1.0f : 0.0f,
                  y + (size_t)(r0 - oy0) * d.wo, (int)ldy);
    }
}

/* --- activations ---------------------------------------------------------- */

void lwc_relu_forward(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
