/* .lwcm model files: parsing with bounds checks, validation, writing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "entropy/intwino.h"
#include "layer_table.h"
#include "model.h"
#include "transforms/winograd.h"

#define MAX_TENSORS 4096

typedef struct Entry {
    const char *name;
    int name_len, dtype, ndim;
    uint32_t dims[4];
    const uint8_t *data;
    size_t count;
} Entry;

typedef struct Parser {
    const Entry *e;
    int n;
    LwcModel *m;
} Parser;

const uint8_t lwc_model_dtype_size[5] = { 4, 2, 4, 4, 1 };

uint64_t lwc_fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static int parse_entries(const uint8_t *buf, size_t size, Entry *e, int *count)
{
    LWC_RET_IF(size < 12, LWC_ERR_TRUNCATED);
    LWC_RET_IF(memcmp(buf, "LWCM", 4), LWC_ERR_MAGIC);
    LWC_RET_IF(lwc_rd32(buf + 4) < 1 || lwc_rd32(buf + 4) > LWC_MODEL_VERSION_MAX, LWC_ERR_VERSION);
    uint32_t n = lwc_rd32(buf + 8);
    LWC_RET_IF(n > MAX_TENSORS, LWC_ERR_CORRUPT);
    size_t pos = 12;
    for (uint32_t t = 0; t < n; t++) {
        LWC_RET_IF(size - pos < 2, LWC_ERR_TRUNCATED);
        int nl = buf[pos] | buf[pos + 1] << 8;
        pos += 2;
        LWC_RET_IF(size - pos < (size_t)nl + 2, LWC_ERR_TRUNCATED);
        e[t].name = (const char *)buf + pos;
        e[t].name_len = nl;
        pos += nl;
        e[t].dtype = buf[pos++];
        e[t].ndim = buf[pos++];
        LWC_RET_IF(e[t].dtype > LWC_DT_U8 || e[t].ndim < 1 || e[t].ndim > 4, LWC_ERR_CORRUPT);
        LWC_RET_IF(size - pos < (size_t)4 * e[t].ndim, LWC_ERR_TRUNCATED);
        size_t cnt = 1;
        for (int d = 0; d < e[t].ndim; d++, pos += 4) {
            e[t].dims[d] = lwc_rd32(buf + pos);
            LWC_RET_IF(lwc_mul_size(cnt, e[t].dims[d], &cnt), LWC_ERR_CORRUPT);
        }
        size_t bytes;
        LWC_RET_IF(lwc_mul_size(cnt, lwc_model_dtype_size[e[t].dtype], &bytes), LWC_ERR_CORRUPT);
        LWC_RET_IF(size - pos < bytes, LWC_ERR_TRUNCATED);
        e[t].data = buf + pos;
        e[t].count = cnt;
        pos += bytes;
    }
    LWC_RET_IF(pos != size, LWC_ERR_CORRUPT);
    *count = (int)n;
    return LWC_OK;
}

static int track(LwcModel *m, void *p)
{
    if (m->nallocs == m->cap_allocs) {
        int nc = m->cap_allocs ? 2 * m->cap_allocs : 64;
        void **na = lwc_malloc_array((size_t)nc, sizeof(*na));
        if (!na) return LWC_ERR_NOMEM;
        if (m->nallocs) memcpy(na, m->allocs, (size_t)m->nallocs * sizeof(*na));
        lwc_free(m->allocs);
        m->allocs = na;
        m->cap_allocs = nc;
    }
    m->allocs[m->nallocs++] = p;
    return LWC_OK;
}

/* n elements of size bytes owned by the model (freed with it), or NULL. */
static void *alloc_tracked(LwcModel *m, size_t n, size_t size)
{
    void *p = lwc_malloc_array(n, size);
    if (p && track(m, p)) {
        lwc_free(p);
        p = NULL;
    }
    return p;
}

/* Copy tensor `name` of the given type and element count into *out. */
static const Entry *find_entry(const Parser *ps, const char *name)
{
    size_t nl = strlen(name);
    for (int i = 0; i < ps->n; i++)
        if ((size_t)ps->e[i].name_len == nl && !memcmp(ps->e[i].name, name, nl)) return &ps->e[i];
    return NULL;
}

