/* Forward and backward of the whole codec on one training crop, in float,
 * with the rate terms (noisy y and z, Gaussian conditional and factorized
 * densities) and the distortion term. The entropy-parameter nets run in
 * float here; the exported model runs their integer twins. */
#ifndef LWC_TRAIN_GRAPH_H
#define LWC_TRAIN_GRAPH_H

#include <stdint.h>

#include "learn/net.h"

typedef struct LwcStepStats {
    double bits_y, bits_z; /* total bits of the crop */
    double mse;            /* mean squared error, pixel values in [0, 1] */
    double loss;           /* (bits)/pixels + lambda * 255^2 * mse */
} LwcStepStats;

typedef struct LwcGraph LwcGraph;

/* A graph for size x size crops (size a multiple of 32). */
int lwc_graph_create(LwcGraph **g, const LwcNet *n, int size);
/* A graph for width x height pixels (multiples of 32). */
int lwc_graph_create_rect(LwcGraph **g, const LwcNet *n, int width, int height);
void lwc_graph_free(LwcGraph **g);
/* on = 1: y_hat = y, unquantised (the rates are then meaningless): the
 * autoencoder's own distortion, the ceiling quantisation works under. */
/* on: 3x3 stride-1 layers by im2col GEMMs (as before Winograd), for tests
 * and benchmarks; the default runs their forward and input gradient through
 * Winograd F(4x4, 3x3), equal up to float rounding. */
void lwc_graph_set_direct(LwcGraph *g, int on);
void lwc_graph_set_exact(LwcGraph *g, int on);
/* Diagnostics of the integer coder's approximations, in rounding runs
 * (train = 0): means rounded to 1/16 as the coder's Q4 means, and scales
 * replaced by the coder's table scale (lwc_gauss_table_bounds). 0: the
 * float model. */
#define LWC_GRAPH_MEAN_Q4 1
#define LWC_GRAPH_SCALE_TABLE 2
void lwc_graph_set_coder_like(LwcGraph *g, int flags);

/* One crop x ([3][size][size], values in [-0.5, 0.5]) at rate level `level`.
 * train = 1: uniform noise in the rate terms, then backward, adding
 * grad_scale * dLoss/dparam into grad (n->nparams) and fgrad (factorized
 * params). train = 0: rounding everywhere (the real coder's rates, up to
 * the integer export), no backward. act_max, if not NULL, is raised to the
 * largest activation seen at each integer layer's output (calibration). */
int lwc_graph_run(LwcGraph *g, const float *x, int level, int train, uint64_t *rng,
                  float grad_scale, float *grad, float *fgrad, float *act_max, LwcStepStats *st);
/* Runs between rate levels: the gains of `level` interpolated geometrically
 * toward level + 1 by frac (0 <= frac < 1, as the codec does between
 * levels; 0: the level's own, the default), lambda log-linearly, and z's
 * density of the nearer level (the codec's); in training the gain gradients
 * go to both levels by their weights. */
void lwc_graph_set_frac(LwcGraph *g, float frac);
/* After a run with train = 0: count the coder's symbols of y, round(y - mu)
 * with mu in Q4, in the table each predicted scale selects, of table set
 * `set` (tablefit.h); with context classes (f->ctx.edges > 0) in the set of
 * the symbol's parity and class instead (codec/yctx.h), and with in-pass
 * prediction (f->pred) minus their prediction (codec/ypred.h).
 * LWC_ERR_NOMEM. */
struct LwcTableFit;
int lwc_graph_fit_tables(const LwcGraph *g, struct LwcTableFit *f, int set);
/* The same symbols into the in-pass prediction's least squares
 * (predfit.h). LWC_ERR_NOMEM. */
struct LwcPredFit;
int lwc_graph_fit_pred(const LwcGraph *g, struct LwcPredFit *f);
/* The same for z_hat of density set s: channel c's values in table s Nz + c,
 * or with f->zclasses K > 1, (s K + k) Nz + c for a symbol of context class
 * k (codec/zctx.h). LWC_ERR_NOMEM. */
int lwc_graph_fit_z(const LwcGraph *g, struct LwcTableFit *f, int set);
/* z_hat of the last run, [Nz][h/4][w/4] (integers as floats). */
const float *lwc_graph_zhat(const LwcGraph *g);

/* ---- Latent search (the encoder's --effort) -------------------------------
 * The same graph with the weights fixed and the latents y of one region as
 * the variables: loss = bits of y_hat + lambda 255^2 SE / 3 (SE over pixel
 * values in [-0.5, 0.5]), the gradient taken to y. z is fixed, so the
 * hyper features are computed once. At the free positions y_hat =
 * mu + sga(y - mu), a stochastic rounding annealed to the hard one as tau
 * goes to 0 (hard at tau <= 0); the other positions keep the y_hat given. Maps are the graph's size: h = H/8,
 * w = W/8 latents. */
typedef struct LwcLatentTask {
    const float *x;              /* [3][H][W] pixels in [-0.5, 0.5] */
    const float *zh;             /* [Nz][h/4][w/4] hyper-latents (integers) */
    const float *yh_fixed;       /* [M][h][w] y_hat where free == 0 */
    const uint8_t *free, *rate;  /* [h*w]: y optimised here; bits counted here */
    int px_r0, px_r1, px_c0, px_c1; /* pixel rows / columns whose error counts */
    const float *igain;          /* [M] inverse gains of the quality */
    double lambda;
    float tau;                   /* rounding temperature (<= 0: hard); may change between steps */
    uint64_t seed;               /* the rounding noise (may change between steps) */
    /* z search (optional): zfree NULL keeps z fixed at zh. Else the steps
     * take a continuous z, rounded like y (without a mean), and its bits
     * count where zfree is set: zbits[c][v - zlo[c]] for integers v in
     * [zlo[c], zlo[c] + zn), linear between integers, ends held. */
    const uint8_t *zfree;        /* [(h/4)*(w/4)] */
    const float *zbits;          /* [Nz][zn] */
    const int32_t *zlo;          /* [Nz] */
    int zn;
    const float *zigain;         /* [Nz] inverse gains of z_hat at the quality (NULL: 1) */
    /* The model's in-pass prediction (codec/ypred.h; NULL: none): each mean
     * is shifted by the weighted residuals y_hat - mu of its taps, as the
     * coder shifts its symbols (continuous here: no rounding or clamp; taps
     * outside the tile count 0). The tile must start on an even row and
     * column, so that its parities are the image's. */
    const int16_t *ypred;        /* [M][2][LWC_YPRED_TAPS], Q12 */
} LwcLatentTask;

typedef struct LwcLatentStats { double bits, bits_z, se, loss; } LwcLatentStats;

/* Start a search on task t (kept by pointer until lwc_graph_latent_end). */
int lwc_graph_latent_begin(LwcGraph *g, const LwcLatentTask *t);
/* Loss at y ([M][h][w]) and, when the task searches z, z ([Nz][h/4][w/4]);
 * with dy (and dz), the gradients (zero where not free). bits includes
 * bits_z, the bits of the free z. */
int lwc_graph_latent_step(LwcGraph *g, const float *y, const float *z, float *dy, float *dz,
                          LwcLatentStats *st);
void lwc_graph_latent_end(LwcGraph *g);

#endif
