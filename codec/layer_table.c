/* The model's layer table (layer_table.h). */
#include <stdio.h>

#include "layer_table.h"

typedef struct Builder {
    LwcLayerSpec *t;
    int n;
} Builder;

static LwcLayerSpec *add(Builder *b, const char *name, int role, int index, int group, int cin, int cout, int k,
                         int stride, int bias, int res)
{
    LwcLayerSpec *l = &b->t[b->n++];
    snprintf(l->name, sizeof(l->name), "%s", name);
    l->role = (uint8_t)role;
    l->index = (uint8_t)index;
    l->group = (uint8_t)group;
    l->integer = group == LWC_GROUP_HYPER || group == LWC_GROUP_ENTROPY;
    l->cin = cin; l->cout = cout; l->k = k; l->stride = stride; l->bias = bias;
    l->res = res;
    l->winograd = group == LWC_GROUP_SYNTHESIS && k == 3 && stride == 1;
    l->share = 1.0;
    return l;
}

static void add_synthesis(Builder *b, const LwcArch *a)
{
    char nm[24];
    add(b, "gs_in", LWC_ROLE_GS_IN, 0, LWC_GROUP_SYNTHESIS, a->M, a->D, 3, 1, 1, 3);
    for (int i = 0; i < 2 * a->B; i++) {
        snprintf(nm, sizeof(nm), "gs_rb%d", i);
        add(b, nm, LWC_ROLE_GS_RB, i, LWC_GROUP_SYNTHESIS, a->D, a->D, 3, 1, 1, 3);
    }
    add(b, "gs_out", LWC_ROLE_GS_OUT, 0, LWC_GROUP_SYNTHESIS, a->D, LWC_WPT_CHANNELS, 1, 1, 1, 3);
    add(b, "gs_skip", LWC_ROLE_GS_SKIP, 0, LWC_GROUP_SYNTHESIS, a->M, LWC_WPT_CHANNELS, 1, 1, 0, 3);
}

/* Per slice s: a 3x3 context over the slice's anchors (computed at the
 * non-anchors only), then p0 over [hyper | earlier slices | context]. */
static void add_entropy(Builder *b, const LwcArch *a)
{
    int ms = a->M / a->S;
    char nm[24];
    for (int s = 0; s < a->S; s++) {
        snprintf(nm, sizeof(nm), "ctx%d", s);
        add(b, nm, LWC_ROLE_CTX, s, LWC_GROUP_ENTROPY, ms, a->Cc, 3, 1, 1, 3)->share = 0.5;
        snprintf(nm, sizeof(nm), "p0_%d", s);
        add(b, nm, LWC_ROLE_P0, s, LWC_GROUP_ENTROPY, a->Ch + s * ms + a->Cc, a->P, 1, 1, 1, 3);
        snprintf(nm, sizeof(nm), "p1_%d", s);
        add(b, nm, LWC_ROLE_P1, s, LWC_GROUP_ENTROPY, a->P, a->P, 1, 1, 1, 3);
        snprintf(nm, sizeof(nm), "p2_%d", s);
        add(b, nm, LWC_ROLE_P2, s, LWC_GROUP_ENTROPY, a->P, 2 * ms, 1, 1, 1, 3);
    }
}

int lwc_layer_table(const LwcArch *a, int ab, LwcLayerSpec t[LWC_MAX_LAYERS])
{
    Builder b = { t, 0 };
    add(&b, "ga", LWC_ROLE_GA, 0, LWC_GROUP_ANALYSIS, LWC_WPT_CHANNELS, a->M, 1, 1, 1, 3);
    add(&b, "ha0", LWC_ROLE_HA0, 0, LWC_GROUP_ANALYSIS, a->M, a->N, 3, 2, 1, 4);
    add(&b, "ha1", LWC_ROLE_HA1, 0, LWC_GROUP_ANALYSIS, a->N, a->Nz, 3, 2, 1, 5);
    if (ab > 0) {
        add(&b, "ga_b1", LWC_ROLE_GAB1, 0, LWC_GROUP_BRANCH, LWC_WPT_CHANNELS, ab, 1, 1, 1, 3);
        add(&b, "ga_b2", LWC_ROLE_GAB2, 0, LWC_GROUP_BRANCH, ab, a->M, 1, 1, 0, 3);
    }
    add_synthesis(&b, a);
    /* h_s: each layer upsamples its input by 2, then a 3x3 conv */
    add(&b, "hs0", LWC_ROLE_HS0, 0, LWC_GROUP_HYPER, a->Nz, a->N, 3, 1, 1, 4);
    add(&b, "hs1", LWC_ROLE_HS1, 0, LWC_GROUP_HYPER, a->N, a->Ch, 3, 1, 1, 3);
    add_entropy(&b, a);
    return b.n;
}

LwcFloatConv *lwc_model_float_layer(LwcModel *m, const LwcLayerSpec *l)
{
    switch (l->role) {
    case LWC_ROLE_GA: return &m->ga;
    case LWC_ROLE_HA0: return &m->ha0;
    case LWC_ROLE_HA1: return &m->ha1;
    case LWC_ROLE_GAB1: return &m->gab1;
    case LWC_ROLE_GAB2: return &m->gab2;
    case LWC_ROLE_GS_IN: return &m->gs_in;
    case LWC_ROLE_GS_RB: return &m->gs_rb[l->index];
    case LWC_ROLE_GS_OUT: return &m->gs_out;
    case LWC_ROLE_GS_SKIP: return &m->gs_skip;
    default: return NULL;
    }
}

LwcIntConv *lwc_model_int_layer(LwcModel *m, const LwcLayerSpec *l)
{
    switch (l->role) {
    case LWC_ROLE_HS0: return &m->hs0;
    case LWC_ROLE_HS1: return &m->hs1;
    case LWC_ROLE_CTX: return &m->ctx[l->index];
    case LWC_ROLE_P0: return &m->p0[l->index];
    case LWC_ROLE_P1: return &m->p1[l->index];
    case LWC_ROLE_P2: return &m->p2[l->index];
    default: return NULL;
    }
}

LwcMacs lwc_model_macs(const LwcArch *a, int ab)
{
    LwcLayerSpec t[LWC_MAX_LAYERS];
    LwcMacs k = { 0, 0, 0, 0 };
    int n = lwc_layer_table(a, ab, t);
    for (int i = 0; i < n; i++) {
        const LwcLayerSpec *l = &t[i];
        double v = (double)l->cin * l->cout * l->k * l->k * l->share / (double)(1 << (2 * l->res));
        if (l->group == LWC_GROUP_SYNTHESIS) k.syn += v;
        else if (l->group == LWC_GROUP_HYPER) k.hyp += v;
        else if (l->group == LWC_GROUP_ENTROPY) k.ent += v;
        else k.enc += v;
    }
    return k;
}