static int get(Parser *ps, const char *name, int dtype, size_t count, void **out)
{
    const Entry *e = find_entry(ps, name);
    LWC_RET_IF(!e || e->dtype != dtype || e->count != count, LWC_ERR_CORRUPT);
    void *p = alloc_tracked(ps->m, count, lwc_model_dtype_size[dtype]);
    LWC_RET_IF(!p, LWC_ERR_NOMEM);
    memcpy(p, e->data, count * lwc_model_dtype_size[dtype]); /* file is little-endian, as is every target */
    *out = p;
    return LWC_OK;
}

static int get_fconv(Parser *ps, const char *name, LwcFloatConv *c, int cin, int cout, int k,
                     int stride, int has_bias)
{
    char nm[64];
    c->cin = cin; c->cout = cout; c->k = k; c->stride = stride;
    snprintf(nm, sizeof(nm), "%.40s.w", name);
    LWC_FWD(get(ps, nm, LWC_DT_F32, (size_t)cin * cout * k * k, (void **)&c->w));
    c->b = NULL;
    if (!has_bias) return LWC_OK;
    snprintf(nm, sizeof(nm), "%.40s.b", name);
    return get(ps, nm, LWC_DT_F32, (size_t)cout, (void **)&c->b);
}

/* The decoder's 3x3 stride-1 layers also keep their Winograd weights. */
static int add_winograd(LwcModel *m, LwcFloatConv *c)
{
    c->wu = alloc_tracked(m, lwc_wino_weight_floats(c->cin, c->cout), sizeof(float));
    LWC_RET_IF(!c->wu, LWC_ERR_NOMEM);
    lwc_wino_weights(c->w, c->cin, c->cout, c->wu);
    return LWC_OK;
}

static int get_iconv(Parser *ps, const char *name, LwcIntConv *c, int cin, int cout, int k)
{
    char nm[64];
    int32_t *clamp;
    c->cin = cin; c->cout = cout; c->k = k;
    snprintf(nm, sizeof(nm), "%.40s.w", name);
    LWC_FWD(get(ps, nm, LWC_DT_I16, (size_t)cin * cout * k * k, (void **)&c->w));
    snprintf(nm, sizeof(nm), "%.40s.bias", name);
    LWC_FWD(get(ps, nm, LWC_DT_I32, (size_t)cout, (void **)&c->bias));
    snprintf(nm, sizeof(nm), "%.40s.mult", name);
    LWC_FWD(get(ps, nm, LWC_DT_I32, (size_t)cout, (void **)&c->mult));
    snprintf(nm, sizeof(nm), "%.40s.shift", name);
    LWC_FWD(get(ps, nm, LWC_DT_U8, (size_t)cout, (void **)&c->shift));
    snprintf(nm, sizeof(nm), "%.40s.clamp", name);
    LWC_FWD(get(ps, nm, LWC_DT_I32, 2, (void **)&clamp));
    c->lo = clamp[0]; c->hi = clamp[1];
    LWC_RET_IF(c->lo > c->hi || c->lo < -32768 || c->hi > 32767, LWC_ERR_CORRUPT);
    for (int o = 0; o < cout; o++) LWC_RET_IF(c->shift[o] < 1 || c->shift[o] > 62, LWC_ERR_CORRUPT);
    return LWC_OK;
}

/* Guides for the tables of a set that codes many symbols (cdf.h). */
static int add_guides(LwcModel *m, LwcCdfSet *s)
{
    s->guides = alloc_tracked(m, (size_t)s->count * (LWC_CDF_GUIDE + 1), sizeof(*s->guides));
    LWC_RET_IF(!s->guides, LWC_ERR_NOMEM);
    for (int t = 0; t < s->count; t++)
        lwc_cdf_guide_build(s->data + s->starts[t], (int)s->sizes[t], s->guides + (size_t)t * (LWC_CDF_GUIDE + 1));
    return LWC_OK;
}

/* The scale index of every int16 value: the first threshold >= v (binary
 * search order), capped at the last level. */
