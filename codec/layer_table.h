/* The model's layers in one table: name (the tensor prefix in a .lwcm
 * file), role, shape, kernel, stride, bias, where the layer runs and how
 * many positions per pixel it computes. Loading (codec/model.c), the
 * trainer's parameter layout and export (learn/net.c) and the multiply-add
 * count (lwc_model_macs) are all derived from it, so a new layer is added
 * here once. */
#ifndef LWC_LAYER_TABLE_H
#define LWC_LAYER_TABLE_H

#include <stdint.h>

#include "model.h"

typedef enum LwcLayerRole {
    LWC_ROLE_GA, LWC_ROLE_HA0, LWC_ROLE_HA1, LWC_ROLE_GAB1, LWC_ROLE_GAB2,
    LWC_ROLE_GS_IN, LWC_ROLE_GS_RB, LWC_ROLE_GS_OUT, LWC_ROLE_GS_SKIP,
    LWC_ROLE_HS0, LWC_ROLE_HS1, LWC_ROLE_CTX, LWC_ROLE_P0, LWC_ROLE_P1, LWC_ROLE_P2
} LwcLayerRole;

/* Groups, in the order a .lwcm file and the parameter vector need them. */
typedef enum LwcLayerGroup {
    LWC_GROUP_ANALYSIS,  /* encoder, float: g_a, h_a */
    LWC_GROUP_BRANCH,    /* encoder, float, optional: g_a's non-linear branch (version 2) */
    LWC_GROUP_SYNTHESIS, /* decoder, float: g_s */
    LWC_GROUP_HYPER,     /* both, integer: h_s */
    LWC_GROUP_ENTROPY    /* both, integer: checkerboard context and parameter nets per slice */
} LwcLayerGroup;

typedef struct LwcLayerSpec {
    char name[24];
    uint8_t role, index, group, integer;
    int cin, cout, k, stride, bias;
    int res;         /* output at 1/2^res of the image size (3: H/8) */
    int winograd;    /* the decoder keeps Winograd weights (3x3 stride 1 synthesis) */
    double share;    /* fraction of output positions computed (ctx: non-anchors) */
} LwcLayerSpec;

#define LWC_MAX_LAYERS (7 + 2 * LWC_MAX_RB + 2 + 4 * LWC_MAX_SLICES)

/* The layers of architecture a with an analysis branch of width ab (0:
 * none), group by group in LwcLayerGroup order; returns the count. */
int lwc_layer_table(const LwcArch *a, int ab, LwcLayerSpec t[LWC_MAX_LAYERS]);
/* The model's float or integer layer a spec describes. */
LwcFloatConv *lwc_model_float_layer(LwcModel *m, const LwcLayerSpec *l);
LwcIntConv *lwc_model_int_layer(LwcModel *m, const LwcLayerSpec *l);

#endif
