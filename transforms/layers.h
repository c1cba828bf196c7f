/* Float layers with forward and backward passes (codec float path and the
 * trainer). Tensors are float NCHW, contiguous: n batch, c channels, h rows,
 * w columns. Where a function takes `nc` it means n*c planes.
 *
 * Backward conventions: gradients of weights, biases and gains ACCUMULATE
 * (+=) so a trainer can sum over calls; dx is OVERWRITTEN; any gradient
 * pointer may be NULL when that gradient is not needed. Outputs must not
 * overlap inputs unless a function says so. Nothing here allocates; results
 * are deterministic for a given GEMM path and thread count (lwc_sgemm). */
#ifndef LWC_LAYERS_H
#define LWC_LAYERS_H

#include <stddef.h>

/* --- conv2d -------------------------------------------------------------
 * Kernel k in {1, 3}, stride s in {1, 2}, zero padding k/2, so the output
 * is ho = (h + 2*(k/2) - k)/s + 1 (3x3 stride 2: ceil(h/2)). Weights are
 * [cout][cin][k][k], bias [cout] (may be NULL = no bias). 1x1 stride 1 runs
 * as one GEMM per image on x itself; the other shapes im2col one image at a
 * time into `work` and run a GEMM. */

/* Output rows (or columns) for an input of h. */
int lwc_conv2d_out_dim(int h, int k, int s);
/* Floats of work for forward and backward of one shape (0 for 1x1 stride 1,
 * where work may be NULL). Independent of n and cout. */
size_t lwc_conv2d_work_size(int cin, int h, int w, int k, int s);
/* y[n][cout][ho][wo] = conv(x[n][cin][h][w], wt) + bias. */
void lwc_conv2d_forward(const float *x, int n, int cin, int h, int w,
                        const float *wt, const float *bias, int cout, int k,
                        int s, float *y, float *work);
/* Output rows [oy0, oy1) of one image's convolution (n = 1), with bounded
 * scratch: y points at row oy0 of output channel 0, ldy floats between output
 * channels (>= (oy1-oy0)*wo, <= INT_MAX). work holds work_n floats, at least
 * cin*k*k*wo (one output row) unless the conv is 1x1 stride 1 (work unused).
 * The rows are computed in chunks that fit work; each value is the same dot
 * product as in lwc_conv2d_forward (bit-identical with the C reference GEMM). */
void lwc_conv2d_forward_rows(const float *x, int cin, int h, int w, const float *wt,
                             const float *bias, int cout, int k, int s, int oy0, int oy1,
                             float *y, size_t ldy, float *work, size_t work_n);
/* Given dy = dL/dy: dx = dL/dx (overwritten), dwt += dL/dwt,
 * dbias += dL/dbias. x is the forward input. */
void lwc_conv2d_backward(const float *x, const float *dy, int n, int cin,
                         int h, int w, const float *wt, int cout, int k, int s,
                         float *dx, float *dwt, float *dbias, float *work);

/* --- 3x3 stride-1 conv2d through Winograd F(4x4, 3x3) (trainer) ---------
 * The same maps as lwc_conv2d_forward / the dx of lwc_conv2d_backward for
 * k = 3, s = 1, n = 1, up to float rounding (about 1e-6 relative), in about
 * a third of the time at the trainer's shapes: the weights are transformed
 * on each call (transforms/winograd.h), so they may change between calls.
 * The weight gradient stays with lwc_conv2d_backward (dx = NULL). */

/* Floats of work for either function at this shape. */
size_t lwc_conv3x3_wino_work_size(int cin, int cout, int h, int w);
/* y[cout][h][w] = conv3x3(x[cin][h][w], wt) + bias (bias may be NULL). */
void lwc_conv3x3_wino_forward(const float *x, int cin, int h, int w, const float *wt,
                              const float *bias, int cout, float *y, float *work);
/* dx[cin][h][w] = dL/dx given dy[cout][h][w] (overwritten). */
void lwc_conv3x3_wino_backward_data(const float *dy, int cout, int h, int w, const float *wt,
                                    int cin, float *dx, float *work);

/* --- activations (elementwise over count values) ------------------------ */

/* x = max(x, 0), in place. */
void lwc_relu_forward(float *x, size_t count);
/* dx = dy where the forward output y > 0, else 0. dx may equal dy. */
void lwc_relu_backward(const float *y, const float *dy, float *dx, size_t count);
/* x = min(max(x, 0), cap), in place (cap > 0). */
void lwc_relu_cap_forward(float *x, size_t count, float cap);
/* dx = dy where 0 < y < cap (y: forward output), else 0. dx may equal dy. */
void lwc_relu_cap_backward(const float *y, const float *dy, float *dx,
                           size_t count, float cap);

/* --- nearest-neighbour upsampling by 2 ---------------------------------- */

/* y[p][2i+a][2j+b] = x[p][i][j], a, b in {0, 1}: nc planes of h x w in,
 * 2h x 2w out. */
void lwc_upsample2_forward(const float *x, int nc, int h, int w, float *y);
/* dx[p][i][j] = sum of the 4 dy it was copied to (dy is 2h x 2w). */
void lwc_upsample2_backward(const float *dy, int nc, int h, int w, float *dx);

/* --- per-channel gain (rate-level gain vectors) ------------------------- */

/* y[b][ch][.] = x[b][ch][.] * g[ch] over hw values per plane; y may equal x. */
void lwc_gain_forward(const float *x, int n, int c, size_t hw, const float *g,
                      float *y);
/* dx = dy * g (dx may equal dy), dg[ch] += sum over b and the plane of
 * x * dy (x: forward input). Either output may be NULL. */
void lwc_gain_backward(const float *x, const float *dy, int n, int c, size_t hw,
                       const float *g, float *dx, float *dg);

/* --- channel concatenation ---------------------------------------------- */

/* Copies src (n x c_src planes of hw) into channels [c_off, c_off + c_src)
 * of dst (n x c_dst planes): one block of a concatenation, or the gradient
 * of lwc_concat_get. */
void lwc_concat_put(const float *src, int n, int c_src, size_t hw, float *dst,
                    int c_dst, int c_off);
/* Copies channels [c_off, c_off + c) of src (n x c_src planes of hw) into
 * dst (n x c planes): the gradient of one block of a concatenation. */
void lwc_concat_get(const float *src, int n, int c_src, size_t hw, int c_off,
                    int c, float *dst);

#endif
