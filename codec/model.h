/* The model: architecture hyperparameters, float weights of the encoder and
 * synthesis networks, integer weights of the entropy-parameter path, and the
 * integer CDF tables. File format (.lwcm), all little-endian:
 *
 *   "LWCM" u32 version (1 .. LWC_MODEL_VERSION_MAX) u32 tensor_count
 *   per tensor: u16 name_len, name bytes, u8 dtype (0 f32, 1 i16, 2 i32, 3 u32, 4 u8),
 *               u8 ndim (1..4), u32 dims[ndim], payload (prod(dims)*sizeof(dtype))
 *
 * The architecture is the i32 tensor "arch" (see LwcArch, in field order).
 * Version 2 adds the hyper-latent gains "zgain" (f32 [L][Nz], encoder) and
 * "zigain" (i32 [L][Nz], Q16, decoder): see lwc_model_hyper_input. A
 * version-1 model has neither and feeds z_hat to h_s unscaled. Version 2
 * may also hold a non-linear branch of the analysis, "ga_b1" (w [ab][192],
 * b) and "ga_b2" (w [M][ab]): y = g_a(X) + ga_b2(relu(ga_b1(X))) before
 * the gains (encoder only).
 * Version 3 is version 2 with one z density per rate level: "fact" holds
 * L * Nz tables, level l's at l * Nz (lwc_model_ztable).
 * Version 4 adds the integer synthesis (docs/bitstream.md, "Integer
 * synthesis"): "syn.igain" (i32 [L][M], Q16), "syn.oscale" (f32 [192]) and
 * the integer layers syn_in, syn_rb0.., syn_out; decoders use it instead of
 * the float synthesis, which stays in the file for the encoder's search.
 * From version 3 on, "fact" holds Nz or L * Nz tables.
 * Version 5 is version 4 whose "gauss", y's tables, may hold one set of LWC_NUM_SCALES per
 * rate level (L * LWC_NUM_SCALES tables, level l's at l * LWC_NUM_SCALES:
 * lwc_model_ytable) as well as one shared set; lwc train --fit-tables
 * writes such sets.
 * Version 6 is version 4 with context classes for y's tables (codec/yctx.h):
 * "yctx.edges" (i32 [n], 1 <= n <= 7, Q8, strictly increasing) and "gauss"
 * holding 2 * (n + 1) sets of LWC_NUM_SCALES tables, set par * (n + 1) +
 * class for a symbol of parity par (lwc train --fit-context).
 * Version 7 is version 6 with in-pass prediction of y's symbols
 * (codec/ypred.h): "ypred.w" (i16 [M][2][LWC_YPRED_TAPS], Q12; lwc train
 * --fit-pred).
 * Version 8 is version 7 with context classes for z's tables
 * (codec/zctx.h): "zctx.classes" (i32 [1], 2..LWC_ZCTX_CLASSES_MAX) and
 * "zctx.ref" (i32 [sets][Nz], sets 1 or L, |ref| <= LWC_ZCTX_REF_MAX);
 * "fact" holds sets * classes * Nz tables (lwc train --fit-zctx).
 * The model id is a 64-bit FNV-1a hash of the whole file. */
#ifndef LWC_MODEL_H
#define LWC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "entropy/cdf.h"
#include "entropy/intconv.h"
#include "codec/yctx.h"
#include "codec/ypred.h"
#include "codec/zctx.h"
#include "lwc.h"

#define LWC_WPT_LEVELS 3
#define LWC_WPT_CHANNELS 192 /* 3 colour channels * 4^3 */
#define LWC_NUM_SCALES 64
#define LWC_MAX_SLICES 8
#define LWC_MAX_RB 8
#define LWC_MAX_LEVELS 16
#define LWC_MODEL_VERSION 2     /* written for a shared z density; versions 1..3 are read */
#define LWC_MODEL_VERSION_MAX 8 /* 3: one z density (Nz tables) per rate level; 4: integer synthesis;
                                 * 5: y tables per rate level; 6: y tables per context class;
                                 * 7: in-pass prediction; 8: z tables per context class */
