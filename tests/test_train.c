/* Trainer tests: finite-difference checks of the whole training graph on
 * the parameters whose loss is smooth (synthesis, decoder gains, log-scale
 * outputs, hyper density), a short run whose loss falls, resume ==
 * uninterrupted, export -> encode/decode, learning-rate schedules,
 * checkpoint versions and validation crops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/mem.h"
#include "codec/model.h"
#include "codec/ystripes.h"
#include "testutil.h"
#include "tools/train/data.h"
#include "learn/graph.h"
#include "learn/likelihood.h"
#include "learn/net.h"
#include "learn/predfit.h"
#include "learn/tablefit.h"
#include "tools/train/trainer.h"
#include "transforms/gemm.h"

static const LwcArch k_arch = { .M = 8, .Nz = 4, .N = 8, .Ch = 8, .S = 2, .Cc = 4, .P = 8, .D = 8, .B = 1, .L = 3 };

static void smooth_image(float *x, int size, uint64_t seed)
{
    TestRng r;
    trng_seed(&r, seed);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < size * size; i++)
            x[c * size * size + i] = (float)(0.3 * sin(0.2 * (i % size) + c) * cos(0.15 * (i / size)) + 0.05 * trng_normal(&r));
}

/* A net of k_arch (weights from seed), its graph for size x size crops
 * and a smooth image (from img_seed) in *x; free with free_small. */
static LwcGraph *small_graph(LwcNet *n, uint64_t seed, int size, uint64_t img_seed, float **x)
{
    LwcGraph *g;
    ck_assert_int_eq(lwc_net_init(n, &k_arch, seed), 0);
    ck_assert_int_eq(lwc_graph_create(&g, n, size), 0);
    *x = malloc((size_t)3 * size * size * sizeof(float));
    smooth_image(*x, size, img_seed);
    return g;
}

static void free_small(LwcNet *n, LwcGraph *g, float *x)
{
    free(x);
    lwc_graph_free(&g);
    lwc_net_free(n);
}

static int g_level = 2; /* the level loss_at runs */

static double loss_at(LwcGraph *g, const float *x, float *grad, float *fgrad, int backward)
{
    uint64_t rng = 42;
    LwcStepStats st;
    ck_assert_int_eq(lwc_graph_run(g, x, g_level, 1, &rng, backward ? 1.0f : 0.0f, grad, fgrad, NULL, &st), 0);
    return st.loss;
}

/* Central differences in a few coordinates of params[off .. off+n). The
 * loss is computed in float32, so the absolute tolerance scales with the
 * largest gradient of the set (2%) on top of 5% relative. */
static void check_range(LwcGraph *g, float *params, const float *an, size_t off, size_t n, const float *x,
                        float *grad, float *fgrad, const char *what)
{
    int nonzero = 0;
    double amax = 0;
    size_t step = n / 6 + 1;
    for (size_t k = 0; k < n; k += step) amax = fmax(amax, fabs(an[off + k]));
    for (size_t k = 0; k < n; k += step) {
        float keep = params[off + k];
        float eps = 1e-2f * fmaxf(fabsf(keep), 0.1f);
        params[off + k] = keep + eps;
        double lp = loss_at(g, x, grad, fgrad, 0);
        params[off + k] = keep - eps;
        double lm = loss_at(g, x, grad, fgrad, 0);
        params[off + k] = keep;
        double num = (lp - lm) / (2.0 * eps), a = an[off + k];
        if (getenv("LWC_TEST_VERBOSE")) printf("%s[%zu] analytic %g numeric %g\n", what, k, a, num);
        ck_assert_msg(fabs(num - a) <= 0.05 * fabs(num) + 0.05 * fabs(a) + 0.02 * amax + 1e-4,
                      "%s[%zu]: analytic %g numeric %g", what, k, a, num);
        nonzero += fabs(a) > 1e-6;
    }
    ck_assert_msg(nonzero > 0, "%s: every checked gradient is zero (degenerate check)", what);
}

/* The hyper-latent gains reach the loss through roundings (of z, and of y
 * around the means they shape), so central differences do not apply. They
 * are checked by identities instead: a log-gain on a channel scales it, as
 * scaling the weights that make or read that channel would, so
 *   dL/dlog(zgain_c)  = sum over h_a1's weights and bias of output c of p dL/dp,
 *   dL/dlog(zigain_c) = sum over h_s0's weights of input c of w dL/dw. */
static void check_gain_identities(const LwcNet *n, const float *an, int level)
{
    const LwcArch *a = &n->a;
    int nonzero = 0;
    for (int c = 0; c < a->Nz; c++) {
        const LwcNetConv *h = &n->ha1, *s = &n->hs0;
        size_t kk = (size_t)h->k * h->k, k2 = (size_t)s->k * s->k;
        double sa = n->params[h->b_off + c] * an[h->b_off + c], ss = 0, ma = 0, ms = 0;
        for (size_t i = 0; i < (size_t)h->cin * kk; i++) {
            size_t o = h->w_off + (size_t)c * h->cin * kk + i;
            sa += (double)n->params[o] * an[o];
            ma = fmax(ma, fabs((double)n->params[o] * an[o]));
        }
        for (int o = 0; o < s->cout; o++)
            for (size_t k = 0; k < k2; k++) {
                size_t i = s->w_off + ((size_t)o * s->cin + c) * k2 + k;
                ss += (double)n->params[i] * an[i];
                ms = fmax(ms, fabs((double)n->params[i] * an[i]));
            }
        double gz = an[n->zgain_off + (size_t)level * a->Nz + c], gi = an[n->zigain_off + (size_t)level * a->Nz + c];
        if (getenv("LWC_TEST_VERBOSE")) printf("z channel %d: zgain %g vs %g, zigain %g vs %g\n", c, gz, sa, gi, ss);
        ck_assert_msg(fabs(gz - sa) <= 1e-3 * (fabs(sa) + ma) + 1e-7, "zgain[%d]: %g, weights say %g", c, gz, sa);
        ck_assert_msg(fabs(gi - ss) <= 1e-3 * (fabs(ss) + ms) + 1e-7, "zigain[%d]: %g, weights say %g", c, gi, ss);
        nonzero += fabs(gz) > 1e-6 && fabs(gi) > 1e-6;
    }
    ck_assert_int_gt(nonzero, 0);
}

START_TEST(graph_gradients)
{
    lwc_gemm_force_reference(1);
    LwcNet n;
    ck_assert_int_eq(lwc_net_init(&n, &k_arch, 3), 0);
    LwcGraph *g;
    int size = 64;
    ck_assert_int_eq(lwc_graph_create(&g, &n, size), 0);
    float *x = malloc(sizeof(float) * 3 * size * size);
    smooth_image(x, size, 1);
    /* second convs of the residual blocks start small (0.1 gain); make them
     * larger here so the gradient reaching the first convs is well above the
     * float32 noise of the finite differences */
    for (int b = 0; b < k_arch.B; b++) {
        const LwcNetConv *c = &n.gs_rb[2 * b + 1];
        for (size_t i = 0; i < (size_t)c->cin * c->cout * 9; i++) n.params[c->w_off + i] *= 10;
    }
    /* hyper-latent gains away from 1 (level 2, the level loss_at runs) */
    for (int c = 0; c < k_arch.Nz; c++) {
        n.params[n.zgain_off + 2 * k_arch.Nz + c] = 0.3f - 0.2f * c;
        n.params[n.zigain_off + 2 * k_arch.Nz + c] = -0.2f + 0.15f * c;
    }
    float *grad = calloc(n.nparams, 4), *fgrad = calloc(n.fact.nparams, 4);
    float *an = calloc(n.nparams, 4), *fan = calloc(n.fact.nparams, 4);
    loss_at(g, x, an, fan, 1);
    const LwcNetConv *convs[] = { &n.gs_out, &n.gs_skip, &n.gs_rb[1], &n.gs_rb[0], &n.gs_in };
    const char *names[] = { "gs_out", "gs_skip", "gs_rb1", "gs_rb0", "gs_in" };
    for (int i = 0; i < 5; i++) {
        const LwcNetConv *c = convs[i];
        check_range(g, n.params, an, c->w_off, (size_t)c->cin * c->cout * c->k * c->k, x, grad, fgrad, names[i]);
    }
    check_range(g, n.params, an, n.igain_off + 2 * k_arch.M, k_arch.M, x, grad, fgrad, "igain");
    check_gain_identities(&n, an, 2);
    /* log-scale outputs of p2 (bias rows ms..2ms-1): only the rate depends on them */
    int ms = k_arch.M / k_arch.S;
    check_range(g, n.params, an, n.p2[1].b_off + ms, ms, x, grad, fgrad, "p2_1.bias(logscale)");
    check_range(g, n.fact.params, fan, 0, n.fact.nparams, x, grad, fgrad, "factorized");
    lwc_graph_free(&g);
    lwc_net_free(&n);
    free(x); free(grad); free(fgrad); free(an); free(fan);
    lwc_gemm_force_reference(0);
}
END_TEST

/* Writes a few small PNG training images into a temporary folder. */
static void make_dataset(char *dir)
{
    strcpy(dir, "/tmp/lwc-train-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    for (int k = 0; k < 6; k++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/img%d.ppm", dir, k);
        FILE *f = fopen(path, "wb");
        int w = 96, h = 80;
        fprintf(f, "P6\n%d %d\n255\n", w, h);
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++)
                for (int c = 0; c < 3; c++)
                    fputc((int)(127 + 100 * sin(0.1 * (xx + 7 * k) * (c + 1)) * cos(0.07 * y * (k + 1))), f);
        fclose(f);
    }
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static LwcTrainOpts small_opts(const char *dir, const char *out, const char *ckpt, long steps)
{
    LwcTrainOpts o;
    lwc_train_default_opts(&o);
    o.data = dir; o.out = out; o.ckpt = ckpt; o.steps = steps;
    o.crop = 64; o.batch = 2; o.threads = 1; o.val_every = 1000; o.val_split = 3;
    o.lr = 1e-3; o.arch = k_arch; o.quiet = 1;
    o.arch.L = 1; /* one rate level: losses of different steps are comparable */
    o.log_every = 1;
    return o;
}

