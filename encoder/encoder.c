/* Encoder: image -> wavelet packet -> g_a (1x1) and gains -> y; h_a -> z;
 * z coded with the factorized prior, y with the multi-reference entropy
 * model (the same integer code the decoder runs) in stripes (ystripes.h). */
#include <math.h>
#include <string.h>

#include "codec/bitstream.h"
#include "common/common.h"
#include "entropy/cdf.h"
#include "codec/ctxmodel.h"
#include "entropy/rans.h"
#include "codec/internal.h"
#include "transforms/layers.h"
#include "transforms/wpt.h"
#include "codec/ystripes.h"

typedef struct Enc {
    const LwcModel *m;
    LwcGeom g;
    float *y;      /* [M][hy][wy], gained */
    int32_t *zhat; /* [Nz][hz][wz] */
    int32_t *yq;   /* [M][hy][wy], Q4; only for a reconstruction, built after coding */
    int64_t *ovf;  /* (index, value) pairs of y_hat outside int16 (the context keeps int16) */
    size_t novf;
    int threads, want_yq;
    uint16_t q100;
    uint8_t *zbuf, *ybuf, *abuf;
    size_t zlen, ylen, alen;
} Enc;

static int32_t round_to_int(float v)
{
    double r = floor((double)v + 0.5);
    if (r != r) return 0; /* NaN (only from a broken model): converting it is UB */
    return (int32_t)LWC_CLAMP(r, -1e9, 1e9);
}

/* Analysis runs band by band (see bands.c): latent rows [a, b) of y need
 * the forward transform of image rows 8*[a - H, b + H) (H = LWC_WPT_HALO,
 * clipped to the image), after which g_a (1x1) and the gains touch those
 * rows only. h_a then runs on the whole y in row chunks. */
typedef struct Ana {
    Enc *e;
    const LwcImage *img;
    const float *gain;
    int threads, a0, b0, e0, n; /* band [a0, b0), region [e0, e0 + n) */
    float *planes, *wp, *work;  /* [3][8n][wpad], [192][n][wy], threads * work_n */
    float *hb, *tb;             /* analysis branch: [ab][rows][wy], [M][rows][wy] (or NULL) */
    size_t work_n;
} Ana;

/* Padded image rows of latent row e0 + task. */
static int planes_task(void *arg, int task, int worker)
{
    const Ana *an = arg;
    const LwcGeom *g = &an->e->g;
    int y0 = 8 * (an->e0 + task);
    lwc_image_to_planes_rows(an->img, g, y0, y0 + 8, an->planes + (size_t)task * 8 * g->wp,
                             (size_t)8 * an->n * g->wp);
    return LWC_OK;
}

static int wpt_task(void *arg, int task, int worker)
{
    const Ana *an = arg;
    const LwcGeom *g = &an->e->g;
    size_t plane = (size_t)8 * an->n * g->wp;
    lwc_wpt_forward(an->planes + task * plane, 1, 8 * an->n, g->wp, LWC_WPT_LEVELS, an->wp + task * plane,
                    an->work + (size_t)worker * an->work_n);
    return LWC_OK;
}

static int gain_task(void *arg, int task, int worker)
{
    const Ana *an = arg;
    const LwcGeom *g = &an->e->g;
    float *y = an->e->y + (size_t)task * g->hy * g->wy + (size_t)an->a0 * g->wy;
    for (size_t i = 0; i < (size_t)(an->b0 - an->a0) * g->wy; i++) y[i] *= an->gain[task];
    return LWC_OK;
}

