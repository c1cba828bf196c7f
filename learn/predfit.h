/* Fitting the in-pass prediction of y's symbols (model version 7;
 * codec/ypred.h) at export: least squares per channel and parity of each
 * symbol on its taps (the same taps and clamp as the coder), over the
 * coder's symbols of training crops. The weights go to the model file in
 * Q12; the y tables are then fitted on what the coder really codes, the
 * symbols minus their prediction (tablefit.h). */
#ifndef LWC_PREDFIT_H
#define LWC_PREDFIT_H

#include <stdint.h>

#include "codec/ypred.h"

typedef struct LwcPredFit {
    int M;
    double *ata; /* [M][2][TAPS][TAPS] sums of x x^T */
    double *atb; /* [M][2][TAPS] sums of x q */
} LwcPredFit;

int lwc_predfit_init(LwcPredFit *f, int M);
void lwc_predfit_free(LwcPredFit *f);
/* Count the symbols of one crop: q ([M][h][w], the coder's symbols). */
void lwc_predfit_add(LwcPredFit *f, const int32_t *q, int h, int w);
void lwc_predfit_merge(LwcPredFit *dst, const LwcPredFit *src);
/* Weights w ([M][2][TAPS], Q12, rounded and clamped to int16): each
 * channel's and parity's least-squares solution with a small ridge (a
 * channel that never codes anything gets zeros). */
int lwc_predfit_solve(const LwcPredFit *f, int16_t *w);

#endif