START_TEST(loss_falls_and_resume_is_exact)
{
    char dir[64], out[128], ck1[128], ck2[128], log[128];
    make_dataset(dir);
    snprintf(out, sizeof(out), "%s/m.lwcm", dir);
    snprintf(ck1, sizeof(ck1), "%s/a.ckpt", dir);
    snprintf(ck2, sizeof(ck2), "%s/b.ckpt", dir);
    snprintf(log, sizeof(log), "%s/log.csv", dir);
    lwc_gemm_force_reference(1);
    /* uninterrupted: 40 steps, with a log to check that the loss falls */
    LwcTrainOpts o = small_opts(dir, NULL, ck1, 40);
    o.log = log;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    /* interrupted: 25 steps, then resume to 40 */
    LwcTrainOpts p = small_opts(dir, NULL, ck2, 25);
    ck_assert_int_eq(lwc_train_run(&p), 0);
    p.steps = 40; p.resume = 1;
    ck_assert_int_eq(lwc_train_run(&p), 0);
    size_t l1, l2;
    uint8_t *a = test_slurp(ck1, &l1), *b = test_slurp(ck2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_msg(!memcmp(a, b, l1), "resumed run differs from the uninterrupted one");
    free(a); free(b);
    /* the loss over the last 10 steps is below the first 10 */
    FILE *f = fopen(log, "r");
    char line[512];
    double first = 0, last = 0;
    int k = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "train,", 6)) continue;
        double loss;
        char *p6 = line;
        for (int c = 0; c < 5; c++) p6 = strchr(p6, ',') + 1;
        loss = atof(p6);
        if (k < 10) first += loss;
        if (k >= 30) last += loss;
        k++;
    }
    fclose(f);
    ck_assert_int_eq(k, 40);
    ck_assert_msg(last < first, "loss did not fall: first10 %g last10 %g", first, last);
    /* export from the checkpoint, then code an image with the exported model */
    LwcTrainOpts e = small_opts(dir, out, ck1, 40);
    e.export_only = 1; e.resume = 1;
    ck_assert_int_eq(lwc_train_run(&e), 0);
    size_t ml;
    uint8_t *mb = test_slurp(out, &ml);
    LwcModel *m;
    ck_assert_int_eq(lwc_model_load(&m, mb, ml), 0);
    LwcSettings s;
    lwc_default_settings(&s);
    LwcContext *c;
    ck_assert_int_eq(lwc_open(&c, m, &s), 0);
    LwcImage img, rec, dec;
    ck_assert_int_eq(lwc_image_alloc(&img, 50, 40, 3, 8), 0);
    for (size_t i = 0; i < 50 * 40 * 3; i++) img.data[i] = (uint8_t)(i * 7 % 251);
    LwcEncodeParams ep;
    lwc_default_encode_params(&ep);
    uint8_t *buf;
    size_t bl;
    ck_assert_int_eq(lwc_encode(c, &img, &ep, &buf, &bl, &rec, NULL), 0);
    ck_assert_int_eq(lwc_decode(c, buf, bl, &dec, NULL), 0);
    ck_assert_int_eq(memcmp(rec.data, dec.data, 50 * 40 * 3), 0);
    lwc_free_buffer(buf);
    lwc_image_free(&img); lwc_image_free(&rec); lwc_image_free(&dec);
    lwc_close(&c);
    lwc_model_free(&m);
    free(mb);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* --resume --lr X replaces the rate and forgets the best validation score,
 * so a restarted rate is not halved again by the old plateau. */
START_TEST(resume_with_new_rate_restarts_plateau)
{
    char dir[64], ck[128];
    make_dataset(dir);
    snprintf(ck, sizeof(ck), "%s/r.ckpt", dir);
    lwc_gemm_force_reference(1);
    LwcTrainOpts o = small_opts(dir, NULL, ck, 4);
    o.val_every = 2; /* validates at steps 2 and 4: a finite best score */
    ck_assert_int_eq(lwc_train_run(&o), 0);
    LwcTrainState st;
    ck_assert_int_eq(lwc_ckpt_load(ck, &st), 0);
    ck_assert(isfinite(st.best_val));
    lwc_train_state_free(&st);
    o.steps = 5; o.resume = 1; o.val_every = 1000; o.lr = 5e-4; o.lr_given = 1;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &st), 0);
    ck_assert_int_eq(st.step, 5);
    ck_assert_float_eq_tol(st.lr, 5e-4f, 1e-9f);
    ck_assert(isinf(st.best_val));
    ck_assert_int_eq(st.bad_evals, 0);
    lwc_train_state_free(&st);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* --add-levels: the old levels keep every value, the new ones below continue
 * the lowest two geometrically, and training resumes at L + k levels. */
START_TEST(add_levels_extends_the_rate_range)
{
    char dir[64], ck[128];
    make_dataset(dir);
    snprintf(ck, sizeof(ck), "%s/l.ckpt", dir);
    lwc_gemm_force_reference(1);
    LwcTrainOpts o = small_opts(dir, NULL, ck, 4);
    o.arch.L = 3;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    LwcTrainState a, b;
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &b), 0);
    ck_assert_int_eq(lwc_train_add_levels(&b, 2), 0);
    int M = a.net.a.M, L = a.net.a.L;
    ck_assert_int_eq(b.net.a.L, L + 2);
    ck_assert_uint_eq(b.net.nparams, a.net.nparams + (size_t)4 * M + (size_t)4 * a.net.a.Nz);
    ck_assert(!memcmp(a.net.params, b.net.params, a.net.gain_off * 4));
    ck_assert(!memcmp(a.m, b.m, a.net.gain_off * 4));
    ck_assert(!memcmp(a.net.fact.params, b.net.fact.params, a.net.fact.nparams * 4));
    for (int l = 0; l < L; l++) ck_assert_float_eq(b.net.lambda[l + 2], a.net.lambda[l]);
    double r = a.net.lambda[0] / a.net.lambda[1];
    ck_assert_double_eq_tol(b.net.lambda[1], a.net.lambda[0] * r, 1e-6 * a.net.lambda[0]);
    ck_assert_double_eq_tol(b.net.lambda[0], a.net.lambda[0] * r * r, 1e-6 * a.net.lambda[0]);
    for (int c = 0; c < M; c++) {
        const float *ga = a.net.params + a.net.gain_off, *gb = b.net.params + b.net.gain_off;
        const float *ia = a.net.params + a.net.igain_off, *ib = b.net.params + b.net.igain_off;
        for (int l = 0; l < L; l++) {
            ck_assert_float_eq(gb[(l + 2) * M + c], ga[l * M + c]);
            ck_assert_float_eq(ib[(l + 2) * M + c], ia[l * M + c]);
            ck_assert_float_eq(b.v[b.net.gain_off + (size_t)(l + 2) * M + c], a.v[a.net.gain_off + (size_t)l * M + c]);
        }
        float d = ga[M + c] - ga[c], e = ia[M + c] - ia[c];
        ck_assert_float_eq_tol(gb[M + c], ga[c] - d, 1e-5f);
        ck_assert_float_eq_tol(gb[c], ga[c] - 2 * d, 1e-5f);
        ck_assert_float_eq_tol(ib[c], ia[c] - 2 * e, 1e-5f);
        ck_assert_float_eq(b.m[b.net.gain_off + c], 0.0f);
        ck_assert_float_eq(b.v[b.net.igain_off + M + c], 0.0f);
    }
    lwc_train_state_free(&a);
    lwc_train_state_free(&b);
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(lwc_train_add_levels(&a, LWC_MAX_LEVELS), LWC_ERR_INVAL);
    lwc_train_state_free(&a);
    /* through the trainer: resume with 2 more levels, 2 more steps */
    o.steps = 6; o.resume = 1; o.add_levels = 2;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(a.net.a.L, L + 2);
    ck_assert_int_eq(a.step, 6);
    lwc_train_state_free(&a);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* The cosine schedule: linear warm-up from the floor, the midpoint of the
 * cosine halfway between peak and floor, the floor from the budget on. */
START_TEST(cosine_schedule_shape)
{
    LwcSchedule s = { .kind = LWC_SCHED_COSINE, .start = 100, .warmup = 9, .budget = 109, .peak = 1e-3f, .floor = 1e-5f };
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 100), 1e-5f + (1e-3f - 1e-5f) * 0.1f, 1e-9f);
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 50), lwc_schedule_lr(&s, 100), 1e-12f); /* before start: first rate */
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 108), 1e-5f + (1e-3f - 1e-5f) * 0.9f, 1e-9f); /* last warm-up step */
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 109), 1e-3f, 1e-9f);  /* the cosine starts at the peak */
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 159), 0.5f * (1e-3f + 1e-5f), 1e-9f);
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 209), 1e-5f, 1e-12f);
    ck_assert_float_eq_tol(lwc_schedule_lr(&s, 10000), 1e-5f, 1e-12f);
    for (long k = 109; k < 209; k++) ck_assert(lwc_schedule_lr(&s, k + 1) <= lwc_schedule_lr(&s, k));
    ck_assert_int_eq(lwc_schedule_end(&s), 209);
    int kind = -1;
    ck_assert_int_eq(lwc_schedule_parse_kind("cosine", &kind), 0);
    ck_assert_int_eq(kind, LWC_SCHED_COSINE);
    ck_assert_int_eq(lwc_schedule_parse_kind("step", &kind), -1);
}
END_TEST

