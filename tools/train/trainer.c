/* The training loop. Work is split over worker threads by batch item; each
 * worker owns a graph and gradient buffers, and gradients are summed in a
 * fixed order, so a run is reproducible for a given thread count. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "common/pool.h"
#include "codec/internal.h"
#include "learn/adam.h"
#include "tools/train/data.h"
#include "learn/graph.h"
#include "learn/predfit.h"
#include "learn/tablefit.h"
#include "codec/ystripes.h"
#include "tools/train/pca.h"
#include "tools/train/trainer.h"
#include "transforms/gemm.h"

#define MAX_WORKERS 16
#define LWC_GAIN_LR_MULT 20.0f
#define LWC_MAX_VAL_CROPS 512

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

void lwc_train_default_opts(LwcTrainOpts *o)
{
    memset(o, 0, sizeof(*o));
    o->out = "models/lwc-default.lwcm";
    o->steps = 100000;
    o->crop = 256; o->batch = 8; o->threads = 2;
    o->val_every = 500; o->val_split = 20; o->log_every = 20;
    o->lr = 1e-4; o->ckpt_every = 300; o->clip = 1.0;
    o->seed = 1;
    o->val_crops = 64;
    o->lr_min = 1e-6;
    o->arch = (LwcArch){ .M = 64, .Nz = 32, .N = 96, .Ch = 64, .S = 4, .Cc = 32, .P = 96, .D = 96, .B = 3, .L = 8 };
}

typedef struct Worker {
    LwcGraph *g;
    float *grad, *fgrad, *crop;
    float *act_max;
    struct TableFits *fit; /* with train = 0: training crops, their values counted here */
    int fit_yset, fit_zset; /* the sets of y and z tables they count in */
    const LwcDataset *ds;
    const LwcTrainOpts *o;
    /* task */
    int nitems, level, train, val_level;
    uint64_t seeds[LWC_MAX_VAL_CROPS];
    int val_idx[LWC_MAX_VAL_CROPS];
    LwcStepStats sum;
    double psnr_sum;
    int err;
} Worker;

typedef struct Trainer {
    const LwcTrainOpts *o;
    LwcTrainState st;
    LwcDataset ds;
    Worker w[MAX_WORKERS];
    int nw;
    LwcPool *pool; /* nw workers, started once (common/pool.h) */
    int nval; /* validation crops */
    long end; /* the last step of this run */
    FILE *log;
    double t_start, t_last_ckpt;
} Trainer;

static void fit_counts(Worker *w);

/* Task k: worker k's crops (the pool's worker index is not needed). */
static int work_task(void *arg, int task, int worker)
{
    Worker *w = &((Trainer *)arg)->w[task];
    (void)worker;
    memset(&w->sum, 0, sizeof(w->sum));
    w->psnr_sum = 0;
    for (int i = 0; i < w->nitems && !w->err; i++) {
        uint64_t rng = w->seeds[i];
        if (w->train || w->fit) lwc_dataset_crop(w->ds, w->o->crop, &rng, w->crop);
        else lwc_dataset_val_crop(w->ds, w->val_idx[i], w->o->crop, w->crop);
        LwcStepStats s;
        w->err = lwc_graph_run(w->g, w->crop, w->level, w->train, &rng, 1.0f / w->o->batch, w->grad, w->fgrad,
                               w->act_max, &s);
        if (!w->err && w->fit) fit_counts(w);
        w->sum.bits_y += s.bits_y; w->sum.bits_z += s.bits_z; w->sum.mse += s.mse; w->sum.loss += s.loss;
        w->psnr_sum += 10 * log10(1.0 / fmax(s.mse, 1e-12));
    }
    return LWC_OK;
}

/* Run the workers' tasks on the trainer's pool. */
static int run_workers(Trainer *t)
{
    lwc_parallel(t->nw, t->nw, work_task, t);
    for (int i = 0; i < t->nw; i++)
        if (t->w[i].err) return t->w[i].err;
    return LWC_OK;
}

