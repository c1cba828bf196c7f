/* Decoder: container -> z (factorized prior) -> hyper features -> y slices
 * (anchors, then non-anchors; stripes in parallel, ystripes.c) -> synthesis
 * -> image. */
#include <string.h>

#include "bitstream.h"
#include "common/common.h"
#include "common/cpu.h"
#include "entropy/cdf.h"
#include "ctxmodel.h"
#include "entropy/rans.h"
#include "internal.h"
#include "ystripes.h"

static int decode_z(const LwcModel *m, const LwcGeom *g, int q100, const LwcSection *sec, int32_t *zhat)
{
    LwcRansDec d;
    LWC_FWD(lwc_rans_dec_init(&d, sec->data, sec->size));
    size_t hw = (size_t)g->hz * g->wz;
    int t0 = lwc_model_ztable(m, q100);
    const int32_t *ref = lwc_model_zref(m, q100);
    for (int c = 0; c < m->a.Nz; c++) {
        int32_t *plane = zhat + c * hw;
        for (int i = 0; i < g->hz; i++)
            for (int j = 0; j < g->wz; j++) {
                int n, off, t = lwc_model_zsym_table(m, t0, ref, plane, g->hz, g->wz, c, i, j);
                const uint32_t *cdf = lwc_cdf_table(&m->fact, t, &n, &off);
                LWC_FWD(lwc_cdf_decode_value(&d, cdf, n, off, &plane[(size_t)i * g->wz + j]));
            }
    }
    return lwc_rans_dec_finish(&d);
}

/* Entropy decoding of z and y (its stripes in ys) into yq ([M][hy][wy], Q4). */
static int decode_latents(const LwcModel *m, const LwcGeom *g, int q100, const LwcSection *zs,
                          const LwcYStripes *ys, int threads, int32_t *yq, LwcStats *st)
{
    double t0 = lwc_now();
    size_t nz = (size_t)g->hz * g->wz;
    int32_t *zhat = lwc_malloc_array((size_t)2 * m->a.Nz * nz, sizeof(int32_t));
    LWC_RET_IF(!zhat, LWC_ERR_NOMEM);
    int32_t *zin = zhat + (size_t)m->a.Nz * nz;
    LwcCtx ctx;
    int r = decode_z(m, g, q100, zs, zhat);
    if (r == LWC_OK) lwc_model_hyper_input(m, q100, zhat, nz, zin);
    if (r == LWC_OK) r = lwc_ctx_open(&ctx, m, g->hy, g->wy, threads);
    if (r == LWC_OK) {
        lwc_ctx_hyper_mt(&ctx, zin);
        double t1 = lwc_now();
        if (st) st->t_hyper = t1 - t0;
        r = lwc_ydecode(m, &ctx, q100, ys, yq);
        if (st) st->t_entropy = lwc_now() - t1;
        lwc_ctx_close(&ctx);
    }
    lwc_free(zhat);
    return r;
}

static const LwcSection *find(const LwcSection *s, int n, uint32_t tag)
{
    for (int i = 0; i < n; i++)
        if (s[i].tag == tag) return &s[i];
    return NULL;
}

int lwc_reconstruct(const LwcModel *m, const LwcGeom *g, const int32_t *yq, double quality,
                    int channels, int bit_depth, int threads, LwcImage *out, LwcStats *st)
{
    double t0 = lwc_now();
    int r = lwc_image_alloc(out, g->w, g->h, channels, bit_depth);
    if (r == LWC_OK) r = lwc_synthesize(m, g, yq, quality, threads, out);
    if (st) st->t_synthesis = lwc_now() - t0;
    return r;
}

static int decode(LwcContext *c, const uint8_t *buf, size_t size, LwcImage *out, LwcStats *st)
{
    LWC_RET_IF(!out, LWC_ERR_INVAL);
    memset(out, 0, sizeof(*out));
    LWC_RET_IF(!c || !buf, LWC_ERR_INVAL);
    double t0 = lwc_now();
    if (st) memset(st, 0, sizeof(*st));
    LwcHeader h;
    LwcSection secs[LWC_MAX_SECTIONS];
    int nsec;
    LWC_FWD(lwc_stream_parse(buf, size, c->s.max_pixels, &h, secs, &nsec));
    LWC_RET_IF(h.model_id != c->m->id, LWC_ERR_MODEL);
    const LwcSection *zs = find(secs, nsec, LWC_SEC_Z), *ys = find(secs, nsec, LWC_SEC_Y);
    const LwcSection *as = find(secs, nsec, LWC_SEC_ALPHA);
    int has_alpha = h.channels == 2 || h.channels == 4;
    LWC_RET_IF(!zs || !ys || (has_alpha && !as), LWC_ERR_CORRUPT);
    LwcGeom g;
    lwc_geom_init(&g, h.width, h.height);
    LwcYStripes stripes;
    LWC_FWD(lwc_ystripes_parse(ys->data, ys->size, h.version, g.hy, &stripes));
    /* not zeroed: decoding writes every value (first touched by the workers) */
    int32_t *yq = lwc_malloc_array((size_t)c->m->a.M * g.hy * g.wy, sizeof(int32_t));
    LWC_RET_IF(!yq, LWC_ERR_NOMEM);
    int r = decode_latents(c->m, &g, h.quality_x100, zs, &stripes, c->s.threads, yq, st);
    if (r == LWC_OK) r = lwc_reconstruct(c->m, &g, yq, h.quality_x100 / 100.0, h.channels, h.bit_depth,
                                           c->s.threads, out, st);
    if (r == LWC_OK && has_alpha) r = lwc_alpha_decode(as->data, as->size, out);
    lwc_free(yq);
    if (r < 0) lwc_image_free(out);
    if (st && r == LWC_OK) {
        st->t_total = lwc_now() - t0;
        st->bytes_total = size;
        st->bytes_z = zs->size; st->bytes_y = ys->size; st->bytes_alpha = as ? as->size : 0;
        st->bytes_header = size - st->bytes_z - st->bytes_y - st->bytes_alpha;
    }
    return r;
}

/* Every stage runs its tasks on the context's workers, its kernels as the
 * context's settings ask. */
int lwc_decode(LwcContext *c, const uint8_t *buf, size_t size, LwcImage *out, LwcStats *st)
{
    LwcPool *prev = lwc_pool_bind(c ? c->pool : NULL);
    int prev_ref = lwc_cpu_bind_reference(c && c->s.reference_kernels);
    int r = decode(c, buf, size, out, st);
    lwc_cpu_bind_reference(prev_ref);
    lwc_pool_bind(prev);
    return r;
}
