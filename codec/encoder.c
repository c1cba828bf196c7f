/* Encoder: image -> wavelet packet -> g_a (1x1) and gains -> y; h_a -> z;
 * z coded with the factorized prior, y with the multi-reference entropy
 * model (the same integer code the decoder runs). */
#include <math.h>
#include <string.h>

#include "bitstream.h"
#include "common.h"
#include "entropy/cdf.h"
#include "entropy/ctxmodel.h"
#include "entropy/rans.h"
#include "internal.h"
#include "transforms/layers.h"
#include "transforms/wpt.h"

typedef struct Enc {
    const LwcModel *m;
    LwcGeom g;
    float *y;      /* [M][hy][wy], gained */
    int32_t *zhat; /* [Nz][hz][wz] */
    int32_t *yq;   /* [M][hy][wy], Q4 */
    uint8_t *zbuf, *ybuf, *abuf;
    size_t zlen, ylen, alen;
} Enc;

static void conv(const LwcFloatConv *l, const float *x, int h, int w, float *y, float *work)
{
    lwc_conv2d_forward(x, 1, l->cin, h, w, l->w, l->b, l->cout, l->k, l->stride, y, work);
}

static int32_t round_to_int(float v)
{
    double r = floor((double)v + 0.5);
    if (r != r) return 0; /* NaN (only from a broken model): converting it is UB */
    return (int32_t)LWC_CLAMP(r, -1e9, 1e9);
}

/* Wavelet packet + g_a + gains, then h_a and rounding of z. */
static int analyse(Enc *e, const LwcImage *img, const float *gain, LwcStats *st)
{
    const LwcModel *m = e->m;
    const LwcGeom *g = &e->g;
    size_t hw = (size_t)g->hy * g->wy, pl = (size_t)g->hp * g->wp;
    size_t work_n = LWC_MAX(lwc_wpt_work_size(g->hp, g->wp), lwc_conv2d_work_size(m->a.M, g->hy, g->wy, 3, 2));
    work_n = LWC_MAX(work_n, lwc_conv2d_work_size(m->a.N, g->hy / 2, g->wy / 2, 3, 2));
    float *planes = lwc_malloc_array(3 * pl, sizeof(float));
    float *wp = lwc_malloc_array(3 * pl, sizeof(float));
    float *t = lwc_malloc_array((size_t)m->a.N * hw / 4, sizeof(float));
    float *z = lwc_malloc_array((size_t)m->a.Nz * hw / 16, sizeof(float));
    float *work = lwc_malloc_array(work_n, sizeof(float));
    int r = LWC_ERR_NOMEM;
    if (!planes || !wp || !t || !z || !work) goto done;
    double t0 = lwc_now();
    lwc_image_to_planes(img, g, planes);
    lwc_wpt_forward(planes, 3, g->hp, g->wp, LWC_WPT_LEVELS, wp, work);
    double t1 = lwc_now();
    conv(&m->ga, wp, g->hy, g->wy, e->y, work);
    for (int c = 0; c < m->a.M; c++)
        for (size_t i = 0; i < hw; i++) e->y[c * hw + i] *= gain[c];
    double t2 = lwc_now();
    conv(&m->ha0, e->y, g->hy, g->wy, t, work);
    for (size_t i = 0; i < (size_t)m->a.N * hw / 4; i++) t[i] = t[i] > 0 ? t[i] : 0;
    conv(&m->ha1, t, g->hy / 2, g->wy / 2, z, work);
    for (size_t i = 0; i < (size_t)m->a.Nz * hw / 16; i++) e->zhat[i] = round_to_int(z[i]);
    if (st) { st->t_wavelet = t1 - t0; st->t_analysis = t2 - t1; st->t_hyper = lwc_now() - t2; }
    r = LWC_OK;
done:
    lwc_free(planes); lwc_free(wp); lwc_free(t); lwc_free(z); lwc_free(work);
    return r;
}