static int train_step(Trainer *t, LwcStepStats *agg, int *level_out)
{
    LwcTrainState *s = &t->st;
    const LwcTrainOpts *o = t->o;
    size_t np = s->net.nparams, fp = s->net.fact.nparams;
    int level = (int)(lwc_rng_next(&s->rng) % (uint64_t)s->net.a.L);
    float frac = 0;
    if (o->between_levels && s->net.a.L > 1) { /* a quality anywhere in [0, L-1) */
        double q = lwc_rng_uniform(&s->rng) * (s->net.a.L - 1);
        level = (int)q;
        frac = (float)(q - level);
    }
    for (int i = 0; i < t->nw; i++) {
        Worker *w = &t->w[i];
        lwc_graph_set_frac(w->g, frac);
        memset(w->grad, 0, np * 4);
        memset(w->fgrad, 0, fp * 4);
        w->nitems = 0; w->level = level; w->train = 1; w->act_max = NULL;
    }
    for (int b = 0; b < o->batch; b++) {
        Worker *w = &t->w[b % t->nw];
        w->seeds[w->nitems++] = lwc_rng_next(&s->rng);
    }
    int r = run_workers(t);
    for (int i = 0; i < t->nw; i++) lwc_graph_set_frac(t->w[i].g, 0); /* validation runs at the levels */
    LWC_FWD(r);
    memset(agg, 0, sizeof(*agg));
    for (int i = 1; i < t->nw; i++) {
        for (size_t k = 0; k < np; k++) t->w[0].grad[k] += t->w[i].grad[k];
        for (size_t k = 0; k < fp; k++) t->w[0].fgrad[k] += t->w[i].fgrad[k];
    }
    for (int i = 0; i < t->nw; i++) {
        agg->bits_y += t->w[i].sum.bits_y; agg->bits_z += t->w[i].sum.bits_z;
        agg->mse += t->w[i].sum.mse; agg->loss += t->w[i].sum.loss;
    }
    double gn = lwc_grad_clip(t->w[0].grad, np, o->clip);
    lwc_grad_clip(t->w[0].fgrad, fp, o->clip);
    if (!isfinite(gn)) return LWC_OK; /* skip a step with a broken gradient */
    /* y's rate-level gain vectors learn with a larger step: they must
     * travel far (a factor of several in log space) and their gradients are
     * noisy, so at the base rate they barely move in a short run. z's gains
     * (the tail) keep the base rate: h_s is tuned to the grid of z_hat, and
     * at 20x they moved by 0.1..0.2 in log space within 1,000 steps of a
     * grown model and cost 3 % of validation loss. */
    if (s->sched.kind == LWC_SCHED_COSINE) s->lr = lwc_schedule_lr(&s->sched, s->step);
    size_t ng = s->net.gain_off, nz = s->net.zgain_off;
    const float *gr = t->w[0].grad;
    LwcAdam a = { ng, s->m, s->v, s->adam_step, s->lr, 0.9f, 0.999f, 1e-8f };
    lwc_adam_step(&a, s->net.params, gr);
    LwcAdam ga = { nz - ng, s->m + ng, s->v + ng, s->adam_step, s->lr * LWC_GAIN_LR_MULT, 0.9f, 0.999f, 1e-8f };
    lwc_adam_step(&ga, s->net.params + ng, gr + ng);
    LwcAdam za = { np - nz, s->m + nz, s->v + nz, s->adam_step, s->lr, 0.9f, 0.999f, 1e-8f };
    lwc_adam_step(&za, s->net.params + nz, gr + nz);
    LwcAdam fa = { fp, s->fm, s->fv, s->adam_step, s->lr * 10, 0.9f, 0.999f, 1e-8f };
    lwc_adam_step(&fa, s->net.fact.params, t->w[0].fgrad);
    s->adam_step = a.step;
    *level_out = level;
    return LWC_OK;
}

/* Validation results at three rate levels (0, L/2, L-1). */
typedef struct ValResult {
    double score;                 /* the loss summed over the three levels */
    double bpp[3], bpp_z[3], psnr[3]; /* mean over the crops; bpp includes bpp_z */
} ValResult;

/* Validation: the fixed crops of the validation images at three rate
 * levels, rounding instead of noise. */
static int validate(Trainer *t, ValResult *res, float *act_max)
{
    double *bpp = res->bpp, *psnr = res->psnr;
    const LwcNet *n = &t->st.net;
    int levels[3] = { 0, n->a.L / 2, n->a.L - 1 }, nv = t->nval;
    double px = (double)t->o->crop * t->o->crop;
    res->score = 0;
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < t->nw; i++) {
            t->w[i].nitems = 0; t->w[i].level = levels[k]; t->w[i].train = 0;
            t->w[i].act_max = act_max ? act_max + (size_t)i * LWC_ACT_SLOTS : NULL;
        }
        for (int v = 0; v < nv; v++) {
            Worker *w = &t->w[v % t->nw];
            w->val_idx[w->nitems] = v;
            w->seeds[w->nitems++] = 1;
        }
        LWC_FWD(run_workers(t));
        double bits = 0, zbits = 0, ps = 0, loss = 0;
        for (int i = 0; i < t->nw; i++) {
            bits += t->w[i].sum.bits_y + t->w[i].sum.bits_z;
            zbits += t->w[i].sum.bits_z;
            loss += t->w[i].sum.loss;
            ps += t->w[i].psnr_sum;
        }
        bpp[k] = bits / (nv * px);
        res->bpp_z[k] = zbits / (nv * px);
        psnr[k] = ps / nv;
        res->score += loss / nv;
    }
    return LWC_OK;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    LWC_RET_IF(!f, LWC_ERR_IO);
    int ok = fwrite(buf, 1, len, f) == len;
    ok = !fclose(f) && ok;
    if (!ok || rename(tmp, path)) { remove(tmp); return LWC_ERR_IO; }
    return LWC_OK;
}

