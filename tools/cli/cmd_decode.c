/* lwc decode: .lwc -> PNG / PPM / PGM; .lwcv -> Y4M / raw RGB, or through
 * FFmpeg's libraries to FFV1 (MKV, NUT), PNG (MP4) or an image pattern */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "imageio/imageio.h"
#include "tools/cli/cli.h"
#include "tools/cli/cli_libav.h"
#include "tools/cli/cli_video.h"

#define MAX_STREAM ((size_t)1 << 30)
/* Video output formats (--format y4m | rgb), beside the LWC_FMT_* image ones. */
enum { FMT_Y4M = 100, FMT_RAW = 101 };
/* Where a .lwcv's frames go. */
enum { OUT_Y4M, OUT_RAW, OUT_AV, OUT_REFUSED };

typedef struct DecOpts {
    const char *in, *out, *model;
    int format, threads, verbose, quiet, force, ref;
} DecOpts;

static void usage(FILE *f)
{
    fprintf(f, "usage: lwc decode INPUT.lwc -o OUTPUT [options]\n"
               "       lwc decode INPUT.lwcv -o OUTPUT.y4m|.mkv|.nut|.mp4|out_%%03d.png [options]\n"
               "  -o, --output FILE  PNG (8/16-bit), PPM/PGM by extension; '-' writes PNG to stdout.\n"
               "                     For a .lwcv: Y4M in the source's layout (RGB sources as C444),\n"
               "                     or raw frames for .rgb (packed RGB24; gray8 for gray streams);\n"
               "                     '-' writes Y4M to stdout. Through FFmpeg's libraries, lossless\n"
               "                     at the stream's frame rate: .mkv/.nut (FFV1), .mp4 (PNG), or an\n"
               "                     image pattern such as out_%%03d.png (numbered from 1)\n"
               "  --format F         png | ppm (images), y4m | rgb (video), overriding the extension\n"
               "  --model FILE       model (default: the shipped models/lwc-default.lwcm)\n"
               "  --threads N        worker threads, 1..64; default: the CPU cores (%d here)\n"
               "  --reference        plain C float kernels instead of OpenBLAS\n"
               "  -f, --force        allow OUTPUT to be the same file as INPUT\n"
               "  -v, --verbose      per-stage times\n"
               "  --quiet            print nothing on success\n", lwc_cli_default_threads());
}

