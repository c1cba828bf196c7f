/* Fitted coding tables: the tables of a model from the values the coder
 * really codes, instead of the densities the model was trained with.
 *
 * y: the codec picks one of LWC_SCALE_LEVELS tables per symbol from the
 * predicted scale (the model's thresholds) and codes s = round(y - mu)
 * with it. Trained under a Gaussian likelihood, the residuals are still not
 * Gaussian: more mass at 0 and in the tails. z: each channel (of each rate
 * level, with one density per level) has a table from the learned
 * factorized density.
 *
 * A fit counts the coder's values per table over training crops (the
 * graph's float networks, the export's thresholds) and blends each table's
 * histogram with the density it replaces:
 *
 *   p_t(v) = (n_t(v) + P0 * q_t(v)) / (N_t + P0)
 *
 * where n_t(v) are the counts over the table's support (values outside it
 * count toward the escape), N_t their total, q_t the trained density's table
 * and P0 = LWC_TABLEFIT_PRIOR pseudo counts, so rarely used tables stay as
 * they were. y's counts are made symmetric first (the mean is removed); z's
 * are not. The support, the escape and the thresholds stay: the decoder and
 * the bitstream do not change, only the numbers in the model file.
 *
 * Table t of a y fit is table k = t % LWC_SCALE_LEVELS of set
 * t / LWC_SCALE_LEVELS (one set shared by the rate levels, one per level, or
 * one per parity and context class, as in the model file's "gauss"); table
 * t of a z fit is "fact" table t (with context classes, see zclasses). */
#ifndef LWC_TABLEFIT_H
#define LWC_TABLEFIT_H

#include <stdint.h>

#include "codec/yctx.h"
#include "entropy/cdf.h"

#define LWC_TABLEFIT_R 2047      /* counted |v| <= R; larger |v| count as escapes */
#define LWC_TABLEFIT_PRIOR 1024.0

typedef struct LwcTableFit {
    int tables;
    double *count;               /* [tables][2R+2]: v + R, then the escapes */
    double bound[LWC_SCALE_LEVELS]; /* y: scale bounds of the tables (lwc_gauss_table_bounds) */
    LwcYCtx ctx;                 /* y: context classes (model version 6), edges = 0 without; then
                                  * tables = 2 * classes * LWC_SCALE_LEVELS, set par * classes + class */
    const int16_t *pred;         /* y, with ctx: in-pass prediction weights (model version 7; codec/ypred.h,
                                  * [M][2][LWC_YPRED_TAPS]): the counts are of the symbols minus their
                                  * prediction; NULL without */
    int zclasses;                /* z: context classes (model version 8; codec/zctx.h), 0 or 1 without;
                                  * then tables = sets * zclasses * Nz, table (s zclasses + k) Nz + c */
    const int32_t *zref;         /* z, with zclasses: reference values [sets][Nz] */
} LwcTableFit;

/* z with context classes: each table is its class's counts blended with
 * its channel's table (the counts of all its classes blended with the
 * trained density), with this many pseudo counts. */
#define LWC_TABLEFIT_CLASS_PRIOR 32.0

int lwc_tablefit_init(LwcTableFit *f, int tables);
void lwc_tablefit_free(LwcTableFit *f);
/* y: the table k of a predicted scale (the export's thresholds, in scale units). */
int lwc_tablefit_index(const LwcTableFit *f, double scale);
/* Count value v in table t. */
void lwc_tablefit_add(LwcTableFit *f, int t, long v);
/* dst += src (the same number of tables) */
void lwc_tablefit_merge(LwcTableFit *dst, const LwcTableFit *src);
/* Values counted in table t. */
double lwc_tablefit_total(const LwcTableFit *f, int t);
/* Blend table t's counts into pmf, the trained density's table over the
 * values [-offset, n-2-offset] with the escape at n-1 (cdf.h layout);
 * symmetric: average the counts of v and -v first. */
void lwc_tablefit_blend(const LwcTableFit *f, int t, int symmetric, double *pmf, int n, int offset);
/* The same with the counts of tables t0 + k * stride, k < count, summed,
 * and prior pseudo counts. */
void lwc_tablefit_blend_sum(const LwcTableFit *f, int t0, int stride, int count, int symmetric, double prior,
                            double *pmf, int n, int offset);
/* y: table t's pmf over the support of Gaussian table t % LWC_SCALE_LEVELS
 * (lwc_gaussian_pmf's layout and return value: n = 2R+2 entries, the last
 * the escape, *half_width = R), blended; f == NULL gives the Gaussian. */
int lwc_tablefit_pmf(const LwcTableFit *f, int t, double *pmf, int max_n, int *half_width);

#endif
