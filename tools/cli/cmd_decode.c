/* lwc decode: .lwc -> PNG / PPM / PGM */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "codec/io/imageio.h"
#include "tools/cli/cli.h"

#define MAX_STREAM ((size_t)1 << 30)

typedef struct DecOpts {
    const char *in, *out, *model;
    int format, threads, verbose, quiet, force, ref;
} DecOpts;

static void usage(FILE *f)
{
    fprintf(f, "usage: lwc decode INPUT.lwc -o OUTPUT [options]\n"
               "  -o, --output FILE  PNG (8/16-bit), PPM/PGM by extension; '-' writes PNG to stdout\n"
               "  --format F         png | ppm, overriding the extension\n"
               "  --model FILE       model (default: the shipped models/lwc-default.lwcm)\n"
               "  --threads N        worker threads, 1..64; default 1\n"
               "  --reference        plain C float kernels instead of OpenBLAS\n"
               "  -f, --force        allow OUTPUT to be the same file as INPUT\n"
               "  -v, --verbose      per-stage times\n"
               "  --quiet            print nothing on success\n");
}

static int parse(int argc, char **argv, DecOpts *o)
{
    static const struct option lo[] = {
        { "output", 1, 0, 'o' }, { "format", 1, 0, 'F' }, { "model", 1, 0, 'm' }, { "threads", 1, 0, 't' },
        { "reference", 0, 0, 'r' }, { "force", 0, 0, 'f' }, { "verbose", 0, 0, 'v' }, { "quiet", 0, 0, 'Q' },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    memset(o, 0, sizeof(*o));
    o->threads = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:fvh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'F':
            if (!strcmp(optarg, "png")) o->format = LWC_FMT_PNG;
            else if (!strcmp(optarg, "ppm") || !strcmp(optarg, "pgm")) o->format = LWC_FMT_PPM;
            else return lwc_cli_error("decode", "bad --format '%s' (png or ppm)", optarg) + 1;
            break;
        case 'm': o->model = optarg; break;
        case 't': if (lwc_cli_parse_int(optarg, 1, 64, &o->threads)) return lwc_cli_error("decode", "bad --threads value '%s' (expected 1..64)", optarg) + 1; break;
        case 'r': o->ref = 1; break;
        case 'f': o->force = 1; break;
        case 'v': o->verbose = 1; break;
        case 'Q': o->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        case ':': return lwc_cli_error("decode", "option '%s' needs a value", argv[optind - 1]) + 1;
        default: return lwc_cli_error("decode", "unknown option '%s' (try --help)", argv[optind - 1]) + 1;
        }
    }
    if (optind != argc - 1) return lwc_cli_error("decode", "expected one input file (try --help)") + 1;
    o->in = argv[optind];
    if (!o->out) return lwc_cli_error("decode", "missing -o OUTPUT") + 1;
    if (!o->force && lwc_cli_same_file(o->in, o->out))
        return lwc_cli_error("decode", "output '%s' is the input file (use --force to overwrite it)", o->out) + 1;
    return 0;
}

static int decode_buf(const DecOpts *o, LwcContext *ctx, const LwcModel *m, const uint8_t *buf, size_t len)
{
    LwcImage img;
    LwcStats st;
    int r = lwc_decode(ctx, buf, len, &img, &st);
    if (r == LWC_ERR_MODEL) {
        LwcStreamInfo si;
        lwc_stream_info(buf, len, &si);
        return lwc_cli_error("decode", "'%s' needs model %016" PRIx64 ", but the loaded model is %016" PRIx64,
                             o->in, si.model_id, lwc_model_id(m));
    }
    if (r < 0) return lwc_cli_error("decode", "cannot decode '%s': %s", o->in, lwc_strerror(r));
    char err[256];
    r = lwc_image_write_file(o->out, &img, o->format, 90, err, sizeof(err));
    if (r < 0) {
        lwc_image_free(&img);
        return lwc_cli_error("decode", "cannot write '%s': %s", o->out, err);
    }
    if (!o->quiet) {
        FILE *f = strcmp(o->out, "-") ? stdout : stderr;
        fprintf(f, "%s -> %s: %dx%d, %d channel(s), %d-bit, %.3f s\n", o->in, o->out, img.width,
                img.height, img.channels, img.bit_depth, st.t_total);
        if (o->verbose)
            fprintf(f, "  stages: hyper %.3f s, entropy %.3f s, synthesis %.3f s\n", st.t_hyper,
                    st.t_entropy, st.t_synthesis);
    }
    lwc_image_free(&img);
    return 0;
}

int lwc_cmd_decode(int argc, char **argv)
{
    DecOpts o;
    int pr = parse(argc, argv, &o);
    if (pr) return pr < 0 ? 0 : pr;
    uint8_t *buf;
    size_t len;
    int r = lwc_cli_read_all(o.in, MAX_STREAM, &buf, &len);
    if (r < 0) return lwc_cli_error("decode", "cannot read '%s': %s", o.in, lwc_strerror(r));
    LwcStreamInfo si;
    if ((r = lwc_stream_info(buf, len, &si)) < 0) {
        lwc_free_buffer(buf);
        return lwc_cli_error("decode", "'%s' is not a valid lwc stream: %s", o.in, lwc_strerror(r));
    }
    LwcModel *m = lwc_cli_load_model("decode", o.model);
    LwcContext *ctx = NULL;
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = o.threads;
    s.reference_kernels = o.ref;
    int ret = 1;
    if (m && (r = lwc_open(&ctx, m, &s)) < 0) lwc_cli_error("decode", "%s", lwc_strerror(r));
    if (ctx) ret = decode_buf(&o, ctx, m, buf, len);
    lwc_close(&ctx);
    lwc_model_free(&m);
    lwc_free_buffer(buf);
    return ret;
}
