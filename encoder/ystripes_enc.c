/* The encoder's side of the latent y in stripes (ystripes.h): each stripe
 * queues its symbols in its own rANS encoder, pass after pass; at the end
 * the stripes are coded in parallel and laid out behind the stripe table. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"
#include "codec/internal.h"
#include "codec/ystripes.h"

/* --- the encoder's choice ---------------------------------------------------- */

static int g_stripe_rows; /* 0: automatic */

void lwc_set_ystripe_rows(int rows) { g_stripe_rows = rows; }

uint64_t lwc_ystripe_symbols(int q100)
{
    return (uint64_t)LWC_YSTRIPE_SYMBOLS << (q100 < 2000 ? 2 : q100 < 4000 ? 1 : 0);
}

int lwc_ystripe_rows(const LwcModel *m, int hy, int wy, int q100)
{
    int least = lwc_ystripes_count(hy, LWC_YSTRIPES_MAX); /* rows that keep count <= MAX */
    if (g_stripe_rows > 0) return LWC_MIN(LWC_MAX(g_stripe_rows, least), hy);
    uint64_t k = (uint64_t)m->a.M * hy * wy / lwc_ystripe_symbols(q100);
    k = LWC_CLAMP(k, 1, (uint64_t)LWC_MIN(hy, LWC_YSTRIPES_MAX));
    return LWC_MAX(lwc_ystripes_count(hy, (int)k), least);
}

/* Cache-line aligned: each is updated per symbol by its own worker, and
 * neighbours sharing a line cost the 2-thread speed-up (false sharing). */
typedef struct StripeEnc {
    _Alignas(64) LwcRansEnc re;
    int64_t *ovf; /* (index, value) pairs of y_hat outside int16 */
    size_t novf, capovf;
    uint8_t *buf; /* the coded substream */
    size_t len;
    int err;
} StripeEnc;

typedef struct YEnc {
    LwcYPass pass;
    const LwcModel *m;
    const float *y;
    const float *wd; /* [M] rate-distortion weights (lwc_yencode), or NULL */
    StripeEnc st[LWC_YSTRIPES_MAX];
} YEnc;

static int32_t round_to_int(float v)
{
    double r = floor((double)v + 0.5);
    if (r != r) return 0; /* NaN (only from a broken model): converting it is UB */
    return (int32_t)LWC_CLAMP(r, -1e9, 1e9);
}

/* Remembers a y_hat value that the context's int16 copy clamps. */
static int push_overflow(StripeEnc *s, size_t at, int32_t v)
{
    if (s->novf == s->capovf) {
        size_t cap = s->capovf ? 2 * s->capovf : 64;
        int64_t *q = lwc_malloc_array(cap, 2 * sizeof(int64_t));
        LWC_RET_IF(!q, LWC_ERR_NOMEM);
        if (s->novf) memcpy(q, s->ovf, s->novf * 2 * sizeof(int64_t));
        lwc_free(s->ovf);
        s->ovf = q;
        s->capovf = cap;
    }
    s->ovf[2 * s->novf] = (int64_t)at;
    s->ovf[2 * s->novf + 1] = v;
    s->novf++;
    return LWC_OK;
}

/* log2(f) for 1 <= f <= LWC_RANS_TOTAL, from a table of 4096 entries (the
 * error, under 0.001 bits, only moves rate-distortion ties). */
#define LG_BITS 12
static float g_lg[1 << LG_BITS];
static pthread_once_t g_lg_once = PTHREAD_ONCE_INIT;

static void lg_init(void)
{
    for (int i = 1; i < 1 << LG_BITS; i++) g_lg[i] = (float)log2(i);
}

static float lg(uint32_t f)
{
    int k = 0;
    while (f >> (LG_BITS + k)) k++;
    return g_lg[f >> k] + (float)k;
}

/* Rate-distortion choice between the nearest integer s to the residual r
 * and its other neighbour t: t costs w * ((r - t)^2 - (r - s)^2) =
 * w * (1 - 2|r - s|) more distortion (in bits) and saves log2(f_t / f_s)
 * bits. Only symbols inside the table are considered (no escapes). */
