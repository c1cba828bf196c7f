/* Full-reference quality metrics between two images (tools only).
 *
 * Both images must have the same width, height, channel count and bit depth
 * (8 or 16). Peak value L = 255 (8-bit) or 65535 (16-bit), so a 16-bit image
 * that is an 8-bit image times 257 scores the same as the 8-bit one.
 * "Colour channels" are gray (1 or 2 channels) or R, G, B (3 or 4 channels):
 * alpha never enters PSNR, PSNR-Y, SSIM or MS-SSIM.
 *
 *  psnr         10*log10(L^2 / MSE), MSE over all colour channels of all
 *               pixels; +INFINITY when the colour channels are identical.
 *  psnr_y       the same on luma Y = 0.299 R + 0.587 G + 0.114 B (BT.601),
 *               computed in double from the samples, never rounded; for gray
 *               images Y is the gray channel.
 *  ssim         Wang et al. 2004: 11x11 Gaussian window (sigma 1.5,
 *               normalised), K1 = 0.01, K2 = 0.03, C1 = (K1 L)^2,
 *               C2 = (K2 L)^2, population (1/N) statistics, filtering only
 *               where the window fits ("valid": the map is (W-10)x(H-10)),
 *               mean of the map; mean over colour channels. Same as MATLAB
 *               ssim.m by Wang and pytorch_msssim's ssim().
 *  msssim       Wang et al. 2003, per colour channel then averaged over
 *               channels: 5 scales with weights 0.0448, 0.2856, 0.3001,
 *               0.2363, 0.1333; contrast-structure (mean cs map) at scales
 *               1..4 and SSIM (luminance * cs) at scale 5, each clamped
 *               below at 0 before the weighted product (as pytorch_msssim
 *               does; avoids negative bases with fractional exponents).
 *               Between scales a 2x2 mean; an odd row/column count is made
 *               even by repeating the last row/column (MATLAB msssim.m's
 *               symmetric imfilter then 1:2:end), so each scale is
 *               ceil(W/2) x ceil(H/2). Small images: only scales whose
 *               smaller side is >= 11 are used and their weights are
 *               renormalised to sum to 1 (at 5 scales the published
 *               weights, summing to 1.0001, are used as they are, like
 *               pytorch_msssim). 5 scales need a smaller side >= 161.
 *  max_abs_diff largest |a - b| over all samples, alpha included, in the
 *               images' own units.
 * Images with a side below 11 pixels have no valid 11x11 window: ssim and
 * msssim are NAN there (the PSNRs still work). */
#ifndef LWC_METRICS_H
#define LWC_METRICS_H

#include "lwc.h"

typedef struct {
    double psnr, psnr_y, ssim, msssim;
    double max_abs_diff;
} LwcMetrics;

/* Fill *m. Returns 0, LWC_ERR_INVAL (NULL, malformed image, or a size,
 * channel-count or bit-depth mismatch) or LWC_ERR_NOMEM. */
int lwc_metrics_compute(const LwcImage *a, const LwcImage *b, LwcMetrics *m);

/* The parts, for callers that need only one. Same conventions as above;
 * return NAN on malformed or mismatched images. */
double lwc_metric_psnr(const LwcImage *a, const LwcImage *b);
double lwc_metric_psnr_y(const LwcImage *a, const LwcImage *b);
/* SSIM and MS-SSIM together (they share scale 1). Returns 0 or an error. */
int lwc_metric_ssim(const LwcImage *a, const LwcImage *b, double *ssim, double *msssim);

#endif