static LwcTrainOpts cosine_opts(const char *dir, const char *ckpt, long steps)
{
    LwcTrainOpts o = small_opts(dir, NULL, ckpt, steps);
    o.sched_given = 1; o.sched_kind = LWC_SCHED_COSINE;
    o.warmup = 2; o.budget = 6; o.lr = 1e-3; o.lr_min = 1e-5;
    return o;
}

/* A cosine run ends when its budget is spent; cut in two sessions it is the
 * same run (the schedule travels in the checkpoint); --lr alone cannot
 * replace a planned schedule. */
START_TEST(cosine_run_ends_at_budget_and_resumes_exactly)
{
    char dir[64], ck1[128], ck2[128];
    make_dataset(dir);
    snprintf(ck1, sizeof(ck1), "%s/c1.ckpt", dir);
    snprintf(ck2, sizeof(ck2), "%s/c2.ckpt", dir);
    lwc_gemm_force_reference(1);
    LwcTrainOpts o = cosine_opts(dir, ck1, 1000);
    ck_assert_int_eq(lwc_train_run(&o), 0);
    LwcTrainOpts p = cosine_opts(dir, ck2, 3);
    ck_assert_int_eq(lwc_train_run(&p), 0);
    p.steps = 1000; p.resume = 1; p.sched_given = 0; p.warmup = p.budget = 0; p.lr = 5.0;
    ck_assert_int_eq(lwc_train_run(&p), 0);
    size_t l1, l2;
    uint8_t *a = test_slurp(ck1, &l1), *b = test_slurp(ck2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_msg(!memcmp(a, b, l1), "a cosine run resumed in two parts differs from the uninterrupted one");
    free(a); free(b);
    LwcTrainState st;
    ck_assert_int_eq(lwc_ckpt_load(ck1, &st), 0);
    ck_assert_int_eq(st.step, 6);
    ck_assert_int_eq(st.sched.kind, LWC_SCHED_COSINE);
    ck_assert_int_eq(st.sched.start, 0);
    ck_assert_float_eq_tol(st.lr, lwc_schedule_lr(&st.sched, 5), 1e-12f);
    ck_assert(st.lr < 1e-3f && st.lr > 1e-5f);
    lwc_train_state_free(&st);
    p.lr_given = 1; p.lr = 1e-4;
    ck_assert_int_ne(lwc_train_run(&p), 0);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* Writes the current checkpoint b (len bytes, no analysis branch) as an
 * older version: 3 drops the branch width, 2 also the hyper-latent gains
 * (the tail of params, m and v), 1 also the schedule. */
static void write_old_ckpt(const char *path, const uint8_t *b, size_t len, const LwcNet *n, uint32_t ver)
{
    /* the current file: magic, version, arch, ab, z density sets, then head */
    size_t arch = 8 + sizeof(LwcArch), head = arch + 8 + 8 + 8 + 8 + 4 + 8 + 4, sched = 4 + 24 + 4 + 4;
    size_t lam = 4 * LWC_MAX_LEVELS, np = n->nparams, keep = ver >= 3 ? np : n->zgain_off;
    size_t body = head + sched + lam + 8, tail = body + 3 * np * 4;
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    uint64_t np_old = keep;
    ck_assert_uint_eq(fwrite(b, 1, 4, f), 4);
    ck_assert_uint_eq(fwrite(&ver, 1, 4, f), 4);
    ck_assert_uint_eq(fwrite(b + 8, 1, arch - 8, f), arch - 8);
    if (ver >= 4) ck_assert_uint_eq(fwrite(b + arch, 1, 4, f), 4); /* the branch width */
    ck_assert_uint_eq(fwrite(b + arch + 8, 1, head - arch - 8, f), head - arch - 8);
    if (ver >= 2) ck_assert_uint_eq(fwrite(b + head, 1, sched, f), sched);
    ck_assert_uint_eq(fwrite(b + head + sched, 1, lam, f), lam);
    ck_assert_uint_eq(fwrite(&np_old, 1, 8, f), 8);
    for (int k = 0; k < 3; k++) ck_assert_uint_eq(fwrite(b + body + k * np * 4, 4, keep, f), keep);
    ck_assert_uint_eq(fwrite(b + tail, 1, len - tail, f), len - tail);
    fclose(f);
}

/* Older checkpoints still load: version 4 (no z density sets: one shared),
 * 3 (also no analysis branch), 2 (also
 * no hyper-latent gains: they load as zero, gain 1) and 1 (also no
 * schedule: plateau). Built from a current file by dropping those parts.
 * A newer version is refused. */
START_TEST(old_checkpoints_load)
{
    char dir[64], ck[128], old[160];
    make_dataset(dir);
    snprintf(ck, sizeof(ck), "%s/v3.ckpt", dir);
    snprintf(old, sizeof(old), "%s/old.ckpt", dir);
    lwc_gemm_force_reference(1);
    LwcTrainOpts o = cosine_opts(dir, ck, 2);
    ck_assert_int_eq(lwc_train_run(&o), 0);
    size_t len;
    uint8_t *b = test_slurp(ck, &len);
    LwcTrainState a, c;
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    for (uint32_t ver = 1; ver <= 4; ver++) {
        write_old_ckpt(old, b, len, &a.net, ver);
        ck_assert_int_eq(lwc_ckpt_load(old, &c), 0);
        ck_assert_int_eq(c.sched.kind, ver == 1 ? LWC_SCHED_PLATEAU : LWC_SCHED_COSINE);
        ck_assert_int_eq(c.step, a.step);
        size_t keep = ver >= 3 ? a.net.nparams : a.net.zgain_off;
        ck_assert_int_eq(c.net.ab, 0);
        ck_assert(!memcmp(a.net.params, c.net.params, keep * 4));
        ck_assert(!memcmp(a.v, c.v, keep * 4));
        for (size_t i = keep; i < c.net.nparams; i++)
            ck_assert(c.net.params[i] == 0.0f && c.m[i] == 0.0f && c.v[i] == 0.0f);
        ck_assert(!memcmp(a.fv, c.fv, a.net.fact.nparams * 4));
        lwc_train_state_free(&c);
    }
    lwc_train_state_free(&a);
    uint32_t v6 = 6; /* a newer file is refused */
    memcpy(b + 4, &v6, 4);
    FILE *f = fopen(old, "wb");
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(lwc_ckpt_load(old, &c), LWC_ERR_VERSION);
    free(b);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* Validation crops: whole rounds over the validation images, round 0 the
 * centred crop, later rounds elsewhere in the image. */
START_TEST(validation_crops_cover_whole_rounds)
{
    char dir[64];
    make_dataset(dir);
    LwcDataset d;
    ck_assert_int_eq(lwc_dataset_load(&d, dir, 64, 3, 0), 0);
    ck_assert_int_eq(d.nval, 2);
    ck_assert_int_eq(lwc_dataset_val_count(&d, 5, 512), 6);
    ck_assert_int_eq(lwc_dataset_val_count(&d, 64, 10), 10);
    ck_assert_int_eq(lwc_dataset_val_count(&d, 1, 512), 2);
    int size = 64;
    size_t n = (size_t)3 * size * size;
    float *c0 = malloc(n * 4), *c2 = malloc(n * 4), *c4 = malloc(n * 4);
    lwc_dataset_val_crop(&d, 0, size, c0);
    lwc_dataset_val_crop(&d, 2, size, c2); /* image 0, round 1: top-left corner */
    lwc_dataset_val_crop(&d, 4, size, c4); /* image 0, round 2: bottom-right corner */
    const LwcTrainImage *t = &d.val[0];
    int x0 = (t->w - size) / 2, y0 = (t->h - size) / 2;
    ck_assert_float_eq(c0[0], t->rgb[((size_t)y0 * t->w + x0) * 3] / 255.0f - 0.5f);
    ck_assert_float_eq(c2[0], t->rgb[0] / 255.0f - 0.5f);
    size_t last = ((size_t)(t->h - 1) * t->w + t->w - 1) * 3 + 2;
    ck_assert_float_eq(c4[n - 1], t->rgb[last] / 255.0f - 0.5f);
    ck_assert(memcmp(c0, c2, n * 4) && memcmp(c2, c4, n * 4));
    free(c0); free(c2); free(c4);
    lwc_dataset_free(&d);
    remove_dir(dir);
}
END_TEST

/* Codes a smooth 64x48 image with a model image (plain rounding, q 40) on
 * `threads` workers with `rows` latent rows per y stripe (0: automatic):
 * bytes of y and z, the reconstruction, and the stream if `out` is given. */
static void code_with_opts(const uint8_t *mb, size_t ml, int threads, int rows, size_t *by, size_t *bz, LwcImage *rec,
                           uint8_t **out, size_t *out_len)
{
    LwcModel *m;
    ck_assert_int_eq(lwc_model_load(&m, mb, ml), 0);
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = threads;
    LwcContext *c;
    ck_assert_int_eq(lwc_open(&c, m, &s), 0);
    LwcImage img;
    ck_assert_int_eq(lwc_image_alloc(&img, 64, 48, 3, 8), 0);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++)
            for (int ch = 0; ch < 3; ch++)
                img.data[((size_t)y * 64 + x) * 3 + ch] = (uint8_t)(128 + 90 * sin(0.13 * x * (ch + 1) + 0.07 * y));
    LwcEncodeParams ep;
    lwc_default_encode_params(&ep);
    ep.quality = 40;
    ep.plain_rounding = 1;
    uint8_t *buf;
    size_t bl;
    LwcStats st;
    lwc_set_ystripe_rows(rows);
    ck_assert_int_eq(lwc_encode(c, &img, &ep, &buf, &bl, rec, &st), 0);
    lwc_set_ystripe_rows(0);
    *by = st.bytes_y;
    *bz = st.bytes_z;
    LwcImage dec; /* the stream decodes to the encoder's reconstruction */
    ck_assert_int_eq(lwc_decode(c, buf, bl, &dec, NULL), 0);
    ck_assert_int_eq(memcmp(dec.data, rec->data, (size_t)rec->height * rec->stride), 0);
    lwc_image_free(&dec);
    if (out) {
        *out = lwc_malloc(bl);
        memcpy(*out, buf, bl);
        *out_len = bl;
    }
    lwc_free_buffer(buf);
    lwc_image_free(&img);
    lwc_close(&c);
    lwc_model_free(&m);
}

static void code_with(const uint8_t *mb, size_t ml, size_t *by, size_t *bz, LwcImage *rec)
{
    code_with_opts(mb, ml, 1, 0, by, bz, rec, NULL, NULL);
}

/* --grow-analysis: the grown model computes exactly what the old one did
 * (same loss, same exported integer layers, same coded bytes and pixels),
 * and then trains. */
START_TEST(grow_analysis_keeps_the_function)
{
    char dir[64], ck[128], out1[128], out2[128];
    make_dataset(dir);
    snprintf(ck, sizeof(ck), "%s/g.ckpt", dir);
    snprintf(out1, sizeof(out1), "%s/a.lwcm", dir);
    snprintf(out2, sizeof(out2), "%s/b.lwcm", dir);
    lwc_gemm_force_reference(1);
    LwcTrainOpts o = small_opts(dir, out1, ck, 6);
    o.arch.L = 3;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    LwcTrainState a, b;
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &b), 0);
    ck_assert_int_eq(lwc_train_grow_analysis(&b, 8, 3), 0);
    ck_assert_int_eq(lwc_train_grow_analysis(&b, 8, 3), LWC_ERR_INVAL); /* one branch */
    ck_assert_int_eq(b.net.ab, 8);
    ck_assert(!memcmp(a.net.params, b.net.params, a.net.nparams * 4));
    int size = 64;
    float *x = malloc(sizeof(float) * 3 * size * size);
    smooth_image(x, size, 4);
    for (int level = 0; level < 3; level++) {
        LwcGraph *ga, *gb;
        ck_assert_int_eq(lwc_graph_create(&ga, &a.net, size), 0);
        ck_assert_int_eq(lwc_graph_create(&gb, &b.net, size), 0);
        uint64_t r1 = 5, r2 = 5;
        LwcStepStats sa, sb;
        ck_assert_int_eq(lwc_graph_run(ga, x, level, 0, &r1, 0, NULL, NULL, NULL, &sa), 0);
        ck_assert_int_eq(lwc_graph_run(gb, x, level, 0, &r2, 0, NULL, NULL, NULL, &sb), 0);
        ck_assert(sa.loss == sb.loss && sa.bits_y == sb.bits_y && sa.mse == sb.mse);
        lwc_graph_free(&ga);
        lwc_graph_free(&gb);
    }
    free(x);
    lwc_train_state_free(&a);
    lwc_train_state_free(&b);
    /* through the trainer: export without and with the branch (no steps) */
    o.resume = 1; o.export_only = 1;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    o.export_only = 0; o.grow_analysis = 8; o.out = out2;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    size_t l1, l2, y1, z1, y2, z2;
    uint8_t *m1 = test_slurp(out1, &l1), *m2 = test_slurp(out2, &l2);
    ck_assert_uint_gt(l2, l1); /* the branch's tensors */
    LwcImage r1, r2;
    code_with(m1, l1, &y1, &z1, &r1);
    code_with(m2, l2, &y2, &z2, &r2);
    ck_assert_uint_eq(y1, y2);
    ck_assert_uint_eq(z1, z2);
    ck_assert(!memcmp(r1.data, r2.data, (size_t)64 * 48 * 3));
    lwc_image_free(&r1); lwc_image_free(&r2);
    free(m1); free(m2);
    /* and it trains from there */
    o.grow_analysis = 0; o.steps = 9;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(a.net.ab, 8);
    ck_assert_int_eq(a.step, 9);
    double w2 = 0;
    for (size_t i = 0; i < (size_t)8 * a.net.a.M; i++) w2 += fabs(a.net.params[a.net.gab2.w_off + i]);
    ck_assert(w2 > 0); /* the branch has started to learn */
    lwc_train_state_free(&a);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* --grow-zdensity: one density of z per rate level, each a copy of the
 * shared one: the same loss at every level, the same coded bytes and pixels
 * (a version-3 model), the checkpoint round trip keeps it, each level's
 * density gets gradients only from its own level, and it trains. */
START_TEST(grow_zdensity_keeps_the_function)
{
    char dir[64], ck[128], out1[128], out2[128];
    make_dataset(dir);
    snprintf(ck, sizeof(ck), "%s/z.ckpt", dir);
    snprintf(out1, sizeof(out1), "%s/a.lwcm", dir);
    snprintf(out2, sizeof(out2), "%s/b.lwcm", dir);
    lwc_gemm_force_reference(1);
    LwcTrainOpts o = small_opts(dir, out1, ck, 6);
    o.arch.L = 3;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    LwcTrainState a, b;
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &b), 0);
    ck_assert_int_eq(lwc_net_split_zdensity(&b.net, &b.fm, &b.fv), 0);
    ck_assert_int_eq(lwc_net_split_zdensity(&b.net, &b.fm, &b.fv), LWC_ERR_INVAL); /* once */
    ck_assert_int_eq(lwc_net_zdensity_sets(&b.net), 3);
    ck_assert_uint_eq(b.net.fact.nparams, 3 * a.net.fact.nparams);
    int size = 64;
    float *x = malloc(sizeof(float) * 3 * size * size);
    float *fg = calloc(b.net.fact.nparams, sizeof(float)), *gr = calloc(b.net.nparams, sizeof(float));
    smooth_image(x, size, 4);
    for (int level = 0; level < 3; level++) {
        LwcGraph *ga, *gb;
        ck_assert_int_eq(lwc_graph_create(&ga, &a.net, size), 0);
        ck_assert_int_eq(lwc_graph_create(&gb, &b.net, size), 0);
        uint64_t r1 = 5, r2 = 5;
        LwcStepStats sa, sb;
        ck_assert_int_eq(lwc_graph_run(ga, x, level, 0, &r1, 0, NULL, NULL, NULL, &sa), 0);
        ck_assert_int_eq(lwc_graph_run(gb, x, level, 0, &r2, 0, NULL, NULL, NULL, &sb), 0);
        ck_assert(sa.loss == sb.loss && sa.bits_z == sb.bits_z && sa.mse == sb.mse);
        /* training at this level moves this level's density only */
        memset(fg, 0, b.net.fact.nparams * sizeof(float));
        ck_assert_int_eq(lwc_graph_run(gb, x, level, 1, &r2, 1, gr, fg, NULL, &sb), 0);
        for (int c = 0; c < b.net.fact.channels; c++) {
            float m = fabsf(fg[b.net.fact.bias_off[LWC_FACT_LAYERS - 1] + c]);
            if (c / b.net.a.Nz == level) ck_assert(m > 0);
            else ck_assert(m == 0);
        }
        lwc_graph_free(&ga);
        lwc_graph_free(&gb);
    }
    free(x); free(fg); free(gr);
    lwc_train_state_free(&a);
    lwc_train_state_free(&b);
    /* through the trainer: export without and with per-level densities */
    o.resume = 1; o.export_only = 1;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    o.export_only = 0; o.grow_zdensity = 1; o.out = out2;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    size_t l1, l2, y1, z1, y2, z2;
    uint8_t *m1 = test_slurp(out1, &l1), *m2 = test_slurp(out2, &l2);
    ck_assert_uint_eq(m2[4], 3); /* model version 3 */
    ck_assert_uint_gt(l2, l1);   /* L sets of z tables */
    LwcImage r1, r2;
    code_with(m1, l1, &y1, &z1, &r1);
    code_with(m2, l2, &y2, &z2, &r2);
    ck_assert_uint_eq(y1, y2);
    ck_assert_uint_eq(z1, z2);
    ck_assert(!memcmp(r1.data, r2.data, (size_t)64 * 48 * 3));
    lwc_image_free(&r1); lwc_image_free(&r2);
    free(m1); free(m2);
    /* the checkpoint keeps them, and it trains from there */
    o.grow_zdensity = 0; o.steps = 9;
    ck_assert_int_eq(lwc_train_run(&o), 0);
    ck_assert_int_eq(lwc_ckpt_load(ck, &a), 0);
    ck_assert_int_eq(lwc_net_zdensity_sets(&a.net), 3);
    ck_assert_int_eq(a.step, 9);
    lwc_train_state_free(&a);
    lwc_gemm_force_reference(0);
    remove_dir(dir);
}
END_TEST

