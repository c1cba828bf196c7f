/* lwc encode: image -> .lwc */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec/io/imageio.h"
#include "tools/cli/cli.h"
#include "tools/lib/metrics.h"

typedef struct EncOpts {
    const char *in, *out, *model;
    double quality, bpp;
    int threads, verbose, quiet, force, ref;
} EncOpts;

static void usage(FILE *f)
{
    fprintf(f, "usage: lwc encode INPUT -o OUTPUT.lwc [options]\n"
               "  INPUT              PNG, JPEG, PPM/PGM ('-' reads stdin)\n"
               "  -o, --output FILE  output stream ('-' writes stdout, never to a terminal)\n"
               "  -q, --quality Q    0 (smallest) .. 100 (best), fractional allowed; default 50\n"
               "  --bpp X            search the quality that lands closest to X bits per pixel\n"
               "  --model FILE       model (default: the shipped models/lwc-default.lwcm)\n"
               "  --threads N        worker threads, 1..64; default 1\n"
               "  --reference        plain C float kernels instead of OpenBLAS\n"
               "  -f, --force        allow OUTPUT to be the same file as INPUT\n"
               "  -v, --verbose      per-stage times and section sizes\n"
               "  --quiet            print nothing on success\n");
}

static int parse(int argc, char **argv, EncOpts *o)
{
    static const struct option lo[] = {
        { "output", 1, 0, 'o' }, { "quality", 1, 0, 'q' }, { "bpp", 1, 0, 'b' }, { "model", 1, 0, 'm' },
        { "threads", 1, 0, 't' }, { "reference", 0, 0, 'r' }, { "force", 0, 0, 'f' },
        { "verbose", 0, 0, 'v' }, { "quiet", 0, 0, 'Q' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    memset(o, 0, sizeof(*o));
    o->quality = 50; o->bpp = -1; o->threads = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:q:fvh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'q': if (lwc_cli_parse_double(optarg, 0, 100, &o->quality)) return lwc_cli_error("encode", "bad -q value '%s' (expected 0..100)", optarg) + 1; break;
        case 'b': if (lwc_cli_parse_double(optarg, 0.001, 64, &o->bpp)) return lwc_cli_error("encode", "bad --bpp value '%s' (expected 0.001..64)", optarg) + 1; break;
        case 'm': o->model = optarg; break;
        case 't': if (lwc_cli_parse_int(optarg, 1, 64, &o->threads)) return lwc_cli_error("encode", "bad --threads value '%s' (expected 1..64)", optarg) + 1; break;
        case 'r': o->ref = 1; break;
        case 'f': o->force = 1; break;
        case 'v': o->verbose = 1; break;
        case 'Q': o->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        case ':': return lwc_cli_error("encode", "option '%s' needs a value", argv[optind - 1]) + 1;
        default: return lwc_cli_error("encode", "unknown option '%s' (try --help)", argv[optind - 1]) + 1;
        }
    }
    if (optind != argc - 1) return lwc_cli_error("encode", "expected one input file (try --help)") + 1;
    o->in = argv[optind];
    if (!o->out) return lwc_cli_error("encode", "missing -o OUTPUT") + 1;
    if (!o->force && lwc_cli_same_file(o->in, o->out))
        return lwc_cli_error("encode", "output '%s' is the input file (use --force to overwrite it)", o->out) + 1;
    return 0;
}

static int encode_at(LwcContext *ctx, const LwcImage *img, double q, uint8_t **buf, size_t *len,
                     LwcImage *recon, LwcStats *st)
{
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    p.quality = q;
    return lwc_encode(ctx, img, &p, buf, len, recon, st);
}

