/* Encoder search (efforts above the default): finite-difference check of
 * the latent gradient, the float twin of a loaded model against the real
 * coder, and the effort API (default unchanged, bad values refused, the
 * same stream for any thread count and tiling of the work, never worse
 * than the default in real bits + lambda MSE, progress reports). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageio/imageio.h"
#include "common/common.h"
#include "codec/internal.h"
#include "learn/graph.h"
#include "learn/net.h"
#include "testutil.h"
#include "transforms/gemm.h"

static const LwcArch k_arch = { .M = 8, .Nz = 4, .N = 8, .Ch = 8, .S = 2, .Cc = 4, .P = 8, .D = 8, .B = 1, .L = 3 };

/* A small latent task on random data: free positions in rows 2..5,
 * columns 3..9 of an 8 x 12 latent map (64 x 96 pixels). */
typedef struct Fixture {
    LwcNet n;
    LwcGraph *g;
    LwcLatentTask t;
    float *x, *zh, *yhf, *y, *dy, igain[8], zigain[4], z[24], dz[24], zbits[4 * 9];
    int32_t zlo[4];
    uint8_t free[96], rate[96], zfree[6];
    int16_t ypred[8 * 2 * LWC_YPRED_TAPS];
} Fixture;

/* with_z: also search z at the hyper positions (0, 1) and (1, 1) of 2 x 3,
 * under a made-up table (bits growing with |v|, a different slope per channel). */
static void fixture_init(Fixture *f, int with_z)
{
    const int h = 8, w = 12, M = k_arch.M;
    TestRng r;
    trng_seed(&r, 11);
    memset(f, 0, sizeof(*f));
    ck_assert_int_eq(lwc_net_init(&f->n, &k_arch, 5), 0);
    ck_assert_int_eq(lwc_graph_create_rect(&f->g, &f->n, 8 * w, 8 * h), 0);
    f->x = malloc(sizeof(float) * 3 * 64 * h * w);
    f->zh = malloc(sizeof(float) * k_arch.Nz * h * w / 16);
    f->yhf = malloc(sizeof(float) * M * h * w);
    f->y = malloc(sizeof(float) * M * h * w);
    f->dy = malloc(sizeof(float) * M * h * w);
    for (int i = 0; i < 3 * 64 * h * w; i++) f->x[i] = (float)(0.3 * sin(0.05 * i) + 0.05 * trng_normal(&r));
    for (int i = 0; i < k_arch.Nz * h * w / 16; i++) f->zh[i] = (float)floor(3 * trng_uniform(&r)) - 1;
    for (int i = 0; i < M * h * w; i++) {
        f->y[i] = (float)(2.0 * trng_normal(&r));
        f->yhf[i] = floorf(f->y[i] + 0.5f);
    }
    for (int i = 0; i < h * w; i++) {
        int row = i / w, col = i % w;
        f->free[i] = row >= 2 && row < 6 && col >= 3 && col < 10;
        f->rate[i] = 1;
    }
    for (int c = 0; c < M; c++) f->igain[c] = 0.05f;
    for (int c = 0; c < k_arch.Nz; c++) f->zigain[c] = 2.0f - 0.3f * c; /* the gradient passes the z gains */
    LwcLatentTask t = { f->x, f->zh, f->yhf, f->free, f->rate, 0, 8 * h, 0, 8 * w, f->igain, 1e-3, 0.5f, 7,
                        NULL, NULL, NULL, 0, f->zigain, NULL };
    f->t = t;
    for (int i = 0; i < 24; i++) f->z[i] = f->zh[i] + (float)(0.8 * trng_uniform(&r) - 0.4);
    for (int c = 0; c < 4; c++) {
        f->zlo[c] = -4;
        for (int k = 0; k < 9; k++) f->zbits[c * 9 + k] = (float)(1.0 + (0.5 + 0.2 * c) * abs(k - 4) + 0.05 * k);
    }
    for (int i = 0; i < 6; i++) f->zfree[i] = i % 3 == 1;
    if (with_z) { f->t.zfree = f->zfree; f->t.zbits = f->zbits; f->t.zlo = f->zlo; f->t.zn = 9; }
    ck_assert_int_eq(lwc_graph_latent_begin(f->g, &f->t), 0);
}