/* Bytes of a crop's payloads that the float estimate does not model: the
 * YLAT stripe table (8 + 4 per stripe) and, per rANS stream (z, and each
 * stripe of y), the final state's share of its 8 bytes that carries no
 * information, about 6 bytes on average (a state in [2^31, 2^63) holds
 * log2(x) - 31 bits). An estimate: it sets the export loss apart from
 * framing, which is the same per stream at any size. */
static double framing_bytes(const LwcModel *m, int size, int q100)
{
    int hy = size / 8, k = lwc_ystripes_count(hy, lwc_ystripe_rows(m, hy, hy, q100));
    return 8.0 + 4.0 * k + 6.0 * (k + 1);
}

/* Encode the validation crops with the exported (integer) model and compare
 * the real coded size with the float model's estimate at the same levels,
 * for z and y apart, and without the framing. */
static void measure_export(Trainer *t, const uint8_t *model, size_t len, const ValResult *est)
{
    LwcModel *m = NULL;
    LwcContext *c = NULL;
    LwcSettings s;
    lwc_default_settings(&s);
    if (lwc_model_load(&m, model, len) < 0 || lwc_open(&c, m, &s) < 0) {
        lwc_model_free(&m);
        return;
    }
    const LwcArch *a = &t->st.net.a;
    int levels[3] = { 0, a->L / 2, a->L - 1 }, size = t->o->crop, nv = t->nval;
    float *crop = lwc_malloc_array((size_t)3 * size * size, sizeof(float));
    LwcImage img;
    if (!crop || lwc_image_alloc(&img, size, size, 3, 8) < 0) { lwc_free(crop); lwc_close(&c); lwc_model_free(&m); return; }
    for (int k = 0; k < 3; k++) {
        double bytes = 0, zbytes = 0;
        LwcEncodeParams p;
        lwc_default_encode_params(&p);
        p.quality = a->L > 1 ? 100.0 * levels[k] / (a->L - 1) : 50;
        p.plain_rounding = 1; /* the float estimate rounds: compare like with like */
        for (int v = 0; v < nv; v++) {
            lwc_dataset_val_crop(&t->ds, v, size, crop);
            for (int i = 0; i < size * size; i++)
                for (int ch = 0; ch < 3; ch++)
                    img.data[(size_t)i * 3 + ch] = (uint8_t)floorf((crop[(size_t)ch * size * size + i] + 0.5f) * 255.0f + 0.5f);
            uint8_t *buf;
            size_t bl;
            LwcStats st;
            if (lwc_encode(c, &img, &p, &buf, &bl, NULL, &st) == 0) {
                bytes += st.bytes_z + st.bytes_y; /* payloads only, like the estimate */
                zbytes += st.bytes_z;
                lwc_free_buffer(buf);
            }
        }
        double px = (double)nv * size * size, real = 8.0 * bytes / px, real_z = 8.0 * zbytes / px;
        double ez = est->bpp_z[k], ey = est->bpp[k] - ez, fr = 8.0 * framing_bytes(m, size, (int)lwc_quality_x100(p.quality)) / ((double)size * size);
        printf("export check, level %d: float model estimate %.4f bpp, integer model coded %.4f bpp (%+.2f%%; "
               "z %.4f -> %.4f, y %.4f -> %.4f; framing ~%.4f bpp, the rest %+.2f%%)\n", levels[k], est->bpp[k], real,
               100.0 * (real / est->bpp[k] - 1), ez, real_z, ey, real - real_z, fr,
               100.0 * ((real - fr) / est->bpp[k] - 1));
    }
    lwc_image_free(&img);
    lwc_free(crop);
    lwc_close(&c);
    lwc_model_free(&m);
}

static void log_val(Trainer *t, const ValResult *v);

/* Fitted tables of y and z (tablefit.h), and in a first sweep the in-pass
 * prediction of y (predfit.h; pred_sweep set). */
typedef struct TableFits {
    LwcTableFit y, z;
    LwcPredFit p;
    int pred_sweep;
    int16_t *pred; /* the solved weights, [M][2][LWC_YPRED_TAPS] */
    int32_t *zref; /* z's context classes: reference values [sets][Nz] (lwc_net_zrefs) */
} TableFits;

static void free_fits(TableFits *f)
{
    lwc_tablefit_free(&f->y);
    lwc_tablefit_free(&f->z);
    lwc_predfit_free(&f->p);
    lwc_free(f->pred);
    lwc_free(f->zref);
    f->pred = NULL;
    f->zref = NULL;
}

/* The prediction sweep's fits need only the least squares. */
static int init_fits(TableFits *f, const Trainer *t, int pred_sweep)
{
    const LwcNet *n = &t->st.net;
    memset(f, 0, sizeof(*f));
    f->pred_sweep = pred_sweep;
    if (pred_sweep) return lwc_predfit_init(&f->p, n->a.M);
    const LwcYCtx *yc = &t->o->fit_context;
    int sets = yc->edges ? 2 * lwc_yctx_classes(yc) : t->o->fit_per_level ? n->a.L : 1;
    int r = lwc_tablefit_init(&f->y, sets * LWC_SCALE_LEVELS);
    f->y.ctx = *yc;
    int zk = t->o->fit_zctx > 1 ? t->o->fit_zctx : 1;
    if (r == LWC_OK) r = lwc_tablefit_init(&f->z, n->fact.channels * zk);
    f->z.zclasses = zk;
    if (r < 0) free_fits(f);
    return r;
}

