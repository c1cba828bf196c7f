/* lwc train: command-line front end of tools/train/trainer.c */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli/cli.h"
#include "tools/train/trainer.h"

static void usage(FILE *f, const LwcTrainOpts *d)
{
    fprintf(f, "usage: lwc train --data DIR [options]\n"
               "  --data DIR        training images (PNG/JPEG/PPM); every N-th file (--val-split) is held out\n"
               "  --out FILE        exported model (default %s)\n"
               "  --checkpoint FILE checkpoint path (default OUT.ckpt); written every --ckpt-every s and on SIGINT/SIGTERM\n"
               "  --resume          continue from the checkpoint (same data and options)\n"
               "  --export-only     load the checkpoint and export it (calibrates on validation crops)\n"
               "  --int-synthesis   export the synthesis in integer arithmetic too (model version 4:\n"
               "                    every build then decodes the same pixels)\n"
               "  --fit-tables N    export y's coding tables fitted to the symbols of N training crops\n"
               "                    (spread over the rate levels) instead of the Gaussian (default 0)\n"
               "  --fit-per-level   with --fit-tables and --int-synthesis: one set of y tables per rate level\n"
               "                    (model version 5)\n"
               "  --fit-context E,.. with --fit-tables and --int-synthesis: y's tables per context class, the\n"
               "                    classes cut at these mean |symbol| values of the coded neighbours\n"
               "                    (1..7 increasing values, e.g. 0.01,0.5,1.5; model version 6)\n"
               "  --fit-pred        with --fit-context: predict each symbol of y from those coded before it in\n"
               "                    its pass, weights fitted by least squares on the same crops (model version 7)\n"
               "  --fit-zctx K      with --fit-pred: z's tables per context class, K classes (2..16) by the\n"
               "                    activity of the z values coded before each (model version 8)\n"
               "  --between-levels  train at qualities anywhere between the rate levels (gains and lambda\n"
               "                    interpolated as the codec does, z coded with the nearer level's density)\n"
               "  --diagnose        with --export-only: also print the validation PSNR without quantisation\n"
               "                    and the rate with the coder's Q4 means and table scales\n"
               "  --steps N         total optimiser steps to reach (default %ld)\n"
               "  --time-limit S    stop (checkpoint + export) after S seconds of training\n"
               "  --crop N          crop size, multiple of 32 (default %d)\n"
               "  --batch N         crops per step (default %d)\n"
               "  --lr X            Adam learning rate (default %g): the peak of a cosine schedule; under the\n"
               "                    plateau schedule it halves after 3 validations without gain, and with\n"
               "                    --resume it replaces the checkpoint's rate and restarts the plateau watch\n"
               "  --schedule KIND   cosine: warm-up from --lr-min to --lr over --warmup steps, then a cosine\n"
               "                    down to --lr-min; training ends after --budget steps (counted from the\n"
               "                    step it starts at, so with --resume from the checkpoint's step);\n"
               "                    plateau: the rule above. A resumed run keeps the checkpoint's schedule\n"
               "  --warmup N        warm-up steps of the cosine schedule (default 0)\n"
               "  --budget N        steps of the cosine schedule, warm-up included\n"
               "  --lr-min X        the cosine schedule's floor (default %g)\n"
               "  --seed N          initialisation and sampling seed (default %llu)\n"
               "  --threads N       worker threads (default %d)\n"
               "  --log FILE        CSV log (appended): validations, and training every --log-every steps\n"
               "  --log-every N     progress line and CSV row every N steps (default 20)\n"
               "  --val-every N     steps between validations (default %d)\n"
               "  --val-split N     hold out one file in N for validation (default %d)\n"
               "  --val-crops N     at least N fixed validation crops, whole rounds over the validation\n"
               "                    images: centre, then the four corners (default %d)\n"
               "  --max-images N    use at most N files\n"
               "  --arch a,b,...    M,Nz,N,Ch,S,Cc,P,D,B,L (default %d,%d,%d,%d,%d,%d,%d,%d,%d,%d)\n"
               "  --add-levels K    with --resume: K more rate levels below the lowest (lambda and\n"
               "                    gains continued geometrically; quality 0 then codes smaller)\n"
               "  --grow-analysis K with --resume: add a non-linear branch of K channels to the analysis\n"
               "                    (1x1 192 -> K, ReLU, 1x1 K -> M, added to g_a; its last layer starts\n"
               "                    at zero, so the model codes as before until it learns)\n"
               "  --grow-zdensity   with --resume: one density of z per rate level instead of one shared,\n"
               "                    each a copy of the shared one (model version 3)\n"
               "  --no-pca-init     random g_a instead of the principal directions of the data\n"
               "  --quiet           no progress output\n"
               "  --parity FILE     no training: run the checkpoint's graph on one crop (raw f32 [3][s][s],\n"
               "                    values in [-0.5, 0.5]) and print loss, bits and MSE in full precision\n"
               "  --parity-level L  its rate level (default 0)\n"
               "  --parity-seed N   0: rounding, as validation (default); else the training graph, noise from N\n"
               "  --parity-grad F   with a seed: write the gradient (params, factorized params; f32) to F\n",
            d->out, d->steps, d->crop, d->batch, d->lr, d->lr_min, (unsigned long long)d->seed, d->threads,
            d->val_every, d->val_split, d->val_crops, d->arch.M, d->arch.Nz, d->arch.N, d->arch.Ch, d->arch.S, d->arch.Cc, d->arch.P, d->arch.D,
            d->arch.B, d->arch.L);
}

