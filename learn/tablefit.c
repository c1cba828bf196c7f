/* Fitted coding tables (tablefit.h). */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "learn/likelihood.h"
#include "learn/tablefit.h"

#define ROW (2 * LWC_TABLEFIT_R + 2)

int lwc_tablefit_init(LwcTableFit *f, int tables)
{
    double lv[LWC_SCALE_LEVELS];
    memset(f, 0, sizeof(*f));
    LWC_RET_IF(tables < 1 || tables > 4096, LWC_ERR_INVAL);
    lwc_scale_levels(lv);
    LWC_FWD(lwc_gauss_table_bounds(lv, LWC_SCALE_LEVELS, f->bound));
    f->tables = tables;
    f->count = lwc_calloc((size_t)tables * ROW, sizeof(double));
    return f->count ? LWC_OK : LWC_ERR_NOMEM;
}

void lwc_tablefit_free(LwcTableFit *f)
{
    lwc_free(f->count);
    f->count = NULL;
}

int lwc_tablefit_index(const LwcTableFit *f, double scale)
{
    int k = 0;
    while (k < LWC_SCALE_LEVELS - 1 && f->bound[k] < scale) k++;
    return k;
}

void lwc_tablefit_add(LwcTableFit *f, int t, long v)
{
    long a = v < 0 ? -v : v;
    f->count[(size_t)t * ROW + (a > LWC_TABLEFIT_R ? ROW - 1 : v + LWC_TABLEFIT_R)] += 1;
}

void lwc_tablefit_merge(LwcTableFit *dst, const LwcTableFit *src)
{
    for (size_t i = 0; i < (size_t)dst->tables * ROW; i++) dst->count[i] += src->count[i];
}

double lwc_tablefit_total(const LwcTableFit *f, int t)
{
    double n = 0;
    for (int i = 0; i < ROW; i++) n += f->count[(size_t)t * ROW + i];
    return n;
}

/* Table t's count of v (0 outside the counted range); symmetric: the mean
 * of v's and -v's. */
static double count_of(const LwcTableFit *f, int t, long v, int symmetric)
{
    if (v < -LWC_TABLEFIT_R || v > LWC_TABLEFIT_R) return 0;
    const double *c = f->count + (size_t)t * ROW + LWC_TABLEFIT_R;
    return symmetric ? 0.5 * (c[v] + c[-v]) : c[v];
}

void lwc_tablefit_blend_sum(const LwcTableFit *f, int t0, int stride, int count, int symmetric, double prior,
                            double *pmf, int n, int offset)
{
    long lo = -(long)offset, hi = (long)n - 2 - offset;
    double tot = 0, in = 0;
    for (int k = 0; k < count; k++) tot += lwc_tablefit_total(f, t0 + k * stride);
    double w = 1.0 / (tot + prior);
    for (long v = lo; v <= hi; v++) {
        double cv = 0;
        for (int k = 0; k < count; k++) cv += count_of(f, t0 + k * stride, v, symmetric);
        in += cv;
        pmf[v - lo] = (cv + prior * pmf[v - lo]) * w;
    }
    pmf[n - 1] = (tot - in + prior * pmf[n - 1]) * w; /* the escape: all the rest */
}

void lwc_tablefit_blend(const LwcTableFit *f, int t, int symmetric, double *pmf, int n, int offset)
{
    lwc_tablefit_blend_sum(f, t, 0, 1, symmetric, LWC_TABLEFIT_PRIOR, pmf, n, offset);
}

int lwc_tablefit_pmf(const LwcTableFit *f, int t, double *pmf, int max_n, int *half_width)
{
    double lv[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    int n = lwc_gaussian_pmf(lv[t % LWC_SCALE_LEVELS], half_width, pmf, max_n);
    if (n > 0 && f) lwc_tablefit_blend(f, t, 1, pmf, n, *half_width);
    return n;
}