/* The analysis branch's gradients, by identities that hold while every
 * hidden unit is active (a large gab1 bias): the branch is then the linear
 * map W2 (W1 X + b1), so with G = dL/dW_ga (= sum dL/dy0 X^T) and
 * gb = dL/db_ga:  dL/dW2 = G W1^T + gb b1^T,  dL/dW1 = W2^T G,  dL/db1 = W2^T gb. */
START_TEST(analysis_branch_gradients)
{
    lwc_gemm_force_reference(1);
    LwcNet n;
    int K = 4, M = k_arch.M, C = 192;
    ck_assert_int_eq(lwc_net_init_ab(&n, &k_arch, K, 3), 0);
    for (int k = 0; k < K; k++) n.params[n.gab1.b_off + k] = 40.0f;
    for (int i = 0; i < M * K; i++) n.params[n.gab2.w_off + i] = 0.01f * (float)((i * 7) % 5 - 2);
    LwcGraph *g;
    int size = 64;
    ck_assert_int_eq(lwc_graph_create(&g, &n, size), 0);
    float *x = malloc(sizeof(float) * 3 * size * size);
    smooth_image(x, size, 2);
    float *an = calloc(n.nparams, 4), *fan = calloc(n.fact.nparams, 4);
    loss_at(g, x, an, fan, 1);
    const float *W1 = n.params + n.gab1.w_off, *b1 = n.params + n.gab1.b_off, *W2 = n.params + n.gab2.w_off;
    const float *G = an + n.ga.w_off, *gb = an + n.ga.b_off;
    double worst = 0, scale = 0;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            double want = (double)gb[m] * b1[k];
            for (int c = 0; c < C; c++) want += (double)G[m * C + c] * W1[k * C + c];
            double got = an[n.gab2.w_off + m * K + k];
            worst = fmax(worst, fabs(got - want));
            scale = fmax(scale, fabs(want));
        }
    ck_assert_msg(scale > 0 && worst <= 1e-3 * scale, "dL/dW2: off by %g of %g", worst, scale);
    worst = scale = 0;
    for (int k = 0; k < K; k++) {
        double wb = 0;
        for (int m = 0; m < M; m++) wb += (double)W2[m * K + k] * gb[m];
        worst = fmax(worst, fabs(an[n.gab1.b_off + k] - wb));
        scale = fmax(scale, fabs(wb));
        for (int c = 0; c < C; c += 17) {
            double want = 0;
            for (int m = 0; m < M; m++) want += (double)W2[m * K + k] * G[m * C + c];
            worst = fmax(worst, fabs(an[n.gab1.w_off + k * C + c] - want));
            scale = fmax(scale, fabs(want));
        }
    }
    ck_assert_msg(scale > 0 && worst <= 1e-3 * scale, "dL/dW1, dL/db1: off by %g of %g", worst, scale);
    lwc_graph_free(&g);
    lwc_net_free(&n);
    free(x); free(an); free(fan);
    lwc_gemm_force_reference(0);
}
END_TEST

