/*
 * lwc filter: code every frame with the lwc learned image codec and output
 * the reconstruction.
 *
 * This file is part of lwc (BSD-2-Clause). It is copied into an FFmpeg 5.1
 * tree by tools/ffmpeg/build-ffmpeg.sh and links liblwc through pkg-config.
 */

/**
 * @file
 * Each input frame is encoded with lwc_encode() at the given quality; the
 * encoder's reconstruction (bit-exact with what lwc_decode() gives for the
 * stream, by liblwc's contract) is the output frame. Per frame the metadata
 * lavfi.lwc.bytes, lavfi.lwc.bpp and lavfi.lwc.psnr (RGB PSNR in dB, as
 * `lwc compare` computes it; "inf" for an exact frame) is attached, and
 * optionally a CSV line (stats_file) and a .lwcv packet (bitstream) written.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwc.h"

#include "libavutil/avstring.h"
#include "libavutil/dict.h"
#include "libavutil/imgutils.h"
#include "libavutil/internal.h"
#include "libavutil/opt.h"
#include "libavutil/time.h"
#include "avfilter.h"
#include "formats.h"
#include "internal.h"
#include "video.h"

#if defined(__has_include)
#if __has_include("vf_lwc_config.h")
#include "vf_lwc_config.h" /* written by build-ffmpeg.sh: the installed model */
#endif
#endif
#ifndef LWC_FILTER_DEFAULT_MODEL
#define LWC_FILTER_DEFAULT_MODEL "/usr/local/share/lwc/lwc-default.lwcm"
#endif

typedef struct LwcFilterContext {
    const AVClass *class;
    /* options */
    double quality;
    char *model_path;
    int threads;
    int effort;
    char *stats_file_str;
    char *bitstream_str;

    LwcModel *model;
    LwcContext *codec;
    FILE *stats_file;
    FILE *bitstream;
    LwcVideoHeader vh;      ///< sequence header of the .lwcv being written
    uint8_t *rgb;           ///< packed RGB input when the frame is not (gbrp, negative stride)
    int w, h;               ///< the configured frame size (s->rgb, the .lwcv header)
    int64_t nb_frames;
    double sum_psnr, sum_bpp;
    int nb_finite_psnr;
} LwcFilterContext;

#define OFFSET(x) offsetof(LwcFilterContext, x)
#define FLAGS AV_OPT_FLAG_FILTERING_PARAM | AV_OPT_FLAG_VIDEO_PARAM

