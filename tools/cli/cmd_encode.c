/* lwc encode: image -> .lwc; Y4M, or any video FFmpeg's libraries decode -> .lwcv */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "codec/ystripes.h"
#include "imageio/imageio.h"
#include "tools/cli/cli.h"
#include "tools/cli/cli_libav.h"
#include "tools/cli/cli_video.h"
#include "tools/lib/metrics.h"

typedef struct EncOpts {
    const char *in, *out, *model, *dump_rgb;
    double quality, bpp;
    int threads, verbose, quiet, force, ref, stripe_rows, plain, effort;
} EncOpts;

static void usage(FILE *f)
{
    fprintf(f, "usage: lwc encode INPUT -o OUTPUT.lwc [options]\n"
               "       lwc encode VIDEO -o OUTPUT.lwcv [options]\n"
               "  INPUT              PNG, JPEG, PPM/PGM, or Y4M video (8-bit 420, 422, 444, mono;\n"
               "                     every frame coded as an image); '-' reads stdin\n"
               "  VIDEO              Y4M, or any video or image sequence (frame%%03d.png) FFmpeg's\n"
               "                     libraries decode: frames in RGB (the matrix and range the\n"
               "                     stream declares) or gray, at the stream's frame rate\n"
               "  -o, --output FILE  output stream ('-' writes stdout, never to a terminal)\n"
               "  -q, --quality Q    0 (smallest) .. 100 (best), fractional allowed; default 50\n"
               "  --bpp X            search the quality that lands closest to X bits per pixel\n"
               "  --model FILE       model (default: the shipped models/lwc-default.lwcm)\n"
               "  --threads N        worker threads, 1..64; default: the CPU cores (%d here)\n"
               "  --reference        plain C float kernels instead of OpenBLAS\n"
               "  -e, --effort N     1 (fastest) .. 9 (smallest); default 2. 1: plain rounding;\n"
               "                     2: rate-distortion choice of each latent; 3..9: the latents\n"
               "                     are also searched through the decoder for this image\n"
               "                     (20 .. 400 steps, each about 3 decodes' time; see\n"
               "                     docs/encoder-search.md and docs/performance.md)\n"
               "  --plain-rounding   round each latent to its nearest step instead of choosing\n"
               "                     the cheaper of the two in rate + distortion (larger files)\n"
               "  --stripe-rows N    testing: latent rows per entropy-coded stripe of y, 1..65536\n"
               "                     (default: chosen from the image size; see docs/bitstream.md)\n"
               "  -f, --force        allow OUTPUT to be the same file as INPUT\n"
               "  --dump-rgb FILE    video: also write the frames as coded, raw RGB24 (gray8 for\n"
               "                     gray), to check the colour conversion\n"
               "  -v, --verbose      per-stage times and section sizes\n"
               "  --quiet            print nothing on success\n", lwc_cli_default_threads());
}

