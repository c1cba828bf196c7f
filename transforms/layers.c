/* Float layers: conv2d via im2col + GEMM, activations, upsampling, gains,
 * channel concatenation; each with its backward pass (see layers.h). */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "common/common.h"
#include "transforms/gemm.h"
#include "transforms/layers.h"

/* --- conv2d -------------------------------------------------------------- */

/* Sizes of one conv shape, checked once. */
typedef struct ConvDims {
    int cin, h, w, k, s, pad, ho, wo;
    size_t in_plane, taps, out_plane; /* h*w, cin*k*k, ho*wo */
} ConvDims;

int lwc_conv2d_out_dim(int h, int k, int s) { return (h + 2 * (k / 2) - k) / s + 1; }

static ConvDims conv_dims(int cin, int h, int w, int k, int s)
{
    ConvDims d = { cin, h, w, k, s, k / 2, lwc_conv2d_out_dim(h, k, s),
                   lwc_conv2d_out_dim(w, k, s), 0, 0, 0 };
    assert((k == 1 || k == 3) && (s == 1 || s == 2));
    assert(cin > 0 && h > 0 && w > 0);
    d.in_plane = (size_t)h * w;
    d.taps = (size_t)cin * k * k;
    d.out_plane = (size_t)d.ho * d.wo;
    assert(d.taps <= INT_MAX && d.out_plane <= INT_MAX); /* GEMM sizes are int */
    return d;
}

/* 1x1 stride 1 needs no im2col: the input already is the GEMM operand. */
static int conv_is_pointwise(const ConvDims *d) { return d->k == 1 && d->s == 1; }

size_t lwc_conv2d_work_size(int cin, int h, int w, int k, int s)
{
    ConvDims d = conv_dims(cin, h, w, k, s);
    return conv_is_pointwise(&d) ? 0 : d.taps * d.out_plane;
}

/* Output positions o in [*lo, *hi) whose input o*s + off lies in [0, n). */
static void valid_range(int off, int s, int n, int no, int *lo, int *hi)
{
    int first = off >= 0 ? 0 : (-off + s - 1) / s;
    int last = n - 1 - off; /* largest o*s allowed */
    int end = last < 0 ? 0 : last / s + 1;
    *lo = LWC_MIN(first, no);
    *hi = LWC_MAX(*lo, LWC_MIN(end, no));
}

/* col[(ci*k + ky)*k + kx][(oy - oy0)*wo + ox] = x[ci][oy*s + ky - pad][ox*s + kx - pad]
 * for output rows oy in [oy0, oy1), zero outside the image. */
