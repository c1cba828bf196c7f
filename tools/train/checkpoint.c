/* Checkpoint file: "LWCK" u32 version, arch (i32 x 10), [version 4: i32
 * analysis branch width], i64 step, i64
 * adam_step, u64 rng, f32 lr, f64 best_val, i32 bad_evals, [version 2:
 * schedule: i32 kind, i64 start, i64 warmup, i64 budget, f32 peak, f32
 * floor], f32 lambda[16], u64 nparams, params, m, v, u64 fact nparams, fact
 * params, fm, fv. Version 1 files load with the plateau schedule; files
 * before version 3 lack the hyper-latent gains at the end of params (and
 * of m, v), which load as zero: gain 1, the function of the old model;
 * files before version 4 have no analysis branch. Version 5 adds, after the
 * branch width, i32 z density sets (1: shared, L: one per rate level).
 * Written to a temporary file and renamed. Native endianness (a checkpoint
 * is a working file, not an interchange format). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "tools/train/trainer.h"

#define CKPT_VERSION 5

static int wr(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }
static int rd(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

static int wr_sched(FILE *f, const LwcSchedule *s)
{
    int32_t kind = s->kind;
    int64_t v[3] = { s->start, s->warmup, s->budget };
    return wr(f, &kind, 4) | wr(f, v, sizeof(v)) | wr(f, &s->peak, 4) | wr(f, &s->floor, 4);
}

static int rd_sched(FILE *f, LwcSchedule *s)
{
    int32_t kind;
    int64_t v[3];
    if (rd(f, &kind, 4) || rd(f, v, sizeof(v)) || rd(f, &s->peak, 4) || rd(f, &s->floor, 4)) return LWC_ERR_TRUNCATED;
    if ((kind != LWC_SCHED_PLATEAU && kind != LWC_SCHED_COSINE) || v[1] < 0 || v[2] < v[1]) return LWC_ERR_CORRUPT;
    s->kind = kind;
    s->start = (long)v[0]; s->warmup = (long)v[1]; s->budget = (long)v[2];
    return LWC_OK;
}

int lwc_ckpt_save(const char *path, const LwcTrainState *s)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    LWC_RET_IF(!f, LWC_ERR_IO);
    uint32_t ver = CKPT_VERSION;
    uint64_t np = s->net.nparams, fp = s->net.fact.nparams;
    int32_t ab = s->net.ab, zsets = lwc_net_zdensity_sets(&s->net);
    int e = wr(f, "LWCK", 4) | wr(f, &ver, 4) | wr(f, &s->net.a, sizeof(LwcArch)) | wr(f, &ab, 4) | wr(f, &zsets, 4) |
            wr(f, &s->step, 8) |
            wr(f, &s->adam_step, 8) | wr(f, &s->rng, 8) | wr(f, &s->lr, 4) | wr(f, &s->best_val, 8) |
            wr(f, &s->bad_evals, 4) | wr_sched(f, &s->sched) | wr(f, s->net.lambda, sizeof(s->net.lambda)) | wr(f, &np, 8) |
            wr(f, s->net.params, np * 4) | wr(f, s->m, np * 4) | wr(f, s->v, np * 4) | wr(f, &fp, 8) |
            wr(f, s->net.fact.params, fp * 4) | wr(f, s->fm, fp * 4) | wr(f, s->fv, fp * 4);
    if (fclose(f)) e = -1;
    if (e || rename(tmp, path)) {
        remove(tmp);
        return LWC_ERR_IO;
    }
    return LWC_OK;
}

static int alloc_moments(LwcTrainState *s)
{
    s->m = lwc_calloc(s->net.nparams, 4);
    s->v = lwc_calloc(s->net.nparams, 4);
    s->fm = lwc_calloc(s->net.fact.nparams, 4);
    s->fv = lwc_calloc(s->net.fact.nparams, 4);
    return (s->m && s->v && s->fm && s->fv) ? LWC_OK : LWC_ERR_NOMEM;
}

static int read_body(FILE *f, uint32_t ver, LwcTrainState *s)
{
    uint64_t np, fp;
    LWC_RET_IF(rd(f, &s->step, 8) || rd(f, &s->adam_step, 8) || rd(f, &s->rng, 8) || rd(f, &s->lr, 4) ||
               rd(f, &s->best_val, 8) || rd(f, &s->bad_evals, 4), LWC_ERR_TRUNCATED);
    if (ver >= 2) LWC_FWD(rd_sched(f, &s->sched));
    float lambda[LWC_MAX_LEVELS];
    LWC_RET_IF(rd(f, lambda, sizeof(lambda)) || rd(f, &np, 8), LWC_ERR_TRUNCATED);
    size_t want = ver >= 3 ? s->net.nparams : s->net.zgain_off;
    LWC_RET_IF(np != want, LWC_ERR_CORRUPT);
    memcpy(s->net.lambda, lambda, sizeof(lambda));
    LWC_FWD(alloc_moments(s));
    LWC_RET_IF(rd(f, s->net.params, np * 4) || rd(f, s->m, np * 4) || rd(f, s->v, np * 4), LWC_ERR_TRUNCATED);
    LWC_RET_IF(rd(f, &fp, 8), LWC_ERR_TRUNCATED);
    LWC_RET_IF(fp != s->net.fact.nparams, LWC_ERR_CORRUPT);
    LWC_RET_IF(rd(f, s->net.fact.params, fp * 4) || rd(f, s->fm, fp * 4) || rd(f, s->fv, fp * 4), LWC_ERR_TRUNCATED);
    return LWC_OK;
}

int lwc_ckpt_load(const char *path, LwcTrainState *s)
{
    memset(s, 0, sizeof(*s));
    FILE *f = fopen(path, "rb");
    LWC_RET_IF(!f, LWC_ERR_IO);
    char magic[4];
    uint32_t ver;
    LwcArch a;
    int r = (rd(f, magic, 4) || rd(f, &ver, 4) || rd(f, &a, sizeof(a))) ? LWC_ERR_TRUNCATED : LWC_OK;
    if (r == LWC_OK && memcmp(magic, "LWCK", 4)) r = LWC_ERR_MAGIC;
    if (r == LWC_OK && (ver < 1 || ver > CKPT_VERSION)) r = LWC_ERR_VERSION;
    int32_t ab = 0;
    if (r == LWC_OK && ver >= 4 && rd(f, &ab, 4)) r = LWC_ERR_TRUNCATED;
    if (r == LWC_OK && (ab < 0 || ab > 4096)) r = LWC_ERR_CORRUPT;
    int32_t zsets = 1;
    if (r == LWC_OK && ver >= 5 && rd(f, &zsets, 4)) r = LWC_ERR_TRUNCATED;
    if (r == LWC_OK && zsets != 1 && zsets != a.L) r = LWC_ERR_CORRUPT;
    if (r == LWC_OK) r = lwc_net_init_ab(&s->net, &a, ab, 0);
    if (r == LWC_OK && zsets > 1) r = lwc_net_split_zdensity(&s->net, NULL, NULL);
    if (r == LWC_OK) r = read_body(f, ver, s);
    fclose(f);
    if (r < 0) lwc_train_state_free(s);
    return r;
}

void lwc_train_state_free(LwcTrainState *s)
{
    lwc_net_free(&s->net);
    lwc_free(s->m); lwc_free(s->v); lwc_free(s->fm); lwc_free(s->fv);
    memset(s, 0, sizeof(*s));
}

/* New log-gain of level l (of L + k) from the old vector g of L levels. */
static float extend(const float *g, int M, int c, int l, int k)
{
    if (l >= k) return g[(size_t)(l - k) * M + c];
    return g[c] - (float)(k - l) * (g[(size_t)M + c] - g[c]);
}

