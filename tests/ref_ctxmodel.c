/* The whole-pass path of the entropy model, kept as the tests' oracle for
 * the row-range path the library runs (codec/ctxmodel.c): a serial gather of
 * the pass's inputs, the masked anchors of the slice, then the parameter
 * layers over any split of the positions. Built into the tests only. */
#include <string.h>

#include "codec/ctxmodel.h"
#include "common/common.h"
#include "ref_ctxmodel.h"

void ref_gather_parity(const int16_t *src, int h, int w, int parity, int16_t *dst)
{
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
            if (((i + j) & 1) == parity) *dst++ = src[(size_t)i * w + j];
}

void ref_ctx_hyper(LwcCtx *c, const int32_t *zhat)
{
    for (int k = 0; k < 2; k++) lwc_ctx_hyper_range(c, k, 0, lwc_ctx_hyper_input(c, k, zhat), 0);
}

/* The serial part of a pass: hyper features, earlier slices and (for
 * non-anchors) the masked anchors, gathered for the pass's positions. */
void ref_ctx_prepare(LwcCtx *c, int s, int parity)
{
    const LwcArch *a = &c->m->a;
    size_t hw = (size_t)c->hy * c->wy;
    int npos = lwc_int_npos(c->hy, c->wy, parity);
    int16_t *dst = c->in;
    for (int ch = 0; ch < a->Ch; ch++, dst += npos)
        ref_gather_parity(c->hyper + ch * hw, c->hy, c->wy, parity, dst);
    for (int ch = 0; ch < s * c->ms; ch++, dst += npos)
        ref_gather_parity(c->yq + ch * hw, c->hy, c->wy, parity, dst);
    if (parity == 0) { /* anchors see no context of their own slice */
        memset(dst, 0, (size_t)a->Cc * npos * sizeof(*dst));
        return;
    }
    /* 3x3 context over the anchors of slice s (non-anchors zeroed), computed
     * per position range in ref_ctx_params_range. */
    const int16_t *ys = c->yq + (size_t)s * c->ms * hw;
    for (int ch = 0; ch < c->ms; ch++)
        for (int i = 0; i < c->hy; i++)
            for (int j = 0; j < c->wy; j++) {
                size_t k = ch * hw + (size_t)i * c->wy + j;
                c->anchors[k] = ((i + j) & 1) ? 0 : ys[k];
            }
}

void ref_ctx_params_range(LwcCtx *c, int s, int parity, int p0, int p1, int32_t *mu, uint8_t *idx,
                          int worker)
{
    const LwcModel *m = c->m;
    int npos = lwc_int_npos(c->hy, c->wy, parity);
    int32_t *work = c->work + (size_t)worker * c->work_n;
    if (parity == 1) {
        int16_t *ctx = c->in + (size_t)(m->a.Ch + s * c->ms) * npos;
        lwc_intconv_forward_range(&m->ctx[s], c->anchors, c->hy, c->wy, parity, p0, p1, ctx, work);
    }
    lwc_ctx_params_tail(c, s, npos, p0, p1, mu, idx, work);
}

void ref_ctx_params(LwcCtx *c, int s, int parity, int32_t *mu, uint8_t *idx)
{
    ref_ctx_prepare(c, s, parity);
    ref_ctx_params_range(c, s, parity, 0, lwc_int_npos(c->hy, c->wy, parity), mu, idx, 0);
}

void ref_ctx_store(LwcCtx *c, int s, int parity, const int32_t *yq)
{
    size_t hw = (size_t)c->hy * c->wy;
    int npos = lwc_int_npos(c->hy, c->wy, parity);
    for (int ch = 0; ch < c->ms; ch++) {
        const int32_t *src = yq + (size_t)ch * npos;
        int16_t *dst = c->yq + ((size_t)s * c->ms + ch) * hw;
        for (int i = 0; i < c->hy; i++)
            for (int j = 0; j < c->wy; j++)
                if (((i + j) & 1) == parity) {
                    int32_t v = *src++;
                    dst[(size_t)i * c->wy + j] = (int16_t)LWC_CLAMP(v, -32768, 32767);
                }
    }
}
