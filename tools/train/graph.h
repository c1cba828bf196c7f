/* Forward and backward of the whole codec on one training crop, in float,
 * with the rate terms (noisy y and z, Gaussian conditional and factorized
 * densities) and the distortion term. The entropy-parameter nets run in
 * float here; the exported model runs their integer twins. */
#ifndef LWC_TRAIN_GRAPH_H
#define LWC_TRAIN_GRAPH_H

#include <stdint.h>

#include "tools/train/net.h"

typedef struct LwcStepStats {
    double bits_y, bits_z; /* total bits of the crop */
    double mse;            /* mean squared error, pixel values in [0, 1] */
    double loss;           /* (bits)/pixels + lambda * 255^2 * mse */
} LwcStepStats;

typedef struct LwcGraph LwcGraph;

/* A graph for size x size crops (size a multiple of 32). */
int lwc_graph_create(LwcGraph **g, const LwcNet *n, int size);
void lwc_graph_free(LwcGraph **g);

/* One crop x ([3][size][size], values in [-0.5, 0.5]) at rate level `level`.
 * train = 1: uniform noise in the rate terms, then backward, adding
 * grad_scale * dLoss/dparam into grad (n->nparams) and fgrad (factorized
 * params). train = 0: rounding everywhere (the real coder's rates, up to
 * the integer export), no backward. act_max, if not NULL, is raised to the
 * largest activation seen at each integer layer's output (calibration). */
int lwc_graph_run(LwcGraph *g, const float *x, int level, int train, uint64_t *rng,
                  float grad_scale, float *grad, float *fgrad, float *act_max, LwcStepStats *st);

#endif