static int parse_arch(const char *s, LwcArch *a)
{
    int32_t *v = &a->M;
    const char *p = s;
    for (int i = 0; i < LWC_ARCH_FIELDS; i++) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 1 || x > 1024) return -1;
        v[i] = (int32_t)x;
        p = end;
        if (i < LWC_ARCH_FIELDS - 1 && *p++ != ',') return -1;
    }
    if (*p || a->S > LWC_MAX_SLICES || a->M % a->S || a->B > LWC_MAX_RB || a->L > LWC_MAX_LEVELS || a->N < a->Nz)
        return -1;
    return 0;
}

/* --fit-context: 1..LWC_YCTX_EDGES_MAX mean magnitudes, comma-separated. */
static int parse_context(const char *s, LwcYCtx *y)
{
    double v[LWC_YCTX_EDGES_MAX + 1];
    int n = 0;
    const char *p = s;
    while (n <= LWC_YCTX_EDGES_MAX) {
        char *end;
        v[n++] = strtod(p, &end);
        if (end == p) return -1;
        p = end;
        if (!*p) break;
        if (*p++ != ',') return -1;
    }
    return *p || lwc_yctx_from_means(y, v, n) ? -1 : 0;
}

static int bad(const char *opt, const char *val) { return lwc_cli_error("train", "bad %s value '%s'", opt, val) + 1; }

