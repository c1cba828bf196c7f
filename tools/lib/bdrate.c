/* Bjontegaard metrics (see bdrate.h) and the RD-curve CSV reader.
 *
 * Both averages have the same shape: interpolate y(x) for each curve, then
 * (integral of y2 - integral of y1) over the common x interval / its length.
 * BD-rate uses x = quality (dB), y = log10 rate; BD-PSNR x = log10 rate,
 * y = quality. PCHIP and Akima give piecewise Hermite cubics (values and
 * slopes at the points) integrated piece by piece in closed form; the cubic
 * method fits one polynomial per curve. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "tools/lib/bdrate.h"

static int bd_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int bd_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int lwc_bd_method_from_name(const char *name)
{
    if (!name) return -1;
    if (!strcasecmp(name, "pchip")) return LWC_BD_PCHIP;
    if (!strcasecmp(name, "cubic")) return LWC_BD_CUBIC;
    if (!strcasecmp(name, "akima")) return LWC_BD_AKIMA;
    return -1;
}

const char *lwc_bd_method_name(int method)
{
    switch (method) {
    case LWC_BD_PCHIP: return "pchip";
    case LWC_BD_CUBIC: return "cubic";
    case LWC_BD_AKIMA: return "akima";
    default: return NULL;
    }
}

/* ---- one curve: sorted by rate, as (log10 rate, quality) */

typedef struct {
    int n;
    double lr[LWC_BD_MAX_POINTS]; /* log10 rate, strictly increasing */
    double q[LWC_BD_MAX_POINTS];  /* quality, strictly increasing */
} Curve;