/* y rows [a, b) += ga_b2(relu(ga_b1(X))): the model's analysis branch. */
static int analysis_branch(Ana *an, int a, int b)
{
    const LwcGeom *g = &an->e->g;
    const LwcModel *m = an->e->m;
    size_t n = (size_t)(b - a) * g->wy, ld = (size_t)g->hy * g->wy;
    LwcConvJob j1 = { &m->gab1, an->wp, an->n, g->wy, a - an->e0, b - an->e0, a - an->e0, 1,
                      an->hb, NULL, n, an->work, an->work_n };
    LWC_FWD(lwc_conv_run(&j1, an->threads));
    LwcConvJob j2 = { &m->gab2, an->hb, b - a, g->wy, 0, b - a, 0, 0, an->tb, NULL, n, an->work, an->work_n };
    LWC_FWD(lwc_conv_run(&j2, an->threads));
    for (int c = 0; c < m->a.M; c++) {
        float *y = an->e->y + (size_t)c * ld + (size_t)a * g->wy;
        const float *t = an->tb + (size_t)c * n;
        for (size_t i = 0; i < n; i++) y[i] += t[i];
    }
    return LWC_OK;
}

/* y rows [a, b) = gain * g_a(forward WPT of the band's region). */
static int analyse_band(Ana *an, int a, int b, LwcStats *st)
{
    const LwcGeom *g = &an->e->g;
    const LwcModel *m = an->e->m;
    double t0 = lwc_now();
    an->a0 = a; an->b0 = b;
    an->e0 = LWC_MAX(0, a - LWC_WPT_HALO);
    an->n = LWC_MIN(g->hy, b + LWC_WPT_HALO) - an->e0;
    LWC_FWD(lwc_parallel(an->threads, an->n, planes_task, an));
    LWC_FWD(lwc_parallel(an->threads, 3, wpt_task, an));
    double t1 = lwc_now();
    LwcConvJob j = { &m->ga, an->wp, an->n, g->wy, a - an->e0, b - an->e0, a - an->e0, 0,
                     an->e->y + (size_t)a * g->wy, NULL, (size_t)g->hy * g->wy, an->work, an->work_n };
    LWC_FWD(lwc_conv_run(&j, an->threads));
    if (m->ab > 0) LWC_FWD(analysis_branch(an, a, b));
    LWC_FWD(lwc_parallel(an->threads, m->a.M, gain_task, an));
    if (st) { st->t_wavelet += t1 - t0; st->t_analysis += lwc_now() - t1; }
    return LWC_OK;
}

/* h_a (two 3x3 stride-2 layers) on the whole y, then z's gains and rounding. */
static int hyper_analysis(Ana *an, float *t, float *z)
{
    const LwcModel *m = an->e->m;
    const LwcGeom *g = &an->e->g;
    size_t hw = (size_t)g->hy * g->wy;
    LwcConvJob j0 = { &m->ha0, an->e->y, g->hy, g->wy, 0, g->hy / 2, 0, 1, t, NULL, hw / 4, an->work, an->work_n };
    LwcConvJob j1 = { &m->ha1, t, g->hy / 2, g->wy / 2, 0, g->hy / 4, 0, 0, z, NULL, hw / 16, an->work, an->work_n };
    LWC_FWD(lwc_conv_run(&j0, an->threads));
    LWC_FWD(lwc_conv_run(&j1, an->threads));
    float zg[1024];
    lwc_model_zgains(m, an->e->q100 / 100.0, zg);
    for (size_t i = 0; i < (size_t)m->a.Nz * hw / 16; i++) an->e->zhat[i] = round_to_int(z[i] * zg[i / (hw / 16)]);
    return LWC_OK;
}