static void fit_counts(Worker *w)
{
    if (w->fit->pred_sweep) {
        w->err = lwc_graph_fit_pred(w->g, &w->fit->p);
        return;
    }
    w->err = lwc_graph_fit_tables(w->g, &w->fit->y, w->fit_yset);
    if (w->err == LWC_OK) w->err = lwc_graph_fit_z(w->g, &w->fit->z, w->fit_zset);
}

static void merge_fits(TableFits *dst, const TableFits *src)
{
    if (dst->pred_sweep) {
        lwc_predfit_merge(&dst->p, &src->p);
        return;
    }
    lwc_tablefit_merge(&dst->y, &src->y);
    lwc_tablefit_merge(&dst->z, &src->z);
}

/* The crops of table set l at position u (0..FIT_STEPS-1) of the qualities
 * whose nearest level is l: level l - 1/2 + (u + 1/2) / FIT_STEPS, kept in
 * [0, L - 1], run as a level and a fraction toward the next. */
#define FIT_STEPS 4
static void fit_position(int l, int u, int L, int *level, float *frac)
{
    double q = l - 0.5 + (u + 0.5) / FIT_STEPS;
    q = LWC_CLAMP(q, 0.0, L - 1.0);
    *level = LWC_MIN((int)q, L - 1);
    *frac = (float)(q - *level);
}

/* One sweep of --fit-tables N: the coder's values of y and z on N training
 * crops (the same crops at every export and in both sweeps), spread evenly
 * over the qualities that use each level's tables (a quality codes with its
 * nearest level's), counted into fit (initialised for the sweep). */
static int fit_sweep(Trainer *t, TableFits *fit)
{
    const LwcNet *net = &t->st.net;
    int L = net->a.L, n = t->o->fit_tables, r = LWC_OK, batches = L * FIT_STEPS;
    TableFits wf[MAX_WORKERS];
    memset(wf, 0, sizeof(wf));
    for (int i = 0; i < t->nw && r == LWC_OK; i++) r = init_fits(&wf[i], t, fit->pred_sweep);
    for (int i = 0; i < t->nw && r == LWC_OK; i++) wf[i].y.pred = fit->y.pred, wf[i].z.zref = fit->z.zref;
    uint64_t rng = 0x7AB1EF17ull;
    for (int b = 0; b < batches && r == LWC_OK; b++) {
        int l = b / FIT_STEPS, level;
        float frac;
        fit_position(l, b % FIT_STEPS, L, &level, &frac);
        for (int i = 0; i < t->nw; i++) {
            Worker *w = &t->w[i];
            w->nitems = 0; w->level = level; w->train = 0; w->act_max = NULL;
            w->fit = &wf[i];
            w->fit_yset = t->o->fit_per_level ? l : 0;
            w->fit_zset = lwc_net_zdensity_sets(net) > 1 ? l : 0;
            lwc_graph_set_frac(w->g, frac);
        }
        for (int v = 0; v < n / batches + (b < n % batches); v++) {
            Worker *w = &t->w[v % t->nw];
            w->seeds[w->nitems++] = lwc_rng_next(&rng);
        }
        r = run_workers(t);
    }
    for (int i = 0; i < t->nw; i++) {
        if (r == LWC_OK) merge_fits(fit, &wf[i]);
        free_fits(&wf[i]);
        t->w[i].fit = NULL;
        lwc_graph_set_frac(t->w[i].g, 0);
    }
    return r;
}

/* --fit-pred: the prediction's weights from a first sweep, into fit->pred. */
static int fit_prediction(Trainer *t, TableFits *fit)
{
    TableFits pf;
    int M = t->st.net.a.M, r = init_fits(&pf, t, 1);
    if (r == LWC_OK) r = fit_sweep(t, &pf);
    if (r == LWC_OK && !(fit->pred = lwc_malloc_array((size_t)M * 2 * LWC_YPRED_TAPS, sizeof(int16_t))))
        r = LWC_ERR_NOMEM;
    if (r == LWC_OK) r = lwc_predfit_solve(&pf.p, fit->pred);
    free_fits(&pf);
    fit->y.pred = r == LWC_OK ? fit->pred : NULL;
    return r;
}

/* --fit-zctx: the reference values of z's context classes. */
static int fit_zrefs(Trainer *t, TableFits *fit)
{
    const LwcNet *n = &t->st.net;
    LWC_RET_IF(!(fit->zref = lwc_malloc_array((size_t)n->fact.channels, sizeof(int32_t))), LWC_ERR_NOMEM);
    fit->z.zref = fit->zref;
    return lwc_net_zrefs(n, fit->zref);
}

