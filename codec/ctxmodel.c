#include <string.h>

#include "common/common.h"
#include "ctxmodel.h"

/* Rows [r0, r1) of one [h][w] map, positions of one parity, into dst. */
static void gather_rows(const int16_t *src, int w, int parity, int r0, int r1, int16_t *dst)
{
    for (int i = r0; i < r1; i++)
        for (int j = (i & 1) ^ parity; j < w; j += 2) *dst++ = src[(size_t)i * w + j];
}

/* The reverse, clamped to int16. */
static void scatter_rows(const int32_t *src, int w, int parity, int r0, int r1, int16_t *dst)
{
    for (int i = r0; i < r1; i++)
        for (int j = (i & 1) ^ parity; j < w; j += 2) {
            int32_t v = *src++;
            dst[(size_t)i * w + j] = (int16_t)LWC_CLAMP(v, -32768, 32767);
        }
}

static size_t max_work(const LwcModel *m, int hy, int wy)
{
    const LwcArch *a = &m->a;
    size_t w = lwc_intconv_work_size(&m->hs0, hy / 2, wy / 2);
    w = LWC_MAX(w, lwc_intconv_work_size(&m->hs1, hy, wy));
    for (int s = 0; s < a->S; s++) {
        w = LWC_MAX(w, lwc_intconv_work_size(&m->ctx[s], hy, wy));
        w = LWC_MAX(w, lwc_intconv_work_size(&m->p0[s], hy, wy));
        w = LWC_MAX(w, lwc_intconv_work_size(&m->p1[s], hy, wy));
        w = LWC_MAX(w, lwc_intconv_work_size(&m->p2[s], hy, wy));
    }
    return w;
}

/* Buffers used per position of a pass hold npos (half the map, rounded up)
 * positions; those also used by the hyper synthesis hold what it needs there. */
int lwc_ctx_open(LwcCtx *c, const LwcModel *m, int hy, int wy, int workers)
{
    const LwcArch *a = &m->a;
    size_t hw = (size_t)hy * wy, np = (size_t)lwc_int_npos(hy, wy, 0);
    memset(c, 0, sizeof(*c));
    c->m = m; c->hy = hy; c->wy = wy; c->ms = a->M / a->S;
    c->workers = LWC_MAX(1, workers);
    size_t hz_up = (size_t)(hy / 2) * (wy / 2);
    size_t big = LWC_MAX((size_t)a->N * hz_up, (size_t)a->Ch * hw);
    c->work_n = max_work(m, hy, wy);
    c->hyper = lwc_malloc_array(big, sizeof(int16_t));
    c->yq = lwc_calloc((size_t)a->M * hw, sizeof(int16_t));
    c->anchors = lwc_malloc_array(LWC_MAX((size_t)c->ms * hw, (size_t)a->Nz * hz_up), sizeof(int16_t));
    c->in = lwc_malloc_array(LWC_MAX((size_t)(a->Ch + a->M + a->Cc) * np, (size_t)LWC_MAX(a->N, a->Nz) * hw),
                             sizeof(int16_t));
    c->h1 = lwc_malloc_array((size_t)LWC_MAX(a->P, a->Cc) * np, sizeof(int16_t));
    c->h2 = lwc_malloc_array((size_t)a->P * np, sizeof(int16_t));
    c->out = lwc_malloc_array((size_t)2 * c->ms * np, sizeof(int16_t));
    c->work = lwc_malloc_array(c->work_n * c->workers, sizeof(int32_t));
    if (!c->hyper || !c->yq || !c->anchors || !c->in || !c->h1 || !c->h2 || !c->out || !c->work) {
        lwc_ctx_close(c);
        return LWC_ERR_NOMEM;
    }
    return LWC_OK;
}

void lwc_ctx_close(LwcCtx *c)
{
    lwc_free(c->hyper); lwc_free(c->yq); lwc_free(c->anchors); lwc_free(c->in);
    lwc_free(c->h1); lwc_free(c->h2); lwc_free(c->out); lwc_free(c->work);
    memset(c, 0, sizeof(*c));
}

/* Layer k of the hyper synthesis (0: hs0 at H/16, 1: hs1 at H/8): its input
 * is laid out in a stage buffer that reuses `anchors` (k = 0) or `in` (k = 1);
 * both layers write c->hyper. */