/* The per-level vectors ([L][width] at these offsets): y's gains, then z's. */
static void move_gains(const LwcNet *o, LwcNet *n, const float *src, float *dst, int k, int extrapolate)
{
    int L = n->a.L;
    size_t so[4] = { o->gain_off, o->igain_off, o->zgain_off, o->zigain_off };
    size_t dof[4] = { n->gain_off, n->igain_off, n->zgain_off, n->zigain_off };
    for (int v = 0; v < 4; v++) {
        int M = v < 2 ? o->a.M : o->a.Nz;
        for (int l = 0; l < L; l++)
            for (int c = 0; c < M; c++)
                dst[dof[v] + (size_t)l * M + c] = extrapolate ? extend(src + so[v], M, c, l, k)
                                                              : l >= k ? src[so[v] + (size_t)(l - k) * M + c] : 0.0f;
    }
}

/* Zeroed Adam moments for a new net n; on failure n is freed. */
static int new_moments(LwcNet *n, float **m, float **v)
{
    *m = lwc_calloc(n->nparams, 4);
    *v = lwc_calloc(n->nparams, 4);
    if (*m && *v) return LWC_OK;
    lwc_free(*m); lwc_free(*v);
    lwc_net_free(n);
    return LWC_ERR_NOMEM;
}