static int fit_tables(Trainer *t, TableFits *fit)
{
    int r = t->o->fit_pred ? fit_prediction(t, fit) : LWC_OK;
    if (r == LWC_OK && fit->z.zclasses > 1) r = fit_zrefs(t, fit);
    if (r == LWC_OK) r = fit_sweep(t, fit);
    if (r == LWC_OK && !t->o->quiet)
        printf("y tables (%s%s) and z tables%s fitted on %d training crops\n",
               fit->y.ctx.edges ? "one set per parity and context class"
               : t->o->fit_per_level ? "one set per rate level" : "one set",
               fit->y.pred ? ", of the symbols minus their in-pass prediction" : "",
               fit->z.zclasses > 1 ? " (per context class)" : "", t->o->fit_tables);
    return r;
}

static int export_model(Trainer *t)
{
    ValResult v;
    LWC_RET_IF(t->ds.nval == 0, LWC_ERR_INVAL);
    float *am = lwc_calloc((size_t)(t->nw + 1) * LWC_ACT_SLOTS, sizeof(float)), *act_max = am;
    LWC_RET_IF(!am, LWC_ERR_NOMEM);
    int r = validate(t, &v, am + LWC_ACT_SLOTS);
    if (r == LWC_OK) log_val(t, &v);
    for (int i = 0; i < LWC_ACT_SLOTS; i++) {
        for (int w = 1; w <= t->nw; w++) act_max[i] = fmaxf(act_max[i], am[(size_t)w * LWC_ACT_SLOTS + i]);
        act_max[i] = fmaxf(act_max[i] * 1.25f, 1e-3f); /* headroom for images unlike the calibration set */
    }
    uint8_t *buf = NULL;
    size_t len;
    int flags = t->o->int_synthesis ? LWC_EXPORT_INT_SYNTHESIS : 0;
    TableFits fit;
    memset(&fit, 0, sizeof(fit));
    if (r == LWC_OK && t->o->fit_tables) r = init_fits(&fit, t, 0);
    if (r == LWC_OK && t->o->fit_tables) r = fit_tables(t, &fit);
    int fitted = fit.y.count != NULL;
    if (r == LWC_OK)
        r = lwc_net_export_fitted(&t->st.net, act_max, flags, fitted ? &fit.y : NULL, fitted ? &fit.z : NULL, &buf, &len);
    free_fits(&fit);
    lwc_free(am);
    if (r == LWC_OK) r = write_file(t->o->out, buf, len);
    if (r == LWC_OK && !t->o->quiet) {
        printf("exported %s (%zu bytes, id %016llx) at step %ld\n", t->o->out, len,
               (unsigned long long)lwc_fnv1a64(buf, len), t->st.step);
        measure_export(t, buf, len, &v);
    }
    lwc_free(buf);
    return r;
}

static void set_graphs(Trainer *t, int exact, int coder_like)
{
    for (int i = 0; i < t->nw; i++) {
        lwc_graph_set_exact(t->w[i].g, exact);
        lwc_graph_set_coder_like(t->w[i].g, coder_like);
    }
}

/* Diagnostics on the validation crops: the PSNR without quantisation (the
 * autoencoder's own ceiling), and the float rate with the integer coder's
 * Q4 means and table scales, to set apart what the export costs. */
static int diagnose(Trainer *t)
{
    ValResult v;
    set_graphs(t, 1, 0);
    int r = validate(t, &v, NULL);
    if (r == LWC_OK)
        printf("autoencoder ceiling @%ld (no quantisation): PSNR %.2f  %.2f  %.2f dB\n", t->st.step, v.psnr[0],
               v.psnr[1], v.psnr[2]);
    static const char *what[4] = { "float model", "Q4 means", "table scales", "Q4 means + table scales" };
    for (int f = 0; f < 4 && r == LWC_OK; f++) {
        set_graphs(t, 0, f);
        r = validate(t, &v, NULL);
        if (r == LWC_OK)
            printf("rate with %-24s bpp %.4f  %.4f  %.4f | PSNR %.2f  %.2f  %.2f\n", what[f], v.bpp[0], v.bpp[1], v.bpp[2],
                   v.psnr[0], v.psnr[1], v.psnr[2]);
    }
    set_graphs(t, 0, 0);
    return r;
}

static int setup_workers(Trainer *t)
{
    const LwcTrainOpts *o = t->o;
    t->nw = LWC_CLAMP(o->threads, 1, MAX_WORKERS);
    if (t->nw > o->batch) t->nw = o->batch;
    lwc_gemm_set_threads(1); /* parallelism comes from the workers */
    LWC_FWD(lwc_pool_create(t->nw, &t->pool));
    lwc_pool_bind(t->pool);
    size_t np = t->st.net.nparams, fp = t->st.net.fact.nparams;
    for (int i = 0; i < t->nw; i++) {
        Worker *w = &t->w[i];
        w->ds = &t->ds; w->o = o;
        LWC_FWD(lwc_graph_create(&w->g, &t->st.net, o->crop));
        w->grad = lwc_calloc(np, 4);
        w->fgrad = lwc_calloc(fp, 4);
        w->crop = lwc_malloc_array((size_t)3 * o->crop * o->crop, 4);
        LWC_RET_IF(!w->grad || !w->fgrad || !w->crop, LWC_ERR_NOMEM);
    }
    return LWC_OK;
}

