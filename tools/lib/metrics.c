/* PSNR, PSNR-Y, SSIM, MS-SSIM and max abs difference; definitions and
 * conventions are in metrics.h. */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "tools/lib/metrics.h"

#define WIN 11          /* Gaussian window side */
#define WIN_SIGMA 1.5
#define MS_LEVELS 5

static const double ms_weights[MS_LEVELS] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};

/* ---- image helpers */

static int image_ok(const LwcImage *im)
{
    return im && im->data && im->width > 0 && im->height > 0 && im->channels >= 1 &&
           im->channels <= 4 && (im->bit_depth == 8 || im->bit_depth == 16) &&
           im->stride >= (size_t)im->width * im->channels * (im->bit_depth / 8);
}

static int images_match(const LwcImage *a, const LwcImage *b)
{
    return image_ok(a) && image_ok(b) && a->width == b->width && a->height == b->height &&
           a->channels == b->channels && a->bit_depth == b->bit_depth;
}

static double peak(const LwcImage *im) { return im->bit_depth == 16 ? 65535.0 : 255.0; }

/* Colour channels: gray for 1-2 channels, RGB for 3-4 (alpha excluded). */
static int colour_channels(const LwcImage *im) { return im->channels >= 3 ? 3 : 1; }

static unsigned sample(const LwcImage *im, int x, int y, int c)
{
    const uint8_t *row = im->data + (size_t)y * im->stride;
    size_t i = (size_t)x * (size_t)im->channels + (size_t)c;
    return im->bit_depth == 16 ? ((const uint16_t *)row)[i] : row[i];
}

static double psnr_from_mse(double mse, double pk)
{
    return mse > 0 ? 10.0 * log10(pk * pk / mse) : INFINITY;
}

/* ---- PSNR, PSNR-Y, max abs diff */

double lwc_metric_psnr(const LwcImage *a, const LwcImage *b)
{
    if (!images_match(a, b)) return NAN;
    int nc = colour_channels(a);
    uint64_t sse = 0; /* exact: 65535^2 * 3 * 2^28 < 2^64 */
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            for (int c = 0; c < nc; c++) {
                int64_t d = (int64_t)sample(a, x, y, c) - (int64_t)sample(b, x, y, c);
                sse += (uint64_t)(d * d);
            }
    double n = (double)a->width * a->height * nc;
    return psnr_from_mse((double)sse / n, peak(a));
}

static double luma(const LwcImage *im, int x, int y)
{
    if (im->channels < 3) return sample(im, x, y, 0);
    return 0.299 * sample(im, x, y, 0) + 0.587 * sample(im, x, y, 1) + 0.114 * sample(im, x, y, 2);
}

double lwc_metric_psnr_y(const LwcImage *a, const LwcImage *b)
{
    if (!images_match(a, b)) return NAN;
    double sse = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            double d = luma(a, x, y) - luma(b, x, y);
            sse += d * d;
        }
    return psnr_from_mse(sse / ((double)a->width * a->height), peak(a));
}

static double max_abs_diff(const LwcImage *a, const LwcImage *b)
{
    unsigned m = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            for (int c = 0; c < a->channels; c++) {
                unsigned p = sample(a, x, y, c), q = sample(b, x, y, c);
                unsigned d = p > q ? p - q : q - p;
                if (d > m) m = d;
            }
    return m;
}

/* ---- SSIM on one plane pair at one scale */

static void gaussian_window(double g[WIN])
{
    double sum = 0;
    for (int i = 0; i < WIN; i++) {
        double t = i - WIN / 2;
        g[i] = exp(-(t * t) / (2 * WIN_SIGMA * WIN_SIGMA));
        sum += g[i];
    }
    for (int i = 0; i < WIN; i++) g[i] /= sum;
}

enum { Q_X, Q_Y, Q_XX, Q_YY, Q_XY, NQ };

/* Horizontal valid filtering of one input row of the five moment images
 * (x, y, x^2, y^2, xy) into out[q][0..w-WIN]. */
static void filter_row(const double *x, const double *y, int w, const double g[WIN], double *out[NQ])
{
    for (int j = 0; j + WIN <= w; j++) {
        double s[NQ] = {0, 0, 0, 0, 0};
        for (int k = 0; k < WIN; k++) {
            double xv = x[j + k], yv = y[j + k], gk = g[k];
            s[Q_X] += gk * xv;
            s[Q_Y] += gk * yv;
            s[Q_XX] += gk * (xv * xv);
            s[Q_YY] += gk * (yv * yv);
            s[Q_XY] += gk * (xv * yv);
        }
        for (int q = 0; q < NQ; q++) out[q][j] = s[q];
    }
}

typedef struct {
    double c1, c2;
    double sum_ssim, sum_cs;
} SsimAcc;

/* Vertical filtering of the WIN ring rows ending at input row `last`, and
 * the SSIM / CS map values of that output row. */
static void ssim_out_row(double *ring, int ow, int last, const double g[WIN], SsimAcc *acc)
{
    for (int j = 0; j < ow; j++) {
        double s[NQ] = {0, 0, 0, 0, 0};
        for (int k = 0; k < WIN; k++) {
            const double *slot = ring + (size_t)((last - (WIN - 1) + k) % WIN) * NQ * ow;
            for (int q = 0; q < NQ; q++) s[q] += g[k] * slot[(size_t)q * ow + j];
        }
        double mx2 = s[Q_X] * s[Q_X], my2 = s[Q_Y] * s[Q_Y], mxy = s[Q_X] * s[Q_Y];
        double vx = s[Q_XX] - mx2, vy = s[Q_YY] - my2, cov = s[Q_XY] - mxy;
        double cs = (2 * cov + acc->c2) / (vx + vy + acc->c2);
        acc->sum_cs += cs;
        acc->sum_ssim += (2 * mxy + acc->c1) / (mx2 + my2 + acc->c1) * cs;
    }
}

