/* Bands and worker threads (codec/bands.c): the banded float stages must give
 * what the whole-frame computation gives, and the output must not depend on
 * the thread count. */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "codec/internal.h"
#include "testutil.h"
#include "learn/net.h"
#include "learn/random_model.h"
#include "transforms/gemm.h"
#include "transforms/layers.h"
#include "transforms/wpt.h"

static LwcModel *g_model;
static uint8_t *g_model_buf;
static size_t g_model_len;

static const LwcArch k_arch = { .M = 16, .Nz = 8, .N = 16, .Ch = 16, .S = 2, .Cc = 8, .P = 16, .D = 16, .B = 2, .L = 4 };

static void setup(void)
{
    ck_assert_int_eq(lwc_net_random_model(&k_arch, 11, &g_model_buf, &g_model_len), 0);
    ck_assert_int_eq(lwc_model_load(&g_model, g_model_buf, g_model_len), 0);
}

static void teardown(void)
{
    lwc_set_band_rows(0);
    lwc_model_free(&g_model);
    lwc_free(g_model_buf);
}

static void make_image(LwcImage *img, int w, int h, uint64_t seed)
{
    TestRng r;
    trng_seed(&r, seed);
    ck_assert_int_eq(lwc_image_alloc(img, w, h, 3, 8), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * 3; x++) {
            double v = 128 + 90 * __builtin_sin(0.07 * x + 0.05 * y) + 20 * trng_normal(&r);
            img->data[(size_t)y * img->stride + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static int images_equal(const LwcImage *a, const LwcImage *b)
{
    size_t row = (size_t)a->width * a->channels * (a->bit_depth / 8);
    if (a->width != b->width || a->height != b->height) return 0;
    for (int y = 0; y < a->height; y++)
        if (memcmp(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride, row)) return 0;
    return 1;
}

static LwcContext *open_ctx(int threads, int ref)
{
    LwcSettings s;
    LwcContext *c;
    lwc_default_settings(&s);
    s.threads = threads;
    s.reference_kernels = ref;
    ck_assert_int_eq(lwc_open(&c, g_model, &s), 0);
    return c;
}

/* Encode (with the reconstruction) and decode img. */
static void code(int threads, int ref, const LwcImage *img, uint8_t **buf, size_t *len, LwcImage *recon,
                 LwcImage *dec)
{
    LwcContext *c = open_ctx(threads, ref);
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    p.quality = 60;
    ck_assert_int_eq(lwc_encode(c, img, &p, buf, len, recon, NULL), 0);
    ck_assert_int_eq(lwc_decode(c, *buf, *len, dec, NULL), 0);
    lwc_close(&c);
}

static void free_all(uint8_t *buf, LwcImage *a, LwcImage *b)
{
    lwc_free(buf);
    lwc_image_free(a);
    lwc_image_free(b);
}

/* Sizes straddling band edges: odd, one latent row tall, wider than tall. */
static const struct { int w, h; } k_sizes[] = { { 33, 65 }, { 1000, 72 }, { 70, 200 }, { 9, 7 }, { 130, 97 } };

/* Streams and pixels for 1, 2, 4 threads and for bands of 1..5 rows equal
 * the one-band run (one band = the whole frame). */
START_TEST(bands_and_threads_identical)
{
    LwcImage img, rec0, dec0;
    uint8_t *buf0;
    size_t len0;
    make_image(&img, k_sizes[_i].w, k_sizes[_i].h, 5 + _i);
    for (int ref = 0; ref < 2; ref++) {
        lwc_set_band_rows(0);
        code(1, ref, &img, &buf0, &len0, &rec0, &dec0);
        ck_assert(images_equal(&rec0, &dec0));
        static const int runs[][2] = { { 2, 0 }, { 4, 0 }, { 1, 1 }, { 2, 1 }, { 4, 3 }, { 1, 5 }, { 3, 2 } };
        for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
            LwcImage rec, dec;
            uint8_t *buf;
            size_t len;
            lwc_set_band_rows(runs[k][1]);
            code(runs[k][0], ref, &img, &buf, &len, &rec, &dec);
            ck_assert_msg(len == len0 && !memcmp(buf, buf0, len), "stream differs: threads %d bands %d ref %d",
                          runs[k][0], runs[k][1], ref);
            ck_assert_msg(images_equal(&dec, &dec0), "pixels differ: threads %d bands %d", runs[k][0], runs[k][1]);
            ck_assert(images_equal(&rec, &dec0));
            free_all(buf, &rec, &dec);
        }
        free_all(buf0, &rec0, &dec0);
    }
    lwc_set_band_rows(0);
    lwc_image_free(&img);
}
END_TEST

static void conv_whole(const LwcFloatConv *l, const float *x, int h, int w, float *y, float *work)
{
    lwc_conv2d_forward(x, 1, l->cin, h, w, l->w, l->b, l->cout, l->k, l->stride, y, work);
}

/* The whole-frame synthesis the codec had before bands, as an oracle. */
static void synth_whole(const LwcGeom *g, const int32_t *yq, const float *igain, LwcImage *out)
{
    const LwcModel *m = g_model;
    const LwcArch *a = &m->a;
    size_t hw = (size_t)g->hy * g->wy, nd = (size_t)a->D * hw, no = (size_t)LWC_WPT_CHANNELS * hw;
    float *yf = malloc(a->M * hw * 4), *t = malloc(nd * 4), *r = malloc(nd * 4), *o = malloc(no * 4);
    float *o2 = malloc(no * 4), *pl = malloc(3 * 64 * hw * 4);
    float *work = malloc(LWC_MAX(9 * (size_t)LWC_MAX(a->M, a->D) * hw, lwc_wpt_work_size(g->hp, g->wp)) * 4);
    for (int c = 0; c < a->M; c++)
        for (size_t i = 0; i < hw; i++) yf[c * hw + i] = (float)yq[c * hw + i] * (igain[c] / 16.0f);
    conv_whole(&m->gs_in, yf, g->hy, g->wy, t, work);
    lwc_relu_forward(t, nd);
    for (int b = 0; b < a->B; b++) {
        conv_whole(&m->gs_rb[2 * b], t, g->hy, g->wy, r, work);
        lwc_relu_forward(r, nd);
        conv_whole(&m->gs_rb[2 * b + 1], r, g->hy, g->wy, o, work);
        for (size_t i = 0; i < nd; i++) t[i] += o[i];
    }
    conv_whole(&m->gs_out, t, g->hy, g->wy, o, work);
    conv_whole(&m->gs_skip, yf, g->hy, g->wy, o2, work);
    for (size_t i = 0; i < no; i++) o[i] += o2[i];
    lwc_wpt_inverse(o, 3, g->hp, g->wp, LWC_WPT_LEVELS, pl, work);
    lwc_planes_to_image_rows(pl, (size_t)g->hp * g->wp, g, 0, g->hp, out);
    free(yf); free(t); free(r); free(o); free(o2); free(pl); free(work);
}

/* Banded synthesis (bands of 1..6 rows) equals the whole-frame oracle
 * exactly with the C reference GEMM (fixed summation order per value). */
START_TEST(banded_synthesis_equals_whole_frame)
{
    LwcGeom g;
    lwc_geom_init(&g, k_sizes[_i].w, k_sizes[_i].h);
    size_t n = (size_t)g_model->a.M * g.hy * g.wy;
    int32_t *yq = malloc(n * sizeof(*yq));
    TestRng r;
    trng_seed(&r, 99 + _i);
    for (size_t i = 0; i < n; i++) yq[i] = (int32_t)(trng_normal(&r) * 40);
    float gain[1024], igain[1024];
    lwc_model_gains(g_model, 50, gain, igain);
    lwc_gemm_force_reference(1);
    LwcImage want, got;
    ck_assert_int_eq(lwc_image_alloc(&want, g.w, g.h, 3, 8), 0);
    synth_whole(&g, yq, igain, &want);
    for (int rows = 1; rows <= 6; rows++)
        for (int th = 1; th <= 2; th++) {
            lwc_set_band_rows(rows);
            ck_assert_int_eq(lwc_image_alloc(&got, g.w, g.h, 3, 8), 0);
            ck_assert_int_eq(lwc_synthesize(g_model, &g, yq, 50.0, th, &got), 0);
            ck_assert_msg(images_equal(&want, &got), "%dx%d: bands of %d rows differ", g.w, g.h, rows);
            lwc_image_free(&got);
        }
    lwc_set_band_rows(0);
    lwc_gemm_force_reference(0);
    lwc_image_free(&want);
    free(yq);
}
END_TEST

/* ---- integer synthesis (model version 4) ---- */

/* floor((v + 2^(s-1)) / 2^s), written out independently of the library. */
static int64_t oracle_round_shift(int64_t v, int s)
{
    int64_t d = (int64_t)1 << s, t = v + d / 2;
    return t >= 0 ? t / d : -((-t + d - 1) / d);
}

/* One integer layer over a whole h x w map, plainly: 64-bit sums, zero
 * padding, then the requantisation of docs/bitstream.md. */
static void iconv_whole(const LwcIntConv *l, const int16_t *x, int h, int w, int16_t *y)
{
    int k = l->k, p = k / 2, K = l->cin * k * k;
    for (int o = 0; o < l->cout; o++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int64_t acc = l->bias[o];
                for (int c = 0; c < l->cin; c++)
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++) {
                            int yy = i + u - p, xx = j + v - p;
                            if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                                acc += (int64_t)l->w[(size_t)o * K + (c * k + u) * k + v] * x[((size_t)c * h + yy) * w + xx];
                        }
                ck_assert(acc >= INT32_MIN && acc <= INT32_MAX); /* the load-time bound */
                int64_t r = oracle_round_shift(acc * l->mult[o], l->shift[o]);
                y[((size_t)o * h + i) * w + j] = (int16_t)(r < l->lo ? l->lo : r > l->hi ? l->hi : r);
            }
}

static int16_t clamp_act(int64_t v) { return (int16_t)(v < -LWC_SYN_ACT ? -LWC_SYN_ACT : v > LWC_SYN_ACT ? LWC_SYN_ACT : v); }

/* The integer synthesis of model m over the whole frame, as an oracle. */
static void isynth_whole(const LwcModel *m, const LwcGeom *g, const int32_t *yq, int q100, LwcImage *out)
{
    const LwcArch *a = &m->a;
    size_t hw = (size_t)g->hy * g->wy, nd = (size_t)a->D * hw, no = (size_t)LWC_WPT_CHANNELS * hw;
    int16_t *ta = malloc((nd + a->M * hw) * 2), *r = malloc(nd * 2), *y = malloc(LWC_MAX(nd, no) * 2);
    float *o = malloc(no * 4), *pl = malloc(3 * 64 * hw * 4), *work = malloc(lwc_wpt_work_size(g->hp, g->wp) * 4);
    int16_t *a0 = ta + nd;
    int32_t ig[1024];
    lwc_model_syn_igains_q(m, q100, ig); /* checked against the float gains in test_model */
    for (int c = 0; c < a->M; c++)
        for (size_t i = 0; i < hw; i++) a0[c * hw + i] = clamp_act(oracle_round_shift((int64_t)yq[c * hw + i] * ig[c], 16));
    iconv_whole(&m->syn_in, a0, g->hy, g->wy, ta);
    for (int b = 0; b < a->B; b++) {
        iconv_whole(&m->syn_rb[2 * b], ta, g->hy, g->wy, r);
        iconv_whole(&m->syn_rb[2 * b + 1], r, g->hy, g->wy, y);
        for (size_t i = 0; i < nd; i++) ta[i] = clamp_act((int64_t)ta[i] + y[i]);
    }
    iconv_whole(&m->syn_out, ta, g->hy, g->wy, y);
    for (size_t i = 0; i < no; i++) o[i] = (float)y[i] * m->syn_oscale[i / hw];
    lwc_wpt_inverse(o, 3, g->hp, g->wp, LWC_WPT_LEVELS, pl, work);
    lwc_planes_to_image_rows(pl, (size_t)g->hp * g->wp, g, 0, g->hp, out);
    free(ta); free(r); free(y); free(o); free(pl); free(work);
}

/* The banded integer synthesis (bands of 1..6 rows, 1..3 threads, every
 * kernel set the CPU has) equals the whole-frame oracle exactly, at levels
 * and between them. */
START_TEST(integer_synthesis_equals_whole_frame)
{
    uint8_t *buf;
    size_t len;
    LwcModel *m;
    ck_assert_int_eq(lwc_net_random_model_flags(&k_arch, 23, 1, LWC_EXPORT_INT_SYNTHESIS, &buf, &len), 0);
    ck_assert_int_eq(lwc_model_load(&m, buf, len), 0);
    ck_assert(m->int_synthesis);
    /* the exporter's bound holds: the 3x3 layers run as exact integer Winograd */
    ck_assert(m->syn_in.wu != NULL);
    for (int i = 0; i < 2 * m->a.B; i++) ck_assert(m->syn_rb[i].wu != NULL);
    LwcGeom g;
    lwc_geom_init(&g, k_sizes[_i].w, k_sizes[_i].h);
    size_t n = (size_t)m->a.M * g.hy * g.wy;
    int32_t *yq = malloc(n * sizeof(*yq));
    TestRng r;
    trng_seed(&r, 77 + _i);
    for (size_t i = 0; i < n; i++) yq[i] = (int32_t)(trng_normal(&r) * 40);
    static const unsigned masks[] = { 0, LWC_CPU_LEVEL_SSE2, LWC_CPU_LEVEL_SSE41, ~0u };
    for (int q100 = 0; q100 <= 10000; q100 += 3700) {
        LwcImage want, got;
        ck_assert_int_eq(lwc_image_alloc(&want, g.w, g.h, 3, 8), 0);
        isynth_whole(m, &g, yq, q100, &want);
        for (int rows = 1; rows <= 6; rows += 1 + (q100 > 0) * 2)
            for (int th = 1; th <= 3; th++) {
                unsigned old = lwc_cpu_set_flags_mask(masks[(rows + th) % 4]);
                lwc_set_band_rows(rows);
                ck_assert_int_eq(lwc_image_alloc(&got, g.w, g.h, 3, 8), 0);
                ck_assert_int_eq(lwc_synthesize(m, &g, yq, q100 / 100.0, th, &got), 0);
                ck_assert_msg(images_equal(&want, &got), "%dx%d q %d: bands of %d rows, %d threads differ",
                              g.w, g.h, q100, rows, th);
                lwc_image_free(&got);
                lwc_cpu_set_flags_mask(old);
            }
        lwc_image_free(&want);
    }
    lwc_set_band_rows(0);
    free(yq);
    lwc_model_free(&m);
    lwc_free(buf);
}
END_TEST

/* A layer past the exact Winograd's bound (one bias raised to 2^29 in the
 * file: still within the loader's 2^31) gets no Winograd weights and runs
 * direct, beside Winograd layers; the banded result still equals the
 * whole-frame oracle. */
START_TEST(integer_synthesis_direct_layer_past_bound)
{
    uint8_t *buf;
    size_t len;
    LwcModel *m;
    ck_assert_int_eq(lwc_net_random_model_flags(&k_arch, 29, 1, LWC_EXPORT_INT_SYNTHESIS, &buf, &len), 0);
    static const char name[] = "syn_rb0.bias";
    size_t nl = sizeof(name) - 1, at = 0;
    for (size_t i = 2; i + nl + 2 <= len && !at; i++)
        if (buf[i - 2] == nl && buf[i - 1] == 0 && !memcmp(buf + i, name, nl)) at = i + nl;
    ck_assert(at && buf[at] == 2 /* i32 */ && buf[at + 1] == 1 /* ndim */);
    size_t pay = at + 2 + 4;
    uint32_t b = 1u << 29;
    for (int k = 0; k < 4; k++) buf[pay + k] = (uint8_t)(b >> (8 * k)); /* little-endian */
    ck_assert_int_eq(lwc_model_load(&m, buf, len), 0);
    ck_assert(m->int_synthesis && m->syn_rb[0].bias[0] == (int32_t)b);
    ck_assert(m->syn_rb[0].wu == NULL);
    ck_assert(m->syn_in.wu != NULL && m->syn_rb[1].wu != NULL);
    LwcGeom g;
    lwc_geom_init(&g, 70, 61);
    size_t n = (size_t)m->a.M * g.hy * g.wy;
    int32_t *yq = malloc(n * sizeof(*yq));
    TestRng r;
    trng_seed(&r, 91);
    for (size_t i = 0; i < n; i++) yq[i] = (int32_t)(trng_normal(&r) * 40);
    LwcImage want, got;
    ck_assert_int_eq(lwc_image_alloc(&want, g.w, g.h, 3, 8), 0);
    isynth_whole(m, &g, yq, 5000, &want);
    for (int rows = 1; rows <= 5; rows += 2)
        for (int th = 1; th <= 2; th++) {
            lwc_set_band_rows(rows);
            ck_assert_int_eq(lwc_image_alloc(&got, g.w, g.h, 3, 8), 0);
            ck_assert_int_eq(lwc_synthesize(m, &g, yq, 50.0, th, &got), 0);
            ck_assert_msg(images_equal(&want, &got), "bands of %d rows, %d threads differ", rows, th);
            lwc_image_free(&got);
        }
    lwc_image_free(&want);
    lwc_set_band_rows(0);
    free(yq);
    lwc_model_free(&m);
    lwc_free(buf);
}
END_TEST

/* LWC_WPT_HALO latent rows around a band are enough for the packet
 * transform, both ways: every band of one latent row, cut out with its halo
 * and transformed alone, equals the whole-frame result. */
START_TEST(wpt_halo_is_enough)
{
    int hy = 24, wy = 5, H = 8 * hy, W = 8 * wy, h = LWC_WPT_HALO;
    size_t n = (size_t)3 * H * W;
    float *x = malloc(n * 4), *y = malloc(n * 4), *bx = malloc(n * 4), *by = malloc(n * 4);
    float *wk = malloc(lwc_wpt_work_size(H, W) * 4);
    TestRng r;
    trng_seed(&r, 3);
    for (size_t i = 0; i < n; i++) x[i] = (float)trng_normal(&r);
    for (int inv = 0; inv < 2; inv++) {
        if (inv) lwc_wpt_inverse(x, 3, H, W, 3, y, wk);
        else lwc_wpt_forward(x, 3, H, W, 3, y, wk);
        for (int a = 0; a < hy; a++) {
            int q0 = LWC_MAX(0, a - h), nr = LWC_MIN(hy, a + 1 + h) - q0;
            /* inverse: 64 subbands per colour of nr rows; forward: 8*nr image rows */
            int chans = inv ? 192 : 3, rows = inv ? nr : 8 * nr, full = inv ? hy : H, first = inv ? q0 : 8 * q0;
            size_t rw = inv ? (size_t)wy : (size_t)W;
            for (int c = 0; c < chans; c++)
                memcpy(bx + (size_t)c * rows * rw, x + ((size_t)c * full + first) * rw, (size_t)rows * rw * 4);
            if (inv) lwc_wpt_inverse(bx, 3, 8 * nr, W, 3, by, wk);
            else lwc_wpt_forward(bx, 3, 8 * nr, W, 3, by, wk);
            int ochans = inv ? 3 : 192, orows = inv ? 8 : 1, ofull = inv ? H : hy, orow = inv ? 8 * a : a;
            int orel = inv ? 8 * (a - q0) : a - q0, ototal = inv ? 8 * nr : nr;
            size_t ow = inv ? (size_t)W : (size_t)wy;
            for (int c = 0; c < ochans; c++)
                ck_assert_msg(!memcmp(by + ((size_t)c * ototal + orel) * ow, y + ((size_t)c * ofull + orow) * ow,
                                      (size_t)orows * ow * 4), "%s: row %d differs", inv ? "inverse" : "forward", a);
        }
    }
    free(x); free(y); free(bx); free(by); free(wk);
}
END_TEST

static Suite *bands_suite(void)
{
    Suite *s = suite_create("bands");
    TCase *t = tcase_create("core");
    tcase_add_unchecked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 600);
    tcase_add_loop_test(t, bands_and_threads_identical, 0, sizeof(k_sizes) / sizeof(k_sizes[0]));
    tcase_add_loop_test(t, banded_synthesis_equals_whole_frame, 0, sizeof(k_sizes) / sizeof(k_sizes[0]));
    tcase_add_loop_test(t, integer_synthesis_equals_whole_frame, 0, sizeof(k_sizes) / sizeof(k_sizes[0]));
    tcase_add_test(t, integer_synthesis_direct_layer_past_bound);
    tcase_add_test(t, wpt_halo_is_enough);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(bands_suite()); }
