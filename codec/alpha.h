/* Lossless alpha (the section layout is in alpha.c): the prediction both
 * sides share. Internal. */
#ifndef LWC_ALPHA_H
#define LWC_ALPHA_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "lwc.h"

/* The alpha sample (the last channel) at (x, y). */
static inline uint32_t lwc_alpha_get(const LwcImage *img, int x, int y)
{
    const uint8_t *row = img->data + (size_t)y * img->stride;
    size_t k = (size_t)x * img->channels + img->channels - 1;
    return img->bit_depth == 16 ? ((const uint16_t *)row)[k] : row[k];
}

/* MED (LOCO-I) prediction of (x, y) from its causal neighbours. */
static inline uint32_t lwc_alpha_med(const LwcImage *img, int x, int y)
{
    if (y == 0) return x ? lwc_alpha_get(img, x - 1, 0) : 0;
    if (x == 0) return lwc_alpha_get(img, 0, y - 1);
    int a = (int)lwc_alpha_get(img, x - 1, y), b = (int)lwc_alpha_get(img, x, y - 1), c = (int)lwc_alpha_get(img, x - 1, y - 1);
    int mx = LWC_MAX(a, b), mn = LWC_MIN(a, b);
    return (uint32_t)(c >= mx ? mn : c <= mn ? mx : a + b - c);
}

#endif