/* s takes the grown net n and its moments; the factorized density, which
 * no growth changes, stays s's own. */
static void adopt(LwcTrainState *s, LwcNet *n, float *m, float *v)
{
    LwcFactorized keep = s->net.fact;
    s->net.fact = n->fact;
    n->fact = keep;
    lwc_net_free(&s->net);
    lwc_free(s->m); lwc_free(s->v);
    s->net = *n;
    s->m = m;
    s->v = v;
}

int lwc_train_add_levels(LwcTrainState *s, int k)
{
    const LwcArch *a = &s->net.a;
    LWC_RET_IF(k < 1 || a->L < 2 || a->L + k > LWC_MAX_LEVELS, LWC_ERR_INVAL);
    LWC_RET_IF(lwc_net_zdensity_sets(&s->net) > 1, LWC_ERR_INVAL); /* its densities would not follow */
    LwcArch na = *a;
    na.L += k;
    LwcNet n;
    LWC_FWD(lwc_net_init_ab(&n, &na, s->net.ab, 0));
    float *m, *v;
    LWC_FWD(new_moments(&n, &m, &v));
    size_t head = s->net.gain_off; /* every layer: the same offsets at any L */
    memcpy(n.params, s->net.params, head * 4);
    memcpy(m, s->m, head * 4);
    memcpy(v, s->v, head * 4);
    move_gains(&s->net, &n, s->net.params, n.params, k, 1);
    move_gains(&s->net, &n, s->m, m, k, 0);
    move_gains(&s->net, &n, s->v, v, k, 0);
    if (s->net.ab > 0) { /* the analysis branch: after the gains, so it moves with them */
        size_t so = s->net.gab1.w_off, dn = n.gab1.w_off, cnt = s->net.nparams - so;
        memcpy(n.params + dn, s->net.params + so, cnt * 4);
        memcpy(m + dn, s->m + so, cnt * 4);
        memcpy(v + dn, s->v + so, cnt * 4);
    }
    const float *ol = s->net.lambda;
    for (int l = 0; l < na.L; l++)
        n.lambda[l] = l >= k ? ol[l - k] : ol[0] * powf(ol[0] / ol[1], (float)(k - l));
    adopt(s, &n, m, v); /* the factorized density does not depend on the level */
    return LWC_OK;
}

int lwc_train_grow_analysis(LwcTrainState *s, int width, uint64_t seed)
{
    LWC_RET_IF(width < 1 || width > 4096 || s->net.ab, LWC_ERR_INVAL);
    LwcNet n;
    LWC_FWD(lwc_net_init_ab(&n, &s->net.a, width, seed));
    float *m, *v;
    LWC_FWD(new_moments(&n, &m, &v));
    size_t keep = s->net.nparams; /* the branch comes after every old parameter */
    memcpy(n.params, s->net.params, keep * 4);
    memcpy(m, s->m, keep * 4);
    memcpy(v, s->v, keep * 4);
    memcpy(n.lambda, s->net.lambda, sizeof(n.lambda));
    adopt(s, &n, m, v);
    return LWC_OK;
}