static int parse_opt(int c, const char *arg, LwcTrainOpts *o)
{
    double d;
    int i;
    switch (c) {
    case 'd': o->data = arg; break;
    case 'o': o->out = arg; break;
    case 'k': o->ckpt = arg; break;
    case 'R': o->resume = 1; break;
    case 'E': o->export_only = 1; o->resume = 1; break;
    case 's': if (lwc_cli_parse_double(arg, 0, 1e12, &d)) return bad("--steps", arg); o->steps = (long)d; break;
    case 'T': if (lwc_cli_parse_double(arg, 0, 1e9, &o->time_limit)) return bad("--time-limit", arg); break;
    case 'c': if (lwc_cli_parse_int(arg, 32, 4096, &o->crop) || o->crop % 32) return bad("--crop", arg); break;
    case 'b': if (lwc_cli_parse_int(arg, 1, 64, &o->batch)) return bad("--batch", arg); break;
    case 'l': if (lwc_cli_parse_double(arg, 1e-8, 1, &o->lr)) return bad("--lr", arg); o->lr_given = 1; break;
    case 'S': if (lwc_cli_parse_int(arg, 0, 1 << 30, &i)) return bad("--seed", arg); o->seed = (uint64_t)i; break;
    case 't': if (lwc_cli_parse_int(arg, 1, 16, &o->threads)) return bad("--threads", arg); break;
    case 'L': o->log = arg; break;
    case 'v': if (lwc_cli_parse_int(arg, 1, 1 << 30, &o->val_every)) return bad("--val-every", arg); break;
    case 'V': if (lwc_cli_parse_int(arg, 2, 1 << 20, &o->val_split)) return bad("--val-split", arg); break;
    case 'M': if (lwc_cli_parse_int(arg, 1, 1 << 30, &o->max_images)) return bad("--max-images", arg); break;
    case 'C': if (lwc_cli_parse_double(arg, 1, 1e9, &o->ckpt_every)) return bad("--ckpt-every", arg); break;
    case 'A': if (parse_arch(arg, &o->arch)) return bad("--arch", arg); break;
    case 'q': o->quiet = 1; break;
    case 'P': o->no_pca_init = 1; break;
    case 'G': if (lwc_cli_parse_int(arg, 1, 1 << 30, &o->log_every)) return bad("--log-every", arg); break;
    case 'K': if (lwc_cli_parse_int(arg, 1, LWC_MAX_LEVELS, &o->add_levels)) return bad("--add-levels", arg); break;
    case 'Y': if (lwc_schedule_parse_kind(arg, &o->sched_kind)) return bad("--schedule", arg); o->sched_given = 1; break;
    case 'W': if (lwc_cli_parse_double(arg, 0, 1e12, &d)) return bad("--warmup", arg); o->warmup = (long)d; break;
    case 'B': if (lwc_cli_parse_double(arg, 1, 1e12, &d)) return bad("--budget", arg); o->budget = (long)d; break;
    case 'm': if (lwc_cli_parse_double(arg, 0, 1, &o->lr_min)) return bad("--lr-min", arg); break;
    case 'Z': o->diagnose = 1; break;
    case 'I': o->int_synthesis = 1; break;
    case 'F': if (lwc_cli_parse_int(arg, 0, 4096, &o->fit_tables)) return bad("--fit-tables", arg); break;
    case 'U': o->fit_per_level = 1; break;
    case 'x': if (parse_context(arg, &o->fit_context)) return bad("--fit-context", arg); break;
    case 'H': o->between_levels = 1; break;
    case 'N': o->fit_pred = 1; break;
    case 'z': if (lwc_cli_parse_int(arg, 2, LWC_ZCTX_CLASSES_MAX, &o->fit_zctx)) return bad("--fit-zctx", arg); break;
    case 'g': if (lwc_cli_parse_int(arg, 1, 4096, &o->grow_analysis)) return bad("--grow-analysis", arg); break;
    case 'Q': o->grow_zdensity = 1; break;
    case 'X': if (lwc_cli_parse_int(arg, 1, 512, &o->val_crops)) return bad("--val-crops", arg); break;
    case 'p': o->parity = arg; break;
    case 'e': if (lwc_cli_parse_int(arg, 0, LWC_MAX_LEVELS - 1, &o->parity_level)) return bad("--parity-level", arg); break;
    case 'n': if (lwc_cli_parse_int(arg, 0, 1 << 30, &i)) return bad("--parity-seed", arg); o->parity_seed = (uint64_t)i; break;
    case 'j': o->parity_grad = arg; break;
    default: return lwc_cli_error("train", "unknown option (try --help)") + 1;
    }
    return 0;
}