static int parse(int argc, char **argv, EncOpts *o)
{
    static const struct option lo[] = {
        { "output", 1, 0, 'o' }, { "quality", 1, 0, 'q' }, { "bpp", 1, 0, 'b' }, { "model", 1, 0, 'm' },
        { "threads", 1, 0, 't' }, { "reference", 0, 0, 'r' }, { "force", 0, 0, 'f' },
        { "stripe-rows", 1, 0, 's' }, { "plain-rounding", 0, 0, 'P' }, { "effort", 1, 0, 'e' },
        { "verbose", 0, 0, 'v' }, { "quiet", 0, 0, 'Q' }, { "help", 0, 0, 'h' }, { "dump-rgb", 1, 0, 'D' },
        { 0, 0, 0, 0 } };
    memset(o, 0, sizeof(*o));
    o->quality = 50; o->bpp = -1; o->threads = lwc_cli_default_threads(); o->effort = LWC_EFFORT_DEFAULT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:q:e:fvh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'q': if (lwc_cli_parse_double(optarg, 0, 100, &o->quality)) return lwc_cli_error("encode", "bad -q value '%s' (expected 0..100)", optarg) + 1; break;
        case 'b': if (lwc_cli_parse_double(optarg, 0.001, 64, &o->bpp)) return lwc_cli_error("encode", "bad --bpp value '%s' (expected 0.001..64)", optarg) + 1; break;
        case 'm': o->model = optarg; break;
        case 't': if (lwc_cli_parse_int(optarg, 1, 64, &o->threads)) return lwc_cli_error("encode", "bad --threads value '%s' (expected 1..64)", optarg) + 1; break;
        case 'r': o->ref = 1; break;
        case 'P': o->plain = 1; break;
        case 'e': if (lwc_cli_parse_int(optarg, LWC_EFFORT_MIN, LWC_EFFORT_MAX, &o->effort)) return lwc_cli_error("encode", "bad --effort value '%s' (expected 1..9)", optarg) + 1; break;
        case 's': if (lwc_cli_parse_int(optarg, 1, 65536, &o->stripe_rows)) return lwc_cli_error("encode", "bad --stripe-rows value '%s' (expected 1..65536)", optarg) + 1; break;
        case 'f': o->force = 1; break;
        case 'v': o->verbose = 1; break;
        case 'Q': o->quiet = 1; break;
        case 'D': o->dump_rgb = optarg; break;
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

/* Progress line on stderr (only when it is a terminal): stage, step, rate, PSNR. */
static void progress(void *opaque, const LwcProgress *p)
{
    fprintf(stderr, "\r  %s %d/%d: %.4f bpp, %.2f dB  ", p->stage, p->step, p->steps, p->bpp, p->psnr);
    if (p->step == p->steps) fputs("\r\033[K", stderr);
    fflush(stderr);
}

static int encode_at(const EncOpts *o, LwcContext *ctx, const LwcImage *img, double q, int effort,
                     uint8_t **buf, size_t *len, LwcImage *recon, LwcStats *st)
{
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    p.quality = q;
    p.plain_rounding = o->plain;
    p.effort = effort;
    if (effort > LWC_EFFORT_DEFAULT && !o->quiet && isatty(2)) p.progress = progress;
    return lwc_encode(ctx, img, &p, buf, len, recon, st);
}

/* Bisection on q with real encodes at the default effort (or below):
 * rate grows with q. *bpp_out: the rate at the q chosen. */
static int search_bpp(const EncOpts *o, LwcContext *ctx, const LwcImage *img, double target, double *q_out,
                      double *bpp_out)
{
    double lo = 0, hi = 100, best_q = 50, best_err = INFINITY, px = (double)img->width * img->height;
    for (int it = 0; it < 12; it++) {
        double q = it == 0 ? 50 : (lo + hi) / 2;
        uint8_t *buf;
        size_t len;
        int r = encode_at(o, ctx, img, q, LWC_MIN(o->effort, LWC_EFFORT_DEFAULT), &buf, &len, NULL, NULL);
        if (r < 0) return r;
        lwc_free_buffer(buf);
        double bpp = 8.0 * len / px;
        if (fabs(bpp - target) < best_err) { best_err = fabs(bpp - target); best_q = q; *bpp_out = bpp; }
        if (bpp > target) hi = q; else lo = q;
    }
    *q_out = best_q;
    return 0;
}

/* Encode at o->quality, or at the quality that lands closest to --bpp.
 * Above the default effort the q search runs at the default effort; the
 * searched encode's rate then differs by a factor that the second q
 * search corrects (target / factor), and the closer of the two searched
 * encodes is kept. */
static int encode_target(const EncOpts *o, LwcContext *ctx, const LwcImage *img, double *q, uint8_t **buf,
                         size_t *len, LwcImage *recon, LwcStats *st)
{
    double px = (double)img->width * img->height, base_bpp = 0;
    *q = o->quality;
    if (o->bpp > 0) LWC_FWD(search_bpp(o, ctx, img, o->bpp, q, &base_bpp));
    LWC_FWD(encode_at(o, ctx, img, *q, o->effort, buf, len, recon, st));
    double got = 8.0 * *len / px;
    if (o->bpp <= 0 || o->effort <= LWC_EFFORT_DEFAULT || fabs(got / o->bpp - 1) < 0.01 || base_bpp <= 0) return 0;
    double q2, bpp2;
    if (search_bpp(o, ctx, img, o->bpp * base_bpp / got, &q2, &bpp2) < 0) return 0; /* keep the first */
    uint8_t *b2;
    size_t l2;
    LwcImage r2;
    LwcStats s2;
    if (encode_at(o, ctx, img, q2, o->effort, &b2, &l2, &r2, &s2) < 0) return 0;
    if (fabs(8.0 * l2 / px - o->bpp) >= fabs(got - o->bpp)) {
        lwc_free_buffer(b2);
        lwc_image_free(&r2);
        return 0;
    }
    lwc_free_buffer(*buf);
    lwc_image_free(recon);
    *buf = b2; *len = l2; *recon = r2; *q = q2;
    s2.t_total += st->t_total;
    *st = s2;
    return 0;
}

static void report(const EncOpts *o, const LwcImage *img, const LwcImage *recon, size_t len,
                   double q, const LwcStats *st)
{
    double bpp = 8.0 * len / ((double)img->width * img->height);
    double psnr = lwc_metric_psnr(img, recon); /* only PSNR: SSIM costs a fifth of an encode */
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
    double q;
    uint8_t *buf = NULL;
    size_t len;
    LwcImage recon;
    LwcStats st;
    int r = encode_target(o, ctx, img, &q, &buf, &len, &recon, &st);
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

/* ---- video (Y4M, or through FFmpeg's libraries) -> .lwcv */

typedef struct VideoRun {
    const EncOpts *o;
    LwcContext *ctx;
    FILE *in;                   /* Y4M input */
    LwcY4mInfo yi;
    LwcAvReader *av;            /* else input through libavformat */
    LwcAvInfo ai;
    LwcVideoHeader vh;
    LwcCliOutput out, dump;
    uint8_t *frame;
    LwcImage img;
    uint64_t bytes;
    double sum_psnr, sum_q, seconds;
    int finite_psnr;
} VideoRun;

/* Code the frame in v->img and append it to the output. */
static int video_frame(VideoRun *v, uint32_t n)
{
    const EncOpts *o = v->o;
    double q;
    uint8_t *buf = NULL, prefix[LWC_VIDEO_PREFIX_SIZE];
    size_t len = 0;
    LwcImage recon = { 0 };
    LwcStats st;
    int r = encode_target(o, v->ctx, &v->img, &q, &buf, &len, &recon, &st);
    if (r < 0) return lwc_cli_error("encode", "'%s': frame %u: %s", o->in, n, lwc_strerror(r));
    r = lwc_video_prefix_write(&v->vh, len, prefix);
    if (r == 0 && (fwrite(prefix, 1, sizeof(prefix), v->out.f) != sizeof(prefix) ||
                   fwrite(buf, 1, len, v->out.f) != len))
        r = LWC_ERR_IO;
    double psnr = lwc_metric_psnr(&v->img, &recon);
    lwc_free_buffer(buf);
    lwc_image_free(&recon);
    if (r == LWC_ERR_IO) return lwc_cli_error("encode", "cannot write '%s'", o->out);
    if (r < 0) return lwc_cli_error("encode", "'%s': frame %u: %s", o->in, n, lwc_strerror(r));
    v->bytes += len;
    v->sum_q += q;
    v->seconds += st.t_total;
    if (isfinite(psnr)) { v->sum_psnr += psnr; v->finite_psnr++; }
    if (o->verbose && !o->quiet)
        fprintf(strcmp(o->out, "-") ? stdout : stderr, "  frame %u: %zu bytes, %.4f bpp, q %.2f, PSNR %.2f dB, %.3f s\n",
                n, len, 8.0 * len / ((double)v->img.width * v->img.height), q, psnr, st.t_total);
    return 0;
}

static int video_header(VideoRun *v)
{
    uint8_t hdr[LWC_VIDEO_HEADER_SIZE];
    int r = lwc_video_header_write(&v->vh, hdr);
    if (r < 0) return lwc_cli_error("encode", "'%s': %s", v->o->in, lwc_strerror(r));
    if (fwrite(hdr, 1, sizeof(hdr), v->out.f) != sizeof(hdr)) return lwc_cli_error("encode", "cannot write '%s'", v->o->out);
    return 0;
}

/* --dump-rgb: the frame as it is coded, raw rows. */
static int video_dump(VideoRun *v)
{
    if (!v->dump.f) return 0;
    size_t row = (size_t)v->img.width * v->img.channels;
    for (int y = 0; y < v->img.height; y++)
        if (fwrite(v->img.data + (size_t)y * v->img.stride, 1, row, v->dump.f) != row)
            return lwc_cli_error("encode", "cannot write '%s'", v->o->dump_rgb);
    return 0;
}

/* The next frame into v->img: 1, 0 at the end, or -(exit code). Reader
 * messages that concern a frame name it themselves ("frame N: ..."). */
static int video_next(VideoRun *v, uint32_t n)
{
    char err[320];
    if (v->av) {
        int r = lwc_av_reader_next(v->av, &v->img, err, sizeof(err));
        return r < 0 ? -lwc_cli_error("encode", "cannot read '%s': %s", v->o->in, err) : r;
    }
    int r = lwc_y4m_read_frame(v->in, &v->yi, v->frame, err, sizeof(err));
    if (r < 0) return -lwc_cli_error("encode", "cannot read '%s': frame %u: %s", v->o->in, n, err);
    if (r > 0) lwc_y4m_to_image(&v->yi, v->frame, &v->img);
    return r;
}

/* Frames until the end of input; returns 0 or the exit code. */
static int video_frames(VideoRun *v, uint32_t *count)
{
    uint32_t n = 0;
    for (;; n++) {
        int r = video_next(v, n);
        if (r < 0) return -r;
        if (r == 0) break;
        if (n == UINT32_MAX) return lwc_cli_error("encode", "'%s': too many frames", v->o->in);
        if (video_dump(v) || video_frame(v, n)) return 1;
    }
    if (n == 0) return lwc_cli_error("encode", "'%s' holds no frames", v->o->in);
    *count = n;
    return 0;
}

/* One summary line; for FFmpeg input it names the decoder, the source pixel
 * format and the colour conversion used. */
static void video_report(const VideoRun *v, uint32_t n)
{
    const EncOpts *o = v->o;
    double px = (double)v->vh.width * v->vh.height * n;
    FILE *f = strcmp(o->out, "-") ? stdout : stderr;
    if (v->av)
        fprintf(f, "%s: %dx%d %s %s, matrix %s, range %s, ", o->in, v->vh.width, v->vh.height, v->ai.codec,
                v->ai.pix_fmt, v->ai.matrix, v->ai.range);
    else
        fprintf(f, "%s: %dx%d Y4M C%s, ", o->in, v->yi.width, v->yi.height, lwc_y4m_chroma_name(v->yi.chroma));
    fprintf(f, "%u frame(s) at %u/%u fps -> %s: %llu bytes, %.4f bpp, q %.2f, mean PSNR %.2f dB, %.3f s\n",
            n, v->vh.fps_num, v->vh.fps_den, o->out, (unsigned long long)v->bytes, 8.0 * v->bytes / px,
            v->sum_q / n, v->finite_psnr ? v->sum_psnr / v->finite_psnr : INFINITY, v->seconds);
}

static int open_outputs(VideoRun *v)
{
    int r = lwc_cli_output_open(v->o->out, 0, &v->out);
    if (r == LWC_ERR_INVAL) return lwc_cli_error("encode", "refusing to write binary data to a terminal");
    if (r < 0) return lwc_cli_error("encode", "cannot write '%s'", v->o->out);
    if (v->o->dump_rgb && lwc_cli_output_open(v->o->dump_rgb, 0, &v->dump) < 0)
        return lwc_cli_error("encode", "cannot write '%s'", v->o->dump_rgb);
    return 0;
}

static int run_video_body(VideoRun *v)
{
    if (open_outputs(v)) return 1;
    uint32_t n = 0;
    if (video_header(v) || video_frames(v, &n)) return 1;
    if (lwc_cli_output_seekable(&v->out)) {
        v->vh.frame_count = n;
        if (fseek(v->out.f, 0, SEEK_SET) || video_header(v)) return 1;
    }
    if (v->dump.f && lwc_cli_output_commit(&v->dump) < 0) return lwc_cli_error("encode", "cannot write '%s'", v->o->dump_rgb);
    if (lwc_cli_output_commit(&v->out) < 0) return lwc_cli_error("encode", "cannot write '%s'", v->o->out);
    if (!v->o->quiet) video_report(v, n);
    return 0;
}

static int run_video_with(VideoRun *v, int channels)
{
    int ret;
    v->img = (LwcImage){ 0 };
    if (lwc_image_alloc(&v->img, v->vh.width, v->vh.height, channels, 8) < 0)
        ret = lwc_cli_error("encode", "%s", lwc_strerror(LWC_ERR_NOMEM));
    else
        ret = run_video_body(v);
    lwc_cli_output_abort(&v->dump);
    lwc_cli_output_abort(&v->out);
    lwc_image_free(&v->img);
    return ret;
}

static int run_video(const EncOpts *o, LwcContext *ctx, const LwcModel *m, FILE *in)
{
    char err[256];
    VideoRun v;
    memset(&v, 0, sizeof(v));
    v.o = o;
    v.ctx = ctx;
    v.in = in;
    int r = lwc_y4m_read_header(in, 1, &v.yi, err, sizeof(err));
    if (r < 0) return lwc_cli_error("encode", "cannot read '%s': %s", o->in, err);
    v.vh = (LwcVideoHeader){ .width = v.yi.width, .height = v.yi.height, .fps_num = v.yi.fps_num,
                             .fps_den = v.yi.fps_den, .model_id = lwc_model_id(m), .source_format = v.yi.chroma };
    if (!(v.frame = lwc_malloc(lwc_y4m_frame_size(&v.yi)))) return lwc_cli_error("encode", "%s", lwc_strerror(LWC_ERR_NOMEM));
    int ret = run_video_with(&v, lwc_y4m_image_channels(&v.yi));
    lwc_free(v.frame);
    return ret;
}

/* Video through libavformat: the same frame coding as Y4M, so equal RGB
 * frames give equal packets whatever the container. */
static int run_av(const EncOpts *o, LwcContext *ctx, const LwcModel *m, uint64_t max_pixels)
{
    char err[320];
    VideoRun v;
    memset(&v, 0, sizeof(v));
    v.o = o;
    v.ctx = ctx;
    int r = lwc_av_reader_open(o->in, max_pixels, o->threads, &v.av, &v.ai, err, sizeof(err));
    if (r < 0) return lwc_cli_error("encode", "cannot read '%s': %s", o->in, err);
    v.vh = (LwcVideoHeader){ .width = v.ai.width, .height = v.ai.height, .fps_num = v.ai.fps_num,
                             .fps_den = v.ai.fps_den, .model_id = lwc_model_id(m), .source_format = v.ai.source_format };
    int ret = run_video_with(&v, v.ai.channels);
    lwc_av_reader_close(&v.av);
    return ret;
}

/* Read an image input (the peeked bytes were not Y4M); 0 or the exit code. */
static int read_image(const EncOpts *o, LwcCliInput *in, LwcImage *img)
{
    char err[256];
    int r;
    if (!in->f) { /* could not be opened: the reader names the reason */
        r = lwc_image_read_file(o->in, img, err, sizeof(err));
    } else { /* read on from the open handle: a pipe cannot be reopened */
        uint8_t *buf;
        size_t len;
        r = lwc_cli_input_read_rest(in, LWC_IO_MAX_FILE, &buf, &len);
        if (r < 0) snprintf(err, sizeof(err), "%s", lwc_strerror(r));
        else {
            r = lwc_image_read_mem(buf, len, img, err, sizeof(err));
            lwc_free_buffer(buf);
        }
    }
    const char *av = lwc_av_plugin_error(); /* set when a probe as video could not run */
    if (r < 0) return lwc_cli_error("encode", "cannot read '%s': %s%s%s", o->in, err, av ? "; not tried as video: " : "", av ? av : "");
    if (img->bit_depth == 16 && !o->quiet)
        fprintf(stderr, "lwc encode: note: 16-bit input is coded at 8-bit precision\n");
    return 0;
}

int lwc_cmd_encode(int argc, char **argv)
{
    EncOpts o;
    int pr = parse(argc, argv, &o);
    if (pr) return pr < 0 ? 0 : pr;
    LwcCliInput in;
    LwcImage img = { 0 };
    int video = lwc_cli_input_open(o.in, 9, &in) == 0 && in.n == 9 && !memcmp(in.head, "YUV4MPEG2", 9);
    /* not Y4M, not an image by its magic bytes: FFmpeg's demuxers may know it */
    int av = !video && (in.f ? lwc_format_detect(in.head, in.n) < 0 : 1) && lwc_av_input_wanted(o.in);
    if (o.dump_rgb && !video && !av) {
        lwc_cli_input_close(&in);
        return lwc_cli_error("encode", "--dump-rgb is for video input") + 1;
    }
    if (!video && !av && read_image(&o, &in, &img)) {
        lwc_cli_input_close(&in);
        return 1;
    }
    LwcModel *m = lwc_cli_load_model("encode", o.model);
    LwcContext *ctx = NULL;
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = o.threads;
    s.reference_kernels = o.ref;
    lwc_set_ystripe_rows(o.stripe_rows);
    int ret = 1, r;
    if (m && (r = lwc_open(&ctx, m, &s)) < 0) lwc_cli_error("encode", "%s", lwc_strerror(r));
    if (ctx && av) ret = run_av(&o, ctx, m, s.max_pixels);
    else if (ctx) ret = video ? run_video(&o, ctx, m, in.f) : run(&o, ctx, &img);
    lwc_close(&ctx);
    lwc_model_free(&m);
    lwc_image_free(&img);
    lwc_cli_input_close(&in);
    return ret;
}