/* Wavelet packet + g_a + gains band by band, then h_a and rounding of z. */
static int analyse(Enc *e, const LwcImage *img, const float *gain, int threads, LwcStats *st)
{
    const LwcModel *m = e->m;
    const LwcGeom *g = &e->g;
    size_t hw = (size_t)g->hy * g->wy;
    Ana an = { e, img, gain, LWC_MAX(1, threads), 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0 };
    int rows = lwc_band_rows(g->hy, (size_t)2 * 3 * 64 * g->wy, LWC_WPT_HALO);
    size_t n = (size_t)LWC_MIN(rows + 2 * LWC_WPT_HALO, g->hy) * 3 * 64 * g->wy;
    an.work_n = LWC_MAX(lwc_conv_work_floats(m, g->wy), lwc_wpt_work_size(8 * (int)(n / (3 * 64 * g->wy)), g->wp));
    an.planes = lwc_malloc_array(n, sizeof(float));
    an.wp = lwc_malloc_array(n, sizeof(float));
    an.work = lwc_malloc_array((size_t)an.threads * an.work_n, sizeof(float));
    float *t = lwc_malloc_array((size_t)m->a.N * hw / 4, sizeof(float));
    float *z = lwc_malloc_array((size_t)m->a.Nz * hw / 16, sizeof(float));
    if (m->ab > 0) {
        an.hb = lwc_malloc_array((size_t)m->ab * rows * g->wy, sizeof(float));
        an.tb = lwc_malloc_array((size_t)m->a.M * rows * g->wy, sizeof(float));
    }
    int r = an.planes && an.wp && an.work && t && z && (!m->ab || (an.hb && an.tb)) ? LWC_OK : LWC_ERR_NOMEM;
    for (int a = 0; a < g->hy && r == LWC_OK; a += rows) r = analyse_band(&an, a, LWC_MIN(g->hy, a + rows), st);
    double t0 = lwc_now();
    if (r == LWC_OK) r = hyper_analysis(&an, t, z);
    if (st) st->t_hyper = lwc_now() - t0;
    lwc_free(an.planes); lwc_free(an.wp); lwc_free(an.work); lwc_free(an.hb); lwc_free(an.tb); lwc_free(t); lwc_free(z);
    return r;
}

static int code_z(Enc *e, LwcRansEnc *re)
{
    const LwcModel *m = e->m;
    const LwcGeom *g = &e->g;
    size_t hw = (size_t)g->hz * g->wz;
    int t0 = lwc_model_ztable(m, e->q100);
    const int32_t *ref = lwc_model_zref(m, e->q100);
    for (int c = 0; c < m->a.Nz; c++) {
        const int32_t *plane = e->zhat + c * hw;
        for (int i = 0; i < g->hz; i++)
            for (int j = 0; j < g->wz; j++) {
                int n, off, t = lwc_model_zsym_table(m, t0, ref, plane, g->hz, g->wz, c, i, j);
                const uint32_t *cdf = lwc_cdf_table(&m->fact, t, &n, &off);
                LWC_FWD(lwc_cdf_encode_value(re, cdf, n, off, plane[(size_t)i * g->wz + j]));
            }
    }
    return lwc_rans_enc_finish(re, &e->zbuf, &e->zlen);
}

/* Distortion weight of each channel of y, in bits per squared quantisation
 * step, for the loss bits + lambda 255^2 MSE the model was trained on:
 * a step of channel c moves the wavelet coefficients by igain[c] times
 * column c of the linear synthesis skip, and the inverse wavelet packet
 * (coefficients 1/2^J of an orthonormal transform's) scales that energy by
 * 4^J in pixels, spread over 3 colour planes. The non-linear synthesis
 * path is left out; `alpha` scales the whole estimate. */
static void rd_weights(const LwcModel *m, double quality, const float *igain, double alpha, float *wd)
{
    int M = m->a.M;
    double lam = lwc_model_lambda(m, quality);
    const LwcFloatConv *sk = &m->gs_skip;
    for (int c = 0; c < M; c++) {
        double col = 0;
        for (int k = 0; k < sk->cout; k++) col += (double)sk->w[(size_t)k * M + c] * sk->w[(size_t)k * M + c];
        double e = col * igain[c] * igain[c] * (double)(1 << (2 * LWC_WPT_LEVELS));
        wd[c] = (float)(alpha * lam * 255.0 * 255.0 * e / 3.0);
    }
}