static void im2col_rows(const ConvDims *d, const float *x, int oy0, int oy1, float *col)
{
    float *dst = col;
    for (int ci = 0; ci < d->cin; ci++)
        for (int ky = 0; ky < d->k; ky++)
            for (int kx = 0; kx < d->k; kx++) {
                int ylo, yhi, xlo, xhi, xoff = kx - d->pad;
                valid_range(ky - d->pad, d->s, d->h, d->ho, &ylo, &yhi);
                valid_range(xoff, d->s, d->w, d->wo, &xlo, &xhi);
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

static void im2col(const ConvDims *d, const float *x, float *col) { im2col_rows(d, x, 0, d->ho, col); }

/* The adjoint of im2col: dx = 0, then every column entry is added back to
 * the input pixel it was read from (fixed order). */
static void col2im(const ConvDims *d, const float *col, float *dx)
{
    const float *src = col;
    memset(dx, 0, (size_t)d->cin * d->in_plane * sizeof(float));
    for (int ci = 0; ci < d->cin; ci++)
        for (int ky = 0; ky < d->k; ky++)
            for (int kx = 0; kx < d->k; kx++) {
                int ylo, yhi, xlo, xhi, xoff = kx - d->pad;
                valid_range(ky - d->pad, d->s, d->h, d->ho, &ylo, &yhi);
                valid_range(xoff, d->s, d->w, d->wo, &xlo, &xhi);
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *sr = src + (size_t)oy * d->wo;
                    float *xr = dx + ci * d->in_plane + (size_t)(oy * d->s + ky - d->pad) * d->w;
                    for (int ox = xlo; ox < xhi; ox++) xr[ox * d->s + xoff] += sr[ox];
                }
                src += d->out_plane;
            }
}

void lwc_conv2d_forward(const float *x, int n, int cin, int h, int w,
                        const float *wt, const float *bias, int cout, int k,
                        int s, float *y, float *work)
{
    ConvDims d = conv_dims(cin, h, w, k, s);
    int taps = (int)d.taps, pix = (int)d.out_plane;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * cin * d.in_plane, *col = xb;
        float *yb = y + (size_t)b * cout * d.out_plane;
        float beta = 0.0f;
        if (!conv_is_pointwise(&d)) {
            im2col(&d, xb, work);
            col = work;
        }
        if (bias) { /* start from the bias and let the GEMM add onto it */
            for (int co = 0; co < cout; co++)
                for (size_t i = 0; i < d.out_plane; i++) yb[co * d.out_plane + i] = bias[co];
            beta = 1.0f;
        }
        lwc_sgemm(0, 0, cout, pix, taps, 1.0f, wt, taps, col, pix, beta, yb, pix);
    }
}

/* dbias[co] += sum of dy over one image's plane (double: long sums). */
static void bias_grad(const float *dyb, int cout, size_t plane, float *dbias)
{
    for (int co = 0; co < cout; co++) {
        double sum = 0;
        for (size_t i = 0; i < plane; i++) sum += dyb[co * plane + i];
        dbias[co] += (float)sum;
    }
}

void lwc_conv2d_backward(const float *x, const float *dy, int n, int cin,
                         int h, int w, const float *wt, int cout, int k, int s,
                         float *dx, float *dwt, float *dbias, float *work)
{
    ConvDims d = conv_dims(cin, h, w, k, s);
    int taps = (int)d.taps, pix = (int)d.out_plane, pointwise = conv_is_pointwise(&d);
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * cin * d.in_plane;
        const float *dyb = dy + (size_t)b * cout * d.out_plane;
        float *dxb = dx ? dx + (size_t)b * cin * d.in_plane : NULL;
        if (dbias) bias_grad(dyb, cout, d.out_plane, dbias);
        if (dwt) { /* dW += dY * col^T */
            const float *col = xb;
            if (!pointwise) {
                im2col(&d, xb, work);
                col = work;
            }
            lwc_sgemm(0, 1, cout, taps, pix, 1.0f, dyb, pix, col, pix, 1.0f, dwt, taps);
        }
        if (!dxb) continue;
        if (pointwise) { /* dX = W^T * dY */
            lwc_sgemm(1, 0, cin, pix, cout, 1.0f, wt, cin, dyb, pix, 0.0f, dxb, pix);
        } else {         /* dcol = W^T * dY, then scatter back */
            lwc_sgemm(1, 0, taps, pix, cout, 1.0f, wt, taps, dyb, pix, 0.0f, work, pix);
            col2im(&d, work, dxb);
        }
    }
}

/* --- activations ---------------------------------------------------------- */

