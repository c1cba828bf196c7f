/* The latent y in stripes (bitstream version 2; docs/bitstream.md, YLAT).
 *
 * The symbols of y are split by horizontal stripes of latent rows into
 * independent rANS substreams: stripe k covers rows [k*rows, (k+1)*rows)
 * (the last one may be shorter) and keeps one coder across all passes, its
 * symbols in the order of the single stream of version 1 restricted to its
 * rows. Version 1 is the case of one stripe of hy rows.
 *
 * A pass (slice s, parity) runs in two parallel steps on the context's
 * workers: the entropy parameters in fixed row chunks (lwc_ypass_params),
 * then the symbols stripe by stripe, each stripe task also storing its own
 * rows of y_hat (the parameters of later passes read them; nothing reads
 * them during the symbol step). The split into stripes comes from the
 * geometry and the model only and is written in the stream; the row chunks
 * of the parameters change no integer. So the stream and the pixels are the
 * same for every thread count. */
#ifndef LWC_YSTRIPES_H
#define LWC_YSTRIPES_H

#include <stdint.h>

#include "ctxmodel.h"

#define LWC_YSTRIPES_MAX 64   /* most stripes a stream may have */
#define LWC_YSTRIPES_HEAD 8   /* u32 rows per stripe, u32 stripe count; then the sizes */

/* A YLAT payload cut into its substreams (pointers into the section). */
typedef struct LwcYStripes {
    int rows, count;
    const uint8_t *data[LWC_YSTRIPES_MAX];
    uint32_t size[LWC_YSTRIPES_MAX];
} LwcYStripes;

/* Read the stripe table of a YLAT payload of stream `version` (1: the whole
 * payload is one stripe of hy rows) for a latent of hy rows. Checks every
 * field against hy and the payload length before anything uses it:
 * LWC_ERR_TRUNCATED if the table or a substream runs past the end,
 * LWC_ERR_CORRUPT for a bad row count or stripe count, a substream size
 * that is not 8 + 4n bytes, or sizes that do not add up to the payload.
 * Allocates nothing. */
int lwc_ystripes_parse(const uint8_t *buf, uint32_t size, int version, int hy, LwcYStripes *t);

/* Stripe count for `rows` rows per stripe. */
static inline int lwc_ystripes_count(int hy, int rows) { return (hy + rows - 1) / rows; }

/* The encoder's choice of rows per stripe (not part of the format): about
 * lwc_ystripe_symbols(q100) symbols or more per stripe, at most
 * LWC_YSTRIPES_MAX stripes, equal heights but the last. A function of M,
 * hy, wy and the quality only. */
#define LWC_YSTRIPE_SYMBOLS (1 << 17)
/* LWC_YSTRIPE_SYMBOLS, times 4 below quality 20 and 2 below 40: a stripe
 * costs about 10 bytes (4 of table, ~6 of rANS flush), a larger share of
 * small files (one stripe instead of six saves 0.6..0.8 % at q 0 on 0.2..0.4
 * megapixel images, and decodes as fast on 2 threads). */
uint64_t lwc_ystripe_symbols(int q100);
int lwc_ystripe_rows(const LwcModel *m, int hy, int wy, int q100);
/* Tests: force the rows per stripe (0 = automatic; raised as needed to keep
 * at most LWC_YSTRIPES_MAX stripes). Process-wide, not atomic: set it only
 * while no encode runs. */
void lwc_set_ystripe_rows(int rows);

/* One pass over the stripes: buffers of the pass and where it is. */
typedef struct LwcYPass {
    LwcCtx *ctx;
    int s, par, npos;     /* current slice, parity, positions per channel */
    int rows, count;      /* stripes */
    int chunk_rows;       /* row chunks of lwc_ypass_params */
    int32_t *mu, *vals;   /* [ms][npos] */
    uint8_t *idx;         /* [ms][npos] scale indexes */
    uint8_t *cls;         /* [ms][npos] context classes (yctx.h), or NULL without */
    uint8_t *mag;         /* [ms][hy][wy] min(|symbol|, 255) of slice s's anchors, or NULL without */
    uint32_t *msum;       /* [2][hy][wy] mag summed over the channels of slice s (at s & 1) and of
                           * slice s - 1 (the other) */
    int tbase[2];         /* the table of index 0, class 0 in a pass of each parity */
    int16_t *plane;       /* with in-pass prediction: per stripe, its rows' clamped symbols of the current
                           * channel (ypred.h), rows + 2 rows of wy + 4, zero-padded; else NULL */
} LwcYPass;