/* The scale of rd_weights' estimate: 3 gave the lowest BD-rate of 1..16
 * on the training folder's validation split (models/README.md). */
static double g_rdo_alpha = 3.0;

void lwc_set_rdo_alpha(double alpha) { g_rdo_alpha = alpha; }
double lwc_rdo_alpha(void) { return g_rdo_alpha; }

/* y through the entropy model, in stripes (ystripes_enc.c). */
static int code_y(Enc *e, LwcCtx *ctx, const float *wd)
{
    size_t nz = (size_t)e->g.hz * e->g.wz;
    int32_t *zin = lwc_malloc_array((size_t)e->m->a.Nz * nz, sizeof(int32_t));
    LWC_RET_IF(!zin, LWC_ERR_NOMEM);
    lwc_model_hyper_input(e->m, e->q100, e->zhat, nz, zin);
    lwc_ctx_hyper_mt(ctx, zin);
    lwc_free(zin);
    return lwc_yencode(e->m, ctx, e->q100, e->y, wd, &e->ybuf, &e->ylen, &e->ovf, &e->novf);
}

/* y_hat as int32 for the reconstruction: the context's int16 copy plus the
 * values it clamped. Built once the float y and the rANS queue are gone. */
typedef struct YqRun {
    int32_t *dst;
    const int16_t *src;
    size_t hw;
} YqRun;

static int yq_task(void *arg, int c, int worker)
{
    const YqRun *r = arg;
    for (size_t i = (size_t)c * r->hw; i < (size_t)(c + 1) * r->hw; i++) r->dst[i] = r->src[i];
    return LWC_OK;
}

static int build_yq(Enc *e, const LwcCtx *ctx)
{
    size_t hw = (size_t)e->g.hy * e->g.wy;
    e->yq = lwc_malloc_array((size_t)e->m->a.M * hw, sizeof(int32_t));
    LWC_RET_IF(!e->yq, LWC_ERR_NOMEM);
    YqRun r = { e->yq, ctx->yq, hw };
    lwc_parallel(e->threads, e->m->a.M, yq_task, &r);
    for (size_t i = 0; i < e->novf; i++) e->yq[e->ovf[2 * i]] = (int32_t)e->ovf[2 * i + 1];
    return LWC_OK;
}

static int write_stream(const Enc *e, const LwcImage *img, uint16_t q100, uint8_t **out, size_t *size)
{
    LwcHeader h = { .width = img->width, .height = img->height, .channels = img->channels,
                    .bit_depth = img->bit_depth, .quality_x100 = q100, .model_id = e->m->id };
    LwcSection secs[3] = { { LWC_SEC_Z, e->zbuf, (uint32_t)e->zlen }, { LWC_SEC_Y, e->ybuf, (uint32_t)e->ylen },
                           { LWC_SEC_ALPHA, e->abuf, (uint32_t)e->alen } };
    LWC_RET_IF(e->zlen > UINT32_MAX || e->ylen > UINT32_MAX || e->alen > UINT32_MAX, LWC_ERR_TOO_BIG);
    return lwc_stream_write(&h, secs, e->abuf ? 3 : 2, out, size);
}

/* y and z: the analysis of img, or the given latents. */
static int latents(Enc *e, LwcContext *c, const LwcImage *img, const float *gain, const LwcLatents *in,
                   LwcStats *st)
{
    const LwcModel *m = c->m;
    size_t hw = (size_t)e->g.hy * e->g.wy, ny = (size_t)m->a.M * hw, nz = (size_t)m->a.Nz * hw / 16;
    e->y = lwc_malloc_array(ny, sizeof(float));
    e->zhat = lwc_malloc_array(nz, sizeof(int32_t));
    LWC_RET_IF(!e->y || !e->zhat, LWC_ERR_NOMEM);
    if (!in) return analyse(e, img, gain, c->s.threads, st);
    memcpy(e->y, in->y, ny * sizeof(float));
    memcpy(e->zhat, in->zhat, nz * sizeof(int32_t));
    return LWC_OK;
}

