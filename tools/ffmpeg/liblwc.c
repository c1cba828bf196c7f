/*
 * lwc encoder and decoder: the lwc learned image codec as an intra-only
 * video codec.
 *
 * This file is part of lwc (BSD-2-Clause). It is copied into an FFmpeg 5.1
 * tree (libavcodec/liblwc.c) by tools/ffmpeg/build-ffmpeg.sh, which also adds
 * AV_CODEC_ID_LWC with its descriptor, and links liblwc through pkg-config.
 */

/**
 * @file
 * Every packet is one complete lwc image stream, exactly the bytes
 * `lwc encode` writes for the same pixels, quality, effort and model (the
 * library's output does not depend on its thread count), so packets can be
 * cut out of a container and decoded by the CLI and vice versa. Every frame
 * is a key frame; there is no extradata: each stream's header carries its
 * size, channels and the id of the model that made it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lwc.h"

#include "libavutil/common.h"
#include "libavutil/cpu.h"
#include "libavutil/imgutils.h"
#include "libavutil/internal.h"
#include "libavutil/mem.h"
#include "libavutil/opt.h"
#include "libavutil/pixdesc.h"
#include "avcodec.h"
#include "codec_internal.h"
#include "config_components.h"
#include "encode.h"
#include "internal.h"

#if defined(__has_include)
#if __has_include("liblwc_config.h")
#include "liblwc_config.h" /* written by build-ffmpeg.sh: the installed model */
#endif
#endif
#ifndef LWC_CODEC_DEFAULT_MODEL
#define LWC_CODEC_DEFAULT_MODEL "/usr/local/share/lwc/lwc-default.lwcm"
#endif

typedef struct LwcCodecContext {
    const AVClass *class;
    /* options */
    double quality;
    int effort;
    char *model_path;

    LwcModel *model;
    LwcContext *codec;
    uint64_t max_pixels;    ///< liblwc's size cap (LwcSettings.max_pixels)
    uint8_t *packed;        ///< encoder: the frame rows packed when its linesize is negative
    size_t packed_size;
} LwcCodecContext;

#define OFFSET(x) offsetof(LwcCodecContext, x)

static int lwc_to_averror(int r)
{
    switch (r) {
    case LWC_ERR_NOMEM:       return AVERROR(ENOMEM);
    case LWC_ERR_INVAL:       return AVERROR(EINVAL);
    case LWC_ERR_IO:          return AVERROR(EIO);
    case LWC_ERR_UNSUPPORTED: return AVERROR_PATCHWELCOME;
    /* everything a damaged or foreign packet can cause: FFmpeg's decode loop
     * reports it for this frame and goes on with the next packet */
    case LWC_ERR_TRUNCATED:
    case LWC_ERR_CORRUPT:
    case LWC_ERR_CRC:
    case LWC_ERR_MAGIC:
    case LWC_ERR_VERSION:
    case LWC_ERR_MODEL:
    case LWC_ERR_TOO_BIG:     return AVERROR_INVALIDDATA;
    default:                  return AVERROR_EXTERNAL;
    }
}

/* The model option, else $LWC_MODEL, else the model installed with liblwc:
 * the same order as the lwc filter, so both pick the same model. */
static av_cold int lwc_init_common(AVCodecContext *avctx)
{
    LwcCodecContext *s = avctx->priv_data;
    const char *env = getenv("LWC_MODEL");
    const int opt = s->model_path && *s->model_path;
    const char *path = opt ? s->model_path : env && *env ? env : LWC_CODEC_DEFAULT_MODEL;
    const char *from = opt ? "the model option" : env && *env ? "$LWC_MODEL" : "the default location";
    LwcSettings st;
    int r;

    /* access() first so that a missing file is reported with errno's text,
     * not as a generic I/O error */
    r = access(path, R_OK) ? LWC_ERR_IO : lwc_model_load_file(&s->model, path);
    if (r < 0) {
        av_log(avctx, AV_LOG_ERROR, "cannot load the lwc model '%s' (from %s): %s%s\n", path, from,
               r == LWC_ERR_IO ? strerror(errno) : lwc_strerror(r),
               opt ? "" : "; set -model FILE.lwcm or $LWC_MODEL");
        return r == LWC_ERR_NOMEM ? AVERROR(ENOMEM) : AVERROR(EINVAL);
    }
    av_log(avctx, AV_LOG_VERBOSE, "model %s (id %016" PRIx64 ")\n", path, lwc_model_id(s->model));

    lwc_default_settings(&st);
    /* liblwc's own workers (its output is the same for every count); FFmpeg's
     * frame threading is not used, so thread_count is ours: 0 means auto */
    st.threads = av_clip(avctx->thread_count > 0 ? avctx->thread_count : av_cpu_count(), 1, 64);
    s->max_pixels = st.max_pixels;
    if ((r = lwc_open(&s->codec, s->model, &st)) < 0) {
        av_log(avctx, AV_LOG_ERROR, "cannot open the lwc codec: %s\n", lwc_strerror(r));
        return lwc_to_averror(r);
    }
    return 0;
}