#define LWC_SYN_ACT 2047 /* the integer synthesis' activations lie in [-LWC_SYN_ACT, LWC_SYN_ACT] */
#define LWC_SYN_IGAIN_MAX (1 << 30) /* bound of syn.igain */
#define LWC_ZIGAIN_ONE 65536 /* zigain's fixed point: Q16 */
#define LWC_ZIN_FRAC 4 /* fraction bits of h_s's input in version-2 models */

typedef struct LwcArch {
    int32_t M;   /* latent channels at H/8 */
    int32_t Nz;  /* hyper-latent channels at H/32 */
    int32_t N;   /* hyper hidden channels */
    int32_t Ch;  /* hyper feature channels at H/8 */
    int32_t S;   /* channel slices (M % S == 0) */
    int32_t Cc;  /* checkerboard context channels */
    int32_t P;   /* parameter-net hidden channels */
    int32_t D;   /* synthesis width */
    int32_t B;   /* synthesis residual blocks */
    int32_t L;   /* rate levels (gain vectors) */
} LwcArch;
#define LWC_ARCH_FIELDS 10

typedef struct LwcFloatConv {
    int cin, cout, k, stride;
    float *w, *b; /* w: [cout][cin][k][k]; b: [cout] */
    float *wu;    /* Winograd weights (transforms/winograd.h) or NULL */
} LwcFloatConv;

struct LwcModel {
    LwcArch a;
    uint64_t id;
    /* encoder (float) */
    LwcFloatConv ga;                 /* 1x1, 192 -> M */
    LwcFloatConv ha0, ha1;           /* 3x3 s2: M -> N, N -> Nz */
    int ab;                          /* width of the analysis branch (0: none; version 2) */
    LwcFloatConv gab1, gab2;         /* 1x1 192 -> ab (+ReLU), ab -> M (no bias), added to g_a */
    float *gain, *igain, *lambda;    /* [L][M], [L][M], [L] */
    uint32_t version;                /* of the file (1 .. LWC_MODEL_VERSION_MAX) */
    float *zgain;                    /* [L][Nz] z's gains (version 2, else NULL) */
    int32_t *zigain;                 /* [L][Nz] z_hat's inverse gains, Q16 (version 2, else NULL) */
    /* synthesis (float) */
    LwcFloatConv gs_in;              /* 3x3 M -> D */
    LwcFloatConv gs_rb[2 * LWC_MAX_RB]; /* 3x3 D -> D, pairs */
    LwcFloatConv gs_out;             /* 1x1 D -> 192 */
    LwcFloatConv gs_skip;            /* 1x1 M -> 192, no bias */
    /* integer synthesis (version 4; int_synthesis = 0: none) */
    int int_synthesis;
    int32_t *syn_igain;              /* [L][M] Q16: y_hat (Q4) -> the first layer's input */
    float *syn_oscale;               /* [192] value of one output unit */
    LwcIntConv syn_in;               /* 3x3 M -> D, ReLU */
    LwcIntConv syn_rb[2 * LWC_MAX_RB]; /* 3x3 D -> D, pairs (ReLU; residual) */
    LwcIntConv syn_out;              /* 1x1 [t; a0] (D + M) -> 192 */
    /* entropy-parameter path (integer) */
    LwcIntConv hs0, hs1;             /* up2 + 3x3: Nz -> N, N -> Ch */
    LwcIntConv ctx[LWC_MAX_SLICES];  /* 3x3 over anchors: M/S -> Cc */
    LwcIntConv p0[LWC_MAX_SLICES], p1[LWC_MAX_SLICES], p2[LWC_MAX_SLICES];
    int32_t scale_thr[LWC_NUM_SCALES]; /* log-scale thresholds (p2 units) */
    uint8_t *scale_lut;              /* [65536]: scale index of int16 v at v + 32768 */
    LwcCdfSet gauss;                 /* LWC_NUM_SCALES tables, or L sets of them (version 5), or
                                      * 2 * classes sets (version 6) */
    LwcYCtx yctx;                    /* y's context classes (version 6; edges = 0: none) */
    const int16_t *ypred;            /* [M][2][LWC_YPRED_TAPS] in-pass prediction (version 7), or NULL */
    LwcCdfSet fact;                  /* Nz tables per density set, or classes * Nz (version 8) */
    int zclasses, zsets;             /* z's context classes (codec/zctx.h; 1: none), sets of zref */
    const int32_t *zref;             /* [zsets][Nz] their reference values (version 8), or NULL */
    /* storage */
    void **allocs;
    int nallocs, cap_allocs;
};