/* Bisection on q with real encodes: rate grows with q. */
static int search_bpp(LwcContext *ctx, const LwcImage *img, double target, double *q_out)
{
    double lo = 0, hi = 100, best_q = 50, best_err = INFINITY, px = (double)img->width * img->height;
    for (int it = 0; it < 12; it++) {
        double q = it == 0 ? 50 : (lo + hi) / 2;
        uint8_t *buf;
        size_t len;
        int r = encode_at(ctx, img, q, &buf, &len, NULL, NULL);
        if (r < 0) return r;
        lwc_free_buffer(buf);
        double bpp = 8.0 * len / px;
        if (fabs(bpp - target) < best_err) { best_err = fabs(bpp - target); best_q = q; }
        if (bpp > target) hi = q; else lo = q;
    }
    *q_out = best_q;
    return 0;
}

static void report(const EncOpts *o, const LwcImage *img, const LwcImage *recon, size_t len,
                   double q, const LwcStats *st)
{
    double bpp = 8.0 * len / ((double)img->width * img->height);
    LwcMetrics mt;
    double psnr = lwc_metrics_compute(img, recon, &mt) == 0 ? mt.psnr : NAN;
    FILE *f = strcmp(o->out, "-") ? stdout : stderr;
    fprintf(f, "%s: %dx%d %s -> %s: %zu bytes, %.4f bpp, q %.2f, PSNR %.2f dB, %.3f s\n", o->in,
            img->width, img->height, img->channels >= 3 ? "RGB" : "gray", o->out, len, bpp, q, psnr,
            st->t_total);
    if (!o->verbose) return;
    fprintf(f, "  stages: wavelet %.3f s, analysis %.3f s, hyper %.3f s, entropy %.3f s, synthesis %.3f s\n",
            st->t_wavelet, st->t_analysis, st->t_hyper, st->t_entropy, st->t_synthesis);
    fprintf(f, "  bytes: header %zu, z %zu, y %zu, alpha %zu\n", st->bytes_header, st->bytes_z,
            st->bytes_y, st->bytes_alpha);
}

static int run(const EncOpts *o, LwcContext *ctx, const LwcImage *img)
{
    double q = o->quality;
    if (o->bpp > 0) {
        int r = search_bpp(ctx, img, o->bpp, &q);
        if (r < 0) return lwc_cli_error("encode", "%s", lwc_strerror(r));
    }
    uint8_t *buf;
    size_t len;
    LwcImage recon;
    LwcStats st;
    int r = encode_at(ctx, img, q, &buf, &len, &recon, &st);
    if (r < 0) return lwc_cli_error("encode", "encoding '%s' failed: %s", o->in, lwc_strerror(r));
    r = lwc_cli_write_atomic(o->out, buf, len, 0);
    if (r < 0) {
        lwc_free_buffer(buf);
        lwc_image_free(&recon);
        if (r == LWC_ERR_INVAL) return lwc_cli_error("encode", "refusing to write binary data to a terminal");
        return lwc_cli_error("encode", "cannot write '%s'", o->out);
    }
    if (!o->quiet) report(o, img, &recon, len, q, &st);
    lwc_free_buffer(buf);
    lwc_image_free(&recon);
    return 0;
}

int lwc_cmd_encode(int argc, char **argv)
{
    EncOpts o;
    int pr = parse(argc, argv, &o);
    if (pr) return pr < 0 ? 0 : pr;
    char err[256];
    LwcImage img;
    int r = lwc_image_read_file(o.in, &img, err, sizeof(err));
    if (r < 0) return lwc_cli_error("encode", "cannot read '%s': %s", o.in, err);
    if (img.bit_depth == 16 && !o.quiet)
        fprintf(stderr, "lwc encode: note: 16-bit input is coded at 8-bit precision\n");
    LwcModel *m = lwc_cli_load_model("encode", o.model);
    LwcContext *ctx = NULL;
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = o.threads;
    s.reference_kernels = o.ref;
    int ret = 1;
    if (m && (r = lwc_open(&ctx, m, &s)) < 0) lwc_cli_error("encode", "%s", lwc_strerror(r));
    if (ctx) ret = run(&o, ctx, &img);
    lwc_close(&ctx);
    lwc_model_free(&m);
    lwc_image_free(&img);
    return ret;
}