int lwc_cmd_train(int argc, char **argv)
{
    static const struct option lo[] = {
        { "data", 1, 0, 'd' }, { "out", 1, 0, 'o' }, { "checkpoint", 1, 0, 'k' }, { "resume", 0, 0, 'R' },
        { "export-only", 0, 0, 'E' }, { "steps", 1, 0, 's' }, { "time-limit", 1, 0, 'T' }, { "crop", 1, 0, 'c' },
        { "batch", 1, 0, 'b' }, { "lr", 1, 0, 'l' }, { "seed", 1, 0, 'S' }, { "threads", 1, 0, 't' },
        { "log", 1, 0, 'L' }, { "val-every", 1, 0, 'v' }, { "val-split", 1, 0, 'V' }, { "max-images", 1, 0, 'M' },
        { "ckpt-every", 1, 0, 'C' }, { "arch", 1, 0, 'A' }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' },
        { "no-pca-init", 0, 0, 'P' }, { "log-every", 1, 0, 'G' }, { "add-levels", 1, 0, 'K' },
        { "schedule", 1, 0, 'Y' }, { "warmup", 1, 0, 'W' }, { "budget", 1, 0, 'B' }, { "lr-min", 1, 0, 'm' },
        { "val-crops", 1, 0, 'X' }, { "diagnose", 0, 0, 'Z' }, { "grow-analysis", 1, 0, 'g' },
        { "grow-zdensity", 0, 0, 'Q' }, { "int-synthesis", 0, 0, 'I' }, { "fit-tables", 1, 0, 'F' },
        { "fit-per-level", 0, 0, 'U' }, { "between-levels", 0, 0, 'H' }, { "fit-context", 1, 0, 'x' },
        { "fit-pred", 0, 0, 'N' }, { "fit-zctx", 1, 0, 'z' },
        { "parity", 1, 0, 'p' }, { "parity-level", 1, 0, 'e' }, { "parity-seed", 1, 0, 'n' }, { "parity-grad", 1, 0, 'j' },
        { 0, 0, 0, 0 } };
    LwcTrainOpts o;
    lwc_train_default_opts(&o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (c == 'h') { usage(stdout, &o); return 0; }
        if (c == ':') return lwc_cli_error("train", "option '%s' needs a value", argv[optind - 1]) + 1;
        if (c == '?') return lwc_cli_error("train", "unknown option '%s' (try --help)", argv[optind - 1]) + 1;
        int r = parse_opt(c, optarg, &o);
        if (r) return r;
    }
    if (optind != argc) return lwc_cli_error("train", "unexpected argument '%s'", argv[optind]) + 1;
    if (o.parity) {
        if (!o.ckpt) return lwc_cli_error("train", "--parity needs --checkpoint") + 1;
        return lwc_train_parity(&o);
    }
    if (!o.data) return lwc_cli_error("train", "missing --data DIR") + 1;
    if (o.add_levels && !o.resume) return lwc_cli_error("train", "--add-levels needs --resume") + 1;
    if (o.grow_analysis && !o.resume) return lwc_cli_error("train", "--grow-analysis needs --resume") + 1;
    if (o.grow_zdensity && !o.resume) return lwc_cli_error("train", "--grow-zdensity needs --resume") + 1;
    if (o.diagnose && !o.export_only) return lwc_cli_error("train", "--diagnose needs --export-only") + 1;
    if (o.fit_per_level && (!o.fit_tables || !o.int_synthesis))
        return lwc_cli_error("train", "--fit-per-level needs --fit-tables N and --int-synthesis") + 1;
    if (o.fit_context.edges && (!o.fit_tables || !o.int_synthesis || o.fit_per_level))
        return lwc_cli_error("train", "--fit-context needs --fit-tables N and --int-synthesis, without --fit-per-level") + 1;
    if (o.fit_pred && !o.fit_context.edges) return lwc_cli_error("train", "--fit-pred needs --fit-context") + 1;
    if (o.fit_zctx && !o.fit_pred) return lwc_cli_error("train", "--fit-zctx needs --fit-pred") + 1;
    if (o.sched_given && o.sched_kind == LWC_SCHED_COSINE) {
        if (o.budget <= o.warmup) return lwc_cli_error("train", "--schedule cosine needs --budget N above --warmup") + 1;
        if (o.lr_min >= o.lr) return lwc_cli_error("train", "--lr-min must be below --lr") + 1;
    } else if (o.budget || o.warmup) {
        return lwc_cli_error("train", "--warmup and --budget need --schedule cosine") + 1;
    }
    char ckpt[4096];
    if (!o.ckpt) {
        snprintf(ckpt, sizeof(ckpt), "%s.ckpt", o.out);
        o.ckpt = ckpt;
    }
    return lwc_train_run(&o);
}
