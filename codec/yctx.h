/* Context classes of y's symbols (model version 6): which of a few table
 * sets codes a symbol, from the magnitudes of symbols the decoder already
 * has. The network's scale already sees a 3x3 context over the anchors; the
 * classes add what the tables can still learn from local activity, with no
 * multiply-add.
 *
 * mag[c][i][j] = min(|q|, 255) of the symbol q coded at channel c, position
 * (i, j) (zero where nothing is coded yet). For slice s (channels
 * [s ms, (s+1) ms)) and parity par, the context value of position (i, j) is
 *
 *   par 1 (non-anchors): the sum of mag over its four neighbours (i+-1, j),
 *       (i, j+-1) in the same channel (outside the map counts 0), n = 4;
 *   par 0 (anchors): the sum of mag over the ms channels of slice s-1 at
 *       (i, j), n = ms; in slice 0 the class is 0;
 *
 * and its class is the number of edges e_k (Q8, mean |q| times 256) with
 * 256 * sum >= e_k * n. A symbol of scale index k takes table
 * t0 + (par * C + class) * LWC_NUM_SCALES + k, C = edges + 1. */
#ifndef LWC_YCTX_H
#define LWC_YCTX_H

#include <stdint.h>

#define LWC_YCTX_EDGES_MAX 7 /* at most 8 classes per parity */

typedef struct LwcYCtx {
    int edges;                          /* 0: no context classes */
    int32_t edge[LWC_YCTX_EDGES_MAX];   /* strictly increasing, > 0, Q8 */
    uint8_t class4[4 * 255 + 1];        /* the class of a four-neighbour sum (lwc_yctx_prepare) */
} LwcYCtx;

/* Classes per parity (1 without context). */
static inline int lwc_yctx_classes(const LwcYCtx *y) { return y->edges + 1; }

/* The classes of rows [r0, r1) of a pass of parity par into cls, laid out
 * [ms][npos] like the pass's parameters (positions of the parity in raster
 * order from row 0, npos per channel). cur: mag of the pass's slice
 * ([ms][hy][wy]; only its anchors are read); prev: the previous slice's
 * sum of mag over its ms channels ([hy][wy]; NULL in slice 0). */
void lwc_yctx_rows(const LwcYCtx *y, const uint8_t *cur, const uint32_t *prev, int hy, int wy, int ms, int par,
                   int r0, int r1, uint8_t *cls, int npos);

/* Edges from mean magnitudes (as in `lwc train --fit-context`): each
 * rounded to Q8; LWC_ERR_INVAL unless 1..LWC_YCTX_EDGES_MAX values, each
 * in (0, 255], strictly increasing after rounding. */
int lwc_yctx_from_means(LwcYCtx *y, const double *mean, int n);
/* The same check of Q8 edges (a model file's), then the class table. */
int lwc_yctx_prepare(LwcYCtx *y);

#endif