static int curve_load(Curve *c, const double *r, const double *p, int n, int min_pts,
                      const char *name, char *err, size_t errlen)
{
    if (!r || !p || n < min_pts)
        return bd_fail(err, errlen, LWC_ERR_INVAL, "%s curve has %d points; this method needs %d",
                       name, r && p ? n : 0, min_pts);
    if (n > LWC_BD_MAX_POINTS)
        return bd_fail(err, errlen, LWC_ERR_INVAL, "%s curve has %d points (max %d)", name, n,
                       LWC_BD_MAX_POINTS);
    int idx[LWC_BD_MAX_POINTS];
    for (int i = 0; i < n; i++) {
        if (!isfinite(r[i]) || !isfinite(p[i]) || r[i] <= 0)
            return bd_fail(err, errlen, LWC_ERR_INVAL, "%s curve point %d (rate %g, quality %g) is "
                           "invalid: rates must be > 0 and values finite", name, i + 1, r[i], p[i]);
        int j = i; /* insertion sort by rate */
        while (j > 0 && r[idx[j - 1]] > r[i]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    c->n = n;
    for (int i = 0; i < n; i++) {
        c->lr[i] = log10(r[idx[i]]);
        c->q[i] = p[idx[i]];
        if (i > 0 && !(r[idx[i]] > r[idx[i - 1]] && c->q[i] > c->q[i - 1]))
            return bd_fail(err, errlen, LWC_ERR_INVAL, "%s curve is not monotonic: quality must "
                           "strictly increase with rate (rate %g: %g, rate %g: %g)", name,
                           r[idx[i - 1]], c->q[i - 1], r[idx[i]], c->q[i]);
    }
    return 0;
}

/* ---- Hermite-spline slopes */

static double sgn(double v) { return (v > 0) - (v < 0); }

/* scipy.interpolate._cubic._edge_case: 3-point end slope, shape-preserving. */
static double pchip_edge(double h0, double h1, double m0, double m1)
{
    double d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (sgn(d) != sgn(m0)) return 0;
    if (sgn(m0) != sgn(m1) && fabs(d) > 3 * fabs(m0)) return 3 * m0;
    return d;
}

/* Fritsch-Carlson slopes as scipy's PchipInterpolator (weighted harmonic
 * mean of the neighbouring secants, 0 at local extrema). */
static void pchip_slopes(const double *x, const double *y, int n, double *d)
{
    double h[LWC_BD_MAX_POINTS], m[LWC_BD_MAX_POINTS];
    for (int k = 0; k + 1 < n; k++) {
        h[k] = x[k + 1] - x[k];
        m[k] = (y[k + 1] - y[k]) / h[k];
    }
    if (n == 2) {
        d[0] = d[1] = m[0];
        return;
    }
    for (int k = 1; k + 1 < n; k++) {
        if (sgn(m[k - 1]) != sgn(m[k]) || m[k - 1] == 0 || m[k] == 0) {
            d[k] = 0;
            continue;
        }
        double w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1];
        d[k] = (w1 + w2) / (w1 / m[k - 1] + w2 / m[k]);
    }
    d[0] = pchip_edge(h[0], h[1], m[0], m[1]);
    d[n - 1] = pchip_edge(h[n - 2], h[n - 3], m[n - 2], m[n - 3]);
}

/* Akima slopes as scipy's Akima1DInterpolator: secants padded with two
 * linearly extrapolated ones at each end, then each slope is the average of
 * its two neighbouring secants weighted by the opposite secant jumps. */
static void akima_slopes(const double *x, const double *y, int n, double *d)
{
    double m[LWC_BD_MAX_POINTS + 3], f12[LWC_BD_MAX_POINTS], fmax = 0;
    for (int k = 0; k + 1 < n; k++) m[k + 2] = (y[k + 1] - y[k]) / (x[k + 1] - x[k]);
    m[1] = 2 * m[2] - m[3];
    m[0] = 2 * m[1] - m[2];
    m[n + 1] = 2 * m[n] - m[n - 1];
    m[n + 2] = 2 * m[n + 1] - m[n];
    for (int i = 0; i < n; i++) {
        f12[i] = fabs(m[i + 3] - m[i + 2]) + fabs(m[i + 1] - m[i]);
        fmax = LWC_MAX(fmax, f12[i]);
    }
    for (int i = 0; i < n; i++) {
        double f1 = fabs(m[i + 3] - m[i + 2]), f2 = fabs(m[i + 1] - m[i]);
        if (f12[i] > 1e-9 * fmax) d[i] = (f1 * m[i + 1] + f2 * m[i + 2]) / f12[i];
        else d[i] = 0.5 * (m[i + 3] + m[i]);
    }
}

/* Integral over [lo, hi] (inside [x0, x_{n-1}]) of the Hermite cubic
 * through (x, y) with slopes d. On a piece, with u = x - x_k:
 * p(u) = y_k + d_k u + c2 u^2 + c3 u^3. */
static double hermite_integral(const double *x, const double *y, const double *d, int n,
                               double lo, double hi)
{
    double total = 0;
    for (int k = 0; k + 1 < n; k++) {
        double a = LWC_MAX(lo, x[k]), b = LWC_MIN(hi, x[k + 1]);
        if (!(b > a)) continue;
        double h = x[k + 1] - x[k], m = (y[k + 1] - y[k]) / h;
        double c2 = (3 * m - 2 * d[k] - d[k + 1]) / h;
        double c3 = (d[k] + d[k + 1] - 2 * m) / (h * h);
        double ua = a - x[k], ub = b - x[k];
#define ANTIDERIV(u) ((u) * (y[k] + (u) * (d[k] / 2 + (u) * (c2 / 3 + (u) * (c3 / 4)))))
        total += ANTIDERIV(ub) - ANTIDERIV(ua);
#undef ANTIDERIV
    }
    return total;
}

/* ---- least-squares cubic */

/* Solve the 4x4 system a c = b by Gaussian elimination with partial
 * pivoting. Returns -1 if singular. */
static int solve4(double a[4][4], double b[4], double c[4])
{
    for (int col = 0; col < 4; col++) {
        int piv = col;
        for (int r = col + 1; r < 4; r++)
            if (fabs(a[r][col]) > fabs(a[piv][col])) piv = r;
        if (a[piv][col] == 0) return -1;
        for (int k = 0; k < 4; k++) {
            double t = a[col][k];
            a[col][k] = a[piv][k];
            a[piv][k] = t;
        }
        double t = b[col];
        b[col] = b[piv];
        b[piv] = t;
        for (int r = col + 1; r < 4; r++) {
            double f = a[r][col] / a[col][col];
            for (int k = col; k < 4; k++) a[r][k] -= f * a[col][k];
            b[r] -= f * b[col];
        }
    }
    for (int r = 3; r >= 0; r--) {
        double s = b[r];
        for (int k = r + 1; k < 4; k++) s -= a[r][k] * c[k];
        c[r] = s / a[r][r];
    }
    return 0;
}

/* Integral over [lo, hi] of the least-squares cubic y(x). The fit is done
 * in t = (x - centre) / scale, t in [-1, 1], which keeps the normal
 * equations well conditioned (x^6 of raw PSNRs would be ~1e9). */
static double cubic_integral(const double *x, const double *y, int n, double lo, double hi)
{
    double centre = 0.5 * (x[0] + x[n - 1]), scale = 0.5 * (x[n - 1] - x[0]);
    double ata[4][4] = {{0}}, atb[4] = {0}, c[4] = {0};
    for (int i = 0; i < n; i++) {
        double t = (x[i] - centre) / scale, pw[4] = {1, t, t * t, t * t * t};
        for (int r = 0; r < 4; r++) {
            for (int k = 0; k < 4; k++) ata[r][k] += pw[r] * pw[k];
            atb[r] += pw[r] * y[i];
        }
    }
    if (solve4(ata, atb, c) < 0) return NAN; /* distinct x: cannot happen for n >= 4 */
    double ta = (lo - centre) / scale, tb = (hi - centre) / scale;
#define PRIM(t) ((t) * (c[0] + (t) * (c[1] / 2 + (t) * (c[2] / 3 + (t) * (c[3] / 4)))))
    return scale * (PRIM(tb) - PRIM(ta));
#undef PRIM
}

/* ---- the average difference */

static double curve_integral(int method, const double *x, const double *y, int n, double lo,
                             double hi)
{
    if (method == LWC_BD_CUBIC) return cubic_integral(x, y, n, lo, hi);
    double d[LWC_BD_MAX_POINTS];
    if (method == LWC_BD_AKIMA) akima_slopes(x, y, n, d);
    else pchip_slopes(x, y, n, d);
    return hermite_integral(x, y, d, n, lo, hi);
}

/* Mean of y2 - y1 over the common x range; NAN if the ranges do not overlap. */
static double avg_diff(int method, const double *x1, const double *y1, int n1, const double *x2,
                       const double *y2, int n2)
{
    double lo = LWC_MAX(x1[0], x2[0]), hi = LWC_MIN(x1[n1 - 1], x2[n2 - 1]);
    if (!(hi > lo)) return NAN;
    double i1 = curve_integral(method, x1, y1, n1, lo, hi);
    double i2 = curve_integral(method, x2, y2, n2, lo, hi);
    return (i2 - i1) / (hi - lo);
}

int lwc_bdrate(const double *r1, const double *p1, int n1, const double *r2, const double *p2,
               int n2, int method, double *bd_rate_pct, double *bd_psnr_db, double *overlap_frac,
               char *err, size_t errlen)
{
    static const int min_pts[3] = {2, 4, 3};
    if (!lwc_bd_method_name(method))
        return bd_fail(err, errlen, LWC_ERR_INVAL, "unknown BD method %d", method);
    Curve *c = lwc_malloc_array(2, sizeof(Curve)); /* ~8 KiB: keep it off the stack */
    if (!c) return bd_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    int r = curve_load(&c[0], r1, p1, n1, min_pts[method], "anchor", err, errlen);
    if (r == 0) r = curve_load(&c[1], r2, p2, n2, min_pts[method], "test", err, errlen);
    double lo = 0, hi = 0;
    if (r == 0) {
        lo = LWC_MAX(c[0].q[0], c[1].q[0]);
        hi = LWC_MIN(c[0].q[c[0].n - 1], c[1].q[c[1].n - 1]);
        if (!(hi > lo))
            r = bd_fail(err, errlen, LWC_ERR_INVAL, "the curves do not overlap in quality "
                        "(anchor %.3f..%.3f, test %.3f..%.3f)", c[0].q[0], c[0].q[c[0].n - 1],
                        c[1].q[0], c[1].q[c[1].n - 1]);
    }
    if (r == 0) {
        double dlog = avg_diff(method, c[0].q, c[0].lr, c[0].n, c[1].q, c[1].lr, c[1].n);
        double range = LWC_MIN(c[0].q[c[0].n - 1] - c[0].q[0], c[1].q[c[1].n - 1] - c[1].q[0]);
        if (bd_rate_pct) *bd_rate_pct = (pow(10.0, dlog) - 1) * 100;
        if (bd_psnr_db)
            *bd_psnr_db = avg_diff(method, c[0].lr, c[0].q, c[0].n, c[1].lr, c[1].q, c[1].n);
        if (overlap_frac) *overlap_frac = (hi - lo) / range;
    }
    lwc_free(c);
    return r;
}

/* ---- CSV */

#define CSV_LINE_MAX 4096

/* Trim spaces and line ends in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

/* Split a line at commas in place; returns the field count (<= max). */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        f[n++] = trim(p);
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static int is_metric_column(const char *name, const char *metric)
{
    if (!strcasecmp(metric, "msssim"))
        return !strcasecmp(name, "msssim") || !strcasecmp(name, "ms-ssim") ||
               !strcasecmp(name, "ms_ssim");
    return !strcasecmp(name, metric);
}

typedef struct {
    FILE *f;
    const char *path;
    int lineno;
    char line[CSV_LINE_MAX];
} CsvReader;

/* Next non-blank, non-comment line into rd->line: 1, 0 at EOF, or an error. */
static int csv_next(CsvReader *rd, char *err, size_t errlen)
{
    while (fgets(rd->line, sizeof(rd->line), rd->f)) {
        rd->lineno++;
        size_t n = strlen(rd->line);
        if (n == sizeof(rd->line) - 1 && rd->line[n - 1] != '\n' && !feof(rd->f))
            return bd_fail(err, errlen, LWC_ERR_INVAL, "%s:%d: line too long", rd->path,
                           rd->lineno);
        char *s = trim(rd->line);
        if (*s && *s != '#') {
            memmove(rd->line, s, strlen(s) + 1);
            return 1;
        }
    }
    if (ferror(rd->f))
        return bd_fail(err, errlen, LWC_ERR_IO, "%s: read error: %s", rd->path, strerror(errno));
    return 0;
}

static int parse_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && errno == 0 && isfinite(*v) ? 0 : -1;
}