static int code_z(Enc *e, LwcRansEnc *re)
{
    const LwcModel *m = e->m;
    size_t hw = (size_t)e->g.hz * e->g.wz;
    for (int c = 0; c < m->a.Nz; c++) {
        int n, off;
        const uint32_t *cdf = lwc_cdf_table(&m->fact, c, &n, &off);
        for (size_t i = 0; i < hw; i++) LWC_FWD(lwc_cdf_encode_value(re, cdf, n, off, e->zhat[c * hw + i]));
    }
    return lwc_rans_enc_finish(re, &e->zbuf, &e->zlen);
}

/* Code one pass of one slice: symbols = round(y - mu), y_hat = 16*sym + mu. */
static int code_pass(Enc *e, LwcCtx *ctx, LwcRansEnc *re, int s, int par, int32_t *mu,
                     uint8_t *idx, int32_t *vals)
{
    const LwcGeom *g = &e->g;
    int ms = ctx->ms;
    size_t hw = (size_t)g->hy * g->wy;
    lwc_ctx_params(ctx, s, par, mu, idx);
    size_t k = 0;
    for (int c = 0; c < ms; c++) {
        const float *yc = e->y + (size_t)(s * ms + c) * hw;
        for (int i = 0; i < g->hy; i++)
            for (int j = (i & 1) ^ par; j < g->wy; j += 2, k++) {
                int tn, off;
                const uint32_t *cdf = lwc_cdf_table(&e->m->gauss, idx[k], &tn, &off);
                int32_t sym = round_to_int(yc[(size_t)i * g->wy + j] - mu[k] / 16.0f);
                sym = LWC_CLAMP(sym, -LWC_Y_SYM_MAX, LWC_Y_SYM_MAX);
                LWC_FWD(lwc_cdf_encode_value(re, cdf, tn, off, sym));
                vals[k] = sym * 16 + mu[k];
            }
    }
    lwc_ctx_store(ctx, s, par, vals);
    lwc_scatter_pass(vals, g->hy, g->wy, s * ms, ms, par, e->yq);
    return LWC_OK;
}

static int code_y(Enc *e, LwcRansEnc *re)
{
    const LwcModel *m = e->m;
    LwcCtx ctx;
    LWC_FWD(lwc_ctx_open(&ctx, m, e->g.hy, e->g.wy));
    lwc_ctx_hyper(&ctx, e->zhat);
    size_t n = (size_t)ctx.ms * lwc_int_npos(e->g.hy, e->g.wy, 0);
    int32_t *mu = lwc_malloc_array(n, sizeof(int32_t));
    int32_t *vals = lwc_malloc_array(n, sizeof(int32_t));
    uint8_t *idx = lwc_malloc(n);
    int r = (!mu || !vals || !idx) ? LWC_ERR_NOMEM : LWC_OK;
    for (int s = 0; s < m->a.S && r == LWC_OK; s++)
        for (int par = 0; par < 2 && r == LWC_OK; par++) r = code_pass(e, &ctx, re, s, par, mu, idx, vals);
    if (r == LWC_OK) r = lwc_rans_enc_finish(re, &e->ybuf, &e->ylen);
    lwc_free(mu); lwc_free(vals); lwc_free(idx);
    lwc_ctx_close(&ctx);
    return r;
}

static int check_image(const LwcContext *c, const LwcImage *img)
{
    LWC_RET_IF(!img->data || img->width < 1 || img->height < 1, LWC_ERR_INVAL);
    LWC_RET_IF(img->channels < 1 || img->channels > 4, LWC_ERR_INVAL);
    LWC_RET_IF(img->bit_depth != 8 && img->bit_depth != 16, LWC_ERR_INVAL);
    LWC_RET_IF(img->width > (1 << 20) || img->height > (1 << 20), LWC_ERR_TOO_BIG);
    LWC_RET_IF((uint64_t)img->width * img->height > c->s.max_pixels, LWC_ERR_TOO_BIG);
    return LWC_OK;
}

