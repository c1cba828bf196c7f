/* The float model the trainer optimises: every weight of the codec in one
 * contiguous parameter vector (so Adam and checkpoints see one array), with
 * named views. The entropy-parameter nets here are the float twins of the
 * integer layers in entropy/ctxmodel.c; lwc_net_export() quantises them. */
#ifndef LWC_NET_H
#define LWC_NET_H

#include <stddef.h>
#include <stdint.h>

#include "codec/layer_table.h"
#include "codec/model.h"
#include "learn/likelihood.h"

typedef struct LwcNetConv {
    int cin, cout, k, stride;
    size_t w_off, b_off; /* offsets into params; b_off == (size_t)-1: no bias */
} LwcNetConv;

/* Indexes of the integer layers (for calibration of activation ranges). */
enum { LWC_IL_HS0 = 0, LWC_IL_HS1 = 1, LWC_IL_CTX0 = 2 };
#define LWC_IL_P(s, j, S) (2 + (S) + 3 * (s) + (j))
#define LWC_IL_COUNT(S) (2 + 4 * (S))
/* Calibration slots after them: the synthesis' tensors, for its integer
 * export (model version 4): r of residual block b (whole tensor), and per
 * channel c the synthesis input y_hat * igain, the trunk t (every block's,
 * before and after each residual add) and the output coefficients. */
#define LWC_SA_R(b) (LWC_IL_COUNT(LWC_MAX_SLICES) + (b))
#define LWC_SA_A0(c) (LWC_SA_R(LWC_MAX_RB) + (c))     /* c < 1024 */
#define LWC_SA_T(c) (LWC_SA_A0(1024) + (c))           /* c < LWC_WPT_CHANNELS (D's bound) */
#define LWC_SA_O(c) (LWC_SA_T(LWC_WPT_CHANNELS) + (c)) /* c < LWC_WPT_CHANNELS */
#define LWC_ACT_SLOTS LWC_SA_O(LWC_WPT_CHANNELS)

typedef struct LwcNet {
    LwcArch a;
    float *params;
    size_t nparams;
    LwcNetConv ga, ha0, ha1, gs_in, gs_rb[2 * LWC_MAX_RB], gs_out, gs_skip;
    LwcNetConv hs0, hs1, ctx[LWC_MAX_SLICES], p0[LWC_MAX_SLICES], p1[LWC_MAX_SLICES], p2[LWC_MAX_SLICES];
    size_t gain_off, igain_off; /* [L][M] each; stored as log-gains */
    /* [L][Nz] each, log: the hyper-latent's gain (z = h_a(y) * zgain before
     * rounding) and inverse gain (h_s reads z_hat * zigain), so that the
     * precision of the side information can follow the rate level. Zero
     * (gain 1) in a model grown from one without them. */
    size_t zgain_off, zigain_off;
    /* Optional non-linear branch of the analysis (width ab, 0: none), after
     * everything else in params: y0 = g_a(X) + gab2(relu(gab1(X))), both
     * 1x1 over the wavelet packet channels; gab2 starts at zero, so a model
     * grown with it codes as before (lwc_train_grow_analysis). */
    int ab;
    LwcNetConv gab1, gab2;
    float lambda[LWC_MAX_LEVELS];
    /* Hyper-latent density (own parameter array): one set of Nz channels
     * shared by every rate level, or one set per level (L * Nz channels,
     * level l's at l * Nz; lwc_net_zdensity_sets). */
    LwcFactorized fact;
} LwcNet;

/* Allocate and initialise (He-style, deterministic from seed). */
int lwc_net_init(LwcNet *n, const LwcArch *a, uint64_t seed);
/* The same with an analysis branch of width ab (0: lwc_net_init); the
 * other parameters start as lwc_net_init's, gab1 He-style, gab2 at zero. */
int lwc_net_init_ab(LwcNet *n, const LwcArch *a, int ab, uint64_t seed);
void lwc_net_free(LwcNet *n);
/* Density sets of z: 1 (shared by the levels) or L (one per level). */
int lwc_net_zdensity_sets(const LwcNet *n);
/* Grow a shared density into one per level, each a copy of the shared one
 * (the function is unchanged); fm and fv (its Adam moments, may be NULL)
 * are tiled alike and replaced. LWC_ERR_INVAL if already per level. */
int lwc_net_split_zdensity(LwcNet *n, float **fm, float **fv);

/* The parameter view of a layer of the table (layer_table.h). */
LwcNetConv *lwc_net_layer(LwcNet *n, const LwcLayerSpec *l);
/* The i-th integer layer's float view (0 .. LWC_IL_COUNT-1). */
const LwcNetConv *lwc_net_int_layer(const LwcNet *n, int i);

/* The float twin of a loaded model: its float layers as they are, its
 * integer entropy layers as float layers computing the same affine maps
 * without the rounding (units folded in: y_hat and mu in steps, log-scales
 * natural), gains and lambdas. The factorized density keeps its initial
 * values (the model holds only its tables). */
int lwc_net_from_model(LwcNet *n, const LwcModel *m);

/* Export to a .lwcm file image. act_max[i] (LWC_ACT_SLOTS of them) is the
 * largest activation magnitude expected at calibration slot i (the output
 * of integer layer i, then the synthesis' slots); it sets the fixed-point
 * scales. flags LWC_EXPORT_INT_SYNTHESIS adds the integer synthesis (model
 * version 4, docs/bitstream.md), which decoders then use instead of the
 * float one. */
#define LWC_EXPORT_INT_SYNTHESIS 1
int lwc_net_export_flags(const LwcNet *n, const float *act_max, int flags, uint8_t **out, size_t *size);
/* The same with y's and z's tables fitted to counted values (tablefit.h):
 * fit has LWC_NUM_SCALES tables, or L sets of them (model version 5, which
 * needs LWC_EXPORT_INT_SYNTHESIS); zfit one per z table, or with
 * zclasses K > 1 (model version 8, with fit->pred), K per z table and its
 * zref. NULL keeps the
 * trained densities' tables, as lwc_net_export_flags. */
struct LwcTableFit;
int lwc_net_export_fitted(const LwcNet *n, const float *act_max, int flags, const struct LwcTableFit *fit,
                          const struct LwcTableFit *zfit, uint8_t **out, size_t *size);
/* The value each table of the trained z density gives the most mass to
 * ([n->fact.channels]): the reference values of z's context classes
 * (codec/zctx.h). LWC_ERR_NOMEM / LWC_ERR_INVAL. */
int lwc_net_zrefs(const LwcNet *n, int32_t *ref);
/* lwc_net_export_flags with flags 0: float synthesis only. */
int lwc_net_export(const LwcNet *n, const float *act_max, uint8_t **out, size_t *size);

#endif