/* Find the bpp and metric columns in the header line. */
static int csv_header(CsvReader *rd, const char *metric, int *col_rate, int *col_q, char *err,
                      size_t errlen)
{
    int r = csv_next(rd, err, errlen);
    if (r < 0) return r;
    if (r == 0) return bd_fail(err, errlen, LWC_ERR_INVAL, "%s: empty file", rd->path);
    char *f[64];
    int nf = split_fields(rd->line, f, 64);
    *col_rate = *col_q = -1;
    for (int i = 0; i < nf; i++) {
        if (!strcasecmp(f[i], "bpp") && *col_rate < 0) *col_rate = i;
        if (is_metric_column(f[i], metric) && *col_q < 0) *col_q = i;
    }
    if (*col_rate < 0 || *col_q < 0)
        return bd_fail(err, errlen, LWC_ERR_INVAL, "%s: the header line needs columns 'bpp' and "
                       "'%s'", rd->path, metric);
    return 0;
}

/* Read the rows into rate/quality (capacity LWC_BD_MAX_POINTS). */
static int csv_rows(CsvReader *rd, int msssim, int col_rate, int col_q, double *rate,
                    double *quality, int *n, char *err, size_t errlen)
{
    int r, need = LWC_MAX(col_rate, col_q) + 1;
    *n = 0;
    while ((r = csv_next(rd, err, errlen)) == 1) {
        char *f[64];
        int nf = split_fields(rd->line, f, 64);
        double v_rate, v_q;
        if (nf < need || parse_number(f[col_rate], &v_rate) || parse_number(f[col_q], &v_q))
            return bd_fail(err, errlen, LWC_ERR_INVAL, "%s:%d: expected numbers in the bpp and "
                           "quality columns", rd->path, rd->lineno);
        if (*n == LWC_BD_MAX_POINTS)
            return bd_fail(err, errlen, LWC_ERR_INVAL, "%s: more than %d rows", rd->path,
                           LWC_BD_MAX_POINTS);
        if (msssim && !(v_q >= 0 && v_q < 1))
            return bd_fail(err, errlen, LWC_ERR_INVAL, "%s:%d: msssim %g outside [0, 1)",
                           rd->path, rd->lineno, v_q);
        rate[*n] = v_rate;
        quality[*n] = msssim ? -10 * log10(1 - v_q) : v_q;
        (*n)++;
    }
    if (r < 0) return r;
    if (*n == 0) return bd_fail(err, errlen, LWC_ERR_INVAL, "%s: no data rows", rd->path);
    return 0;
}