static int add_scale_lut(LwcModel *m)
{
    m->scale_lut = alloc_tracked(m, 65536, 1);
    LWC_RET_IF(!m->scale_lut, LWC_ERR_NOMEM);
    int k = 0;
    for (int v = -32768; v <= 32767; v++) {
        while (k < LWC_NUM_SCALES - 1 && m->scale_thr[k] < v) k++;
        m->scale_lut[v + 32768] = (uint8_t)k;
    }
    return LWC_OK;
}

/* A table set is valid when every cdf is strictly increasing from 0 to 1<<16. */
static int get_cdfs(Parser *ps, const char *name, LwcCdfSet *s, int count)
{
    char nm[64];
    s->count = count;
    snprintf(nm, sizeof(nm), "%s.starts", name);
    LWC_FWD(get(ps, nm, LWC_DT_U32, (size_t)count, (void **)&s->starts));
    snprintf(nm, sizeof(nm), "%s.sizes", name);
    LWC_FWD(get(ps, nm, LWC_DT_U32, (size_t)count, (void **)&s->sizes));
    snprintf(nm, sizeof(nm), "%s.offsets", name);
    LWC_FWD(get(ps, nm, LWC_DT_I32, (size_t)count, (void **)&s->offsets));
    snprintf(nm, sizeof(nm), "%s.data", name);
    const Entry *de = NULL;
    for (int i = 0; i < ps->n; i++)
        if ((size_t)ps->e[i].name_len == strlen(nm) && !memcmp(ps->e[i].name, nm, strlen(nm))) de = &ps->e[i];
    LWC_RET_IF(!de || de->count > (1u << 24), LWC_ERR_CORRUPT);
    s->data_len = (uint32_t)de->count;
    LWC_FWD(get(ps, nm, LWC_DT_U32, de->count, (void **)&s->data));
    for (int t = 0; t < count; t++) {
        uint32_t n = s->sizes[t], st = s->starts[t];
        LWC_RET_IF(n < 2 || n > 65535 || st > s->data_len || s->data_len - st < n + 1, LWC_ERR_CORRUPT);
        /* the covered range [-offset, n-2-offset] need not contain 0 (a density
         * can sit away from zero); it only has to stay far inside int32 */
        LWC_RET_IF(s->offsets[t] < -(1 << 30) || s->offsets[t] > (1 << 30), LWC_ERR_CORRUPT);
        const uint32_t *c = s->data + st;
        LWC_RET_IF(c[0] != 0 || c[n] != 65536, LWC_ERR_CORRUPT);
        for (uint32_t i = 0; i < n; i++) LWC_RET_IF(c[i + 1] <= c[i], LWC_ERR_CORRUPT);
    }
    return LWC_OK;
}

static int check_arch(const LwcArch *a)
{
    const int32_t *v = &a->M;
    for (int i = 0; i < LWC_ARCH_FIELDS; i++) LWC_RET_IF(v[i] < 1 || v[i] > 1024, LWC_ERR_CORRUPT);
    LWC_RET_IF(a->S > LWC_MAX_SLICES || a->M % a->S, LWC_ERR_CORRUPT);
    LWC_RET_IF(a->B > LWC_MAX_RB || a->L > LWC_MAX_LEVELS || a->D > LWC_WPT_CHANNELS, LWC_ERR_CORRUPT);
    return LWC_OK;
}

/* Version 2, optional: the width of the analysis branch, from ga_b1.w. */
static int branch_width(Parser *ps)
{
    const Entry *e = ps->m->version >= 2 ? find_entry(ps, "ga_b1.w") : NULL;
    if (!e) return 0;
    LWC_RET_IF(e->ndim != 4 || e->dims[0] < 1 || e->dims[0] > 4096, LWC_ERR_CORRUPT);
    return (int)e->dims[0];
}

/* Every layer of the table, shapes checked against the file. */
static int load_layers(Parser *ps)
{
    LwcModel *m = ps->m;
    LwcLayerSpec t[LWC_MAX_LAYERS];
    int n = lwc_layer_table(&m->a, m->ab, t);
    for (int i = 0; i < n; i++) {
        const LwcLayerSpec *l = &t[i];
        if (l->integer) {
            LWC_FWD(get_iconv(ps, l->name, lwc_model_int_layer(m, l), l->cin, l->cout, l->k));
            continue;
        }
        LwcFloatConv *c = lwc_model_float_layer(m, l);
        LWC_FWD(get_fconv(ps, l->name, c, l->cin, l->cout, l->k, l->stride, l->bias));
        /* a version-4 model decodes with its integer synthesis: no Winograd copy */
        if (l->winograd && m->version < 4) LWC_FWD(add_winograd(m, c));
    }
    return LWC_OK;
}

