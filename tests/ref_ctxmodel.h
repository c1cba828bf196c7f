/* The tests' oracle for the entropy model's row-range path (see
 * ref_ctxmodel.c). */
#ifndef LWC_REF_CTXMODEL_H
#define LWC_REF_CTXMODEL_H

#include <stdint.h>

#include "codec/ctxmodel.h"

/* Hyper features from z_hat [Nz][hy/4][wy/4]. */
void ref_ctx_hyper(LwcCtx *c, const int32_t *zhat);
/* Means (Q4) and scale indexes of slice s, pass `parity`, laid out
 * [ms][npos] with positions in raster order: prepare (serial), then any
 * partition of the positions [0, npos) over params_range calls. */
void ref_ctx_params(LwcCtx *c, int s, int parity, int32_t *mu, uint8_t *idx);
void ref_ctx_prepare(LwcCtx *c, int s, int parity);
void ref_ctx_params_range(LwcCtx *c, int s, int parity, int p0, int p1, int32_t *mu, uint8_t *idx, int worker);
/* Record y_hat (Q4, [ms][npos]) of slice s, pass `parity`. */
void ref_ctx_store(LwcCtx *c, int s, int parity, const int32_t *yq);
/* The positions of one parity of a [h][w] map, in raster order, into dst. */
void ref_gather_parity(const int16_t *src, int h, int w, int parity, int16_t *dst);

#endif
