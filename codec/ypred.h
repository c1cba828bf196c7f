/* In-pass prediction of y's symbols (model version 7).
 *
 * The entropy model predicts each symbol of y from the hyperprior, the
 * anchors and the earlier slices, but never from the symbols coded earlier
 * in the same pass: those are the ones a checkerboard leaves out so that a
 * pass's parameters can be computed at once. At low rates they carry a lot
 * (neighbouring latents of smooth content have the same sign). The coder
 * still decodes a pass's symbols one after the other, so it can use them
 * at no cost to parallelism: each symbol q at (i, j) of channel c and
 * parity par is coded as q - P, where
 *
 *   P = floor((2^11 + sum_n w[c][par][n] * clamp(q_n, -4096, 4096)) / 2^12),
 *
 * q_n the symbols at the LWC_YPRED_TAPS offsets (dy, dx) below (same
 * parity, earlier in raster order), 0 where the offset leaves the latent or
 * the stripe's first row (stripes decode in parallel). w: "ypred.w" (i16
 * [M][2][LWC_YPRED_TAPS], Q12), fitted by least squares at export (lwc
 * train --fit-pred). The quantiser is unchanged: y_hat = mu + 16 q as
 * before, so only the bits change. */
#ifndef LWC_YPRED_H
#define LWC_YPRED_H

#include <stddef.h>
#include <stdint.h>

#define LWC_YPRED_TAPS 6
#define LWC_YPRED_SHIFT 12
#define LWC_YPRED_CLAMP 4096

/* The taps' offsets (dy, dx), in the order of the weights (lwc_ypred_plane
 * spells them out). */
extern const int8_t lwc_ypred_off[LWC_YPRED_TAPS][2];

/* A symbol as a tap: clamped to +-LWC_YPRED_CLAMP. */
static inline int16_t lwc_ypred_tap(int32_t q)
{
    return (int16_t)(q < -LWC_YPRED_CLAMP ? -LWC_YPRED_CLAMP : q > LWC_YPRED_CLAMP ? LWC_YPRED_CLAMP : q);
}

/* floor(acc / 2^12) without shifting a negative value. */
static inline int32_t lwc_ypred_round(int32_t acc)
{
    return acc >= 0 ? acc >> LWC_YPRED_SHIFT : -((-acc + (1 << LWC_YPRED_SHIFT) - 1) >> LWC_YPRED_SHIFT);
}

/* The prediction from the taps' symbols x (unclamped). Any int16 weights:
 * the clamp keeps the sum within +-6 * 2^15 * 2^12 < 2^30. */
static inline int32_t lwc_ypred_apply(const int16_t *w, const int32_t *x)
{
    int32_t acc = 1 << (LWC_YPRED_SHIFT - 1);
    for (int n = 0; n < LWC_YPRED_TAPS; n++) acc += (int32_t)w[n] * lwc_ypred_tap(x[n]);
    return lwc_ypred_round(acc);
}

/* The coder's form: at points at the symbol's place in a plane of clamped
 * symbols (row stride W) whose taps are all readable: zero-padded by two
 * rows above the stripe and two columns each side, so no bounds checks.
 * The same value as lwc_ypred_apply of the taps. */
static inline int32_t lwc_ypred_plane(const int16_t *w, const int16_t *at, ptrdiff_t W)
{
    return lwc_ypred_round((1 << (LWC_YPRED_SHIFT - 1)) + w[0] * at[-2 * W - 2] + w[1] * at[-2 * W] +
                           w[2] * at[-2 * W + 2] + w[3] * at[-W - 1] + w[4] * at[-W + 1] + w[5] * at[-2]);
}

/* The taps of position (i, j) from a full map q ([h][w], row stride w) of
 * one channel, rows below r0 and columns outside [0, w) counting 0. */
static inline void lwc_ypred_taps_map(const int32_t *q, int w, int r0, int i, int j, int32_t *x)
{
    for (int n = 0; n < LWC_YPRED_TAPS; n++) {
        int ii = i + lwc_ypred_off[n][0], jj = j + lwc_ypred_off[n][1];
        x[n] = ii >= r0 && jj >= 0 && jj < w ? q[(size_t)ii * w + jj] : 0;
    }
}

#endif