/* Version 2: z's gains, positive and finite; inverse gains 1/4096 .. 4096. */
static int load_zgains(Parser *ps)
{
    LwcModel *m = ps->m;
    size_t n = (size_t)m->a.L * m->a.Nz;
    LWC_FWD(get(ps, "zgain", LWC_DT_F32, n, (void **)&m->zgain));
    LWC_FWD(get(ps, "zigain", LWC_DT_I32, n, (void **)&m->zigain));
    for (size_t i = 0; i < n; i++) {
        LWC_RET_IF(!(m->zgain[i] > 0 && m->zgain[i] < 1e6f), LWC_ERR_CORRUPT);
        LWC_RET_IF(m->zigain[i] < (LWC_ZIGAIN_ONE >> 12) || m->zigain[i] > (LWC_ZIGAIN_ONE << 12), LWC_ERR_CORRUPT);
    }
    return LWC_OK;
}

/* Every output channel's accumulator provably fits int32 for inputs in
 * [-LWC_SYN_ACT, LWC_SYN_ACT]: sum |w| * LWC_SYN_ACT + |bias| < 2^31. */
static int syn_layer_fits(const LwcIntConv *l) { return lwc_intconv_max_acc(l, LWC_SYN_ACT) <= INT32_MAX; }

/* A 3x3 synthesis layer runs as an exact integer Winograd F(2x2, 3x3) when
 * its every channel has sum |w| * LWC_SYN_ACT + |bias| < 2^29 (the
 * exporter's bound, LWC_INTWINO_ACC_BOUND); otherwise it stays direct. */
static int add_int_winograd(LwcModel *m, LwcIntConv *l)
{
    l->wu = NULL;
    if (!lwc_intwino_eligible(l, LWC_SYN_ACT)) return LWC_OK;
    int16_t *wu = alloc_tracked(m, lwc_intwino_weight_count(l), sizeof(int16_t));
    LWC_RET_IF(!wu, LWC_ERR_NOMEM);
    lwc_intwino_weights(l, wu);
    l->wu = wu;
    return LWC_OK;
}

/* Version 4: the integer synthesis. Malformed tensors are LWC_ERR_CORRUPT;
 * weights whose accumulator could overflow are LWC_ERR_MODEL (a model this
 * decoder refuses to run, though well-formed). */
static int load_int_synthesis(Parser *ps)
{
    LwcModel *m = ps->m;
    const LwcArch *a = &m->a;
    char nm[32];
    size_t lm = (size_t)a->L * a->M;
    LWC_FWD(get(ps, "syn.igain", LWC_DT_I32, lm, (void **)&m->syn_igain));
    for (size_t i = 0; i < lm; i++) LWC_RET_IF(m->syn_igain[i] < 0 || m->syn_igain[i] > LWC_SYN_IGAIN_MAX, LWC_ERR_CORRUPT);
    LWC_FWD(get(ps, "syn.oscale", LWC_DT_F32, LWC_WPT_CHANNELS, (void **)&m->syn_oscale));
    for (int c = 0; c < LWC_WPT_CHANNELS; c++)
        LWC_RET_IF(!(m->syn_oscale[c] > 0 && m->syn_oscale[c] < 1e6f), LWC_ERR_CORRUPT);
    LWC_FWD(get_iconv(ps, "syn_in", &m->syn_in, a->M, a->D, 3));
    for (int i = 0; i < 2 * a->B; i++) {
        snprintf(nm, sizeof(nm), "syn_rb%d", i);
        LWC_FWD(get_iconv(ps, nm, &m->syn_rb[i], a->D, a->D, 3));
    }
    LWC_FWD(get_iconv(ps, "syn_out", &m->syn_out, a->D + a->M, LWC_WPT_CHANNELS, 1));
    /* activations stay within +-LWC_SYN_ACT, so the bound below holds */
    LWC_RET_IF(m->syn_in.lo < 0 || m->syn_in.hi > LWC_SYN_ACT, LWC_ERR_CORRUPT);
    for (int i = 0; i < 2 * a->B; i++)
        LWC_RET_IF(m->syn_rb[i].lo < -LWC_SYN_ACT || m->syn_rb[i].hi > LWC_SYN_ACT, LWC_ERR_CORRUPT);
    LWC_RET_IF(!syn_layer_fits(&m->syn_in) || !syn_layer_fits(&m->syn_out), LWC_ERR_MODEL);
    for (int i = 0; i < 2 * a->B; i++) LWC_RET_IF(!syn_layer_fits(&m->syn_rb[i]), LWC_ERR_MODEL);
    LWC_FWD(add_int_winograd(m, &m->syn_in));
    for (int i = 0; i < 2 * a->B; i++) LWC_FWD(add_int_winograd(m, &m->syn_rb[i]));
    m->int_synthesis = 1;
    return LWC_OK;
}