static int write_stream(const Enc *e, const LwcImage *img, uint16_t q100, uint8_t **out, size_t *size)
{
    LwcHeader h = { img->width, img->height, img->channels, img->bit_depth, q100, e->m->id };
    LwcSection secs[3] = { { LWC_SEC_Z, e->zbuf, (uint32_t)e->zlen }, { LWC_SEC_Y, e->ybuf, (uint32_t)e->ylen },
                           { LWC_SEC_ALPHA, e->abuf, (uint32_t)e->alen } };
    LWC_RET_IF(e->zlen > UINT32_MAX || e->ylen > UINT32_MAX || e->alen > UINT32_MAX, LWC_ERR_TOO_BIG);
    return lwc_stream_write(&h, secs, e->abuf ? 3 : 2, out, size);
}

static int run(Enc *e, LwcContext *c, const LwcImage *img, double q, LwcStats *st)
{
    const LwcModel *m = c->m;
    float gain[1024], igain[1024];
    lwc_model_gains(m, q, gain, igain);
    size_t hw = (size_t)e->g.hy * e->g.wy;
    e->y = lwc_malloc_array((size_t)m->a.M * hw, sizeof(float));
    e->zhat = lwc_malloc_array((size_t)m->a.Nz * hw / 16, sizeof(int32_t));
    e->yq = lwc_calloc((size_t)m->a.M * hw, sizeof(int32_t));
    LWC_RET_IF(!e->y || !e->zhat || !e->yq, LWC_ERR_NOMEM);
    LWC_FWD(analyse(e, img, gain, st));
    double t0 = lwc_now();
    LwcRansEnc re;
    lwc_rans_enc_init(&re);
    int r = code_z(e, &re);
    if (r == LWC_OK) r = code_y(e, &re);
    lwc_rans_enc_free(&re);
    if (st) st->t_entropy = lwc_now() - t0;
    if (r == LWC_OK && (img->channels == 2 || img->channels == 4)) r = lwc_alpha_encode(img, &e->abuf, &e->alen);
    return r;
}

int lwc_encode(LwcContext *c, const LwcImage *img, const LwcEncodeParams *p, uint8_t **out,
               size_t *out_size, LwcImage *recon, LwcStats *st)
{
    LWC_RET_IF(!out || !out_size, LWC_ERR_INVAL);
    *out = NULL;
    *out_size = 0;
    if (recon) memset(recon, 0, sizeof(*recon));
    LWC_RET_IF(!c || !img || !p, LWC_ERR_INVAL);
    LWC_RET_IF(!(p->quality >= 0.0 && p->quality <= 100.0), LWC_ERR_INVAL);
    LWC_FWD(check_image(c, img));
    if (st) memset(st, 0, sizeof(*st));
    double t0 = lwc_now();
    uint16_t q100 = lwc_quality_x100(p->quality);
    Enc e = { .m = c->m };
    lwc_geom_init(&e.g, img->width, img->height);
    int r = run(&e, c, img, q100 / 100.0, st);
    if (r == LWC_OK) r = write_stream(&e, img, q100, out, out_size);
    if (r == LWC_OK && recon) {
        r = lwc_reconstruct(c->m, &e.g, e.yq, q100 / 100.0, img->channels, img->bit_depth, recon, NULL);
        if (r == LWC_OK && e.abuf) r = lwc_alpha_decode(e.abuf, e.alen, recon);
    }
    if (r < 0) {
        lwc_free(*out);
        *out = NULL;
        *out_size = 0;
        if (recon) lwc_image_free(recon);
    } else if (st) {
        st->t_total = lwc_now() - t0;
        st->bytes_total = *out_size;
        st->bytes_z = e.zlen; st->bytes_y = e.ylen; st->bytes_alpha = e.alen;
        st->bytes_header = *out_size - e.zlen - e.ylen - e.alen;
    }
    lwc_free(e.y); lwc_free(e.zhat); lwc_free(e.yq);
    lwc_free(e.zbuf); lwc_free(e.ybuf); lwc_free(e.abuf);
    return r;
}
