/* Float layers, the trainer's and the encoder's part (see layers.h): the
 * whole-image conv2d forward, every backward pass, capped ReLU, upsampling,
 * gains, channel concatenation. */
#include <assert.h>
#include <string.h>

#include "common/common.h"
#include "transforms/conv_dims.h"
#include "transforms/gemm.h"
#include "transforms/layers.h"
#include "transforms/winograd.h"

static void im2col(const LwcConvDims *d, const float *x, float *col) { lwc_im2col_rows(d, x, 0, d->ho, col); }

/* The adjoint of im2col: dx = 0, then every column entry is added back to
 * the input pixel it was read from (fixed order). */
static void col2im(const LwcConvDims *d, const float *col, float *dx)
{
    const float *src = col;
    memset(dx, 0, (size_t)d->cin * d->in_plane * sizeof(float));
    for (int ci = 0; ci < d->cin; ci++)
        for (int ky = 0; ky < d->k; ky++)
            for (int kx = 0; kx < d->k; kx++) {
                int ylo, yhi, xlo, xhi, xoff = kx - d->pad;
                lwc_conv_valid_range(ky - d->pad, d->s, d->h, d->ho, &ylo, &yhi);
                lwc_conv_valid_range(xoff, d->s, d->w, d->wo, &xlo, &xhi);
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
    LwcConvDims d = lwc_conv_dims(cin, h, w, k, s);
    int taps = (int)d.taps, pix = (int)d.out_plane;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (size_t)b * cin * d.in_plane, *col = xb;
        float *yb = y + (size_t)b * cout * d.out_plane;
        float beta = 0.0f;
        if (!lwc_conv_is_pointwise(&d)) {
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
    LwcConvDims d = lwc_conv_dims(cin, h, w, k, s);
    int taps = (int)d.taps, pix = (int)d.out_plane, pointwise = lwc_conv_is_pointwise(&d);
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

/* --- 3x3 stride 1 through Winograd (see layers.h) ------------------------ */

size_t lwc_conv3x3_wino_work_size(int cin, int cout, int h, int w)
{
    return lwc_wino_weight_floats(cin, cout) + 9 * (size_t)LWC_MAX(cin, cout) +
           lwc_wino_work_floats(cin, cout, w, (h + 3) / 4);
}

/* u[36][no][ni] = G g G^T of the kernels g = wt[o][i] (flip = 0; no = cout,
 * ni = cin) or of wt[i][o] turned by 180 degrees (flip = 1; no = cin, ni =
 * cout: the input gradient's layer), as 9 multiply-adds per element over
 * contiguous rows, which the compiler vectorises (the weights change every
 * step, so this runs on every call). tmp: 9 * ni floats. */
static void wino_weights(const float *wt, int cin, int cout, int flip, float *u, float *tmp)
{
    float c[36][9];
    lwc_wino_weight_coefs(c);
    int no = flip ? cin : cout, ni = flip ? cout : cin;
    for (int o = 0; o < no; o++) {
        for (int i = 0; i < ni; i++)
            for (int k = 0; k < 9; k++)
                tmp[(size_t)k * ni + i] = flip ? wt[((size_t)i * cin + o) * 9 + 8 - k] : wt[((size_t)o * cin + i) * 9 + k];
        for (int e = 0; e < 36; e++) {
            float *ue = u + ((size_t)e * no + o) * ni;
            for (int i = 0; i < ni; i++) ue[i] = c[e][0] * tmp[i];
            for (int k = 1; k < 9; k++) {
                const float *t = tmp + (size_t)k * ni, ck = c[e][k];
                for (int i = 0; i < ni; i++) ue[i] += ck * t[i];
            }
        }
    }
}

void lwc_conv3x3_wino_forward(const float *x, int cin, int h, int w, const float *wt,
                              const float *bias, int cout, float *y, float *work)
{
    float *u = work, *tmp = u + lwc_wino_weight_floats(cin, cout), *rest = tmp + 9 * (size_t)LWC_MAX(cin, cout);
    wino_weights(wt, cin, cout, 0, u, tmp);
    lwc_wino_conv3x3_rows(x, cin, h, w, u, bias, cout, 0, (h + 3) / 4, 0, h, y, (size_t)h * w, 0, rest);
}

/* dx = conv3x3(dy, wt') with wt'[ci][co] = wt[co][ci] turned by 180 degrees. */
void lwc_conv3x3_wino_backward_data(const float *dy, int cout, int h, int w, const float *wt,
                                    int cin, float *dx, float *work)
{
    float *u = work, *tmp = u + lwc_wino_weight_floats(cin, cout), *rest = tmp + 9 * (size_t)LWC_MAX(cin, cout);
    wino_weights(wt, cin, cout, 1, u, tmp);
    lwc_wino_conv3x3_rows(dy, cout, h, w, u, NULL, cin, 0, (h + 3) / 4, 0, h, dx, (size_t)h * w, 0, rest);
}

/* --- activations ---------------------------------------------------------- */

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