/* Versions 1, 2: Nz tables (one density); 3: L * Nz (one per level);
 * 4: either; 8: the sets of "zctx.ref", times the classes. */
static int fact_count(Parser *ps)
{
    const LwcModel *m = ps->m;
    const LwcArch *a = &m->a;
    if (m->version < 3) return a->Nz;
    if (m->version == 3) return a->L * a->Nz;
    if (m->version >= 8) return m->zsets * m->zclasses * a->Nz;
    const Entry *e = find_entry(ps, "fact.starts");
    return e && e->count == (size_t)a->Nz ? a->Nz : a->L * a->Nz;
}

/* Version 8: z's context classes and reference values (zctx.h). */
static int load_zctx(Parser *ps)
{
    LwcModel *m = ps->m;
    int32_t *k;
    LWC_FWD(get(ps, "zctx.classes", LWC_DT_I32, 1, (void **)&k));
    LWC_RET_IF(*k < 2 || *k > LWC_ZCTX_CLASSES_MAX, LWC_ERR_CORRUPT);
    const Entry *e = find_entry(ps, "zctx.ref");
    size_t nz = (size_t)m->a.Nz;
    LWC_RET_IF(!e || (e->count != nz && e->count != (size_t)m->a.L * nz), LWC_ERR_CORRUPT);
    int32_t *ref;
    LWC_FWD(get(ps, "zctx.ref", LWC_DT_I32, e->count, (void **)&ref));
    for (size_t i = 0; i < e->count; i++) LWC_RET_IF(ref[i] < -LWC_ZCTX_REF_MAX || ref[i] > LWC_ZCTX_REF_MAX, LWC_ERR_CORRUPT);
    m->zclasses = *k;
    m->zsets = (int)(e->count / nz);
    m->zref = ref;
    return LWC_OK;
}

/* Before version 5: one set of y tables; 5: one or one per level; 6: one
 * per parity and context class. */
static int gauss_count(Parser *ps)
{
    if (ps->m->version >= 6) return 2 * lwc_yctx_classes(&ps->m->yctx) * LWC_NUM_SCALES;
    const Entry *e = ps->m->version >= 5 ? find_entry(ps, "gauss.starts") : NULL;
    return e && e->count == (size_t)ps->m->a.L * LWC_NUM_SCALES ? ps->m->a.L * LWC_NUM_SCALES : LWC_NUM_SCALES;
}

/* Version 6: the context classes' edges (yctx.h). */
static int load_yctx(Parser *ps)
{
    const Entry *e = find_entry(ps, "yctx.edges");
    LWC_RET_IF(!e || e->dtype != LWC_DT_I32 || e->count < 1 || e->count > LWC_YCTX_EDGES_MAX, LWC_ERR_CORRUPT);
    LwcYCtx *y = &ps->m->yctx;
    y->edges = (int)e->count;
    memcpy(y->edge, e->data, e->count * sizeof(int32_t));
    return lwc_yctx_prepare(y) == LWC_OK ? LWC_OK : LWC_ERR_CORRUPT;
}