int lwc_rd_csv_read(const char *path, const char *metric, double **rate, double **quality,
                    int *n, char *err, size_t errlen)
{
    *rate = *quality = NULL;
    *n = 0;
    if (!metric || (strcasecmp(metric, "psnr") && strcasecmp(metric, "msssim")))
        return bd_fail(err, errlen, LWC_ERR_INVAL, "unknown metric '%s' (psnr or msssim)",
                       metric ? metric : "");
    CsvReader *rd = lwc_malloc(sizeof(CsvReader));
    double *rt = lwc_malloc_array(LWC_BD_MAX_POINTS, sizeof(double));
    double *qt = lwc_malloc_array(LWC_BD_MAX_POINTS, sizeof(double));
    int r = rd && rt && qt ? 0 : bd_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    if (r == 0) {
        rd->path = path;
        rd->lineno = 0;
        rd->f = fopen(path, "r");
        if (!rd->f) r = bd_fail(err, errlen, LWC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    if (r == 0) {
        int col_rate, col_q;
        r = csv_header(rd, metric, &col_rate, &col_q, err, errlen);
        if (r == 0)
            r = csv_rows(rd, !strcasecmp(metric, "msssim"), col_rate, col_q, rt, qt, n, err, errlen);
        fclose(rd->f);
    }
    lwc_free(rd);
    if (r < 0) {
        lwc_free(rt);
        lwc_free(qt);
        *n = 0;
        return r;
    }
    *rate = rt;
    *quality = qt;
    return 0;
}
