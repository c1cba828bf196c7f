/* Checkpoint file: "LWCK" u32 version, arch (i32 x 10), i64 step, i64
 * adam_step, u64 rng, f32 lr, f64 best_val, i32 bad_evals, f32 lambda[16],
 * u64 nparams, params, m, v, u64 fact nparams, fact params, fm, fv.
 * Written to a temporary file and renamed. Native endianness (a checkpoint
 * is a working file, not an interchange format). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "tools/train/trainer.h"

#define CKPT_VERSION 1

static int wr(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }
static int rd(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

int lwc_ckpt_save(const char *path, const LwcTrainState *s)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    LWC_RET_IF(!f, LWC_ERR_IO);
    uint32_t ver = CKPT_VERSION;
    uint64_t np = s->net.nparams, fp = s->net.fact.nparams;
    int e = wr(f, "LWCK", 4) | wr(f, &ver, 4) | wr(f, &s->net.a, sizeof(LwcArch)) | wr(f, &s->step, 8) |
            wr(f, &s->adam_step, 8) | wr(f, &s->rng, 8) | wr(f, &s->lr, 4) | wr(f, &s->best_val, 8) |
            wr(f, &s->bad_evals, 4) | wr(f, s->net.lambda, sizeof(s->net.lambda)) | wr(f, &np, 8) |
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

static int read_body(FILE *f, LwcTrainState *s)
{
    uint64_t np, fp;
    LWC_RET_IF(rd(f, &s->step, 8) || rd(f, &s->adam_step, 8) || rd(f, &s->rng, 8) || rd(f, &s->lr, 4) ||
               rd(f, &s->best_val, 8) || rd(f, &s->bad_evals, 4), LWC_ERR_TRUNCATED);
    float lambda[LWC_MAX_LEVELS];
    LWC_RET_IF(rd(f, lambda, sizeof(lambda)) || rd(f, &np, 8), LWC_ERR_TRUNCATED);
    LWC_RET_IF(np != s->net.nparams, LWC_ERR_CORRUPT);
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
    if (r == LWC_OK && ver != CKPT_VERSION) r = LWC_ERR_VERSION;
    if (r == LWC_OK) r = lwc_net_init(&s->net, &a, 0);
    if (r == LWC_OK) r = read_body(f, s);
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