static int parse(int argc, char **argv, DecOpts *o)
{
    static const struct option lo[] = {
        { "output", 1, 0, 'o' }, { "format", 1, 0, 'F' }, { "model", 1, 0, 'm' }, { "threads", 1, 0, 't' },
        { "reference", 0, 0, 'r' }, { "force", 0, 0, 'f' }, { "verbose", 0, 0, 'v' }, { "quiet", 0, 0, 'Q' },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    memset(o, 0, sizeof(*o));
    o->threads = lwc_cli_default_threads();
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:fvh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'F':
            if (!strcmp(optarg, "png")) o->format = LWC_FMT_PNG;
            else if (!strcmp(optarg, "ppm") || !strcmp(optarg, "pgm")) o->format = LWC_FMT_PPM;
            else if (!strcmp(optarg, "y4m")) o->format = FMT_Y4M;
            else if (!strcmp(optarg, "rgb")) o->format = FMT_RAW;
            else return lwc_cli_error("decode", "bad --format '%s' (png, ppm, y4m or rgb)", optarg) + 1;
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

/* ---- .lwcv -> Y4M or raw frames */

typedef struct VideoDec {
    const DecOpts *o;
    LwcContext *ctx;
    FILE *in;
    LwcVideoHeader vh;
    LwcY4mInfo yi;
    int raw;
    LwcCliOutput out;
    LwcAvWriter *av;
    uint8_t *pkt, *frame;
    size_t pkt_cap;
    double seconds;
} VideoDec;

static int model_mismatch(const char *in, uint64_t want, const LwcModel *m)
{
    return lwc_cli_error("decode", "'%s' needs model %016" PRIx64 ", but the loaded model is %016" PRIx64,
                         in, want, lwc_model_id(m));
}

/* Read packet n into v->pkt: 1 read, 0 clean end, else the exit code (negated). */
static int video_read_packet(VideoDec *v, uint32_t n, size_t *len)
{
    uint8_t prefix[LWC_VIDEO_PREFIX_SIZE];
    size_t got;
    int r = lwc_cli_read_exact(v->in, prefix, sizeof(prefix), &got);
    if (r == LWC_ERR_TRUNCATED && got == 0) return 0;
    if (r == 0) r = lwc_video_prefix_parse(&v->vh, prefix, len);
    if (r == 0 && *len > v->pkt_cap) {
        lwc_free(v->pkt);
        v->pkt_cap = 0;
        if (!(v->pkt = lwc_malloc(*len))) r = LWC_ERR_NOMEM;
        else v->pkt_cap = *len;
    }
    if (r == 0) r = lwc_cli_read_exact(v->in, v->pkt, *len, NULL);
    if (r == 0) r = lwc_video_packet_check(&v->vh, v->pkt, *len);
    if (r < 0) return -lwc_cli_error("decode", "cannot decode '%s': frame %u: %s", v->o->in, n, lwc_strerror(r));
    return 1;
}

static int video_write_frame(VideoDec *v, const LwcImage *img)
{
    char err[320];
    if (v->av) {
        if (lwc_av_writer_frame(v->av, img, err, sizeof(err)) == 0) return 0;
        return lwc_cli_error("decode", "cannot write '%s': %s", v->o->out, err);
    }
    if (!v->raw) {
        lwc_y4m_from_image(&v->yi, img, v->frame);
        if (lwc_y4m_write_frame(v->out.f, &v->yi, v->frame, err, sizeof(err)) == 0) return 0;
    } else {
        size_t row = (size_t)img->width * img->channels;
        int ok = 1;
        for (int y = 0; y < img->height && ok; y++) ok = fwrite(img->data + (size_t)y * img->stride, 1, row, v->out.f) == row;
        if (ok) return 0;
    }
    return lwc_cli_error("decode", "cannot write '%s'", v->o->out);
}

static int video_frames(VideoDec *v, uint32_t *count)
{
    uint32_t n = 0;
    for (;; n++) {
        size_t len;
        int r = video_read_packet(v, n, &len);
        if (r <= 0) {
            if (r < 0) return -r;
            break;
        }
        LwcImage img;
        LwcStats st;
        if ((r = lwc_decode(v->ctx, v->pkt, len, &img, &st)) < 0)
            return lwc_cli_error("decode", "cannot decode '%s': frame %u: %s", v->o->in, n, lwc_strerror(r));
        v->seconds += st.t_total;
        r = video_write_frame(v, &img);
        lwc_image_free(&img);
        if (r) return r;
    }
    if (v->vh.frame_count && n != v->vh.frame_count)
        return lwc_cli_error("decode", "cannot decode '%s': the header announces %u frames, the stream holds %u",
                             v->o->in, v->vh.frame_count, n);
    *count = n;
    return 0;
}

/* Y4M and raw frames by hand (pipes included); other names that one of
 * FFmpeg's muxers claims go through libavformat; a single image is refused. */
static int output_kind(const DecOpts *o)
{
    if (o->format == FMT_RAW) return OUT_RAW;
    if (o->format == FMT_Y4M || !strcmp(o->out, "-")) return OUT_Y4M;
    if (o->format == LWC_FMT_PNG || o->format == LWC_FMT_PPM) return OUT_REFUSED;
    const char *dot = strrchr(o->out, '.');
    if (dot && (!strcmp(dot, ".rgb") || !strcmp(dot, ".raw"))) return OUT_RAW;
    if (dot && !strcmp(dot, ".y4m")) return OUT_Y4M;
    if (lwc_format_from_path(o->out) >= 0 && !lwc_av_is_pattern(o->out)) return OUT_REFUSED;
    return lwc_av_output_wanted(o->out) ? OUT_AV : OUT_Y4M; /* unknown names: Y4M, as always */
}

static int video_setup_av(VideoDec *v)
{
    char err[320];
    int channels = v->vh.source_format == LWC_VIDEO_SRC_GRAY ? 1 : 3;
    int r = lwc_av_writer_open(v->o->out, v->vh.width, v->vh.height, channels, v->vh.fps_num, v->vh.fps_den, &v->av,
                               err, sizeof(err));
    return r < 0 ? lwc_cli_error("decode", "cannot write '%s': %s", v->o->out, err) : 0;
}

static int video_setup(VideoDec *v, const uint8_t *head, const LwcModel *m)
{
    uint8_t hdr[LWC_VIDEO_HEADER_SIZE];
    memcpy(hdr, head, 4);
    int r = lwc_cli_read_exact(v->in, hdr + 4, sizeof(hdr) - 4, NULL);
    if (r == 0) r = lwc_video_header_parse(hdr, sizeof(hdr), 0, &v->vh);
    if (r < 0) return lwc_cli_error("decode", "'%s' is not a valid lwc video: %s", v->o->in, lwc_strerror(r));
    if (v->vh.model_id != lwc_model_id(m)) return model_mismatch(v->o->in, v->vh.model_id, m);
    const DecOpts *o = v->o;
    int kind = output_kind(o);
    if (kind == OUT_REFUSED)
        return lwc_cli_error("decode", "a .lwcv decodes to Y4M (.y4m, '-'), raw frames (.rgb), .mkv, .nut, .mp4 "
                                       "or an image pattern such as out_%%03d.png, not to '%s'", o->out) + 1;
    if (kind == OUT_AV) return video_setup_av(v);
    v->raw = kind == OUT_RAW;
    v->yi = (LwcY4mInfo){ .width = v->vh.width, .height = v->vh.height, .fps_num = v->vh.fps_num,
                          .fps_den = v->vh.fps_den, .interlace = 'p',
                          .chroma = v->vh.source_format == LWC_VIDEO_SRC_RGB ? LWC_VIDEO_SRC_YUV444 : v->vh.source_format };
    if (!(v->frame = lwc_malloc(lwc_y4m_frame_size(&v->yi)))) return lwc_cli_error("decode", "%s", lwc_strerror(LWC_ERR_NOMEM));
    r = lwc_cli_output_open(o->out, 0, &v->out);
    if (r == LWC_ERR_INVAL) return lwc_cli_error("decode", "refusing to write binary data to a terminal");
    char err[256];
    if (r == 0 && !v->raw && lwc_y4m_write_header(v->out.f, &v->yi, err, sizeof(err)) < 0) r = LWC_ERR_IO;
    if (r < 0) return lwc_cli_error("decode", "cannot write '%s'", o->out);
    return 0;
}

static int video_commit(VideoDec *v)
{
    char err[320];
    if (v->av && lwc_av_writer_finish(v->av, err, sizeof(err)) < 0)
        return lwc_cli_error("decode", "cannot write '%s': %s", v->o->out, err);
    if (!v->av && lwc_cli_output_commit(&v->out) < 0) return lwc_cli_error("decode", "cannot write '%s'", v->o->out);
    return 0;
}

static int decode_video(const DecOpts *o, LwcContext *ctx, const LwcModel *m, LwcCliInput *in)
{
    VideoDec v;
    memset(&v, 0, sizeof(v));
    v.o = o;
    v.ctx = ctx;
    v.in = in->f;
    uint32_t n = 0;
    int ret = video_setup(&v, in->head, m);
    if (!ret) ret = video_frames(&v, &n);
    if (!ret) ret = video_commit(&v);
    lwc_cli_output_abort(&v.out);
    if (!ret && !o->quiet)
        fprintf(strcmp(o->out, "-") ? stdout : stderr, "%s -> %s: %dx%d, %u frame(s) at %u/%u fps, %s, %.3f s\n",
                o->in, o->out, v.vh.width, v.vh.height, n, v.vh.fps_num, v.vh.fps_den,
                v.av ? lwc_av_writer_desc(v.av) : v.raw ? (v.yi.chroma == LWC_VIDEO_SRC_GRAY ? "raw gray8" : "raw rgb24")
                                                      : lwc_y4m_chroma_name(v.yi.chroma),
                v.seconds);
    lwc_av_writer_close(&v.av);
    lwc_free(v.pkt);
    lwc_free(v.frame);
    return ret;
}

static LwcContext *open_ctx(const DecOpts *o, const LwcModel *m)
{
    LwcContext *ctx = NULL;
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = o->threads;
    s.reference_kernels = o->ref;
    int r;
    if (m && (r = lwc_open(&ctx, m, &s)) < 0) lwc_cli_error("decode", "%s", lwc_strerror(r));
    return ctx;
}

static int run_video(const DecOpts *o, LwcCliInput *in)
{
    LwcModel *m = lwc_cli_load_model("decode", o->model);
    LwcContext *ctx = open_ctx(o, m);
    int ret = ctx ? decode_video(o, ctx, m, in) : 1;
    lwc_close(&ctx);
    lwc_model_free(&m);
    return ret;
}

int lwc_cmd_decode(int argc, char **argv)
{
    DecOpts o;
    int pr = parse(argc, argv, &o);
    if (pr) return pr < 0 ? 0 : pr;
    uint8_t *buf;
    size_t len;
    LwcCliInput in;
    int r = lwc_cli_input_open(o.in, 4, &in);
    if (r == 0 && lwc_video_probe(in.head, in.n)) {
        int ret = run_video(&o, &in);
        lwc_cli_input_close(&in);
        return ret;
    }
    if (o.format == FMT_Y4M || o.format == FMT_RAW) {
        lwc_cli_input_close(&in);
        return lwc_cli_error("decode", "--format y4m and rgb are for .lwcv video input") + 1;
    }
    if (r == 0) r = lwc_cli_input_read_rest(&in, MAX_STREAM, &buf, &len); /* pipes cannot be reopened */
    else r = lwc_cli_read_all(o.in, MAX_STREAM, &buf, &len);
    lwc_cli_input_close(&in);
    if (r < 0) return lwc_cli_error("decode", "cannot read '%s': %s", o.in, lwc_strerror(r));
    LwcStreamInfo si;
    if ((r = lwc_stream_info(buf, len, &si)) < 0) {
        lwc_free_buffer(buf);
        return lwc_cli_error("decode", "'%s' is not a valid lwc stream: %s", o.in, lwc_strerror(r));
    }
    LwcModel *m = lwc_cli_load_model("decode", o.model);
    LwcContext *ctx = open_ctx(&o, m);
    int ret = ctx ? decode_buf(&o, ctx, m, buf, len) : 1;
    lwc_close(&ctx);
    lwc_model_free(&m);
    lwc_free_buffer(buf);
    return ret;
}