static int load_all(Parser *ps)
{
    LwcModel *m = ps->m;
    int32_t *arch;
    LWC_FWD(get(ps, "arch", LWC_DT_I32, LWC_ARCH_FIELDS, (void **)&arch));
    memcpy(&m->a, arch, sizeof(m->a));
    LWC_FWD(check_arch(&m->a));
    const LwcArch *a = &m->a;
    int ab = branch_width(ps);
    LWC_FWD(ab);
    m->ab = ab;
    LWC_FWD(load_layers(ps));
    LWC_FWD(get(ps, "gain", LWC_DT_F32, (size_t)a->L * a->M, (void **)&m->gain));
    LWC_FWD(get(ps, "igain", LWC_DT_F32, (size_t)a->L * a->M, (void **)&m->igain));
    LWC_FWD(get(ps, "lambda", LWC_DT_F32, (size_t)a->L, (void **)&m->lambda));
    if (m->version >= 2) LWC_FWD(load_zgains(ps));
    int32_t *thr;
    LWC_FWD(get(ps, "scale_thr", LWC_DT_I32, LWC_NUM_SCALES, (void **)&thr));
    memcpy(m->scale_thr, thr, sizeof(m->scale_thr));
    /* sorted: the scale index is the first threshold >= the prediction */
    for (int i = 1; i < LWC_NUM_SCALES; i++) LWC_RET_IF(thr[i] < thr[i - 1], LWC_ERR_CORRUPT);
    LWC_FWD(add_scale_lut(m));
    if (m->version >= 6) LWC_FWD(load_yctx(ps));
    if (m->version >= 7) {
        int16_t *w;
        LWC_FWD(get(ps, "ypred.w", LWC_DT_I16, (size_t)a->M * 2 * LWC_YPRED_TAPS, (void **)&w));
        m->ypred = w;
    }
    LWC_FWD(get_cdfs(ps, "gauss", &m->gauss, gauss_count(ps)));
    LWC_FWD(add_guides(m, &m->gauss));
    m->zclasses = 1;
    if (m->version >= 8) LWC_FWD(load_zctx(ps));
    LWC_FWD(get_cdfs(ps, "fact", &m->fact, fact_count(ps)));
    return m->version >= 4 ? load_int_synthesis(ps) : LWC_OK;
}

int lwc_model_load(LwcModel **out, const uint8_t *buf, size_t size)
{
    LWC_RET_IF(!out || !buf, LWC_ERR_INVAL);
    *out = NULL;
    Entry *e = lwc_malloc_array(MAX_TENSORS, sizeof(*e));
    LwcModel *m = lwc_calloc(1, sizeof(*m));
    int r = (!e || !m) ? LWC_ERR_NOMEM : LWC_OK;
    Parser ps = { e, 0, m };
    if (r == LWC_OK) r = parse_entries(buf, size, e, &ps.n);
    if (r == LWC_OK) m->version = lwc_rd32(buf + 4);
    if (r == LWC_OK) r = load_all(&ps);
    lwc_free(e);
    if (r < 0) {
        lwc_model_free(&m);
        return r;
    }
    m->id = lwc_fnv1a64(buf, size);
    *out = m;
    return LWC_OK;
}

int lwc_model_load_file(LwcModel **out, const char *path)
{
    LWC_RET_IF(!out || !path, LWC_ERR_INVAL);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    LWC_RET_IF(!f, LWC_ERR_IO);
    uint8_t *buf = NULL;
    long len = -1;
    if (!fseek(f, 0, SEEK_END)) len = ftell(f);
    int r = (len < 0 || fseek(f, 0, SEEK_SET)) ? LWC_ERR_IO : LWC_OK;
    if (r == LWC_OK && len > (1l << 30)) r = LWC_ERR_TOO_BIG;
    if (r == LWC_OK && !(buf = lwc_malloc((size_t)len))) r = LWC_ERR_NOMEM;
    if (r == LWC_OK && fread(buf, 1, (size_t)len, f) != (size_t)len) r = LWC_ERR_IO;
    fclose(f);
    if (r == LWC_OK) r = lwc_model_load(out, buf, (size_t)len);
    lwc_free(buf);
    return r;
}