/* Mean SSIM and mean contrast-structure of planes x, y (w, h >= WIN).
 * Streams rows through a WIN-row ring so memory is O(w). */
static int ssim_planes(const double *x, const double *y, int w, int h, double pk, double *ssim,
                       double *cs)
{
    int ow = w - WIN + 1, oh = h - WIN + 1;
    double *ring = lwc_malloc_array((size_t)WIN * NQ, (size_t)ow * sizeof(double));
    if (!ring) return LWC_ERR_NOMEM;
    double g[WIN];
    gaussian_window(g);
    SsimAcc acc = {(0.01 * pk) * (0.01 * pk), (0.03 * pk) * (0.03 * pk), 0, 0};
    for (int i = 0; i < h; i++) {
        double *slot = ring + (size_t)(i % WIN) * NQ * ow, *out[NQ];
        for (int q = 0; q < NQ; q++) out[q] = slot + (size_t)q * ow;
        filter_row(x + (size_t)i * w, y + (size_t)i * w, w, g, out);
        if (i >= WIN - 1) ssim_out_row(ring, ow, i, g, &acc);
    }
    lwc_free(ring);
    double n = (double)ow * oh;
    *ssim = acc.sum_ssim / n;
    *cs = acc.sum_cs / n;
    return 0;
}

/* ---- MS-SSIM scaffolding */

static void extract_plane(const LwcImage *im, int c, double *out)
{
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++) out[(size_t)y * im->width + x] = sample(im, x, y, c);
}

/* 2x2 mean into ceil(w/2) x ceil(h/2); the last row/column is repeated when
 * the count is odd. In place is fine: output index <= every input index read. */
static void downsample(double *p, int w, int h)
{
    int ow = (w + 1) / 2, oh = (h + 1) / 2;
    for (int y = 0; y < oh; y++) {
        const double *r0 = p + (size_t)(2 * y) * w;
        const double *r1 = p + (size_t)LWC_MIN(2 * y + 1, h - 1) * w;
        for (int x = 0; x < ow; x++) {
            int x0 = 2 * x, x1 = LWC_MIN(2 * x + 1, w - 1);
            p[(size_t)y * ow + x] = 0.25 * ((r0[x0] + r0[x1]) + (r1[x0] + r1[x1]));
        }
    }
}

/* Number of scales whose smaller side is at least WIN (0..MS_LEVELS). */
static int ms_levels(int w, int h)
{
    int s = LWC_MIN(w, h), n = 0;
    while (n < MS_LEVELS && s >= WIN) {
        n++;
        s = (s + 1) / 2;
    }
    return n;
}

/* SSIM (scale 1) and MS-SSIM of one channel; planes are overwritten. */
static int msssim_channel(double *x, double *y, int w, int h, double pk, int levels,
                          double *ssim, double *msssim)
{
    /* The standard weights sum to 1.0001; they are used as published at 5
     * scales and renormalised only when fewer scales fit. */
    double wsum = 0, prod = 1;
    for (int l = 0; l < levels; l++) wsum += ms_weights[l];
    if (levels == MS_LEVELS) wsum = 1;
    for (int l = 0; l < levels; l++) {
        double s, cs;
        LWC_FWD(ssim_planes(x, y, w, h, pk, &s, &cs));
        if (l == 0) *ssim = s;
        double base = l < levels - 1 ? cs : s;
        prod *= pow(base > 0 ? base : 0, ms_weights[l] / wsum);
        if (l + 1 == levels) break;
        downsample(x, w, h);
        downsample(y, w, h);
        w = (w + 1) / 2;
        h = (h + 1) / 2;
    }
    *msssim = prod;
    return 0;
}

int lwc_metric_ssim(const LwcImage *a, const LwcImage *b, double *ssim, double *msssim)
{
    *ssim = *msssim = NAN;
    LWC_RET_IF(!images_match(a, b), LWC_ERR_INVAL);
    int levels = ms_levels(a->width, a->height);
    if (levels == 0) return 0; /* no 11x11 window fits: NAN, see metrics.h */
    size_t n = (size_t)a->width * (size_t)a->height;
    double *x = lwc_malloc_array(n, sizeof(double)), *y = lwc_malloc_array(n, sizeof(double));
    int r = x && y ? 0 : LWC_ERR_NOMEM;
    int nc = colour_channels(a);
    double sum_s = 0, sum_ms = 0;
    for (int c = 0; c < nc && r == 0; c++) {
        double s, ms;
        extract_plane(a, c, x);
        extract_plane(b, c, y);
        r = msssim_channel(x, y, a->width, a->height, peak(a), levels, &s, &ms);
        sum_s += s;
        sum_ms += ms;
    }
    lwc_free(x);
    lwc_free(y);
    if (r < 0) return r;
    *ssim = sum_s / nc;
    *msssim = sum_ms / nc;
    return 0;
}

int lwc_metrics_compute(const LwcImage *a, const LwcImage *b, LwcMetrics *m)
{
    LWC_RET_IF(!m, LWC_ERR_INVAL);
    m->psnr = m->psnr_y = m->ssim = m->msssim = m->max_abs_diff = NAN;
    LWC_RET_IF(!images_match(a, b), LWC_ERR_INVAL);
    m->psnr = lwc_metric_psnr(a, b);
    m->psnr_y = lwc_metric_psnr_y(a, b);
    m->max_abs_diff = max_abs_diff(a, b);
    return lwc_metric_ssim(a, b, &m->ssim, &m->msssim);
}
