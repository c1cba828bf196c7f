/* The latent y in stripes: the stripe table, the parallel steps of a pass
 * (ystripes.h) and the decoder's side of the symbols. The encoder's side is
 * in ystripes_enc.c. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"
#include "internal.h"
#include "ystripes.h"

/* Rows and count first (both against hy), then every size against what is
 * left of the payload: no field is used before it is checked. */
int lwc_ystripes_parse(const uint8_t *buf, uint32_t size, int version, int hy, LwcYStripes *t)
{
    memset(t, 0, sizeof(*t));
    if (version == 1) {
        *t = (LwcYStripes){ .rows = hy, .count = 1, .data = { buf }, .size = { size } };
        return LWC_OK;
    }
    LWC_RET_IF(size < LWC_YSTRIPES_HEAD, LWC_ERR_TRUNCATED);
    uint32_t rows = lwc_rd32(buf), count = lwc_rd32(buf + 4);
    LWC_RET_IF(rows < 1 || rows > (uint32_t)hy, LWC_ERR_CORRUPT);
    LWC_RET_IF(count != (uint32_t)lwc_ystripes_count(hy, (int)rows) || count > LWC_YSTRIPES_MAX, LWC_ERR_CORRUPT);
    size_t left = size - LWC_YSTRIPES_HEAD;
    LWC_RET_IF(left < 4 * (size_t)count, LWC_ERR_TRUNCATED);
    left -= 4 * (size_t)count;
    const uint8_t *p = buf + LWC_YSTRIPES_HEAD + 4 * (size_t)count;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t n = lwc_rd32(buf + LWC_YSTRIPES_HEAD + 4 * (size_t)k);
        LWC_RET_IF(n > left, LWC_ERR_TRUNCATED);
        LWC_RET_IF(n < 8 || n % 4, LWC_ERR_CORRUPT); /* a rANS stream is 8 + 4n bytes */
        t->data[k] = p;
        t->size[k] = n;
        p += n;
        left -= n;
    }
    LWC_RET_IF(left, LWC_ERR_CORRUPT);
    t->rows = (int)rows;
    t->count = (int)count;
    return LWC_OK;
}

/* --- passes ------------------------------------------------------------------ */

/* Rows per parameter task: about a sixteenth of a pass, at least 512
 * positions (the integer kernels work in chunks of a few hundred). Any
 * split gives the same integers. */
static int param_chunk_rows(int hy, int wy)
{
    int npos = lwc_ctx_row_pos(hy, wy, 0), want = LWC_MAX(512, npos / 16);
    return LWC_MIN(hy, LWC_MAX(1, (2 * want + wy - 1) / wy));
}

int lwc_ypass_open(LwcYPass *p, LwcCtx *ctx, int rows, int t0)
{
    memset(p, 0, sizeof(*p));
    const LwcYCtx *yc = &ctx->m->yctx;
    size_t n = (size_t)ctx->ms * lwc_ctx_row_pos(ctx->hy, ctx->wy, 0);
    p->ctx = ctx;
    p->rows = rows;
    p->count = lwc_ystripes_count(ctx->hy, rows);
    p->chunk_rows = param_chunk_rows(ctx->hy, ctx->wy);
    p->tbase[0] = t0;
    p->tbase[1] = t0 + (yc->edges ? lwc_yctx_classes(yc) * LWC_NUM_SCALES : 0);
    p->mu = lwc_malloc_array(n, sizeof(int32_t));
    p->vals = lwc_malloc_array(n, sizeof(int32_t));
    p->idx = lwc_malloc(n);
    int ok = p->mu && p->vals && p->idx;
    if (ok && ctx->m->ypred)
        ok = (p->plane = lwc_calloc((size_t)p->count * (rows + 2), ((size_t)ctx->wy + 4) * sizeof(int16_t))) != NULL;
    if (ok && yc->edges) {
        p->cls = lwc_malloc(n);
        p->mag = lwc_calloc((size_t)ctx->ms * ctx->hy, ctx->wy);
        p->msum = lwc_calloc((size_t)2 * ctx->hy * ctx->wy, sizeof(uint32_t));
        ok = p->cls && p->mag && p->msum;
    }
    if (!ok) {
        lwc_ypass_close(p);
        return LWC_ERR_NOMEM;
    }
    return LWC_OK;
}

