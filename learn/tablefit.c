/* Fitted scale tables (tablefit.h). */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "codec/model.h"
#include "learn/likelihood.h"
#include "learn/tablefit.h"

#define ROW (2 * LWC_TABLEFIT_R + 2)

int lwc_tablefit_init(LwcTableFit *f, int sets)
{
    double lv[LWC_SCALE_LEVELS];
    memset(f, 0, sizeof(*f));
    LWC_RET_IF(sets < 1 || sets > LWC_MAX_LEVELS, LWC_ERR_INVAL);
    lwc_scale_levels(lv);
    LWC_FWD(lwc_gauss_table_bounds(lv, LWC_SCALE_LEVELS, f->bound));
    f->sets = sets;
    f->count = lwc_calloc((size_t)sets * LWC_SCALE_LEVELS * ROW, sizeof(double));
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

void lwc_tablefit_add(LwcTableFit *f, int t, long s)
{
    long a = s < 0 ? -s : s;
    f->count[(size_t)t * ROW + (a > LWC_TABLEFIT_R ? ROW - 1 : s + LWC_TABLEFIT_R)] += 1;
}

void lwc_tablefit_merge(LwcTableFit *dst, const LwcTableFit *src)
{
    for (size_t i = 0; i < (size_t)dst->sets * LWC_SCALE_LEVELS * ROW; i++) dst->count[i] += src->count[i];
}

double lwc_tablefit_total(const LwcTableFit *f, int t)
{
    double n = 0;
    for (int i = 0; i < ROW; i++) n += f->count[(size_t)t * ROW + i];
    return n;
}

int lwc_tablefit_pmf(const LwcTableFit *f, int t, double *pmf, int max_n, int *half_width)
{
    double lv[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    int n = lwc_gaussian_pmf(lv[t % LWC_SCALE_LEVELS], half_width, pmf, max_n);
    if (n < 0 || !f) return n;
    int R = *half_width;
    const double *c = f->count + (size_t)t * ROW + LWC_TABLEFIT_R; /* c[s], |s| <= LWC_TABLEFIT_R */
    double esc = f->count[(size_t)t * ROW + ROW - 1], tot = esc;
    for (int s = -LWC_TABLEFIT_R; s <= LWC_TABLEFIT_R; s++) {
        if (s < -R || s > R) esc += c[s];
        tot += c[s];
    }
    double w = 1.0 / (tot + LWC_TABLEFIT_PRIOR);
    for (int s = -R; s <= R; s++) /* symmetric: the mean is already removed */
        pmf[R + s] = (0.5 * (c[s] + c[-s]) + LWC_TABLEFIT_PRIOR * pmf[R + s]) * w;
    pmf[2 * R + 1] = (esc + LWC_TABLEFIT_PRIOR * pmf[2 * R + 1]) * w;
    return n;
}