static av_cold int lwc_close_common(AVCodecContext *avctx)
{
    LwcCodecContext *s = avctx->priv_data;

    av_freep(&s->packed);
    s->packed_size = 0;
    lwc_close(&s->codec);
    lwc_model_free(&s->model);
    return 0;
}

#if CONFIG_LIBLWC_ENCODER
static int lwc_encode_frame(AVCodecContext *avctx, AVPacket *pkt,
                            const AVFrame *frame, int *got_packet)
{
    LwcCodecContext *s = avctx->priv_data;
    LwcEncodeParams p;
    LwcImage img = { 0 };
    uint8_t *buf = NULL;
    size_t len = 0;
    int r, ret;

    switch (frame->format) {
    case AV_PIX_FMT_GRAY8: img.channels = 1; break;
    case AV_PIX_FMT_RGB24: img.channels = 3; break;
    case AV_PIX_FMT_RGBA:  img.channels = 4; break;
    default:
        av_log(avctx, AV_LOG_ERROR, "unsupported pixel format %s\n",
               av_get_pix_fmt_name(frame->format));
        return AVERROR(EINVAL);
    }
    img.width     = frame->width;
    img.height    = frame->height;
    img.bit_depth = 8;
    if (frame->linesize[0] > 0) {
        img.data   = frame->data[0];
        img.stride = frame->linesize[0];
    } else {
        /* LwcImage has an unsigned stride: a bottom-up frame is packed first */
        size_t row = (size_t)img.width * img.channels, need = row * img.height;
        if (need > s->packed_size) {
            av_freep(&s->packed);
            s->packed_size = 0;
            if (!(s->packed = av_malloc(need)))
                return AVERROR(ENOMEM);
            s->packed_size = need;
        }
        av_image_copy_plane(s->packed, row, frame->data[0], frame->linesize[0], row, img.height);
        img.data   = s->packed;
        img.stride = row;
    }

    /* the parameters of `lwc encode -q Q -e E`: byte-identical streams */
    lwc_default_encode_params(&p);
    p.quality = s->quality;
    p.effort  = s->effort;
    if ((r = lwc_encode(s->codec, &img, &p, &buf, &len, NULL, NULL)) < 0) {
        av_log(avctx, AV_LOG_ERROR, "lwc_encode failed: %s\n", lwc_strerror(r));
        return lwc_to_averror(r);
    }
    if (len > INT_MAX) {
        lwc_free_buffer(buf);
        return AVERROR(ERANGE);
    }
    ret = ff_get_encode_buffer(avctx, pkt, len, 0);
    if (ret >= 0) {
        memcpy(pkt->data, buf, len);
        pkt->flags |= AV_PKT_FLAG_KEY;
        *got_packet = 1;
    }
    lwc_free_buffer(buf);
    return ret;
}

#define VE AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_ENCODING_PARAM
static const AVOption lwc_enc_options[] = {
    { "quality", "coding quality, 0 (smallest) .. 100 (best); fractions allowed", OFFSET(quality), AV_OPT_TYPE_DOUBLE, { .dbl = 50 }, 0, 100, VE },
    { "effort",  "encoder effort, 1 (fastest) .. 9 (smallest)", OFFSET(effort), AV_OPT_TYPE_INT, { .i64 = LWC_EFFORT_DEFAULT }, LWC_EFFORT_MIN, LWC_EFFORT_MAX, VE },
    { "model",   "lwc model file (.lwcm); default $LWC_MODEL, else the installed model", OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, VE },
    { NULL },
};

static const AVClass lwc_enc_class = {
    .class_name = "liblwc encoder",
    .item_name  = av_default_item_name,
    .option     = lwc_enc_options,
    .version    = LIBAVUTIL_VERSION_INT,
};

const FFCodec ff_liblwc_encoder = {
    .p.name         = "liblwc",
    .p.long_name    = NULL_IF_CONFIG_SMALL("lwc learned image codec"),
    .p.type         = AVMEDIA_TYPE_VIDEO,
    .p.id           = AV_CODEC_ID_LWC,
    .p.capabilities = AV_CODEC_CAP_DR1 | AV_CODEC_CAP_OTHER_THREADS,
    .p.priv_class   = &lwc_enc_class,
    .p.wrapper_name = "liblwc",
    .p.pix_fmts     = (const enum AVPixelFormat[]) {
        AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA, AV_PIX_FMT_GRAY8, AV_PIX_FMT_NONE
    },
    .priv_data_size = sizeof(LwcCodecContext),
    .init           = lwc_init_common,
    FF_CODEC_ENCODE_CB(lwc_encode_frame),
    .close          = lwc_close_common,
    .caps_internal  = FF_CODEC_CAP_AUTO_THREADS | FF_CODEC_CAP_INIT_CLEANUP,
};
#endif /* CONFIG_LIBLWC_ENCODER */

#if CONFIG_LIBLWC_DECODER
/* The FFmpeg layout of an lwc image; 16-bit samples are native-endian in
 * both, which the NE pixel formats name. */