static void fixture_free(Fixture *f)
{
    lwc_graph_latent_end(f->g);
    lwc_graph_free(&f->g);
    lwc_net_free(&f->n);
    free(f->x); free(f->zh); free(f->yhf); free(f->y); free(f->dy);
}

static double loss_at(Fixture *f)
{
    LwcLatentStats st;
    ck_assert_int_eq(lwc_graph_latent_step(f->g, f->y, f->t.zfree ? f->z : NULL, NULL, NULL, &st), 0);
    return st.loss;
}

/* Central differences on v[i] against the analytic an[i], tolerance as above. */
static int check_fd(Fixture *f, float *v, const float *an, int i, double amax)
{
    float keep = v[i], eps = 3e-3f;
    v[i] = keep + eps;
    double lp = loss_at(f);
    v[i] = keep - eps;
    double lm = loss_at(f);
    v[i] = keep;
    double num = (lp - lm) / (2.0 * eps), a = an[i];
    if (getenv("LWC_TEST_VERBOSE")) fprintf(stderr, "[%d] analytic %g numeric %g\n", i, a, num);
    /* float32 layers: an absolute floor of 0.5% of the largest gradient */
    ck_assert_msg(fabs(num - a) <= 0.05 * fabs(num) + 0.05 * fabs(a) + 0.005 * amax, "[%d]: analytic %g numeric %g", i,
                  a, num);
    return fabs(a) > 1e-3;
}

/* Central differences on free latents (rate through the context and the
 * annealed rounding, distortion through the synthesis) and exact zeros on
 * the fixed ones; with z searched, on the free z too (rate through the
 * table and the hyper synthesis); with the in-pass prediction, the rate
 * also through the shifted means of the positions whose taps they are. */
static void check_gradients(int with_z, int with_pred)
{
    lwc_gemm_force_reference(1);
    Fixture f;
    fixture_init(&f, with_z);
    if (with_pred) {
        for (int k = 0; k < 8 * 2 * LWC_YPRED_TAPS; k++) f.ypred[k] = (int16_t)((k * 5 % 13 - 6) * 500);
        f.t.ypred = f.ypred;
    }
    LwcLatentStats st;
    ck_assert_int_eq(lwc_graph_latent_step(f.g, f.y, with_z ? f.z : NULL, f.dy, with_z ? f.dz : NULL, &st), 0);
    ck_assert(st.bits > 0 && st.se > 0);
    ck_assert(with_z ? st.bits_z > 0 : st.bits_z == 0);
    int n = k_arch.M * 96, checked = 0, nonzero = 0;
    double amax = 0;
    for (int i = 0; i < n; i++) amax = fmax(amax, fabs(f.dy[i]));
    for (int i = 0; i < n; i++) {
        if (!f.free[i % 96]) { ck_assert_msg(f.dy[i] == 0.0f, "fixed latent %d has gradient %g", i, f.dy[i]); continue; }
        if (i % 5) continue;
        nonzero += check_fd(&f, f.y, f.dy, i, amax);
        checked++;
    }
    ck_assert_int_ge(checked, 40);
    ck_assert_int_ge(nonzero, checked / 2);
    if (with_z) {
        int zn = 0;
        for (int i = 0; i < 24; i++) {
            if (!f.zfree[i % 6]) { ck_assert(f.dz[i] == 0.0f); continue; }
            zn += check_fd(&f, f.z, f.dz, i, amax);
        }
        ck_assert_int_ge(zn, 4);
    }
    fixture_free(&f);
    lwc_gemm_force_reference(0);
}

START_TEST(latent_gradient) { check_gradients(0, 0); }
END_TEST

START_TEST(latent_gradient_with_z) { check_gradients(1, 0); }
END_TEST

START_TEST(latent_gradient_with_prediction) { check_gradients(0, 1); }
END_TEST