static double psnr8(const LwcImage *a, const LwcImage *b)
{
    double se = 0;
    size_t n = (size_t)a->width * a->height * 3;
    for (size_t i = 0; i < n; i++) se += (double)(a->data[i] - b->data[i]) * (a->data[i] - b->data[i]);
    return 10 * log10(255.0 * 255.0 * n / fmax(se, 1e-9));
}

/* The encoder runs the analysis branch as the graph does: with every hidden
 * unit active the branch is linear, so a model without it whose g_a is
 * folded (W + W2 W1, b + W2 b1) codes the same image to the same result,
 * up to float rounding; without the branch the result differs. */
START_TEST(encoder_runs_the_analysis_branch)
{
    const LwcArch arch = { .M = 16, .Nz = 8, .N = 16, .Ch = 16, .S = 2, .Cc = 8, .P = 16, .D = 16, .B = 1, .L = 3 };
    int K = 6, M = arch.M, C = 192;
    LwcNet a, f;
    ck_assert_int_eq(lwc_net_init_ab(&a, &arch, K, 11), 0);
    ck_assert_int_eq(lwc_net_init(&f, &arch, 11), 0);
    for (int k = 0; k < K; k++) a.params[a.gab1.b_off + k] = 40.0f;
    for (int i = 0; i < M * K; i++) a.params[a.gab2.w_off + i] = 0.02f * (float)((i * 7) % 5 - 2);
    memcpy(f.params, a.params, f.nparams * 4);
    const float *W1 = a.params + a.gab1.w_off, *b1 = a.params + a.gab1.b_off, *W2 = a.params + a.gab2.w_off;
    for (int m = 0; m < M; m++) {
        for (int c = 0; c < C; c++) {
            double v = 0;
            for (int k = 0; k < K; k++) v += (double)W2[m * K + k] * W1[k * C + c];
            f.params[f.ga.w_off + m * C + c] += (float)v;
        }
        double v = 0;
        for (int k = 0; k < K; k++) v += (double)W2[m * K + k] * b1[k];
        f.params[f.ga.b_off + m] += (float)v;
    }
    float am[LWC_IL_COUNT(LWC_MAX_SLICES)];
    for (int i = 0; i < LWC_IL_COUNT(arch.S); i++) am[i] = 8.0f;
    uint8_t *ma, *mf, *m0;
    size_t la, lf, l0;
    ck_assert_int_eq(lwc_net_export(&a, am, &ma, &la), 0);
    ck_assert_int_eq(lwc_net_export(&f, am, &mf, &lf), 0);
    memset(a.params + a.gab2.w_off, 0, (size_t)M * K * 4); /* the branch silenced */
    ck_assert_int_eq(lwc_net_export(&a, am, &m0, &l0), 0);
    size_t ya, za, yf, zf, y0, z0;
    LwcImage ra, rf, r0;
    code_with(ma, la, &ya, &za, &ra);
    code_with(mf, lf, &yf, &zf, &rf);
    code_with(m0, l0, &y0, &z0, &r0);
    double pa = psnr8(&ra, &r0), pf = psnr8(&rf, &r0), paf = psnr8(&ra, &rf);
    ck_assert_msg(labs((long)ya - (long)yf) <= (long)(ya / 50 + 2), "y bytes %zu vs folded %zu", ya, yf);
    ck_assert_msg(paf > pa + 10 && paf > pf + 10, "branch vs folded %.1f dB apart; vs silenced %.1f, %.1f", paf, pa, pf);
    lwc_image_free(&ra); lwc_image_free(&rf); lwc_image_free(&r0);
    lwc_free(ma); lwc_free(mf); lwc_free(m0);
    lwc_net_free(&a);
    lwc_net_free(&f);
}
END_TEST

/* Fitted tables: the Gaussian when nothing was counted, the counts (made
 * symmetric) once they outweigh the prior, escapes beyond the support, and
 * each table's share of scales at the export's bounds. */
START_TEST(fitted_tables_follow_the_counts)
{
    static double g[4096], p[4096];
    LwcTableFit f;
    ck_assert_int_eq(lwc_tablefit_init(&f, LWC_SCALE_LEVELS), 0);
    double lv[LWC_SCALE_LEVELS];
    lwc_scale_levels(lv);
    for (int k = 0; k < LWC_SCALE_LEVELS; k += 9) {
        int R, R2, n = lwc_gaussian_pmf(lv[k], &R, g, 4096);
        ck_assert_int_eq(lwc_tablefit_pmf(NULL, k, p, 4096, &R2), n);
        ck_assert_int_eq(R2, R);
        for (int i = 0; i < n; i++) ck_assert(p[i] == g[i]);
        ck_assert_int_eq(lwc_tablefit_pmf(&f, k, p, 4096, &R2), n); /* nothing counted */
        for (int i = 0; i < n; i++) ck_assert_double_eq_tol(p[i], g[i], 1e-15);
        ck_assert_int_eq(lwc_tablefit_index(&f, f.bound[k]), k);
        if (k + 1 < LWC_SCALE_LEVELS) ck_assert_int_eq(lwc_tablefit_index(&f, f.bound[k] * 1.0001), k + 1);
    }
    int k = 20, R;
    for (int i = 0; i < 1000000; i++) lwc_tablefit_add(&f, k, i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 100000);
    int n = lwc_tablefit_pmf(&f, k, p, 4096, &R);
    ck_assert_int_eq(lwc_tablefit_total(&f, k), 1000000);
    double w = 1e6 / (1e6 + LWC_TABLEFIT_PRIOR);
    ck_assert_double_eq_tol(p[R], 0.6 * w, 1e-3);
    ck_assert_double_eq_tol(p[R + 1], 0.15 * w, 1e-3); /* the +1 counts, shared with -1 */
    ck_assert_double_eq_tol(p[R - 1], p[R + 1], 1e-15);
    ck_assert_double_eq_tol(p[n - 1], 0.1 * w, 1e-3); /* |s| past the support: the escape */
    double sum = 0;
    for (int i = 0; i < n; i++) sum += p[i];
    ck_assert_double_eq_tol(sum, 1.0, 1e-12);
    /* z: not made symmetric, and the support need not be centred */
    double q[6] = { 0.1, 0.2, 0.3, 0.2, 0.1, 0.1 }; /* values -1..3, escape */
    for (int i = 0; i < 3000; i++) lwc_tablefit_add(&f, 3, i % 3 ? 1 : 7);
    lwc_tablefit_blend(&f, 3, 0, q, 6, 1);
    w = 1.0 / (3000 + LWC_TABLEFIT_PRIOR);
    ck_assert_double_eq_tol(q[2], (2000 + LWC_TABLEFIT_PRIOR * 0.3) * w, 1e-12); /* v = 1 */
    ck_assert_double_eq_tol(q[0], LWC_TABLEFIT_PRIOR * 0.1 * w, 1e-12);          /* v = -1: none counted */
    ck_assert_double_eq_tol(q[5], (1000 + LWC_TABLEFIT_PRIOR * 0.1) * w, 1e-12); /* 7: the escape */
    lwc_tablefit_free(&f);
}
END_TEST

/* A model exported with tables fitted to a graph's own symbols loads and
 * codes: with plain rounding the reconstruction is the Gaussian export's,
 * bit for bit (tables change bits, never values). */