static int run(Enc *e, LwcContext *c, const LwcImage *img, double q, int plain, const LwcLatents *in,
               LwcLatents *keep, LwcStats *st)
{
    const LwcModel *m = c->m;
    float gain[1024], igain[1024], wd[1024];
    lwc_model_gains(m, q, gain, igain);
    if (!plain) rd_weights(m, q, igain, lwc_rdo_alpha(), wd);
    LWC_FWD(latents(e, c, img, gain, in, st));
    double t0 = lwc_now();
    LwcCtx ctx;
    LWC_FWD(lwc_ctx_open(&ctx, m, e->g.hy, e->g.wy, e->threads));
    LwcRansEnc re;
    lwc_rans_enc_init(&re);
    int r = code_z(e, &re);
    lwc_rans_enc_free(&re);
    if (r == LWC_OK) r = code_y(e, &ctx, plain ? NULL : wd);
    if (keep) { keep->y = e->y; keep->zhat = e->zhat; e->zhat = NULL; } /* the caller's now */
    else lwc_free(e->y); /* coded: only y_hat is left to use */
    e->y = NULL;
    if (r == LWC_OK && e->want_yq) r = build_yq(e, &ctx);
    lwc_ctx_close(&ctx);
    if (st) st->t_entropy = lwc_now() - t0;
    if (r == LWC_OK && (img->channels == 2 || img->channels == 4)) r = lwc_alpha_encode(img, &e->abuf, &e->alen);
    return r;
}

int lwc_encode_pass(LwcContext *c, const LwcImage *img, uint16_t q100, int plain, const LwcLatents *in,
                    LwcLatents *keep, uint8_t **out, size_t *out_size, LwcImage *recon, LwcStats *st)
{
    *out = NULL;
    *out_size = 0;
    if (recon) memset(recon, 0, sizeof(*recon));
    if (keep) memset(keep, 0, sizeof(*keep));
    if (st) memset(st, 0, sizeof(*st));
    double t0 = lwc_now();
    Enc e = { .m = c->m, .threads = c->s.threads, .want_yq = recon != NULL || keep != NULL, .q100 = q100 };
    lwc_geom_init(&e.g, img->width, img->height);
    int r = run(&e, c, img, q100 / 100.0, plain, in, keep, st);
    if (r == LWC_OK) r = write_stream(&e, img, q100, out, out_size);
    if (r == LWC_OK && recon) {
        r = lwc_reconstruct(c->m, &e.g, e.yq, q100 / 100.0, img->channels, img->bit_depth, c->s.threads,
                            recon, NULL);
        if (r == LWC_OK && e.abuf) r = lwc_alpha_decode(e.abuf, e.alen, recon);
    }
    if (r == LWC_OK && keep) { keep->yq = e.yq; e.yq = NULL; }
    if (r < 0) {
        lwc_free(*out);
        *out = NULL;
        *out_size = 0;
        if (recon) lwc_image_free(recon);
        if (keep) lwc_latents_free(keep);
    } else if (st) {
        st->t_total = lwc_now() - t0;
        st->bytes_total = *out_size;
        st->bytes_z = e.zlen; st->bytes_y = e.ylen; st->bytes_alpha = e.alen;
        st->bytes_header = *out_size - e.zlen - e.ylen - e.alen;
    }
    lwc_free(e.y); lwc_free(e.zhat); lwc_free(e.yq); lwc_free(e.ovf);
    lwc_free(e.zbuf); lwc_free(e.ybuf); lwc_free(e.abuf);
    return r;
}

void lwc_latents_free(LwcLatents *l)
{
    lwc_free(l->y); lwc_free(l->zhat); lwc_free(l->yq);
    memset(l, 0, sizeof(*l));
}
