/* lwc train: the training loop (Adam, variable-rate lambda sampling, a
 * planned or plateau learning-rate schedule, checkpoints, export). */
#ifndef LWC_TRAINER_H
#define LWC_TRAINER_H

#include <stdint.h>

#include "codec/yctx.h"
#include "learn/net.h"
#include "tools/train/schedule.h"

typedef struct LwcTrainOpts {
    const char *data, *out, *ckpt, *log;
    int resume, export_only, no_pca_init;
    long steps;          /* total optimiser steps to reach */
    int crop, batch, threads, val_every, val_split, max_images, log_every;
    double lr, time_limit, ckpt_every, clip;
    int lr_given; /* --lr was passed: on --resume it replaces the checkpoint's rate */
    int add_levels; /* on --resume: rate levels to add below the lowest (lwc_train_add_levels) */
    int grow_analysis; /* on --resume: width of an analysis branch to add (lwc_train_grow_analysis) */
    int grow_zdensity; /* on --resume: one density of z per rate level (lwc_net_split_zdensity) */
    /* --schedule: sched_given starts a new schedule (kind, warm-up, budget;
     * peak = lr, floor = lr_min) at the current step; without it a resumed
     * run follows the checkpoint's schedule */
    int sched_given, sched_kind;
    long warmup, budget;
    double lr_min;
    int val_crops; /* at least this many fixed validation crops (whole images' worth) */
    int int_synthesis; /* export the integer synthesis too (model version 4) */
    int fit_tables;    /* export: y's tables fitted on this many training crops (0: Gaussian) */
    int fit_per_level; /* with fit_tables: one set per rate level (model version 5) */
    LwcYCtx fit_context; /* with fit_tables: y's tables per parity and context class (model version 6) */
    int fit_pred;      /* with fit_context: in-pass prediction of y's symbols (model version 7) */
    int fit_zctx;      /* with fit_pred: z's tables per this many context classes (model version 8; 0: none) */
    int between_levels; /* train at qualities between the rate levels too (interpolated gains) */
    int diagnose;  /* with export_only: the autoencoder's ceiling and the coder's approximations */
    /* --parity: one crop file (raw f32 [3][s][s], values in [-0.5, 0.5])
     * through the checkpoint's graph at one level, its numbers printed in
     * full precision, so that another implementation of the graph can be
     * checked against this one. seed 0: rounding (validation); else the
     * training graph with its noise drawn from seed, and the gradient
     * (params, then the factorized density's, f32) written to parity_grad
     * when given. */
    const char *parity, *parity_grad;
    int parity_level;
    uint64_t parity_seed;
    uint64_t seed;
    LwcArch arch;
    int quiet;
} LwcTrainOpts;

void lwc_train_default_opts(LwcTrainOpts *o);
/* Returns 0 on success; prints one-line errors itself. */
int lwc_train_run(const LwcTrainOpts *o);
/* The --parity evaluation (needs o->ckpt, o->parity); no data folder. */
int lwc_train_parity(const LwcTrainOpts *o);

/* Checkpoints: everything needed to continue exactly where training stopped. */
typedef struct LwcTrainState {
    LwcNet net;
    float *m, *v, *fm, *fv; /* Adam moments for net and factorized params */
    long adam_step, step;
    uint64_t rng;
    float lr;
    double best_val;
    int bad_evals;
    LwcSchedule sched; /* kind PLATEAU: lr above follows the plateau rule */
} LwcTrainState;

int lwc_ckpt_save(const char *path, const LwcTrainState *s);
int lwc_ckpt_load(const char *path, LwcTrainState *s);
void lwc_train_state_free(LwcTrainState *s);
/* Extend the rate range downwards by k levels: level l becomes l + k, and
 * the new levels 0..k-1 continue the lowest two geometrically (lambda, and
 * each channel's log-gain and log-inverse-gain, of y and of z), with zero Adam moments;
 * every other parameter and moment is kept. LWC_ERR_INVAL if L + k would
 * pass LWC_MAX_LEVELS or L < 2. */
int lwc_train_add_levels(LwcTrainState *s, int k);
/* Grow the analysis by a non-linear branch of `width` hidden channels
 * (LwcNet.ab): every parameter and moment is kept, gab1 starts He-style
 * from `seed`, gab2 at zero, so the model computes exactly what it did.
 * LWC_ERR_INVAL if width is out of 1..4096 or the net has a branch. */
int lwc_train_grow_analysis(LwcTrainState *s, int width, uint64_t seed);

#endif