void lwc_relu_forward(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void lwc_relu_backward(const float *y, const float *dy, float *dx, size_t count)
{
    for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

void lwc_relu_cap_forward(float *x, size_t count, float cap)
{
    for (size_t i = 0; i < count; i++) {
        float v = x[i] > 0.0f ? x[i] : 0.0f;
        x[i] = v < cap ? v : cap;
    }
}

void lwc_relu_cap_backward(const float *y, const float *dy, float *dx,
                           size_t count, float cap)
{
    for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0.0f && y[i] < cap ? dy[i] : 0.0f;
}

/* --- upsampling ----------------------------------------------------------- */

void lwc_upsample2_forward(const float *x, int nc, int h, int w, float *y)
{
    size_t w2 = 2 * (size_t)w;
    for (size_t r = 0; r < (size_t)nc * h; r++) { /* every input row of every plane */
        const float *xr = x + r * w;
        float *y0 = y + 2 * r * w2;
        for (int j = 0; j < w; j++) y0[2 * j] = y0[2 * j + 1] = xr[j];
        memcpy(y0 + w2, y0, w2 * sizeof(float));
    }
}

void lwc_upsample2_backward(const float *dy, int nc, int h, int w, float *dx)
{
    size_t w2 = 2 * (size_t)w;
    for (size_t r = 0; r < (size_t)nc * h; r++) {
        const float *d0 = dy + 2 * r * w2, *d1 = d0 + w2;
        float *xr = dx + r * w;
        for (int j = 0; j < w; j++)
            xr[j] = (d0[2 * j] + d0[2 * j + 1]) + (d1[2 * j] + d1[2 * j + 1]);
    }
}

/* --- gains ---------------------------------------------------------------- */

void lwc_gain_forward(const float *x, int n, int c, size_t hw, const float *g,
                      float *y)
{
    for (size_t p = 0; p < (size_t)n * c; p++) {
        float gc = g[p % c];
        for (size_t i = 0; i < hw; i++) y[p * hw + i] = x[p * hw + i] * gc;
    }
}

void lwc_gain_backward(const float *x, const float *dy, int n, int c, size_t hw,
                       const float *g, float *dx, float *dg)
{
    for (int ch = 0; ch < c && dg; ch++) { /* before dx: dx may overwrite dy */
        double sum = 0;
        for (int b = 0; b < n; b++) {
            size_t off = ((size_t)b * c + ch) * hw;
            for (size_t i = 0; i < hw; i++) sum += (double)x[off + i] * dy[off + i];
        }
        dg[ch] += (float)sum;
    }
    if (dx) lwc_gain_forward(dy, n, c, hw, g, dx);
}

/* --- concatenation -------------------------------------------------------- */

void lwc_concat_put(const float *src, int n, int c_src, size_t hw, float *dst,
                    int c_dst, int c_off)
{
    assert(c_off >= 0 && c_off + c_src <= c_dst);
    size_t block = (size_t)c_src * hw;
    for (int b = 0; b < n; b++)
        memcpy(dst + ((size_t)b * c_dst + c_off) * hw, src + b * block, block * sizeof(float));
}

void lwc_concat_get(const float *src, int n, int c_src, size_t hw, int c_off,
                    int c, float *dst)
{
    assert(c_off >= 0 && c_off + c <= c_src);
    size_t block = (size_t)c * hw;
    for (int b = 0; b < n; b++)
        memcpy(dst + b * block, src + ((size_t)b * c_src + c_off) * hw, block * sizeof(float));
}

/* Rows of output [oy0, oy1): bias first (beta = 1), then one GEMM per chunk
 * of rows whose im2col fits in work_n floats. Every output value is the same
 * dot product as in lwc_conv2d_forward; only the GEMM's n differs. */
void lwc_conv2d_forward_rows(const float *x, int cin, int h, int w, const float *wt,
                             const float *bias, int cout, int k, int s, int oy0, int oy1,
                             float *y, size_t ldy, float *work, size_t work_n)
{
    ConvDims d = conv_dims(cin, h, w, k, s);
    int taps = (int)d.taps, pointwise = conv_is_pointwise(&d);
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
            im2col_rows(&d, x, r0, r1, work);
            col = work;
            ldb = pix;
        }
        lwc_sgemm(0, 0, cout, pix, taps, 1.0f, wt, taps, col, ldb, bias ? 1.0f : 0.0f,
                  y + (size_t)(r0 - oy0) * d.wo, (int)ldy);
    }
}
