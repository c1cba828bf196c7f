/* Context classes of z's symbols (model version 8).
 *
 * z is coded channel after channel, each channel in raster order, with one
 * static table per channel (and rate level). At low rates most of z sits
 * at one value per channel and the rest comes in clusters, which a static
 * table cannot see. A model of version 8 has K tables per channel instead
 * (K = "zctx.classes", 2..LWC_ZCTX_CLASSES_MAX) and a reference value per
 * channel and z density ("zctx.ref", i32 [sets][Nz], sets = 1 or L: the
 * value the channel mostly takes there). The symbol at (i, j) of channel c
 * takes class
 *
 *   k = min(K - 1, sum_n min(K - 1, |z[c][i + dy_n][j + dx_n] - ref[c]|))
 *
 * over the LWC_ZCTX_TAPS offsets below, all coded before it; an offset
 * outside the map adds 0. Its table is "fact" table (s K + k) Nz + c for
 * density set s (lwc_model_ztable gives s K Nz). */
#ifndef LWC_ZCTX_H
#define LWC_ZCTX_H

#include <stdint.h>

#define LWC_ZCTX_TAPS 6
#define LWC_ZCTX_CLASSES_MAX 16
#define LWC_ZCTX_REF_MAX (1 << 20) /* |ref| bound a model file must keep */

/* The taps' offsets (dy, dx): W, N, NW, NE, WW, NN. */
extern const int8_t lwc_zctx_off[LWC_ZCTX_TAPS][2];

/* The class of position (i, j) of a channel's plane z (h x w, raster
 * order; only the positions before (i, j) are read), reference ref, K
 * classes (K <= 1: always 0). */
int lwc_zctx_class(const int32_t *z, int h, int w, int i, int j, int32_t ref, int classes);

#endif