void lwc_ypass_close(LwcYPass *p)
{
    lwc_free(p->mu); lwc_free(p->vals); lwc_free(p->idx); lwc_free(p->cls); lwc_free(p->mag); lwc_free(p->msum);
    lwc_free(p->plane);
    p->mu = p->vals = NULL;
    p->plane = NULL;
    p->idx = p->cls = p->mag = NULL;
    p->msum = NULL;
}

/* The channel sums of mag in slice s. */
static uint32_t *pass_msum(const LwcYPass *p, int s)
{
    return p->msum + (size_t)(s & 1) * p->ctx->hy * p->ctx->wy;
}

static int params_task(void *arg, int task, int worker)
{
    const LwcYPass *p = arg;
    const LwcCtx *c = p->ctx;
    int r0 = task * p->chunk_rows, r1 = LWC_MIN(c->hy, r0 + p->chunk_rows);
    lwc_ctx_params_rows(p->ctx, p->s, p->par, r0, r1, p->mu, p->idx, worker);
    if (p->cls)
        lwc_yctx_rows(&c->m->yctx, p->mag, p->s ? pass_msum(p, p->s - 1) : NULL, c->hy, c->wy, c->ms, p->par, r0, r1,
                      p->cls, p->npos);
    return LWC_OK;
}

/* min(|symbol|, 255) of rows [r0, r1) of the pass: the anchors' for the
 * non-anchors' classes, and their sum over the channels for the next
 * slice's anchors. */
static void store_mag(const LwcYPass *p, int r0, int r1)
{
    const LwcCtx *c = p->ctx;
    size_t hw = (size_t)c->hy * c->wy;
    int p0 = lwc_ctx_row_pos(r0, c->wy, p->par);
    uint32_t *sum = pass_msum(p, p->s);
    for (int ch = 0; ch < c->ms; ch++) {
        size_t q = (size_t)ch * p->npos + p0;
        uint8_t *dst = p->par ? NULL : p->mag + (size_t)ch * hw;
        for (int i = r0; i < r1; i++)
            for (int j = (i & 1) ^ p->par; j < c->wy; j += 2, q++) {
                int64_t a = llabs((int64_t)p->vals[q] - p->mu[q]) >> 4; /* vals = 16 sym + mu */
                size_t at = (size_t)i * c->wy + j;
                a = LWC_MIN(a, 255);
                if (dst) dst[at] = (uint8_t)a;
                sum[at] = (ch ? sum[at] : 0) + (uint32_t)a;
            }
    }
}

void lwc_ypass_params(LwcYPass *p, int s, int parity)
{
    p->s = s;
    p->par = parity;
    p->npos = lwc_ctx_row_pos(p->ctx->hy, p->ctx->wy, parity);
    lwc_parallel(p->ctx->workers, lwc_ystripes_count(p->ctx->hy, p->chunk_rows), params_task, p);
}

void lwc_ypass_stripe(const LwcYPass *p, int k, int *r0, int *r1, int *p0, int *p1)
{
    *r0 = k * p->rows;
    *r1 = LWC_MIN(p->ctx->hy, *r0 + p->rows);
    *p0 = lwc_ctx_row_pos(*r0, p->ctx->wy, p->par);
    *p1 = lwc_ctx_row_pos(*r1, p->ctx->wy, p->par);
}

void lwc_ypass_store(const LwcYPass *p, int r0, int r1, int32_t *yq)
{
    const LwcCtx *c = p->ctx;
    lwc_ctx_store_rows(p->ctx, p->s, p->par, r0, r1, p->vals);
    if (p->mag) store_mag(p, r0, r1);
    if (!yq) return;
    size_t hw = (size_t)c->hy * c->wy;
    int p0 = lwc_ctx_row_pos(r0, c->wy, p->par);
    for (int ch = 0; ch < c->ms; ch++) {
        const int32_t *src = p->vals + (size_t)ch * p->npos + p0;
        int32_t *dst = yq + ((size_t)p->s * c->ms + ch) * hw;
        for (int i = r0; i < r1; i++)
            for (int j = (i & 1) ^ p->par; j < c->wy; j += 2) dst[(size_t)i * c->wy + j] = *src++;
    }
}