static void free_trainer(Trainer *t)
{
    for (int i = 0; i < MAX_WORKERS; i++) {
        lwc_graph_free(&t->w[i].g);
        lwc_free(t->w[i].grad); lwc_free(t->w[i].fgrad); lwc_free(t->w[i].crop);
    }
    if (t->pool) lwc_pool_bind(NULL);
    lwc_pool_destroy(&t->pool);
    lwc_train_state_free(&t->st);
    lwc_dataset_free(&t->ds);
    if (t->log) fclose(t->log);
}

/* A new schedule from the options, starting at the current step. */
static void start_schedule(Trainer *t)
{
    const LwcTrainOpts *o = t->o;
    LwcTrainState *s = &t->st;
    s->sched = (LwcSchedule){ .kind = o->sched_kind, .start = s->step, .warmup = o->warmup, .budget = o->budget,
                              .peak = (float)o->lr, .floor = (float)o->lr_min };
    s->lr = (float)o->lr;
    s->bad_evals = 0;        /* a new rate starts a new plateau watch: the old best */
    s->best_val = INFINITY;  /* would halve it again within 3 validations */
    if (!o->quiet && s->sched.kind == LWC_SCHED_COSINE)
        printf("schedule: cosine from step %ld, warm-up %ld, budget %ld steps, lr %g -> %g\n", s->step, o->warmup,
               o->budget, o->lr, o->lr_min);
}

/* --resume: the checkpoint's schedule, or a new one (--schedule, or --lr
 * under the plateau rule). */
static int resume_schedule(Trainer *t)
{
    const LwcTrainOpts *o = t->o;
    LwcTrainState *s = &t->st;
    if (o->sched_given) {
        start_schedule(t);
    } else if (o->lr_given && s->sched.kind == LWC_SCHED_COSINE) {
        fprintf(stderr, "lwc train: the checkpoint follows a cosine schedule: replace it with --schedule, not --lr alone\n");
        return LWC_ERR_INVAL;
    } else if (o->lr_given && (float)o->lr != s->lr) {
        if (!o->quiet) printf("learning rate %g -> %g (--lr)\n", s->lr, o->lr);
        start_schedule(t); /* kind plateau */
    }
    return LWC_OK;
}

static int resume_state(Trainer *t)
{
    const LwcTrainOpts *o = t->o;
    int r = lwc_ckpt_load(o->ckpt, &t->st);
    if (r < 0) fprintf(stderr, "lwc train: cannot resume from '%s': %s\n", o->ckpt, lwc_strerror(r));
    else if (!o->quiet) printf("resumed from %s at step %ld\n", o->ckpt, t->st.step);
    if (r >= 0) r = resume_schedule(t);
    if (r >= 0 && o->add_levels) {
        r = lwc_train_add_levels(&t->st, o->add_levels);
        if (r < 0) fprintf(stderr, "lwc train: cannot add %d rate levels to %d: %s\n", o->add_levels,
                           t->st.net.a.L, lwc_strerror(r));
        else if (!o->quiet)
            printf("rate levels: %d (lambda %.3g .. %.3g)\n", t->st.net.a.L, t->st.net.lambda[0],
                   t->st.net.lambda[t->st.net.a.L - 1]);
        t->st.bad_evals = 0; /* the validation levels changed: a new score */
        t->st.best_val = INFINITY;
    }
    if (r >= 0 && o->grow_analysis) {
        r = lwc_train_grow_analysis(&t->st, o->grow_analysis, o->seed);
        if (r < 0) fprintf(stderr, "lwc train: cannot grow the analysis by %d channels: %s\n", o->grow_analysis,
                           lwc_strerror(r));
        else if (!o->quiet) printf("analysis: non-linear branch of %d channels (starts at zero)\n", o->grow_analysis);
    }
    if (r >= 0 && o->grow_zdensity) {
        r = lwc_net_split_zdensity(&t->st.net, &t->st.fm, &t->st.fv);
        if (r < 0) fprintf(stderr, "lwc train: cannot split z's density by rate level: %s\n", lwc_strerror(r));
        else if (!o->quiet) printf("z: one density per rate level (%d), each a copy of the shared one\n", t->st.net.a.L);
    }
    return r;
}