/* Allocate the pass buffers (LWC_ERR_NOMEM); close frees them (NULL-safe
 * after a failed open). t0: the first of the quality's y tables
 * (lwc_model_ytable). */
int lwc_ypass_open(LwcYPass *p, LwcCtx *ctx, int rows, int t0);
void lwc_ypass_close(LwcYPass *p);
/* Start pass (s, parity): means and indexes of every position, in parallel. */
void lwc_ypass_params(LwcYPass *p, int s, int parity);
/* Rows [*r0, *r1) and positions [*p0, *p1) (per channel) of stripe k in
 * the current pass. */
void lwc_ypass_stripe(const LwcYPass *p, int k, int *r0, int *r1, int *p0, int *p1);
/* The table ("gauss") of position i (in [ms][npos]) of the current pass. */
static inline int lwc_ypass_table(const LwcYPass *p, size_t i)
{
    return p->tbase[p->par] + p->idx[i] + (p->cls ? (int)p->cls[i] * LWC_NUM_SCALES : 0);
}
/* In-pass prediction (ypred.h) in stripe k: the place of position (i, j)
 * in its plane (r0 the stripe's first row), or NULL without prediction. */
static inline int16_t *lwc_ypass_plane_at(const LwcYPass *p, int k, int r0, int i, int j)
{
    if (!p->plane) return NULL;
    ptrdiff_t W = p->ctx->wy + 4;
    return p->plane + (size_t)k * (p->rows + 2) * W + (size_t)(i - r0 + 2) * W + j + 2;
}
/* The prediction of channel c (in the slice) at plane place at: 0 without. */
static inline int32_t lwc_ypass_pred(const LwcYPass *p, int c, const int16_t *at)
{
    if (!at) return 0;
    const int16_t *w = p->ctx->m->ypred + (((size_t)p->s * p->ctx->ms + c) * 2 + p->par) * LWC_YPRED_TAPS;
    return lwc_ypred_plane(w, at, p->ctx->wy + 4);
}
/* Store rows [r0, r1) of the pass's vals into the context and, when yq is
 * not NULL, into yq ([M][hy][wy], Q4, unclamped). */
void lwc_ypass_store(const LwcYPass *p, int r0, int r1, int32_t *yq);

/* Decoder: decode every stripe of t into yq ([M][hy][wy], Q4) through ctx
 * (hyper features done). The error is that of the first failing stripe in
 * stripe order (the same for every thread count): LWC_ERR_CORRUPT,
 * LWC_ERR_TRUNCATED, LWC_ERR_NOMEM. */
int lwc_ydecode(const LwcModel *m, LwcCtx *ctx, int q100, const LwcYStripes *t, int32_t *yq);

/* Encoder: code y (float [M][hy][wy], gained) through ctx (hyper features
 * done) into a version-2 YLAT payload. wd: NULL rounds every symbol to the
 * nearest integer; else wd[c] is channel c's distortion weight in bits per
 * squared quantisation step, and each symbol is the cheaper in bits +
 * distortion of the two integers around y - mu. On success *out
 * (lwc_malloc'd, the caller frees it) holds *size bytes, and *ovf
 * (lwc_malloc'd or NULL, the caller frees it) the *novf (index into
 * [M][hy][wy], value) pairs of y_hat that ctx->yq clamped to int16. On
 * failure all four are NULL / 0. */
int lwc_yencode(const LwcModel *m, LwcCtx *ctx, int q100, const float *y, const float *wd, uint8_t **out, size_t *size,
                int64_t **ovf, size_t *novf);

#endif