/* --- decoding ---------------------------------------------------------------- */

typedef struct YDec {
    LwcYPass pass;
    const LwcModel *m;
    int32_t *yq;
    LwcRansDec dec[LWC_YSTRIPES_MAX];
    int err[LWC_YSTRIPES_MAX];
} YDec;

/* The symbols of stripe k in the current pass, then its rows of y_hat. A
 * failure is kept in err[k] (the stripe stops; the others go on) so that
 * the caller reports the first one in stripe order. */
static int decode_task(void *arg, int k, int worker)
{
    YDec *d = arg;
    const LwcYPass *p = &d->pass;
    int r0, r1, p0, p1;
    lwc_ypass_stripe(p, k, &r0, &r1, &p0, &p1);
    LwcRansDec dec = d->dec[k]; /* a local copy: neighbouring stripes' coders share cache lines */
    int r = LWC_OK;
    for (int c = 0; c < p->ctx->ms && r == LWC_OK; c++) {
        size_t q = (size_t)c * p->npos + p0;
        for (int i = r0; i < r1 && r == LWC_OK; i++)
            for (int j = (i & 1) ^ p->par; j < p->ctx->wy; j += 2, q++) {
                int tn, off;
                int32_t sym;
                int t = lwc_ypass_table(p, q);
                const uint32_t *cdf = lwc_cdf_table(&d->m->gauss, t, &tn, &off);
                const uint16_t *guide = d->m->gauss.guides + (size_t)t * (LWC_CDF_GUIDE + 1);
                r = lwc_cdf_decode_value_guided(&dec, cdf, guide, tn, off, &sym);
                if (r != LWC_OK) break;
                int16_t *at = lwc_ypass_plane_at(p, k, r0, i, j);
                int64_t v = (int64_t)sym + lwc_ypass_pred(p, c, at);
                if (v > LWC_Y_SYM_MAX || v < -LWC_Y_SYM_MAX) {
                    r = LWC_ERR_CORRUPT;
                    break;
                }
                if (at) *at = lwc_ypred_tap((int32_t)v);
                p->vals[q] = (int32_t)v * 16 + p->mu[q];
            }
    }
    d->dec[k] = dec;
    if (r != LWC_OK) {
        d->err[k] = r;
        return LWC_OK;
    }
    lwc_ypass_store(p, r0, r1, d->yq);
    return LWC_OK;
}

static int first_error(const int *err, int n)
{
    for (int k = 0; k < n; k++)
        if (err[k] < 0) return err[k];
    return LWC_OK;
}

static int decode_passes(YDec *d, const LwcYStripes *t)
{
    for (int k = 0; k < t->count; k++) d->err[k] = lwc_rans_dec_init(&d->dec[k], t->data[k], t->size[k]);
    LWC_FWD(first_error(d->err, t->count));
    for (int s = 0; s < d->m->a.S; s++)
        for (int par = 0; par < 2; par++) {
            lwc_ypass_params(&d->pass, s, par);
            lwc_parallel(d->pass.ctx->workers, t->count, decode_task, d);
            LWC_FWD(first_error(d->err, t->count));
        }
    for (int k = 0; k < t->count; k++) d->err[k] = lwc_rans_dec_finish(&d->dec[k]);
    return first_error(d->err, t->count);
}

int lwc_ydecode(const LwcModel *m, LwcCtx *ctx, int q100, const LwcYStripes *t, int32_t *yq)
{
    YDec *d = lwc_calloc(1, sizeof(*d));
    LWC_RET_IF(!d, LWC_ERR_NOMEM);
    d->m = m;
    d->yq = yq;
    int r = lwc_ypass_open(&d->pass, ctx, t->rows, lwc_model_ytable(m, q100));
    if (r == LWC_OK) r = decode_passes(d, t);
    lwc_ypass_close(&d->pass);
    lwc_free(d);
    return r;
}
