/* Fitted scale tables: the y tables of a model from the symbols the model
 * really codes, instead of the discretised Gaussian it was trained with.
 *
 * The codec picks one of LWC_SCALE_LEVELS tables per symbol from the
 * predicted scale (the model's thresholds) and codes s = round(y - mu)
 * with it. Trained under a Gaussian likelihood, the residuals are still not
 * Gaussian: more mass at 0 and in the tails. A fit counts s per table
 * index k over training crops (the graph's float means and scales, the
 * export's thresholds) and blends each histogram, made symmetric, with the
 * Gaussian table it replaces:
 *
 *   p_k(s) = (n_k(s) + P0 * g_k(s)) / (N_k + P0)
 *
 * where n_k(s) are the counts over the table's support (|s| > R_k count
 * toward the escape), N_k their total and P0 = LWC_TABLEFIT_PRIOR pseudo
 * counts, so rarely used tables stay Gaussian. The support, the escape and
 * the thresholds stay those of the Gaussian table: the decoder and the
 * bitstream do not change, only the numbers in the model file.
 *
 * A fit holds one set of tables (shared by the rate levels) or one per
 * level; table t of a fit is table k = t % LWC_SCALE_LEVELS of set
 * t / LWC_SCALE_LEVELS, as in the model file ("gauss", model version 5). */
#ifndef LWC_TABLEFIT_H
#define LWC_TABLEFIT_H

#include <stdint.h>

#include "entropy/cdf.h"

#define LWC_TABLEFIT_R 2047      /* counted |s| <= R; larger |s| count as escapes */
#define LWC_TABLEFIT_PRIOR 1024.0

typedef struct LwcTableFit {
    int sets;
    double *count;               /* [sets * LWC_SCALE_LEVELS][2R+2]: s + R, then the escapes */
    double bound[LWC_SCALE_LEVELS]; /* scale bounds of the tables (lwc_gauss_table_bounds) */
} LwcTableFit;

int lwc_tablefit_init(LwcTableFit *f, int sets);
void lwc_tablefit_free(LwcTableFit *f);
/* The table k of a predicted scale (the export's thresholds, in scale units). */
int lwc_tablefit_index(const LwcTableFit *f, double scale);
/* Count symbol s in table t. */
void lwc_tablefit_add(LwcTableFit *f, int t, long s);
/* dst += src */
void lwc_tablefit_merge(LwcTableFit *dst, const LwcTableFit *src);
/* Symbols counted in table t. */
double lwc_tablefit_total(const LwcTableFit *f, int t);
/* Table t's pmf over the support of Gaussian table t % LWC_SCALE_LEVELS
 * (lwc_gaussian_pmf's layout and return value: n = 2R+2 entries, the last
 * the escape, *half_width = R); f == NULL gives the Gaussian itself. */
int lwc_tablefit_pmf(const LwcTableFit *f, int t, double *pmf, int max_n, int *half_width);

#endif