static const AVOption lwc_options[] = {
    { "quality",    "coding quality, 0 (smallest) .. 100 (best)", OFFSET(quality), AV_OPT_TYPE_DOUBLE, { .dbl = 50 }, 0, 100, FLAGS },
    { "q",          "same as quality",                           OFFSET(quality), AV_OPT_TYPE_DOUBLE, { .dbl = 50 }, 0, 100, FLAGS },
    { "model",      "lwc model file (.lwcm); default $LWC_MODEL, else the installed model", OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { "effort",     "encoder effort, 1 (fastest) .. 9 (smallest)", OFFSET(effort), AV_OPT_TYPE_INT, { .i64 = LWC_EFFORT_DEFAULT }, LWC_EFFORT_MIN, LWC_EFFORT_MAX, FLAGS },
    { "threads",    "lwc worker threads",                        OFFSET(threads), AV_OPT_TYPE_INT, { .i64 = 1 }, 1, 64, FLAGS },
    { "stats_file", "write per-frame CSV statistics to this file ('-' = stdout)", OFFSET(stats_file_str), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { "f",          "same as stats_file",                        OFFSET(stats_file_str), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { "bitstream",  "write every coded frame to this .lwcv file", OFFSET(bitstream_str), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, FLAGS },
    { NULL }
};

AVFILTER_DEFINE_CLASS(lwc);

static int lwc_to_averror(int r)
{
    switch (r) {
    case LWC_ERR_NOMEM: return AVERROR(ENOMEM);
    case LWC_ERR_INVAL: return AVERROR(EINVAL);
    case LWC_ERR_IO:    return AVERROR(EIO);
    case LWC_ERR_TOO_BIG:
    case LWC_ERR_UNSUPPORTED: return AVERROR(ENOSYS);
    default:            return AVERROR_EXTERNAL;
    }
}

static int load_model(AVFilterContext *ctx)
{
    LwcFilterContext *s = ctx->priv;
    const char *env = getenv("LWC_MODEL");
    const char *path = s->model_path && *s->model_path ? s->model_path
                     : env && *env ? env : LWC_FILTER_DEFAULT_MODEL;
    const char *from = s->model_path && *s->model_path ? "the model option"
                     : env && *env ? "$LWC_MODEL" : "the default location";
    int r = access(path, R_OK) ? LWC_ERR_IO : lwc_model_load_file(&s->model, path);
    if (r < 0) {
        av_log(ctx, AV_LOG_ERROR, "cannot load the lwc model '%s' (from %s): %s%s\n", path, from,
               r == LWC_ERR_IO ? strerror(errno) : lwc_strerror(r),
               s->model_path ? "" : "; set model=FILE.lwcm or $LWC_MODEL");
        return lwc_to_averror(r) == AVERROR_EXTERNAL ? AVERROR(EINVAL) : lwc_to_averror(r);
    }
    av_log(ctx, AV_LOG_VERBOSE, "model %s (id %016" PRIx64 ")\n", path, lwc_model_id(s->model));
    return 0;
}

static int open_output(AVFilterContext *ctx, const char *path, const char *what, FILE **f)
{
    *f = strcmp(path, "-") ? avpriv_fopen_utf8(path, "wb") : stdout;
    if (!*f) {
        int err = AVERROR(errno);
        av_log(ctx, AV_LOG_ERROR, "cannot open the %s '%s' for writing: %s\n", what, path, av_err2str(err));
        return err;
    }
    return 0;
}

static av_cold int init(AVFilterContext *ctx)
{
    LwcFilterContext *s = ctx->priv;
    LwcSettings st;
    int r, ret;

    if ((ret = load_model(ctx)) < 0)
        return ret;
    lwc_default_settings(&st);
    st.threads = s->threads;
    if ((r = lwc_open(&s->codec, s->model, &st)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "cannot open the lwc codec: %s\n", lwc_strerror(r));
        return lwc_to_averror(r);
    }
    if (s->stats_file_str) {
        if ((ret = open_output(ctx, s->stats_file_str, "stats file", &s->stats_file)) < 0)
            return ret;
        fprintf(s->stats_file, "frame,pts_time,bytes,bpp,psnr,quality,seconds\n");
    }
    if (s->bitstream_str) {
        if (!strcmp(s->bitstream_str, "-")) {
            av_log(ctx, AV_LOG_ERROR, "bitstream needs a file name, not '-'\n");
            return AVERROR(EINVAL);
        }
        if ((ret = open_output(ctx, s->bitstream_str, "bitstream", &s->bitstream)) < 0)
            return ret;
    }
    return 0;
}

static const enum AVPixelFormat pix_fmts[] = { AV_PIX_FMT_RGB24, AV_PIX_FMT_GBRP, AV_PIX_FMT_NONE };

static int write_header(AVFilterContext *ctx, int final)
{
    LwcFilterContext *s = ctx->priv;
    uint8_t hdr[LWC_VIDEO_HEADER_SIZE];
    int r;

    if (final) {
        /* Patch the frame count when the file is seekable; a pipe keeps 0 ("unknown"). */
        if (fseek(s->bitstream, 0, SEEK_SET))
            return 0;
        s->vh.frame_count = s->nb_frames <= UINT32_MAX ? (uint32_t)s->nb_frames : 0;
    }
    if ((r = lwc_video_header_write(&s->vh, hdr)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "bad .lwcv sequence header: %s\n", lwc_strerror(r));
        return AVERROR(EINVAL);
    }
    if (fwrite(hdr, 1, sizeof(hdr), s->bitstream) != sizeof(hdr)) {
        av_log(ctx, AV_LOG_ERROR, "cannot write the bitstream '%s'\n", s->bitstream_str);
        return AVERROR(EIO);
    }
    return 0;
}

static int config_input(AVFilterLink *inlink)
{
    AVFilterContext *ctx = inlink->dst;
    LwcFilterContext *s = ctx->priv;
    AVRational fr = inlink->frame_rate;

    av_freep(&s->rgb);
    if (av_image_check_size(inlink->w, inlink->h, 0, ctx) < 0)
        return AVERROR(EINVAL);
    s->rgb = av_malloc_array((size_t)inlink->w * 3, inlink->h);
    if (!s->rgb)
        return AVERROR(ENOMEM);
    s->w = inlink->w;
    s->h = inlink->h;
    if (!s->bitstream)
        return 0;
    if (s->nb_frames) {
        av_log(ctx, AV_LOG_ERROR, "the frame size changed mid-stream; a .lwcv holds one size\n");
        return AVERROR(EINVAL);
    }
    if (fr.num <= 0 || fr.den <= 0)
        fr = av_inv_q(inlink->time_base);
    if (fr.num <= 0 || fr.den <= 0)
        fr = (AVRational){ 25, 1 };
    s->vh.width = inlink->w;
    s->vh.height = inlink->h;
    s->vh.fps_num = fr.num;
    s->vh.fps_den = fr.den;
    s->vh.model_id = lwc_model_id(s->model);
    s->vh.frame_count = 0;
    s->vh.source_format = LWC_VIDEO_SRC_RGB;
    fseek(s->bitstream, 0, SEEK_SET); /* a second configuration before any frame rewrites the header */
    return write_header(ctx, 0);
}

/* Fill img with the frame as packed 8-bit RGB (pointing into the frame when it already is). */
static void frame_to_rgb(LwcFilterContext *s, const AVFrame *in, LwcImage *img)
{
    int w = in->width, h = in->height;

    img->width = w;
    img->height = h;
    img->channels = 3;
    img->bit_depth = 8;
    if (in->format == AV_PIX_FMT_RGB24 && in->linesize[0] > 0) {
        img->data = in->data[0];
        img->stride = in->linesize[0];
        return;
    }
    img->data = s->rgb;
    img->stride = (size_t)w * 3;
    for (int y = 0; y < h; y++) {
        uint8_t *d = s->rgb + (size_t)y * w * 3;
        /* gbrp: planes 0, 1, 2 are G, B, R */
        const uint8_t *g = in->data[0] + (ptrdiff_t)y * in->linesize[0], *b, *r;
        if (in->format == AV_PIX_FMT_RGB24) {
            memcpy(d, g, (size_t)w * 3);
            continue;
        }
        b = in->data[1] + (ptrdiff_t)y * in->linesize[1];
        r = in->data[2] + (ptrdiff_t)y * in->linesize[2];
        for (int x = 0; x < w; x++) {
            d[3 * x] = r[x];
            d[3 * x + 1] = g[x];
            d[3 * x + 2] = b[x];
        }
    }
}

static void rgb_to_frame(const LwcImage *img, AVFrame *out)
{
    for (int y = 0; y < img->height; y++) {
        const uint8_t *src = img->data + (size_t)y * img->stride;
        uint8_t *g = out->data[0] + (ptrdiff_t)y * out->linesize[0];
        uint8_t *b, *r;
        if (out->format == AV_PIX_FMT_RGB24) {
            memcpy(g, src, (size_t)img->width * 3);
            continue;
        }
        b = out->data[1] + (ptrdiff_t)y * out->linesize[1];
        r = out->data[2] + (ptrdiff_t)y * out->linesize[2];
        for (int x = 0; x < img->width; x++) {
            r[x] = src[3 * x];
            g[x] = src[3 * x + 1];
            b[x] = src[3 * x + 2];
        }
    }
}

/* PSNR over R, G, B with peak 255: the definition of `lwc compare`. */
static double rgb_psnr(const LwcImage *a, const LwcImage *b)
{
    uint64_t sse = 0;
    for (int y = 0; y < a->height; y++) {
        const uint8_t *pa = a->data + (size_t)y * a->stride, *pb = b->data + (size_t)y * b->stride;
        for (int x = 0; x < a->width * 3; x++) {
            int d = pa[x] - pb[x];
            sse += (uint64_t)(d * d);
        }
    }
    if (!sse)
        return INFINITY;
    return 10.0 * log10(255.0 * 255.0 / ((double)sse / (3.0 * a->width * a->height)));
}

static int write_packet(AVFilterContext *ctx, const uint8_t *buf, size_t len)
{
    LwcFilterContext *s = ctx->priv;
    uint8_t prefix[LWC_VIDEO_PREFIX_SIZE];
    int r = lwc_video_prefix_write(&s->vh, len, prefix);

    if (r < 0) {
        av_log(ctx, AV_LOG_ERROR, "frame %"PRId64": a %zu-byte packet does not fit a .lwcv: %s\n",
               s->nb_frames, len, lwc_strerror(r));
        return AVERROR(EINVAL);
    }
    if (fwrite(prefix, 1, sizeof(prefix), s->bitstream) != sizeof(prefix) ||
        fwrite(buf, 1, len, s->bitstream) != len) {
        av_log(ctx, AV_LOG_ERROR, "cannot write the bitstream '%s'\n", s->bitstream_str);
        return AVERROR(EIO);
    }
    return 0;
}

static void set_metadata(AVFrame *out, size_t len, double bpp, double psnr)
{
    char v[64];
    snprintf(v, sizeof(v), "%zu", len);
    av_dict_set(&out->metadata, "lavfi.lwc.bytes", v, 0);
    snprintf(v, sizeof(v), "%.6f", bpp);
    av_dict_set(&out->metadata, "lavfi.lwc.bpp", v, 0);
    if (isinf(psnr))
        snprintf(v, sizeof(v), "inf");
    else
        snprintf(v, sizeof(v), "%.4f", psnr);
    av_dict_set(&out->metadata, "lavfi.lwc.psnr", v, 0);
}

static int filter_frame(AVFilterLink *inlink, AVFrame *in)
{
    AVFilterContext *ctx = inlink->dst;
    LwcFilterContext *s = ctx->priv;
    AVFilterLink *outlink = ctx->outputs[0];
    LwcEncodeParams p;
    LwcImage img, recon = { 0 };
    uint8_t *buf = NULL;
    size_t len = 0;
    AVFrame *out = NULL;
    int64_t t0 = av_gettime_relative();
    double psnr, bpp, secs;
    int r, ret = 0;

    if (in->width != s->w || in->height != s->h) {
        av_log(ctx, AV_LOG_ERROR, "frame size %dx%d differs from the configured %dx%d\n",
               in->width, in->height, s->w, s->h);
        av_frame_free(&in);
        return AVERROR(EINVAL);
    }
    frame_to_rgb(s, in, &img);
    lwc_default_encode_params(&p);
    p.quality = s->quality;
    p.effort = s->effort;
    if ((r = lwc_encode(s->codec, &img, &p, &buf, &len, &recon, NULL)) < 0) {
        av_log(ctx, AV_LOG_ERROR, "frame %"PRId64": lwc_encode failed: %s\n", s->nb_frames, lwc_strerror(r));
        ret = lwc_to_averror(r);
        goto end;
    }
    psnr = rgb_psnr(&img, &recon);
    bpp = 8.0 * len / ((double)img.width * img.height);
    secs = (av_gettime_relative() - t0) / 1e6;

    if (s->bitstream && (ret = write_packet(ctx, buf, len)) < 0)
        goto end;
    out = ff_get_video_buffer(outlink, s->w, s->h);
    if (!out) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = av_frame_copy_props(out, in)) < 0)
        goto end;
    rgb_to_frame(&recon, out);
    set_metadata(out, len, bpp, psnr);
    if (s->stats_file)
        fprintf(s->stats_file, "%"PRId64",%.6f,%zu,%.6f,%.4f,%.2f,%.4f\n", s->nb_frames,
                in->pts == AV_NOPTS_VALUE ? NAN : in->pts * av_q2d(inlink->time_base),
                len, bpp, psnr, s->quality, secs);
    s->nb_frames++;
    s->sum_bpp += bpp;
    if (isfinite(psnr)) {
        s->sum_psnr += psnr;
        s->nb_finite_psnr++;
    }

end:
    lwc_free_buffer(buf);
    lwc_image_free(&recon);
    av_frame_free(&in);
    if (ret < 0) {
        av_frame_free(&out);
        return ret;
    }
    return ff_filter_frame(outlink, out);
}

static av_cold void uninit(AVFilterContext *ctx)
{
    LwcFilterContext *s = ctx->priv;

    if (s->nb_frames)
        av_log(ctx, AV_LOG_INFO, "%"PRId64" frames, mean %.4f bpp, mean PSNR %.3f dB\n", s->nb_frames,
               s->sum_bpp / s->nb_frames, s->nb_finite_psnr ? s->sum_psnr / s->nb_finite_psnr : INFINITY);
    if (s->bitstream) {
        if (s->vh.width)
            write_header(ctx, 1);
        if (fclose(s->bitstream))
            av_log(ctx, AV_LOG_ERROR, "error closing the bitstream '%s'\n", s->bitstream_str);
        s->bitstream = NULL;
    }
    if (s->stats_file) {
        if (s->stats_file != stdout && fclose(s->stats_file))
            av_log(ctx, AV_LOG_ERROR, "error closing the stats file '%s'\n", s->stats_file_str);
        else if (s->stats_file == stdout)
            fflush(stdout);
        s->stats_file = NULL;
    }
    av_freep(&s->rgb);
    lwc_close(&s->codec);
    lwc_model_free(&s->model);
}

static const AVFilterPad lwc_inputs[] = {
    {
        .name         = "default",
        .type         = AVMEDIA_TYPE_VIDEO,
        .filter_frame = filter_frame,
        .config_props = config_input,
    },
};

static const AVFilterPad lwc_outputs[] = {
    {
        .name = "default",
        .type = AVMEDIA_TYPE_VIDEO,
    },
};

const AVFilter ff_vf_lwc = {
    .name          = "lwc",
    .description   = NULL_IF_CONFIG_SMALL("Code each frame with the lwc learned image codec and output the reconstruction."),
    .priv_size     = sizeof(LwcFilterContext),
    .priv_class    = &lwc_class,
    .init          = init,
    .uninit        = uninit,
    FILTER_INPUTS(lwc_inputs),
    FILTER_OUTPUTS(lwc_outputs),
    FILTER_PIXFMTS_ARRAY(pix_fmts),
};