START_TEST(fitted_tables_export_and_code)
{
    LwcNet n;
    int size = 64;
    float *x;
    LwcGraph *g = small_graph(&n, 5, size, 0, &x);
    LwcTableFit f, fz, bad;
    ck_assert_int_eq(lwc_tablefit_init(&f, LWC_SCALE_LEVELS), 0);
    ck_assert_int_eq(lwc_tablefit_init(&fz, n.fact.channels), 0);
    ck_assert_int_eq(lwc_tablefit_init(&bad, n.fact.channels + 1), 0);
    for (int l = 0; l < k_arch.L; l++) {
        smooth_image(x, size, 30 + (uint64_t)l);
        uint64_t rng = 1;
        LwcStepStats st;
        ck_assert_int_eq(lwc_graph_run(g, x, l, 0, &rng, 0, NULL, NULL, NULL, &st), 0);
        lwc_graph_fit_tables(g, &f, 0);
        ck_assert_int_eq(lwc_graph_fit_z(g, &fz, 0), 0);
    }
    double sym = 0, zsym = 0;
    for (int k = 0; k < LWC_SCALE_LEVELS; k++) sym += lwc_tablefit_total(&f, k);
    for (int c = 0; c < n.fact.channels; c++) zsym += lwc_tablefit_total(&fz, c);
    ck_assert_double_eq(sym, (double)k_arch.L * k_arch.M * (size / 8) * (size / 8));
    ck_assert_double_eq(zsym, (double)k_arch.L * k_arch.Nz * (size / 32) * (size / 32));
    float am[LWC_IL_COUNT(LWC_MAX_SLICES)];
    for (int i = 0; i < LWC_IL_COUNT(k_arch.S); i++) am[i] = 8.0f;
    uint8_t *mg, *mf;
    size_t lg, lf, yg, zg, yf, zf;
    ck_assert_int_eq(lwc_net_export(&n, am, &mg, &lg), 0);
    uint8_t *mb;
    size_t lb;
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, 0, &f, &bad, &mb, &lb), LWC_ERR_INVAL); /* a table per z table */
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, 0, &f, &fz, &mf, &lf), 0);
    ck_assert(lg != lf || memcmp(mg, mf, lg)); /* other tables */
    LwcImage rg, rf;
    code_with(mg, lg, &yg, &zg, &rg);
    code_with(mf, lf, &yf, &zf, &rf);
    ck_assert_int_eq(memcmp(rg.data, rf.data, (size_t)rg.height * rg.stride), 0);
    lwc_image_free(&rg); lwc_image_free(&rf);
    lwc_free(mg); lwc_free(mf);
    lwc_tablefit_free(&f); lwc_tablefit_free(&fz); lwc_tablefit_free(&bad);
    free_small(&n, g, x);
}
END_TEST

/* Exports of a fit of y's tables that needs the integer synthesis (model
 * version 5 or 6): refused without it, and with `wrong` (another table
 * count); then the Gaussian export (mg) and the fitted one (mf), both with
 * the integer synthesis. */
static void export_fitted_pair(const LwcNet *n, const LwcTableFit *f, const LwcTableFit *wrong, uint8_t **mg,
                               size_t *lg, uint8_t **mf, size_t *lf)
{
    static float am[LWC_ACT_SLOTS];
    for (int i = 0; i < LWC_ACT_SLOTS; i++) am[i] = 8.0f;
    uint8_t *bad;
    size_t lb;
    ck_assert_int_eq(lwc_net_export_fitted(n, am, 0, f, NULL, &bad, &lb), LWC_ERR_INVAL); /* no integer synthesis */
    ck_assert_int_eq(lwc_net_export_fitted(n, am, LWC_EXPORT_INT_SYNTHESIS, wrong, NULL, &bad, &lb), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_net_export_flags(n, am, LWC_EXPORT_INT_SYNTHESIS, mg, lg), 0);
    ck_assert_int_eq(lwc_net_export_fitted(n, am, LWC_EXPORT_INT_SYNTHESIS, f, NULL, mf, lf), 0);
}

/* One set of tables per rate level: model version 5, whose streams decode
 * (the decoder takes the quality's set) to the encoder's reconstruction,
 * the Gaussian export's pixels (plain rounding). Version 5 needs the
 * integer synthesis and a set per level. */
START_TEST(fitted_tables_per_level)
{
    LwcNet n;
    int size = 64, L = k_arch.L;
    float *x;
    LwcGraph *g = small_graph(&n, 6, size, 0, &x);
    LwcTableFit f, f2;
    ck_assert_int_eq(lwc_tablefit_init(&f, L * LWC_SCALE_LEVELS), 0);
    ck_assert_int_eq(lwc_tablefit_init(&f2, 2 * LWC_SCALE_LEVELS), 0);
    for (int l = 0; l < L; l++) {
        smooth_image(x, size, 50 + (uint64_t)l);
        uint64_t rng = 1;
        LwcStepStats st;
        ck_assert_int_eq(lwc_graph_run(g, x, l, 0, &rng, 0, NULL, NULL, NULL, &st), 0);
        lwc_graph_fit_tables(g, &f, l);
        double in_set = 0;
        for (int k = 0; k < LWC_SCALE_LEVELS; k++) in_set += lwc_tablefit_total(&f, l * LWC_SCALE_LEVELS + k);
        ck_assert_double_eq(in_set, (double)k_arch.M * (size / 8) * (size / 8));
    }
    uint8_t *mg, *mf;
    size_t lg, lf;
    export_fitted_pair(&n, &f, &f2, &mg, &lg, &mf, &lf);
    LwcModel *m;
    ck_assert_int_eq(lwc_model_load(&m, mf, lf), 0);
    ck_assert_int_eq(m->version, 5);
    ck_assert_int_eq(m->gauss.count, L * LWC_SCALE_LEVELS);
    ck_assert_int_eq(lwc_model_ytable(m, 0), 0);
    ck_assert_int_eq(lwc_model_ytable(m, 10000), (L - 1) * LWC_SCALE_LEVELS);
    lwc_model_free(&m);
    size_t yg, zg, yf, zf;
    LwcImage rg, rf;
    code_with(mg, lg, &yg, &zg, &rg);
    code_with(mf, lf, &yf, &zf, &rf);
    ck_assert_int_eq(memcmp(rg.data, rf.data, (size_t)rg.height * rg.stride), 0);
    lwc_image_free(&rg); lwc_image_free(&rf);
    lwc_free(mg); lwc_free(mf);
    lwc_tablefit_free(&f); lwc_tablefit_free(&f2);
    free_small(&n, g, x);
}
END_TEST

/* Model mf's streams decode to the pixels of ref (coded with plain
 * rounding), the same with 1 and 3 threads and with one stripe or six of
 * one row (other stripe tables, other bytes). Returns the bytes of y with
 * one stripe. */
static size_t same_pixels_any_split(const uint8_t *mf, size_t lf, const LwcImage *ref)
{
    size_t y1, z1, y2, z2, l1, l2;
    LwcImage r1, r2;
    uint8_t *s1, *s2;
    code_with_opts(mf, lf, 1, 0, &y1, &z1, &r1, &s1, &l1);
    ck_assert_int_eq(memcmp(ref->data, r1.data, (size_t)ref->height * ref->stride), 0);
    code_with_opts(mf, lf, 3, 1, &y2, &z2, &r2, &s2, &l2); /* six stripes of one row */
    ck_assert_int_eq(memcmp(r1.data, r2.data, (size_t)r1.height * r1.stride), 0);
    ck_assert_uint_ne(l1, l2);
    lwc_image_free(&r2);
    lwc_free(s2);
    code_with_opts(mf, lf, 3, 0, &y2, &z2, &r2, &s2, &l2);
    ck_assert(l1 == l2 && !memcmp(s1, s2, l1));
    lwc_image_free(&r1); lwc_image_free(&r2);
    lwc_free(s1); lwc_free(s2);
    return y1;
}

/* Tables per parity and context class: model version 6. Every symbol is
 * counted once, in more than one class of each parity; the streams decode
 * to the encoder's reconstruction, the Gaussian export's pixels (plain
 * rounding), and are the same for any thread count and stripe split. The
 * export needs the integer synthesis and the table count of the classes;
 * the loader refuses edges out of order and a version 6 without them. */
START_TEST(fitted_tables_per_context)
{
    LwcNet n;
    int size = 64, L = k_arch.L;
    float *x;
    LwcGraph *g = small_graph(&n, 6, size, 0, &x);
    LwcTableFit f, f2;
    const double means[3] = { 0.01, 0.5, 1.5 };
    LwcYCtx yc;
    ck_assert_int_eq(lwc_yctx_from_means(&yc, means, 3), 0);
    ck_assert_int_eq(lwc_tablefit_init(&f, 2 * 4 * LWC_SCALE_LEVELS), 0);
    ck_assert_int_eq(lwc_tablefit_init(&f2, L * LWC_SCALE_LEVELS), 0);
    f.ctx = f2.ctx = yc;
    for (int l = 0; l < L; l++) {
        smooth_image(x, size, 70 + (uint64_t)l);
        uint64_t rng = 1;
        LwcStepStats st;
        ck_assert_int_eq(lwc_graph_run(g, x, l, 0, &rng, 0, NULL, NULL, NULL, &st), 0);
        ck_assert_int_eq(lwc_graph_fit_tables(g, &f, 0), 0);
    }
    double total = 0, cls[8] = { 0 };
    for (int t = 0; t < f.tables; t++) total += lwc_tablefit_total(&f, t), cls[t / LWC_SCALE_LEVELS] += lwc_tablefit_total(&f, t);
    ck_assert_double_eq(total, (double)L * k_arch.M * (size / 8) * (size / 8));
    int used0 = 0, used1 = 0;
    for (int c = 0; c < 4; c++) used0 += cls[c] > 0, used1 += cls[4 + c] > 0;
    ck_assert_int_ge(used0, 2);
    ck_assert_int_ge(used1, 2);
    uint8_t *mg, *mf;
    size_t lg, lf;
    export_fitted_pair(&n, &f, &f2, &mg, &lg, &mf, &lf);
    LwcModel *m;
    ck_assert_int_eq(lwc_model_load(&m, mf, lf), 0);
    ck_assert_int_eq(m->version, 6);
    ck_assert_int_eq(m->yctx.edges, 3);
    ck_assert_int_eq(m->yctx.edge[1], 128);
    ck_assert_int_eq(m->gauss.count, 8 * LWC_SCALE_LEVELS);
    ck_assert_int_eq(lwc_model_ytable(m, 10000), 0);
    lwc_model_free(&m);
    size_t yg, zg;
    LwcImage rg;
    code_with(mg, lg, &yg, &zg, &rg);
    same_pixels_any_split(mf, lf, &rg);
    /* a corrupt model: the edges out of order, or missing */
    uint8_t *e = NULL;
    for (size_t i = 0; i + 10 < lf && !e; i++)
        if (!memcmp(mf + i, "yctx.edges", 10)) e = mf + i + 10 + 2 + 4; /* dtype, ndim, dims[1] */
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(lwc_rd32(e + 4), 128);
    lwc_wr32(e + 4, 1);
    ck_assert_int_eq(lwc_model_load(&m, mf, lf), LWC_ERR_CORRUPT);
    lwc_wr32(mg + 4, 6); /* version 4's tensors */
    ck_assert_int_eq(lwc_model_load(&m, mg, lg), LWC_ERR_CORRUPT);
    lwc_image_free(&rg);
    lwc_free(mg); lwc_free(mf);
    lwc_tablefit_free(&f); lwc_tablefit_free(&f2);
    free_small(&n, g, x);
}
END_TEST

