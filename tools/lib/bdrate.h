/* Bjontegaard delta rate and delta PSNR between two rate-distortion curves
 * (tools only).
 *
 * BD-rate: the average difference of log rate between the TEST and ANCHOR
 * curves over the quality interval where both exist, as a percentage:
 *   100 * (10^(mean over Q of [log10 R_test(Q) - log10 R_anchor(Q)]) - 1)
 * (negative: TEST needs fewer bits). BD-PSNR: the mean quality difference
 * TEST - ANCHOR over the common log-rate interval (positive: TEST better).
 *
 * Methods (how log rate is interpolated as a function of quality, and
 * quality as a function of log rate):
 *   LWC_BD_PCHIP  default. Piecewise cubic Hermite through the points with
 *                 Fritsch-Carlson monotone slopes and the 3-point end rule,
 *                 exactly scipy's PchipInterpolator (= MATLAB pchip, the
 *                 JVET CTC spreadsheet / VCEG-AL22 practice); each piece is
 *                 integrated in closed form. Needs >= 2 points per curve.
 *   LWC_BD_CUBIC  Bjontegaard's original VCEG-M33: least-squares cubic
 *                 polynomial fit (exact interpolation with 4 points),
 *                 integrated analytically. Needs >= 4 points per curve.
 *   LWC_BD_AKIMA  Akima 1970 spline as scipy's Akima1DInterpolator
 *                 (end slopes extrapolated linearly). Needs >= 3 points.
 *
 * Input points may come in any order; each curve is sorted by rate and must
 * then have strictly increasing quality (error otherwise), rates > 0, and
 * finite values. */
#ifndef LWC_BDRATE_H
#define LWC_BDRATE_H

#include <stddef.h>

enum { LWC_BD_PCHIP = 0, LWC_BD_CUBIC = 1, LWC_BD_AKIMA = 2 };

#define LWC_BD_MAX_POINTS 256

/* BD-rate of curve 2 (test) against curve 1 (anchor). r*: rates (any unit,
 * the same for both; e.g. bpp), p*: qualities in dB. Outputs (each may be
 * NULL):
 *   bd_rate_pct   BD-rate in percent.
 *   bd_psnr_db    BD-PSNR in dB; NAN when the log-rate ranges do not
 *                 overlap (BD-rate can still be defined then).
 *   overlap_frac  length of the common quality interval / the smaller of
 *                 the two curves' quality ranges, in (0, 1]; callers should
 *                 warn below 0.75 (the result is mostly extrapolation-free
 *                 only over the overlap).
 * Returns 0, or LWC_ERR_INVAL with a one-line message in err: unknown
 * method, too few or too many (> LWC_BD_MAX_POINTS) points, a rate <= 0,
 * a non-finite value, quality not strictly increasing with rate, or no
 * overlap in quality. */
int lwc_bdrate(const double *r1, const double *p1, int n1, const double *r2, const double *p2,
               int n2, int method, double *bd_rate_pct, double *bd_psnr_db, double *overlap_frac,
               char *err, size_t errlen);

/* "pchip" / "cubic" / "akima" -> LWC_BD_*, else -1; and back (NULL if unknown). */
int lwc_bd_method_from_name(const char *name);
const char *lwc_bd_method_name(int method);

/* Read an RD curve from a CSV file: a header line naming the columns
 * (case-insensitive, surrounding spaces ignored; must include "bpp" and the
 * requested metric; other columns are ignored), then one numeric row per
 * point. Blank lines and lines starting with '#' are skipped. No quoting.
 * metric: "psnr" (quality = the psnr column, dB) or "msssim" (quality =
 * -10*log10(1 - msssim) dB; msssim must be in [0, 1)).
 * On success *rate and *quality are new arrays of *n values (free each with
 * lwc_free); on failure they are NULL. Returns 0, LWC_ERR_IO, LWC_ERR_INVAL
 * (bad metric, missing column, bad number, fewer than 1 or more than
 * LWC_BD_MAX_POINTS rows) or LWC_ERR_NOMEM, with a message in err. */
int lwc_rd_csv_read(const char *path, const char *metric, double **rate, double **quality,
                    int *n, char *err, size_t errlen);

#endif