/* The same seed and temperature give the same loss; another seed another. */
START_TEST(latent_noise_is_seeded)
{
    Fixture f;
    fixture_init(&f, 1);
    double a = loss_at(&f), b = loss_at(&f);
    ck_assert(a == b);
    f.t.seed = 8;
    ck_assert(loss_at(&f) != a);
    f.t.tau = 0; /* hard rounding: no noise at all */
    double c = loss_at(&f);
    f.t.seed = 9;
    ck_assert(loss_at(&f) == c);
    fixture_free(&f);
}
END_TEST

static LwcModel *shipped_model(void)
{
    LwcModel *m = NULL;
    ck_assert_int_eq(lwc_model_load_file(&m, "models/lwc-default.lwcm"), 0);
    return m;
}

/* A w x h crop of the bundled sample (RGB). */
static void sample_crop(LwcImage *img, int w, int h)
{
    LwcImage full;
    char err[256];
    ck_assert_msg(lwc_image_read_file("docs/sample.png", &full, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(lwc_image_alloc(img, w, h, 3, 8), 0);
    for (int y = 0; y < h; y++) memcpy(img->data + y * img->stride, full.data + (y + 200) * full.stride + 3 * 300, 3 * (size_t)w);
    lwc_image_free(&full);
}

static double image_se(const LwcImage *a, const LwcImage *b)
{
    double se = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < 3 * a->width; x++) {
            double d = ((double)a->data[y * a->stride + x] - b->data[y * b->stride + x]) / 255.0;
            se += d * d;
        }
    return se;
}

/* The float twin of the shipped model, at the first pass's latents with
 * hard rounding, predicts the real coder's y bits (within 10 %: the twin
 * shifts its Gaussians by the in-pass prediction, the coder's tables are
 * fitted to what the prediction leaves, which is narrower; measured +7.6 %
 * with b7bafd76c35e33ce, +16 % without the shift) and the decoded error. */
START_TEST(twin_predicts_the_coder)
{
    LwcModel *m = shipped_model();
    LwcContext *c;
    LwcSettings ds;
    lwc_default_settings(&ds);
    ck_assert_int_eq(lwc_open(&c, m, &ds), 0);
    LwcImage img, rec;
    sample_crop(&img, 150, 100);
    LwcLatents lat;
    uint8_t *buf;
    size_t len;
    LwcStats st;
    uint16_t q100 = lwc_quality_x100(50);
    ck_assert_int_eq(lwc_encode_pass(c, &img, q100, 1, NULL, &lat, &buf, &len, &rec, &st), 0);
    LwcGeom g;
    lwc_geom_init(&g, img.width, img.height);
    LwcNet n;
    ck_assert_int_eq(lwc_net_from_model(&n, m), 0);
    LwcGraph *gr;
    ck_assert_int_eq(lwc_graph_create_rect(&gr, &n, g.wp, g.hp), 0);
    size_t hw = (size_t)g.hy * g.wy, px = (size_t)g.hp * g.wp;
    float *x = malloc(sizeof(float) * 3 * px), *zh = malloc(sizeof(float) * m->a.Nz * hw / 16);
    uint8_t *all = malloc(hw);
    memset(all, 1, hw);
    lwc_image_to_planes_rows(&img, &g, 0, g.hp, x, px);
    for (size_t i = 0; i < (size_t)m->a.Nz * hw / 16; i++) zh[i] = (float)lat.zhat[i];
    float gain[1024], igain[1024], zig[1024];
    lwc_model_gains(m, 50, gain, igain);
    int32_t ziq[1024];
    lwc_model_zigains_q(m, q100, ziq); /* 1 for a version-1 model */
    for (int c2 = 0; c2 < m->a.Nz; c2++) zig[c2] = (float)ziq[c2] / LWC_ZIGAIN_ONE;
    LwcLatentTask t = { x, zh, lat.y, all, all, 0, img.height, 0, img.width, igain, lwc_model_lambda(m, 50), 0, 1,
                        NULL, NULL, NULL, 0, zig, m->ypred };
    ck_assert_int_eq(lwc_graph_latent_begin(gr, &t), 0);
    LwcLatentStats ls;
    ck_assert_int_eq(lwc_graph_latent_step(gr, lat.y, NULL, NULL, NULL, &ls), 0);
    double real_bits = 8.0 * st.bytes_y, real_se = image_se(&img, &rec);
    if (getenv("LWC_TEST_VERBOSE")) printf("twin bits %.0f real %.0f; twin se %.4f real %.4f\n", ls.bits, real_bits, ls.se, real_se);
    ck_assert_msg(fabs(ls.bits / real_bits - 1) < 0.10, "bits: twin %.0f, coder %.0f", ls.bits, real_bits);
    ck_assert_msg(fabs(ls.se / real_se - 1) < 0.03, "squared error: twin %.5f, decoder %.5f", ls.se, real_se);
    lwc_graph_latent_end(gr);
    lwc_graph_free(&gr);
    lwc_net_free(&n);
    free(x); free(zh); free(all);
    lwc_latents_free(&lat);
    lwc_free_buffer(buf);
    lwc_image_free(&rec);
    lwc_image_free(&img);
    lwc_close(&c);
    lwc_model_free(&m);
}
END_TEST

static int encode(const LwcModel *m, int threads, const LwcImage *img, int effort, uint8_t **buf, size_t *len,
                  LwcImage *rec, LwcEncodeParams *pp)
{
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = threads;
    LwcContext *c;
    ck_assert_int_eq(lwc_open(&c, m, &s), 0);
    LwcEncodeParams p;
    if (pp) p = *pp;
    else lwc_default_encode_params(&p);
    p.quality = 40;
    p.effort = effort;
    int r = lwc_encode(c, img, &p, buf, len, rec, NULL);
    lwc_close(&c);
    return r;
}

START_TEST(effort_bounds_and_default)
{
    LwcModel *m = shipped_model();
    LwcImage img;
    sample_crop(&img, 64, 64);
    uint8_t *a, *b;
    size_t la, lb;
    ck_assert_int_eq(encode(m, 1, &img, 0, &a, &la, NULL, NULL), 0);
    ck_assert_int_eq(encode(m, 1, &img, LWC_EFFORT_DEFAULT, &b, &lb, NULL, NULL), 0);
    ck_assert(la == lb && !memcmp(a, b, la));
    lwc_free_buffer(a); lwc_free_buffer(b);
    ck_assert_int_eq(encode(m, 1, &img, LWC_EFFORT_MAX + 1, &a, &la, NULL, NULL), LWC_ERR_INVAL);
    ck_assert_int_eq(encode(m, 1, &img, -1, &a, &la, NULL, NULL), LWC_ERR_INVAL);
    ck_assert(a == NULL && la == 0);
    lwc_image_free(&img);
    lwc_model_free(&m);
}
END_TEST

typedef struct Seen { int calls, last_step, steps, monotone; double bpp, psnr; } Seen;

static void on_progress(void *opaque, const LwcProgress *p)
{
    Seen *s = opaque;
    s->monotone &= p->step > s->last_step;
    s->calls++;
    s->last_step = p->step;
    s->steps = p->steps;
    s->bpp = p->bpp;
    s->psnr = p->psnr;
}

/* Several tiles (a small core forces them): the stream is the same for
 * 1 and 3 threads, decodes to the encoder's reconstruction, and costs no
 * more than the default encoder's in bits + lambda 255^2 MSE. */
START_TEST(search_threads_cost_progress)
{
    LwcModel *m = shipped_model();
    LwcImage img, rec2, rec3, dec;
    sample_crop(&img, 150, 100);
    lwc_set_search_tile(8); /* 16 x 20 latents: 2 x 3 tiles */
    uint8_t *b2, *b3a, *b3b;
    size_t l2, l3a, l3b;
    Seen seen = { 0, 0, 0, 1, 0, 0 };
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    p.progress = on_progress;
    p.progress_opaque = &seen;
    ck_assert_int_eq(encode(m, 1, &img, 2, &b2, &l2, &rec2, NULL), 0);
    ck_assert_int_eq(encode(m, 1, &img, 3, &b3a, &l3a, &rec3, &p), 0);
    ck_assert_int_eq(encode(m, 3, &img, 3, &b3b, &l3b, NULL, NULL), 0);
    lwc_set_search_tile(0);
    ck_assert(l3a == l3b && !memcmp(b3a, b3b, l3a));
    ck_assert_msg(seen.calls > 0 && seen.monotone && seen.last_step == seen.steps, "progress: %d calls, last %d of %d",
                  seen.calls, seen.last_step, seen.steps);
    ck_assert(seen.bpp > 0 && seen.psnr > 15);
    double lam = lwc_model_lambda(m, 40), px = 150.0 * 100;
    double c2 = 8.0 * l2 + lam * 255 * 255 * image_se(&img, &rec2) / 3;
    double c3 = 8.0 * l3a + lam * 255 * 255 * image_se(&img, &rec3) / 3;
    if (getenv("LWC_TEST_VERBOSE")) printf("effort 2: %.4f bpp cost %.0f; effort 3: %.4f bpp cost %.0f\n", 8 * l2 / px, c2, 8 * l3a / px, c3);
    ck_assert_msg(c3 <= c2 * (1 + 1e-9), "effort 3 costs %.1f, effort 2 %.1f", c3, c2);
    LwcContext *c;
    LwcSettings ds;
    lwc_default_settings(&ds);
    ck_assert_int_eq(lwc_open(&c, m, &ds), 0);
    ck_assert_int_eq(lwc_decode(c, b3a, l3a, &dec, NULL), 0);
    ck_assert(image_se(&dec, &rec3) == 0);
    lwc_close(&c);
    lwc_free_buffer(b2); lwc_free_buffer(b3a); lwc_free_buffer(b3b);
    lwc_image_free(&rec2); lwc_image_free(&rec3); lwc_image_free(&dec); lwc_image_free(&img);
    lwc_model_free(&m);
}
END_TEST

/* The longest efforts also search z: on a 64 x 64 crop effort 8 gives the
 * same stream for 1 and 2 threads, decodes to its reconstruction and costs
 * no more than effort 2. */
START_TEST(search_with_z)
{
    LwcModel *m = shipped_model();
    LwcImage img, rec2, rec8, dec;
    sample_crop(&img, 64, 64);
    uint8_t *b2, *b8, *b8t;
    size_t l2, l8, l8t;
    ck_assert_int_eq(encode(m, 1, &img, 2, &b2, &l2, &rec2, NULL), 0);
    ck_assert_int_eq(encode(m, 1, &img, 8, &b8, &l8, &rec8, NULL), 0);
    ck_assert_int_eq(encode(m, 2, &img, 8, &b8t, &l8t, NULL, NULL), 0);
    ck_assert(l8 == l8t && !memcmp(b8, b8t, l8));
    double lam = lwc_model_lambda(m, 40);
    double c2 = 8.0 * l2 + lam * 255 * 255 * image_se(&img, &rec2) / 3;
    double c8 = 8.0 * l8 + lam * 255 * 255 * image_se(&img, &rec8) / 3;
    if (getenv("LWC_TEST_VERBOSE")) printf("64x64: effort 2 cost %.0f, effort 8 cost %.0f\n", c2, c8);
    ck_assert_msg(c8 <= c2 * (1 + 1e-9), "effort 8 costs %.1f, effort 2 %.1f", c8, c2);
    LwcSettings ds;
    lwc_default_settings(&ds);
    LwcContext *c;
    ck_assert_int_eq(lwc_open(&c, m, &ds), 0);
    ck_assert_int_eq(lwc_decode(c, b8, l8, &dec, NULL), 0);
    ck_assert(image_se(&dec, &rec8) == 0);
    lwc_close(&c);
    lwc_free_buffer(b2); lwc_free_buffer(b8); lwc_free_buffer(b8t);
    lwc_image_free(&rec2); lwc_image_free(&rec8); lwc_image_free(&dec); lwc_image_free(&img);
    lwc_model_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("search");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, latent_gradient);
    tcase_add_test(t, latent_gradient_with_z);
    tcase_add_test(t, latent_gradient_with_prediction);
    tcase_add_test(t, latent_noise_is_seeded);
    tcase_add_test(t, twin_predicts_the_coder);
    tcase_add_test(t, effort_bounds_and_default);
    tcase_add_test(t, search_threads_cost_progress);
    tcase_add_test(t, search_with_z);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