static int32_t rdo_symbol(float r, int32_t s, const uint32_t *cdf, int n, int off, float w)
{
    int32_t t = r > (float)s ? s + 1 : s - 1;
    int32_t lo = -off, hi = n - 2 - off;
    if (s < lo || s > hi || t < lo || t > hi) return s;
    uint32_t fs = cdf[s - lo + 1] - cdf[s - lo], ft = cdf[t - lo + 1] - cdf[t - lo];
    if (ft <= fs) return s;
    return lg(ft) - lg(fs) > w * (1.0f - 2.0f * fabsf(r - (float)s)) ? t : s;
}

/* Symbols of stripe k in the current pass: round(y - mu), or the
 * rate-distortion choice between the two integers around it, y_hat = 16 sym
 * + mu; the coder gets sym minus its in-pass prediction (ypred.h). */
static int code_stripe(YEnc *e, int k)
{
    const LwcYPass *p = &e->pass;
    const LwcCtx *ctx = p->ctx;
    StripeEnc *se = &e->st[k];
    size_t hw = (size_t)ctx->hy * ctx->wy;
    int r0, r1, p0, p1;
    lwc_ypass_stripe(p, k, &r0, &r1, &p0, &p1);
    for (int c = 0; c < ctx->ms; c++) {
        size_t ch = (size_t)p->s * ctx->ms + c, q = (size_t)c * p->npos + p0;
        const float *yc = e->y + ch * hw;
        float w = e->wd ? e->wd[ch] : 0.0f;
        for (int i = r0; i < r1; i++)
            for (int j = (i & 1) ^ p->par; j < ctx->wy; j += 2, q++) {
                int tn, off;
                const uint32_t *cdf = lwc_cdf_table(&e->m->gauss, lwc_ypass_table(p, q), &tn, &off);
                int16_t *at = lwc_ypass_plane_at(p, k, r0, i, j);
                int32_t pred = lwc_ypass_pred(p, c, at);
                float res = yc[(size_t)i * ctx->wy + j] - p->mu[q] / 16.0f;
                int32_t sym = LWC_CLAMP(round_to_int(res), -LWC_Y_SYM_MAX, LWC_Y_SYM_MAX);
                if (w > 0.0f) sym = pred + rdo_symbol(res - (float)pred, sym - pred, cdf, tn, off, w);
                sym = LWC_CLAMP(sym, -LWC_Y_SYM_MAX, LWC_Y_SYM_MAX);
                LWC_FWD(lwc_cdf_encode_value(&se->re, cdf, tn, off, sym - pred));
                if (at) *at = lwc_ypred_tap(sym);
                p->vals[q] = sym * 16 + p->mu[q];
                if (p->vals[q] < INT16_MIN || p->vals[q] > INT16_MAX)
                    LWC_FWD(push_overflow(se, ch * hw + (size_t)i * ctx->wy + j, p->vals[q]));
            }
    }
    lwc_ypass_store(p, r0, r1, NULL);
    return LWC_OK;
}

static int code_task(void *arg, int k, int worker)
{
    YEnc *e = arg;
    if (e->st[k].err == LWC_OK) e->st[k].err = code_stripe(e, k);
    return LWC_OK;
}

/* rANS coding of stripe k's queue (the costly part: it runs in parallel),
 * whose memory goes back at once. */
static int finish_task(void *arg, int k, int worker)
{
    StripeEnc *se = &((YEnc *)arg)->st[k];
    int r = lwc_rans_enc_finish(&se->re, &se->buf, &se->len);
    lwc_rans_enc_free(&se->re);
    if (se->err == LWC_OK) se->err = r;
    return LWC_OK;
}

static int first_error(const YEnc *e)
{
    for (int k = 0; k < e->pass.count; k++)
        if (e->st[k].err < 0) return e->st[k].err;
    return LWC_OK;
}