int lwc_ctx_hyper_input(LwcCtx *c, int k, const int32_t *zhat)
{
    const LwcModel *m = c->m;
    int hz = c->hy / 4, wz = c->wy / 4;
    if (k == 0) {
        size_t nzhw = (size_t)m->a.Nz * hz * wz;
        for (size_t i = 0; i < nzhw; i++) c->in[i] = (int16_t)LWC_CLAMP(zhat[i], -32768, 32767);
        lwc_int_upsample2(c->in, m->a.Nz, hz, wz, c->anchors);
        return 4 * hz * wz;
    }
    lwc_int_upsample2(c->hyper, m->a.N, 2 * hz, 2 * wz, c->in);
    return c->hy * c->wy;
}

void lwc_ctx_hyper_range(LwcCtx *c, int k, int p0, int p1, int worker)
{
    const LwcModel *m = c->m;
    int32_t *work = c->work + (size_t)worker * c->work_n;
    if (k == 0)
        lwc_intconv_forward_range(&m->hs0, c->anchors, c->hy / 2, c->wy / 2, LWC_INT_ALL, p0, p1, c->hyper, work);
    else
        lwc_intconv_forward_range(&m->hs1, c->in, c->hy, c->wy, LWC_INT_ALL, p0, p1, c->hyper, work);
}

void lwc_ctx_params_tail(LwcCtx *c, int s, int npos, int p0, int p1, int32_t *mu, uint8_t *idx, int32_t *work)
{
    const LwcModel *m = c->m;
    lwc_intconv_1x1_forward_range(&m->p0[s], c->in, npos, p0, p1, c->h1, work);
    lwc_intconv_1x1_forward_range(&m->p1[s], c->h1, npos, p0, p1, c->h2, work);
    lwc_intconv_1x1_forward_range(&m->p2[s], c->h2, npos, p0, p1, c->out, work);
    size_t n = (size_t)c->ms * npos;
    for (int ch = 0; ch < c->ms; ch++)
        for (size_t i = (size_t)ch * npos + p0; i < (size_t)ch * npos + p1; i++) {
            mu[i] = c->out[i];
            idx[i] = m->scale_lut[c->out[n + i] + 32768]; /* the scale index (model.h) */
        }
}

/* --- passes in row ranges ------------------------------------------------- */

int lwc_ctx_row_pos(int r, int w, int parity)
{
    return r / 2 * w + (r & 1) * ((w + !parity) / 2); /* two rows hold w positions */
}

void lwc_ctx_params_rows(LwcCtx *c, int s, int parity, int r0, int r1, int32_t *mu, uint8_t *idx, int worker)
{
    const LwcArch *a = &c->m->a;
    size_t hw = (size_t)c->hy * c->wy;
    int npos = lwc_ctx_row_pos(c->hy, c->wy, parity);
    int p0 = lwc_ctx_row_pos(r0, c->wy, parity), p1 = lwc_ctx_row_pos(r1, c->wy, parity);
    int32_t *work = c->work + (size_t)worker * c->work_n;
    int16_t *dst = c->in + p0;
    for (int ch = 0; ch < a->Ch; ch++, dst += npos) gather_rows(c->hyper + ch * hw, c->wy, parity, r0, r1, dst);
    for (int ch = 0; ch < s * c->ms; ch++, dst += npos) gather_rows(c->yq + ch * hw, c->wy, parity, r0, r1, dst);
    if (parity == 0) { /* anchors see no context of their own slice */
        for (int ch = 0; ch < a->Cc; ch++, dst += npos) memset(dst, 0, (size_t)(p1 - p0) * sizeof(*dst));
    } else { /* slice s in yq holds its anchors and zeros: the masked anchors */
        lwc_intconv_forward_range(&c->m->ctx[s], c->yq + (size_t)s * c->ms * hw, c->hy, c->wy, parity, p0, p1,
                                  dst - p0, work);
    }
    lwc_ctx_params_tail(c, s, npos, p0, p1, mu, idx, work);
}

void lwc_ctx_store_rows(LwcCtx *c, int s, int parity, int r0, int r1, const int32_t *yq)
{
    size_t hw = (size_t)c->hy * c->wy;
    int npos = lwc_ctx_row_pos(c->hy, c->wy, parity), p0 = lwc_ctx_row_pos(r0, c->wy, parity);
    for (int ch = 0; ch < c->ms; ch++)
        scatter_rows(yq + (size_t)ch * npos + p0, c->wy, parity, r0, r1, c->yq + ((size_t)s * c->ms + ch) * hw);
}