/* The prediction's least squares: on maps where each symbol repeats the
 * one two columns to its left (but at the first two columns), the weights
 * solve the normal equations (to the Q12 rounding), that tap's weight is
 * near one and the largest; a channel with no symbols gets zeros. */
START_TEST(prediction_fit_by_hand)
{
    int h = 9, w = 41, M = 2, T = LWC_YPRED_TAPS;
    LwcPredFit f;
    ck_assert_int_eq(lwc_predfit_init(&f, M), 0);
    int32_t *q = calloc((size_t)M * h * w, sizeof(int32_t));
    TestRng r;
    trng_seed(&r, 5);
    for (int k = 0; k < 8; k++) {
        for (int i = 0; i < h; i++) {
            int32_t a = (int32_t)(trng_u64(&r) % 9) - 4, b = (int32_t)(trng_u64(&r) % 9) - 4;
            for (int j = 0; j < w; j++) q[(size_t)i * w + j] = j & 1 ? b : a; /* channel 0; channel 1 stays 0 */
        }
        lwc_predfit_add(&f, q, h, w);
    }
    int16_t wt[2 * 2 * LWC_YPRED_TAPS];
    ck_assert_int_eq(lwc_predfit_solve(&f, wt), 0);
    for (int par = 0; par < 2; par++) {
        const double *A = f.ata + (size_t)par * T * T, *b = f.atb + (size_t)par * T;
        for (int u = 0; u < T; u++) {
            double s = 0, mag = 0;
            for (int v = 0; v < T; v++) s += A[u * T + v] * wt[par * T + v] / 4096.0, mag += fabs(A[u * T + v]);
            ck_assert_double_le(fabs(s - b[u]), 1e-3 * mag + 1e-6 * A[u * T + u] * T + 1e-2);
        }
        for (int n = 0; n < T; n++) {
            int left = lwc_ypred_off[n][0] == 0 && lwc_ypred_off[n][1] == -2;
            if (left) ck_assert_int_gt(wt[par * T + n], 3300);
            else ck_assert_int_lt(abs(wt[par * T + n]), 800);
            ck_assert_int_eq(wt[(2 + par) * T + n], 0);
        }
    }
    free(q);
    lwc_predfit_free(&f);
}
END_TEST

/* In-pass prediction (model version 7): the weights fitted on the graph's
 * symbols lower their squared error; the tables count every symbol once;
 * the export loads with the same weights; its streams decode to the
 * encoder's reconstruction, the Gaussian export's pixels (plain rounding:
 * the quantiser is unchanged), for any thread count and stripe split, and
 * are smaller than without the prediction on smooth content. A version 7
 * without weights is refused. */
START_TEST(fitted_prediction)
{
    LwcNet n;
    int size = 64, L = k_arch.L;
    float *x;
    LwcGraph *g = small_graph(&n, 6, size, 0, &x);
    const double means[3] = { 0.01, 0.5, 1.5 };
    LwcYCtx yc;
    ck_assert_int_eq(lwc_yctx_from_means(&yc, means, 3), 0);
    LwcPredFit pf;
    LwcTableFit f, f6;
    ck_assert_int_eq(lwc_predfit_init(&pf, k_arch.M), 0);
    ck_assert_int_eq(lwc_tablefit_init(&f, 2 * 4 * LWC_SCALE_LEVELS), 0);
    ck_assert_int_eq(lwc_tablefit_init(&f6, 2 * 4 * LWC_SCALE_LEVELS), 0);
    f.ctx = f6.ctx = yc;
    int16_t *wt = malloc((size_t)k_arch.M * 2 * LWC_YPRED_TAPS * sizeof(int16_t));
    for (int pass = 0; pass < 2; pass++)
        for (int l = 0; l < L; l++) {
            smooth_image(x, size, 70 + (uint64_t)l);
            uint64_t rng = 1;
            LwcStepStats st;
            ck_assert_int_eq(lwc_graph_run(g, x, l, 0, &rng, 0, NULL, NULL, NULL, &st), 0);
            if (pass == 0) ck_assert_int_eq(lwc_graph_fit_pred(g, &pf), 0);
            if (pass == 0) ck_assert_int_eq(lwc_graph_fit_tables(g, &f6, 0), 0);
            if (pass == 1) ck_assert_int_eq(lwc_graph_fit_tables(g, &f, 0), 0);
            if (pass == 0 && l == L - 1) {
                ck_assert_int_eq(lwc_predfit_solve(&pf, wt), 0);
                f.pred = wt;
            }
        }
    double total = 0;
    int nonzero = 0;
    for (int t = 0; t < f.tables; t++) total += lwc_tablefit_total(&f, t);
    ck_assert_double_eq(total, (double)L * k_arch.M * (size / 8) * (size / 8));
    for (int k = 0; k < k_arch.M * 2 * LWC_YPRED_TAPS; k++) nonzero += wt[k] != 0;
    ck_assert_int_gt(nonzero, 0);
    /* the fitted weights explain part of the symbols: lower squared error than none */
    double e0 = 0, e1 = 0;
    for (int k = 0; k < k_arch.M * 2; k++) {
        const double *a = pf.ata + (size_t)k * LWC_YPRED_TAPS * LWC_YPRED_TAPS, *b = pf.atb + (size_t)k * LWC_YPRED_TAPS;
        for (int u = 0; u < LWC_YPRED_TAPS; u++) {
            double wu = wt[k * LWC_YPRED_TAPS + u] / 4096.0;
            e1 -= 2 * wu * b[u];
            for (int v = 0; v < LWC_YPRED_TAPS; v++) e1 += wu * a[u * LWC_YPRED_TAPS + v] * wt[k * LWC_YPRED_TAPS + v] / 4096.0;
        }
    }
    ck_assert(e1 < e0 - 1.0); /* sum (q - w.x)^2 - sum q^2 */
    uint8_t *mg, *mf, *m6, *bad;
    size_t lg, lf, l6, lb;
    static float am[LWC_ACT_SLOTS];
    for (int i = 0; i < LWC_ACT_SLOTS; i++) am[i] = 8.0f;
    ck_assert_int_eq(lwc_net_export_flags(&n, am, LWC_EXPORT_INT_SYNTHESIS, &mg, &lg), 0);
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, LWC_EXPORT_INT_SYNTHESIS, &f, NULL, &mf, &lf), 0);
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, LWC_EXPORT_INT_SYNTHESIS, &f6, NULL, &m6, &l6), 0);
    LwcTableFit noctx = f;
    noctx.ctx.edges = 0;
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, LWC_EXPORT_INT_SYNTHESIS, &noctx, NULL, &bad, &lb), LWC_ERR_INVAL);
    LwcModel *m;
    ck_assert_int_eq(lwc_model_load(&m, mf, lf), 0);
    ck_assert_int_eq(m->version, 7);
    ck_assert_ptr_nonnull(m->ypred);
    ck_assert_int_eq(memcmp(m->ypred, wt, (size_t)k_arch.M * 2 * LWC_YPRED_TAPS * sizeof(int16_t)), 0);
    lwc_model_free(&m);
    size_t yg, zg, y6, z6;
    LwcImage rg, r6;
    code_with(mg, lg, &yg, &zg, &rg);
    code_with(m6, l6, &y6, &z6, &r6);
    ck_assert_int_eq(memcmp(rg.data, r6.data, (size_t)rg.height * rg.stride), 0);
    ck_assert_uint_lt(same_pixels_any_split(mf, lf, &rg), y6);
    lwc_wr32(m6 + 4, 7); /* version 6's tensors */
    ck_assert_int_eq(lwc_model_load(&m, m6, l6), LWC_ERR_CORRUPT);
    lwc_image_free(&rg); lwc_image_free(&r6);
    lwc_free(mg); lwc_free(mf); lwc_free(m6);
    lwc_tablefit_free(&f); lwc_tablefit_free(&f6);
    lwc_predfit_free(&pf);
    free(wt);
    free_small(&n, g, x);
}
END_TEST

/* z tables per context class (model version 8): the fit counts every z
 * symbol once, in the class codec/zctx.h gives it; the export loads with
 * its classes and reference values (the trained density's modes); its
 * streams code y byte for byte as the version-7 export and decode to the
 * same pixels (only z's tables differ), for any split; a version 7 with
 * the version-8 tables, or an export without the prediction, is refused. */