void lwc_model_free(LwcModel **pm)
{
    if (!pm || !*pm) return;
    LwcModel *m = *pm;
    for (int i = 0; i < m->nallocs; i++) lwc_free(m->allocs[i]);
    lwc_free(m->allocs);
    lwc_free(m);
    *pm = NULL;
}

uint64_t lwc_model_id(const LwcModel *m) { return m ? m->id : 0; }

void lwc_model_level_pos(const LwcModel *m, double quality, int *l0, int *l1, double *f)
{
    int L = m->a.L;
    double t = LWC_CLAMP(quality, 0.0, 100.0) / 100.0 * (L - 1);
    int l = (int)t;
    if (l >= L - 1) l = L > 1 ? L - 2 : 0;
    *l0 = l;
    *l1 = L > 1 ? l + 1 : 0;
    *f = L > 1 ? t - l : 0.0;
}

void lwc_model_gains(const LwcModel *m, double quality, float *gain, float *igain)
{
    int M = m->a.M, l, l1;
    double f;
    lwc_model_level_pos(m, quality, &l, &l1, &f);
    for (int c = 0; c < M; c++) {
        double g0 = fabs(m->gain[l * M + c]) + 1e-12, g1 = fabs(m->gain[l1 * M + c]) + 1e-12;
        double i0 = fabs(m->igain[l * M + c]) + 1e-12, i1 = fabs(m->igain[l1 * M + c]) + 1e-12;
        gain[c] = (float)(pow(g0, 1 - f) * pow(g1, f));
        igain[c] = (float)(pow(i0, 1 - f) * pow(i1, f));
    }
}

/* The rate level nearest to a quality. */
static int nearest_level(const LwcModel *m, int quality_x100)
{
    int64_t q = LWC_CLAMP(quality_x100, 0, 10000);
    return (int)((q * (m->a.L - 1) + 5000) / 10000);
}

int lwc_model_ztable(const LwcModel *m, int quality_x100)
{
    int per_set = m->zclasses * m->a.Nz;
    return m->fact.count == per_set ? 0 : nearest_level(m, quality_x100) * per_set;
}

const int32_t *lwc_model_zref(const LwcModel *m, int quality_x100)
{
    if (!m->zref) return NULL;
    return m->zsets == 1 ? m->zref : m->zref + (size_t)nearest_level(m, quality_x100) * m->a.Nz;
}

int lwc_model_zsym_table(const LwcModel *m, int t0, const int32_t *ref, const int32_t *plane, int hz, int wz, int c,
                         int i, int j)
{
    if (!ref) return t0 + c;
    return t0 + lwc_zctx_class(plane, hz, wz, i, j, ref[c], m->zclasses) * m->a.Nz + c;
}

int lwc_model_ytable(const LwcModel *m, int quality_x100)
{
    return m->gauss.count == LWC_NUM_SCALES || m->yctx.edges ? 0 : nearest_level(m, quality_x100) * LWC_NUM_SCALES;
}

/* The two rate levels around quality_x100, l and l + 1 (l when L = 1), and
 * the weight f / 10000 of the upper one, in integers. */
static void level_frac(int L, int quality_x100, int64_t *l, int64_t *f)
{
    int64_t q = LWC_CLAMP(quality_x100, 0, 10000), t = q * (L - 1);
    *l = t / 10000;
    *f = t % 10000;
    if (L == 1) *l = 0, *f = 0;
    else if (*l >= L - 1) *l = L - 2, *f = 10000;
}

/* Row interpolation of a Q16 table [L][n] at quality_x100 in exact integer
 * arithmetic: levels l and l + 1 weighted 10000 - f and f. */
static void interp_q16(const int32_t *tab, int L, int n, int quality_x100, int32_t *out)
{
    int64_t l, f;
    level_frac(L, quality_x100, &l, &f);
    for (int c = 0; c < n; c++) {
        int64_t a = tab[l * n + c], b = L > 1 ? tab[(l + 1) * n + c] : a;
        out[c] = (int32_t)((a * (10000 - f) + b * f + 5000) / 10000);
    }
}

void lwc_model_zigains_q(const LwcModel *m, int quality_x100, int32_t *zi)
{
    if (m->zigain) {
        interp_q16(m->zigain, m->a.L, m->a.Nz, quality_x100, zi);
        return;
    }
    for (int c = 0; c < m->a.Nz; c++) zi[c] = LWC_ZIGAIN_ONE;
}