/* u32 rows, u32 count, count u32 sizes, then the substreams. */
static int write_payload(const YEnc *e, uint8_t **out, size_t *size)
{
    int n = e->pass.count;
    size_t total = LWC_YSTRIPES_HEAD + 4 * (size_t)n;
    for (int k = 0; k < n; k++) {
        LWC_RET_IF(e->st[k].len > UINT32_MAX - total, LWC_ERR_TOO_BIG);
        total += e->st[k].len;
    }
    uint8_t *b = lwc_malloc(total), *p = b + LWC_YSTRIPES_HEAD + 4 * (size_t)n;
    LWC_RET_IF(!b, LWC_ERR_NOMEM);
    lwc_wr32(b, (uint32_t)e->pass.rows);
    lwc_wr32(b + 4, (uint32_t)n);
    for (int k = 0; k < n; k++) {
        lwc_wr32(b + LWC_YSTRIPES_HEAD + 4 * (size_t)k, (uint32_t)e->st[k].len);
        memcpy(p, e->st[k].buf, e->st[k].len);
        p += e->st[k].len;
    }
    *out = b;
    *size = total;
    return LWC_OK;
}

/* All clamped values of every stripe in one list. */
static int merge_overflow(const YEnc *e, int64_t **ovf, size_t *novf)
{
    size_t n = 0;
    for (int k = 0; k < e->pass.count; k++) n += e->st[k].novf;
    if (!n) return LWC_OK;
    int64_t *q = lwc_malloc_array(n, 2 * sizeof(int64_t));
    LWC_RET_IF(!q, LWC_ERR_NOMEM);
    *ovf = q;
    *novf = n;
    for (int k = 0; k < e->pass.count; k++) {
        if (e->st[k].novf) memcpy(q, e->st[k].ovf, e->st[k].novf * 2 * sizeof(int64_t));
        q += 2 * e->st[k].novf;
    }
    return LWC_OK;
}

/* One exact queue allocation per stripe (escapes may add more): together
 * they hold the symbols of y once, as a single queue would. */
static int code_all(YEnc *e)
{
    const LwcCtx *ctx = e->pass.ctx;
    for (int k = 0; k < e->pass.count; k++) {
        int r0, r1, p0, p1;
        lwc_ypass_stripe(&e->pass, k, &r0, &r1, &p0, &p1);
        LWC_FWD(lwc_rans_enc_reserve(&e->st[k].re, (size_t)e->m->a.M * (r1 - r0) * ctx->wy));
    }
    for (int s = 0; s < e->m->a.S; s++)
        for (int par = 0; par < 2; par++) {
            lwc_ypass_params(&e->pass, s, par);
            lwc_parallel(ctx->workers, e->pass.count, code_task, e);
            LWC_FWD(first_error(e));
        }
    lwc_parallel(ctx->workers, e->pass.count, finish_task, e);
    return first_error(e);
}

int lwc_yencode(const LwcModel *m, LwcCtx *ctx, int q100, const float *y, const float *wd, uint8_t **out, size_t *size,
                int64_t **ovf, size_t *novf)
{
    if (wd) pthread_once(&g_lg_once, lg_init);
    *out = NULL;
    *size = 0;
    *ovf = NULL;
    *novf = 0;
    YEnc *e = lwc_calloc(1, sizeof(*e));
    LWC_RET_IF(!e, LWC_ERR_NOMEM);
    e->m = m;
    e->y = y;
    e->wd = wd;
    int r = lwc_ypass_open(&e->pass, ctx, lwc_ystripe_rows(m, ctx->hy, ctx->wy, q100), lwc_model_ytable(m, q100));
    if (r == LWC_OK) r = code_all(e);
    if (r == LWC_OK) r = write_payload(e, out, size);
    if (r == LWC_OK) r = merge_overflow(e, ovf, novf);
    if (r < 0) {
        lwc_free(*out);
        *out = NULL;
        *size = 0;
    }
    for (int k = 0; k < e->pass.count; k++) {
        lwc_rans_enc_free(&e->st[k].re);
        lwc_free(e->st[k].ovf);
        lwc_free(e->st[k].buf);
    }
    lwc_ypass_close(&e->pass);
    lwc_free(e);
    return r;
}