START_TEST(fitted_z_classes)
{
    LwcNet n;
    int size = 64, L = k_arch.L, K = 4; /* K != L: a version 7 would read K Nz tables as L Nz */
    float *x;
    LwcGraph *g = small_graph(&n, 6, size, 0, &x);
    const double means[3] = { 0.01, 0.5, 1.5 };
    LwcTableFit f, fz;
    ck_assert_int_eq(lwc_tablefit_init(&f, 2 * 4 * LWC_SCALE_LEVELS), 0);
    ck_assert_int_eq(lwc_yctx_from_means(&f.ctx, means, 3), 0);
    int16_t *wt = calloc((size_t)k_arch.M * 2 * LWC_YPRED_TAPS, sizeof(int16_t));
    wt[0] = 2048;
    f.pred = wt;
    int nt = n.fact.channels, Nz = k_arch.Nz, hz = size / 32;
    int32_t *ref = malloc((size_t)nt * sizeof(int32_t));
    ck_assert_int_eq(lwc_net_zrefs(&n, ref), 0);
    ck_assert_int_eq(lwc_tablefit_init(&fz, nt * K), 0);
    fz.zclasses = K;
    fz.zref = ref;
    double want[4] = { 0 };
    int32_t plane[4];
    for (int l = 0; l < L; l++) {
        smooth_image(x, size, 90 + (uint64_t)l);
        uint64_t rng = 1;
        LwcStepStats st;
        ck_assert_int_eq(lwc_graph_run(g, x, l, 0, &rng, 0, NULL, NULL, NULL, &st), 0);
        ck_assert_int_eq(lwc_graph_fit_tables(g, &f, 0), 0);
        ck_assert_int_eq(lwc_graph_fit_z(g, &fz, 0), 0);
        /* by hand on the 2 x 2 planes: (0,0) has no taps; (0,1) has W;
         * (1,0) N and NE; (1,1) W, N, NW */
        const float *zh = lwc_graph_zhat(g);
        for (int c = 0; c < Nz; c++) {
            for (int i = 0; i < 4; i++) plane[i] = (int32_t)zh[c * 4 + i] - ref[c];
            int d[4];
            for (int i = 0; i < 4; i++) d[i] = LWC_MIN(abs(plane[i]), K - 1);
            int cls[4] = { 0, d[0], d[0] + d[1], d[2] + d[0] + d[1] };
            for (int i = 0; i < 4; i++) want[LWC_MIN(cls[i], K - 1)] += 1;
        }
    }
    ck_assert_int_eq(hz * hz, 4);
    for (int k = 0; k < K; k++) {
        double got = 0;
        for (int c = 0; c < Nz; c++) got += lwc_tablefit_total(&fz, k * Nz + c);
        ck_assert_double_eq(got, want[k]);
    }
    ck_assert(want[0] < L * Nz * 4); /* the classes are used */
    uint8_t *m7, *m8, *bad;
    size_t l7, l8, lb;
    static float am[LWC_ACT_SLOTS];
    for (int i = 0; i < LWC_ACT_SLOTS; i++) am[i] = 8.0f;
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, LWC_EXPORT_INT_SYNTHESIS, &f, NULL, &m7, &l7), 0);
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, LWC_EXPORT_INT_SYNTHESIS, &f, &fz, &m8, &l8), 0);
    LwcTableFit nopred = f;
    nopred.pred = NULL;
    ck_assert_int_eq(lwc_net_export_fitted(&n, am, LWC_EXPORT_INT_SYNTHESIS, &nopred, &fz, &bad, &lb), LWC_ERR_INVAL);
    LwcModel *m;
    ck_assert_int_eq(lwc_model_load(&m, m8, l8), 0);
    ck_assert(m->version == 8 && m->zclasses == K && m->zsets == nt / Nz && m->fact.count == nt * K);
    ck_assert_int_eq(memcmp(m->zref, ref, (size_t)nt * sizeof(int32_t)), 0);
    lwc_model_free(&m);
    size_t y7, z7;
    LwcImage r7;
    code_with(m7, l7, &y7, &z7, &r7);
    ck_assert_uint_eq(same_pixels_any_split(m8, l8, &r7), y7);
    lwc_wr32(m8 + 4, 7);
    ck_assert_int_eq(lwc_model_load(&m, m8, l8), LWC_ERR_CORRUPT);
    lwc_image_free(&r7);
    lwc_free(m7); lwc_free(m8);
    lwc_tablefit_free(&f); lwc_tablefit_free(&fz);
    free(ref);
    free(wt);
    free_small(&n, g, x);
}
END_TEST

/* Runs between levels: with level 1's gains copied from level 0, any
 * fraction gives level 0's run exactly; with gains of its own, a fraction
 * gives a third result; the last level refuses a fraction. */
START_TEST(graph_runs_between_levels)
{
    LwcNet n;
    int size = 64;
    float *x;
    LwcGraph *g = small_graph(&n, 8, size, 77, &x);
    size_t offs[4] = { n.gain_off, n.igain_off, n.zgain_off, n.zigain_off };
    int widths[4] = { k_arch.M, k_arch.M, k_arch.Nz, k_arch.Nz };
    for (int k = 0; k < 4; k++) /* level 1 = level 0's log-gains + 0.7 */
        for (int c = 0; c < widths[k]; c++) n.params[offs[k] + (size_t)widths[k] + c] = n.params[offs[k] + c] + 0.7f;
    uint64_t rng = 1;
    LwcStepStats s0, s1, sf;
    ck_assert_int_eq(lwc_graph_run(g, x, 0, 0, &rng, 0, NULL, NULL, NULL, &s0), 0);
    ck_assert_int_eq(lwc_graph_run(g, x, 1, 0, &rng, 0, NULL, NULL, NULL, &s1), 0);
    lwc_graph_set_frac(g, 0.5f);
    ck_assert_int_eq(lwc_graph_run(g, x, 0, 0, &rng, 0, NULL, NULL, NULL, &sf), 0);
    ck_assert(sf.bits_y != s0.bits_y && sf.bits_y != s1.bits_y);
    ck_assert_int_eq(lwc_graph_run(g, x, k_arch.L - 1, 0, &rng, 0, NULL, NULL, NULL, &sf), LWC_ERR_INVAL);
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < widths[k]; c++) n.params[offs[k] + (size_t)widths[k] + c] = n.params[offs[k] + c];
    ck_assert_int_eq(lwc_graph_run(g, x, 0, 0, &rng, 0, NULL, NULL, NULL, &sf), 0);
    ck_assert(sf.bits_y == s0.bits_y && sf.bits_z == s0.bits_z && sf.mse == s0.mse);
    lwc_graph_set_frac(g, 0);
    ck_assert_int_eq(lwc_graph_run(g, x, 1, 0, &rng, 0, NULL, NULL, NULL, &sf), 0);
    ck_assert(sf.bits_y == s0.bits_y && sf.mse == s0.mse); /* level 1 is now level 0 */
    free_small(&n, g, x);
}
END_TEST

/* Training between levels (frac 0.3 from level 1 toward 2): the inverse
 * gains of both levels get their share of the gradient (central
 * differences), and the hyper-latent gains keep their identities, each
 * level's scaled by its weight. */
START_TEST(graph_gradients_between_levels)
{
    lwc_gemm_force_reference(1);
    LwcNet n;
    float *x;
    LwcGraph *g = small_graph(&n, 4, 64, 2, &x);
    for (int l = 1; l <= 2; l++)
        for (int c = 0; c < k_arch.Nz; c++) {
            n.params[n.zgain_off + (size_t)l * k_arch.Nz + c] = 0.2f * l - 0.1f * c;
            n.params[n.zigain_off + (size_t)l * k_arch.Nz + c] = -0.1f * l + 0.1f * c;
        }
    float *grad = calloc(n.nparams, 4), *fgrad = calloc(n.fact.nparams, 4);
    float *an = calloc(n.nparams, 4), *fan = calloc(n.fact.nparams, 4);
    g_level = 1;
    lwc_graph_set_frac(g, 0.3f);
    loss_at(g, x, an, fan, 1);
    check_range(g, n.params, an, n.igain_off + 1 * k_arch.M, k_arch.M, x, grad, fgrad, "igain level 1");
    check_range(g, n.params, an, n.igain_off + 2 * k_arch.M, k_arch.M, x, grad, fgrad, "igain level 2");
    /* the identities hold for the sum of the two levels' log-gain gradients
     * (both move the one interpolated gain), and the parts are 0.7 : 0.3 */
    float *sum = malloc(n.nparams * 4);
    memcpy(sum, an, n.nparams * 4);
    for (int c = 0; c < k_arch.Nz; c++) {
        size_t z1 = n.zgain_off + k_arch.Nz + c, i1 = n.zigain_off + k_arch.Nz + c;
        sum[z1] += an[z1 + k_arch.Nz];
        sum[i1] += an[i1 + k_arch.Nz];
        ck_assert_double_eq_tol(an[z1] * 0.3, an[z1 + k_arch.Nz] * 0.7, 1e-6 * (fabs(an[z1]) + 1e-6));
        ck_assert_double_eq_tol(an[i1] * 0.3, an[i1 + k_arch.Nz] * 0.7, 1e-6 * (fabs(an[i1]) + 1e-6));
    }
    check_gain_identities(&n, sum, 1);
    g_level = 2;
    free(sum);
    free_small(&n, g, x);
    free(grad); free(fgrad); free(an); free(fan);
    lwc_gemm_force_reference(0);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, graph_gradients);
    tcase_add_test(t, loss_falls_and_resume_is_exact);
    tcase_add_test(t, resume_with_new_rate_restarts_plateau);
    tcase_add_test(t, add_levels_extends_the_rate_range);
    tcase_add_test(t, cosine_schedule_shape);
    tcase_add_test(t, cosine_run_ends_at_budget_and_resumes_exactly);
    tcase_add_test(t, old_checkpoints_load);
    tcase_add_test(t, validation_crops_cover_whole_rounds);
    tcase_add_test(t, grow_analysis_keeps_the_function);
    tcase_add_test(t, grow_zdensity_keeps_the_function);
    tcase_add_test(t, analysis_branch_gradients);
    tcase_add_test(t, encoder_runs_the_analysis_branch);
    tcase_add_test(t, fitted_tables_follow_the_counts);
    tcase_add_test(t, fitted_tables_export_and_code);
    tcase_add_test(t, fitted_tables_per_level);
    tcase_add_test(t, fitted_tables_per_context);
    tcase_add_test(t, prediction_fit_by_hand);
    tcase_add_test(t, fitted_prediction);
    tcase_add_test(t, fitted_z_classes);
    tcase_add_test(t, graph_runs_between_levels);
    tcase_add_test(t, graph_gradients_between_levels);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(train_suite()); }