/* log2(x) in Q24 for x >= 1, by repeated squaring of the mantissa (Q30):
 * integer operations only, so the same everywhere. */
static int64_t log2_q24(uint32_t x)
{
    int e = 31;
    while (!(x >> e)) e--;
    int64_t r = (int64_t)e << 24;
    uint64_t m = e <= 30 ? (uint64_t)x << (30 - e) : (uint64_t)x >> (e - 30); /* [2^30, 2^31) */
    for (int i = 23; i >= 0; i--) {
        m = (m * m) >> 30;
        if (m >= (2ull << 30)) { m >>= 1; r += (int64_t)1 << i; }
    }
    return r;
}

/* round(x * 2^(y / 2^24)) for 0 <= x < 2^31, bit by bit: 2^(2^-j) in Q30. */
static int64_t mul_exp2_q24(int64_t x, int64_t y)
{
    static const uint32_t k_root[24] = {
        1518500250, 1276901417, 1170923762, 1121280436, 1097253708, 1085434106, 1079572136, 1076653033,
        1075196443, 1074468888, 1074105294, 1073923544, 1073832680, 1073787251, 1073764537, 1073753181,
        1073747502, 1073744663, 1073743244, 1073742534, 1073742179, 1073742001, 1073741913, 1073741868 };
    int64_t k = y >= 0 ? y >> 24 : -((-y + (1 << 24) - 1) >> 24); /* floor(y / 2^24) */
    uint32_t fr = (uint32_t)(y - k * (1 << 24));
    uint64_t v = 1u << 30;
    for (int j = 1; j <= 24; j++)
        if ((fr >> (24 - j)) & 1) v = (v * k_root[j - 1] + (1u << 29)) >> 30;
    int s = 30 - (int)k;
    if (s > 62) return 0;
    if (s < 1) return INT64_MAX;
    return (int64_t)(((uint64_t)x * v + ((uint64_t)1 << (s - 1))) >> s);
}

/* Between two levels the gains follow a geometric path, as lwc_model_gains'
 * float ones do (a straight one would differ from the encoder's by up to
 * 2 % mid-way, -0.4 dB at the top rates), in exact integer arithmetic. */
void lwc_model_syn_igains_q(const LwcModel *m, int quality_x100, int32_t *ig)
{
    int M = m->a.M, L = m->a.L;
    int64_t l, f;
    level_frac(L, quality_x100, &l, &f);
    for (int c = 0; c < M; c++) {
        int64_t a = m->syn_igain[l * M + c], b = L > 1 ? m->syn_igain[(l + 1) * M + c] : a, v;
        if (f == 0 || a == b) v = a;
        else if (f == 10000) v = b;
        else if (a == 0 || b == 0) v = (a * (10000 - f) + b * f + 5000) / 10000;
        else v = mul_exp2_q24(a, (log2_q24((uint32_t)b) - log2_q24((uint32_t)a)) * f / 10000);
        ig[c] = (int32_t)LWC_MIN(v, (int64_t)LWC_SYN_IGAIN_MAX);
    }
}

void lwc_model_hyper_input(const LwcModel *m, int quality_x100, const int32_t *zhat, size_t n, int32_t *out)
{
    int Nz = m->a.Nz;
    if (!m->zigain) {
        memcpy(out, zhat, (size_t)Nz * n * sizeof(int32_t));
        return;
    }
    int32_t zi[1024];
    lwc_model_zigains_q(m, quality_x100, zi);
    for (int c = 0; c < Nz; c++)
        for (size_t i = c * n; i < (c + 1) * n; i++) {
            int64_t v = lwc_round_shift((int64_t)zhat[i] * zi[c], 16 - LWC_ZIN_FRAC);
            out[i] = (int32_t)LWC_CLAMP(v, INT32_MIN, INT32_MAX);
        }
}

LwcMacs lwc_model_macs_of(const LwcModel *m)
{
    LwcMacs k = lwc_model_macs(&m->a, m->ab);
    if (m->ypred) k.ent += m->a.M * LWC_YPRED_TAPS / 64.0;
    return k;
}