static enum AVPixelFormat lwc_pix_fmt(int channels, int bit_depth)
{
    static const enum AVPixelFormat fmt8[]  = { AV_PIX_FMT_GRAY8, AV_PIX_FMT_YA8, AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA };
    static const enum AVPixelFormat fmt16[] = { AV_PIX_FMT_GRAY16, AV_PIX_FMT_YA16, AV_PIX_FMT_RGB48, AV_PIX_FMT_RGBA64 };

    if (channels < 1 || channels > 4)
        return AV_PIX_FMT_NONE;
    return bit_depth == 8 ? fmt8[channels - 1] : bit_depth == 16 ? fmt16[channels - 1] : AV_PIX_FMT_NONE;
}

static int lwc_decode_frame(AVCodecContext *avctx, AVFrame *frame,
                            int *got_frame, AVPacket *pkt)
{
    LwcCodecContext *s = avctx->priv_data;
    LwcStreamInfo info;
    LwcImage img = { 0 };
    enum AVPixelFormat fmt;
    int r, ret;

    /* The header alone first: reject sizes above the caps (liblwc's and
     * FFmpeg's max_pixels) before anything is allocated for the image. */
    if ((r = lwc_stream_info(pkt->data, pkt->size, &info)) < 0) {
        av_log(avctx, AV_LOG_ERROR, "not a valid lwc stream: %s\n", lwc_strerror(r));
        return AVERROR_INVALIDDATA;
    }
    fmt = lwc_pix_fmt(info.channels, info.bit_depth);
    if (fmt == AV_PIX_FMT_NONE) {
        avpriv_report_missing_feature(avctx, "lwc image with %d channels of %d bits",
                                      info.channels, info.bit_depth);
        return AVERROR_PATCHWELCOME;
    }
    if ((uint64_t)info.width * info.height > s->max_pixels) {
        av_log(avctx, AV_LOG_ERROR, "image %dx%d is above the lwc size cap\n", info.width, info.height);
        return AVERROR_INVALIDDATA;
    }
    if ((ret = av_image_check_size2(info.width, info.height, avctx->max_pixels, fmt, 0, avctx)) < 0)
        return ret;
    if (info.model_id != lwc_model_id(s->model)) {
        av_log(avctx, AV_LOG_ERROR, "the frame was coded with model %016" PRIx64 ", the loaded model is %016"
               PRIx64 " (set -model before -i)\n", info.model_id, lwc_model_id(s->model));
        return AVERROR_INVALIDDATA;
    }

    if ((r = lwc_decode(s->codec, pkt->data, pkt->size, &img, NULL)) < 0) {
        av_log(avctx, AV_LOG_ERROR, "lwc_decode failed: %s\n", lwc_strerror(r));
        return lwc_to_averror(r);
    }
    /* the header was checked above; the decoded image must agree with it */
    if (img.width != info.width || img.height != info.height ||
        lwc_pix_fmt(img.channels, img.bit_depth) != fmt) {
        ret = AVERROR_BUG;
        goto end;
    }
    avctx->pix_fmt = fmt;
    if ((ret = ff_set_dimensions(avctx, img.width, img.height)) < 0)
        goto end;
    if ((ret = ff_get_buffer(avctx, frame, 0)) < 0)
        goto end;
    av_image_copy_plane(frame->data[0], frame->linesize[0], img.data, img.stride,
                        img.width * img.channels * (img.bit_depth / 8), img.height);
    frame->key_frame = 1;
    frame->pict_type = AV_PICTURE_TYPE_I;
    /* lwc codes full-range samples (RGB or luma) */
    frame->color_range = AVCOL_RANGE_JPEG;
    *got_frame = 1;
    ret = pkt->size;
end:
    lwc_image_free(&img);
    return ret;
}

#define VD AV_OPT_FLAG_VIDEO_PARAM | AV_OPT_FLAG_DECODING_PARAM
static const AVOption lwc_dec_options[] = {
    { "model", "lwc model file (.lwcm); default $LWC_MODEL, else the installed model", OFFSET(model_path), AV_OPT_TYPE_STRING, { .str = NULL }, 0, 0, VD },
    { NULL },
};

static const AVClass lwc_dec_class = {
    .class_name = "liblwc decoder",
    .item_name  = av_default_item_name,
    .option     = lwc_dec_options,
    .version    = LIBAVUTIL_VERSION_INT,
};

const FFCodec ff_liblwc_decoder = {
    .p.name         = "liblwc",
    .p.long_name    = NULL_IF_CONFIG_SMALL("lwc learned image codec"),
    .p.type         = AVMEDIA_TYPE_VIDEO,
    .p.id           = AV_CODEC_ID_LWC,
    .p.capabilities = AV_CODEC_CAP_DR1 | AV_CODEC_CAP_OTHER_THREADS,
    .p.priv_class   = &lwc_dec_class,
    .p.wrapper_name = "liblwc",
    .priv_data_size = sizeof(LwcCodecContext),
    .init           = lwc_init_common,
    FF_CODEC_DECODE_CB(lwc_decode_frame),
    .close          = lwc_close_common,
    .caps_internal  = FF_CODEC_CAP_AUTO_THREADS | FF_CODEC_CAP_INIT_CLEANUP,
};
#endif /* CONFIG_LIBLWC_DECODER */
