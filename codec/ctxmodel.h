/* The multi-reference entropy model (after ELIC / MLIC): hyperprior features,
 * channel slices and a checkerboard context, all in integer arithmetic so the
 * encoder and every decoder derive the same CDF indexes.
 *
 * Coding order: for slice s = 0..S-1, first the anchors (parity 0:
 * (i+j) even), then the non-anchors (parity 1). The parameters of a pass
 * depend on the hyper features, on y_hat of the earlier slices, and (for
 * non-anchors) on a 3x3 context over the anchors of the same slice.
 * Values of y_hat are integers in units of 1/16 ("Q4"): y_hat = 16*symbol + mu. */
#ifndef LWC_CTXMODEL_H
#define LWC_CTXMODEL_H

#include <stdint.h>

#include "model.h"

typedef struct LwcCtx {
    const LwcModel *m;
    int hy, wy, ms;
    int16_t *hyper;   /* [Ch][hy][wy] */
    int16_t *yq;      /* [M][hy][wy], y_hat in Q4 clamped to int16 */
    int16_t *anchors; /* [ms][hy][wy] scratch */
    int16_t *in, *h1, *h2, *out;
    int32_t *work;    /* workers * work_n */
    size_t work_n;
    int workers;
} LwcCtx;

/* workers: how many threads may call lwc_ctx_params_rows at once. */
int lwc_ctx_open(LwcCtx *c, const LwcModel *m, int hy, int wy, int workers);
void lwc_ctx_close(LwcCtx *c);
/* Hyper features from z_hat [Nz][hy/4][wy/4], in parts so callers can split
 * each layer over workers: for k = 0, 1, lwc_ctx_hyper_input returns the layer's output positions n, then
 * lwc_ctx_hyper_range computes positions [p0, p1) of it (any split of
 * [0, n) gives the same integers). */
int lwc_ctx_hyper_input(LwcCtx *c, int k, const int32_t *zhat);
void lwc_ctx_hyper_range(LwcCtx *c, int k, int p0, int p1, int worker);
/* A pass in ranges of latent rows, with no serial step: the positions of
 * rows [r0, r1) of a pass are [row_pos(r0), row_pos(r1)) (raster order).
 * lwc_ctx_params_rows gathers the inputs of those rows and computes their
 * means and indexes (means in Q4 and scale indexes, laid out [ms][npos] with positions in raster
 * order). It reads the
 * masked anchors of slice s straight from yq, so passes must be stored in
 * coding order on a freshly opened context: when pass 1 of slice s runs, its
 * own positions in yq are still the zeros lwc_ctx_open put there. Calls on
 * disjoint rows with distinct workers may run concurrently, but not with a
 * store. lwc_ctx_store_rows stores rows [r0, r1) of a pass (yq laid out
 * [ms][npos]); calls on disjoint rows may run concurrently. */
int lwc_ctx_row_pos(int r, int w, int parity);
void lwc_ctx_params_rows(LwcCtx *c, int s, int parity, int r0, int r1, int32_t *mu, uint8_t *idx, int worker);
void lwc_ctx_store_rows(LwcCtx *c, int s, int parity, int r0, int r1, const int32_t *yq);

/* The parameter layers p0, p1, p2 and the scale indexes at positions
 * [p0, p1) of a pass of npos positions whose inputs are in c->in. */
void lwc_ctx_params_tail(LwcCtx *c, int s, int npos, int p0, int p1, int32_t *mu, uint8_t *idx, int32_t *work);

#endif