enum { LWC_DT_F32 = 0, LWC_DT_I16 = 1, LWC_DT_I32 = 2, LWC_DT_U32 = 3, LWC_DT_U8 = 4 };
extern const uint8_t lwc_model_dtype_size[5]; /* bytes per element, by dtype */

uint64_t lwc_fnv1a64(const uint8_t *p, size_t n);

/* Multiply-adds per pixel of an architecture: synthesis, entropy-parameter
 * nets (each position computed once), integer hyper synthesis, and the
 * encoder's own analysis (g_a + h_a; the encoder also runs ent and hyp);
 * summed over the layer table (layer_table.h). */
typedef struct LwcMacs { double syn, ent, hyp, enc; } LwcMacs;
LwcMacs lwc_model_macs(const LwcArch *a, int ab);
/* The same for a model, with its in-pass prediction (version 7: 6 per
 * symbol of y, M symbols per 8 x 8 pixels) in ent. */
LwcMacs lwc_model_macs_of(const LwcModel *m);

/* Gains for a quality in [0,100]: interpolated geometrically between the
 * two nearest rate levels. Only the encoder and synthesis use them (float). */
void lwc_model_gains(const LwcModel *m, double quality, float *gain, float *igain);
/* The first of the z tables ("fact") for a quality in hundredths: 0 for
 * a shared density, else zclasses * Nz times the nearest rate level,
 * (q100 * (L - 1) + 5000) / 10000 with q100 clamped to [0, 10000]. */
int lwc_model_ztable(const LwcModel *m, int quality_x100);
/* z's reference values at that quality ([Nz]; codec/zctx.h), or NULL
 * without context classes. */
const int32_t *lwc_model_zref(const LwcModel *m, int quality_x100);
/* The table of z symbol (i, j) of channel c (plane: the channel's symbols,
 * hz x wz, coded up to there), from t0 = lwc_model_ztable and ref =
 * lwc_model_zref. */
int lwc_model_zsym_table(const LwcModel *m, int t0, const int32_t *ref, const int32_t *plane, int hz, int wz, int c,
                         int i, int j);
/* The first of y's LWC_NUM_SCALES tables ("gauss") at a quality: 0 for one
 * shared set, else LWC_NUM_SCALES times the nearest rate level (the rule of
 * lwc_model_ztable). */
int lwc_model_ytable(const LwcModel *m, int quality_x100);
/* The two rate levels around a quality, and the weight f of the upper one. */
void lwc_model_level_pos(const LwcModel *m, double quality, int *l0, int *l1, double *f);
/* z's gains at a quality (encoder: z = h_a(y) * zgain, then rounding),
 * interpolated like lwc_model_gains; all 1 for a version-1 model. */
void lwc_model_zgains(const LwcModel *m, double quality, float *zgain);
/* z_hat's inverse gains at quality_x100 (0..10000), Q16, in exact integer
 * arithmetic (normative): t = q * (L - 1), l = t / 10000 (l = L - 2 when
 * l >= L - 1, then f = 10000, else f = t % 10000), and
 *   zi[c] = (zigain[l][c] * (10000 - f) + zigain[l + 1][c] * f + 5000) / 10000
 * (L = 1: zigain[0][c]). */
void lwc_model_zigains_q(const LwcModel *m, int quality_x100, int32_t *zi);
/* The integer synthesis' input gains (Q16, [M]) at quality_x100, from
 * syn.igain: geometric interpolation between levels in integer arithmetic
 * (docs/bitstream.md; version 4 only). */
void lwc_model_syn_igains_q(const LwcModel *m, int quality_x100, int32_t *ig);
/* The input of h_s from z_hat ([Nz][n] values): z_hat itself for a
 * version-1 model; else, Q4, round_shift(z_hat * zi[c], 16 - LWC_ZIN_FRAC)
 * (entropy/intconv.h's rounding), clamped to int32. */
void lwc_model_hyper_input(const LwcModel *m, int quality_x100, const int32_t *zhat, size_t n, int32_t *out);
/* The training lambda at a quality, interpolated the same way. */
double lwc_model_lambda(const LwcModel *m, double quality);

#endif