static int init_state(Trainer *t)
{
    const LwcTrainOpts *o = t->o;
    if (o->resume) return resume_state(t);
    LwcTrainState *s = &t->st;
    memset(s, 0, sizeof(*s));
    LWC_FWD(lwc_net_init(&s->net, &o->arch, o->seed));
    s->m = lwc_calloc(s->net.nparams, 4); s->v = lwc_calloc(s->net.nparams, 4);
    s->fm = lwc_calloc(s->net.fact.nparams, 4); s->fv = lwc_calloc(s->net.fact.nparams, 4);
    LWC_RET_IF(!s->m || !s->v || !s->fm || !s->fv, LWC_ERR_NOMEM);
    s->rng = o->seed * 0x9E3779B97F4A7C15ull + 12345;
    if (!o->no_pca_init) LWC_FWD(lwc_net_init_pca(&s->net, &t->ds, o->crop, 64, &s->rng));
    start_schedule(t);
    return LWC_OK;
}

static void log_val(Trainer *t, const ValResult *v)
{
    const double *bpp = v->bpp, *psnr = v->psnr;
    if (!t->o->quiet)
        printf("validation @%ld: loss %.4f | bpp/PSNR %.3f/%.2f  %.3f/%.2f  %.3f/%.2f | lr %.2g\n", t->st.step, v->score,
               bpp[0], psnr[0], bpp[1], psnr[1], bpp[2], psnr[2], t->st.lr);
    if (t->log)
        fprintf(t->log, "val,%ld,%.1f,,,%.5f,%.5f,%.3f,%.5f,%.3f,%.5f,%.3f,%.3g\n", t->st.step, lwc_now() - t->t_start,
                v->score, bpp[0], psnr[0], bpp[1], psnr[1], bpp[2], psnr[2], t->st.lr);
}

/* Validation; under the plateau schedule the learning rate halves after 3
 * evaluations without improvement. */
static int maybe_validate(Trainer *t)
{
    if (!t->ds.nval || t->st.step % t->o->val_every) return LWC_OK;
    ValResult v;
    LWC_FWD(validate(t, &v, NULL));
    if (v.score < t->st.best_val * 0.999) {
        t->st.best_val = v.score;
        t->st.bad_evals = 0;
    } else if (++t->st.bad_evals >= 3 && t->st.sched.kind == LWC_SCHED_PLATEAU) {
        t->st.lr = fmaxf(t->st.lr * 0.5f, 1e-6f);
        t->st.bad_evals = 0;
    }
    log_val(t, &v);
    return LWC_OK;
}

static void progress(Trainer *t, const LwcStepStats *s, int level, double t0, long s0)
{
    const LwcTrainOpts *o = t->o;
    double px = (double)o->crop * o->crop * o->batch, el = lwc_now() - t0;
    double bpp = (s->bits_y + s->bits_z) / px, psnr = 10 * log10(1.0 / fmax(s->mse / o->batch, 1e-12));
    double rate = (t->st.step - s0) * o->batch / fmax(el, 1e-9);
    double eta = (t->end - t->st.step) * o->batch / fmax(rate, 1e-9);
    if (t->log && t->st.step % o->log_every == 0)
        fprintf(t->log, "train,%ld,%.1f,%d,%.5f,%.5f,%.5f,%.3f,,,,,%.3g\n", t->st.step, lwc_now() - t->t_start, level,
                t->st.net.lambda[level], s->loss / o->batch, bpp, psnr, t->st.lr);
    if (o->quiet || t->st.step % o->log_every) return;
    printf("step %ld/%ld level %d loss %.4f bpp %.3f psnr %.2f | %.1f patches/s, ETA %.0f min\n", t->st.step, t->end,
           level, s->loss / o->batch, bpp, psnr, rate, eta / 60);
    fflush(stdout);
}

static int loop(Trainer *t)
{
    const LwcTrainOpts *o = t->o;
    double t0 = lwc_now();
    long s0 = t->st.step;
    t->t_last_ckpt = t0;
    t->end = LWC_MIN(o->steps, lwc_schedule_end(&t->st.sched));
    while (t->st.step < t->end && !g_stop) {
        if (o->time_limit > 0 && lwc_now() - t0 > o->time_limit) break;
        LwcStepStats s;
        int level = 0;
        LWC_FWD(train_step(t, &s, &level));
        t->st.step++;
        progress(t, &s, level, t0, s0);
        LWC_FWD(maybe_validate(t));
        if (lwc_now() - t->t_last_ckpt > o->ckpt_every) {
            LWC_FWD(lwc_ckpt_save(o->ckpt, &t->st));
            if (t->log) fflush(t->log);
            t->t_last_ckpt = lwc_now();
        }
    }
    if (g_stop && !o->quiet) printf("interrupted at step %ld: saving checkpoint\n", t->st.step);
    return lwc_ckpt_save(o->ckpt, &t->st);
}

int lwc_train_run(const LwcTrainOpts *o)
{
    Trainer t;
    memset(&t, 0, sizeof(t));
    t.o = o;
    t.t_start = lwc_now();
    g_stop = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int r = lwc_dataset_load(&t.ds, o->data, o->crop, o->val_split, o->max_images);
    if (r < 0) fprintf(stderr, "lwc train: cannot load training images from '%s': %s\n", o->data, lwc_strerror(r));
    else if (!o->quiet) printf("data: %d training, %d validation images from %s\n", t.ds.ntrain, t.ds.nval, o->data);
    if (r == LWC_OK) {
        t.nval = lwc_dataset_val_count(&t.ds, o->val_crops, LWC_MAX_VAL_CROPS);
        if (!o->quiet && t.nval) printf("validation: %d fixed crops of %dx%d\n", t.nval, o->crop, o->crop);
        r = init_state(&t);
        if (r < 0 && !o->resume) fprintf(stderr, "lwc train: cannot start a new model: %s\n", lwc_strerror(r));
    }
    int reported = r < 0; /* loading and resuming print their own one-line errors */
    if (r == LWC_OK) r = setup_workers(&t);
    if (r == LWC_OK && o->log) {
        int fresh = access(o->log, F_OK) != 0;
        t.log = fopen(o->log, "a");
        if (t.log && fresh) fprintf(t.log, "kind,step,seconds,level,lambda,loss,bpp,psnr,bpp_mid,psnr_mid,bpp_hi,psnr_hi,lr\n");
    }
    if (r == LWC_OK && !o->export_only) r = loop(&t);
    if (r == LWC_OK && o->diagnose) r = diagnose(&t);
    if (r == LWC_OK && o->out) r = export_model(&t);
    if (r < 0 && !reported) fprintf(stderr, "lwc train: %s\n", lwc_strerror(r));
    free_trainer(&t);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return r < 0 ? 1 : 0;
}

/* One crop through the graph, the numbers in full precision (see
 * LwcTrainOpts.parity). The gradient is that of the loss of this crop
 * alone (grad_scale 1), before clipping. */
int lwc_train_parity(const LwcTrainOpts *o)
{
    LwcTrainState st;
    int r = lwc_ckpt_load(o->ckpt, &st);
    if (r < 0) { fprintf(stderr, "lwc train: cannot load '%s': %s\n", o->ckpt, lwc_strerror(r)); return 1; }
    FILE *f = fopen(o->parity, "rb");
    long len = -1;
    if (f && !fseek(f, 0, SEEK_END)) len = ftell(f);
    int size = len > 0 ? (int)floor(sqrt((double)len / 12.0) + 0.5) : 0;
    float *x = NULL, *grad = NULL, *fgrad = NULL;
    LwcGraph *g = NULL;
    if (!f || size < 32 || size % 32 || (long)size * size * 12 != len) {
        fprintf(stderr, "lwc train: '%s' is not a square f32 crop [3][s][s] with s a multiple of 32\n", o->parity);
        r = LWC_ERR_INVAL;
    }
    if (r >= 0) {
        x = lwc_malloc_array((size_t)3 * size * size, 4);
        grad = lwc_calloc(st.net.nparams, 4);
        fgrad = lwc_calloc(st.net.fact.nparams, 4);
        r = x && grad && fgrad ? LWC_OK : LWC_ERR_NOMEM;
    }
    if (r >= 0 && (fseek(f, 0, SEEK_SET) || fread(x, 4, (size_t)3 * size * size, f) != (size_t)3 * size * size))
        r = LWC_ERR_IO;
    if (r >= 0 && (o->parity_level < 0 || o->parity_level >= st.net.a.L)) r = LWC_ERR_INVAL;
    if (r >= 0) r = lwc_graph_create(&g, &st.net, size);
    LwcStepStats s;
    uint64_t rng = o->parity_seed;
    int train = o->parity_seed != 0;
    lwc_gemm_set_threads(1);
    if (r >= 0) r = lwc_graph_run(g, x, o->parity_level, train, &rng, 1.0f, grad, fgrad, NULL, &s);
    if (r >= 0) {
        double gn = 0;
        for (size_t i = 0; i < st.net.nparams; i++) gn += (double)grad[i] * grad[i];
        for (size_t i = 0; i < st.net.fact.nparams; i++) gn += (double)fgrad[i] * fgrad[i];
        printf("parity size %d level %d train %d loss %.17g bits_y %.17g bits_z %.17g mse %.17g grad_norm %.17g\n",
               size, o->parity_level, train, s.loss, s.bits_y, s.bits_z, s.mse, sqrt(gn));
    }
    if (r >= 0 && train && o->parity_grad) {
        FILE *gf = fopen(o->parity_grad, "wb");
        int ok = gf && fwrite(grad, 4, st.net.nparams, gf) == st.net.nparams &&
                 fwrite(fgrad, 4, st.net.fact.nparams, gf) == st.net.fact.nparams;
        if (gf && fclose(gf)) ok = 0;
        if (!ok) r = LWC_ERR_IO;
    }
    if (r < 0) fprintf(stderr, "lwc train: parity: %s\n", lwc_strerror(r));
    if (f) fclose(f);
    lwc_graph_free(&g);
    lwc_free(x); lwc_free(grad); lwc_free(fgrad);
    lwc_train_state_free(&st);
    return r < 0 ? 1 : 0;
}
