/* Video in and out through libavformat / libavcodec / libswscale; see
 * cli_libav.h. Built as the plugin lwc-libav.so, whose only exported symbol
 * is lwc_av_plugin_api (the build hides every other one). */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "common/common.h"
#include "imageio/imageio.h"
#include "tools/cli/cli_libav.h"

/* Bit-exact, accurately rounded conversion with chroma interpolated to every
 * pixel: the same input gives the same RGB on every CPU (SIMD shortcuts off). */
#define SWS_READ_FLAGS (SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT | SWS_FULL_CHR_H_INT)
/* Output conversions only reorder samples (RGB24 -> GBRP/BGR0) or copy. */
#define SWS_WRITE_FLAGS (SWS_POINT | SWS_ACCURATE_RND | SWS_BITEXACT)

/* ---- FFmpeg's log: kept (its last error line), never printed, so that a
 * failure stays one line on stderr */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_last[200];
static unsigned log_errors; /* error lines so far: decoders and demuxers that
                             * conceal damage (slice CRC mismatch, file ended
                             * prematurely) still log it */

static void log_capture(void *avcl, int level, const char *fmt, va_list vl)
{
    (void)avcl;
    if (level > AV_LOG_ERROR) return;
    static int continued; /* the last piece did not end its line: this one goes on with it */
    char line[sizeof(log_last)];
    vsnprintf(line, sizeof(line), fmt, vl);
    size_t n = strlen(line);
    int ends = n && line[n - 1] == '\n';
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' ' || line[n - 1] == '.')) line[--n] = 0;
    pthread_mutex_lock(&log_lock);
    if (continued) {
        size_t k = strlen(log_last);
        snprintf(log_last + k, sizeof(log_last) - k, " %s", line);
    } else if (n) {
        memcpy(log_last, line, n + 1);
        log_errors++;
    }
    continued = !ends && (n || continued);
    pthread_mutex_unlock(&log_lock);
}

/* 1 (and the last error line in last) when errors were logged since *seen. */
static int log_news(unsigned *seen, char *last, size_t n)
{
    pthread_mutex_lock(&log_lock);
    int news = log_errors != *seen;
    *seen = log_errors;
    snprintf(last, n, "%s", log_last);
    pthread_mutex_unlock(&log_lock);
    return news;
}

static void log_setup(void)
{
    av_log_set_callback(log_capture);
    pthread_mutex_lock(&log_lock);
    log_last[0] = 0;
    pthread_mutex_unlock(&log_lock);
}

static int map_error(int averr)
{
    if (averr == AVERROR_EOF) return LWC_ERR_TRUNCATED;
    if (averr == AVERROR(ENOMEM)) return LWC_ERR_NOMEM;
    if (averr == AVERROR(EIO) || averr == AVERROR(ENOENT) || averr == AVERROR(EACCES)) return LWC_ERR_IO;
    if (averr == AVERROR_PATCHWELCOME || averr == AVERROR_DECODER_NOT_FOUND || averr == AVERROR(ENOSYS))
        return LWC_ERR_UNSUPPORTED;
    return LWC_ERR_CORRUPT;
}

/* "<what>: <FFmpeg's last error line> (<error text>)". */
static int av_fail(char *err, size_t errlen, int averr, const char *what)
{
    char msg[AV_ERROR_MAX_STRING_SIZE], last[sizeof(log_last)];
    av_strerror(averr, msg, sizeof(msg));
    pthread_mutex_lock(&log_lock);
    memcpy(last, log_last, sizeof(last));
    log_last[0] = 0;
    pthread_mutex_unlock(&log_lock);
    if (last[0]) return lwc_io_fail(err, errlen, map_error(averr), "%s: %s (%s)", what, last, msg);
    return lwc_io_fail(err, errlen, map_error(averr), "%s: %s", what, msg);
}

int lwc_av_is_pattern(const char *path)
{
    return av_filename_number_test(path) != 0;
}

/* ---- reading */

struct LwcAvReader {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    struct SwsContext *sws;
    int sws_key[3];             /* source format, matrix, full range of sws */
    AVPacket *pkt;
    AVFrame *frame;             /* the last decoded frame */
    int stream, pending;        /* pending: frame not handed out yet */
    int64_t decoded, packets;   /* frames decoded, video packets read */
    int64_t announced;          /* the container's frame count, 0 if unknown */
    unsigned log_seen;          /* log_errors already accounted for */
    uint64_t max_pixels;
    LwcAvInfo info;
};

static int frame_fail(char *err, size_t errlen, int code, int64_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int frame_fail(char *err, size_t errlen, int code, int64_t n, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return lwc_io_fail(err, errlen, code, "frame %lld: %s", (long long)n, msg);
}

static int frame_av_fail(char *err, size_t errlen, int averr, int64_t n, const char *what)
{
    char w[96];
    snprintf(w, sizeof(w), "frame %lld: %s", (long long)n, what);
    return av_fail(err, errlen, averr, w);
}

int lwc_av_input_wanted(const char *path)
{
    if (!strcmp(path, "-")) return 0;
    if (lwc_av_is_pattern(path)) return 1;
    if (lwc_format_from_path(path) >= 0) return 0; /* .png, .jpg, .ppm: lwc's own readers */
    uint8_t buf[4096 + AVPROBE_PADDING_SIZE];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - AVPROBE_PADDING_SIZE, f);
    fclose(f);
    memset(buf + n, 0, AVPROBE_PADDING_SIZE);
    log_setup();
    AVProbeData pd = { .filename = path, .buf = buf, .buf_size = (int)n };
    int score = 0; /* any score: a name FFmpeg knows is enough to let it explain a failure */
    return av_probe_input_format2(&pd, 1, &score) != NULL;
}

static int check_size(const LwcAvReader *rd, int w, int h, char *err, size_t errlen);

/* Sizes the container declares, before avformat_find_stream_info decodes
 * anything; unknown (0) sizes are checked once known. */
static int check_declared_sizes(const LwcAvReader *rd, char *err, size_t errlen)
{
    for (unsigned i = 0; i < rd->fmt->nb_streams; i++) {
        const AVCodecParameters *par = rd->fmt->streams[i]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO && par->width > 0 && par->height > 0)
            LWC_FWD(check_size(rd, par->width, par->height, err, errlen));
    }
    return 0;
}

/* avformat_find_stream_info opens decoders of its own: the same pixel cap. */
static int find_stream_info(LwcAvReader *rd)
{
    unsigned n = rd->fmt->nb_streams;
    AVDictionary **opts = n ? calloc(n, sizeof(*opts)) : NULL;
    if (n && !opts) return AVERROR(ENOMEM);
    for (unsigned i = 0; i < n; i++) av_dict_set_int(&opts[i], "max_pixels", (int64_t)rd->max_pixels, 0);
    int r = avformat_find_stream_info(rd->fmt, opts);
    for (unsigned i = 0; i < n; i++) av_dict_free(&opts[i]);
    free(opts);
    return r;
}

static int open_input(LwcAvReader *rd, const char *path, char *err, size_t errlen)
{
    AVDictionary *opt = NULL;
    /* plain files only: a playlist or concat script must not reach other protocols */
    av_dict_set(&opt, "protocol_whitelist", "file", 0);
    int r = avformat_open_input(&rd->fmt, path, NULL, &opt);
    av_dict_free(&opt);
    if (r < 0) return av_fail(err, errlen, r, "cannot open");
    LWC_FWD(check_declared_sizes(rd, err, errlen));
    if ((r = find_stream_info(rd)) < 0) return av_fail(err, errlen, r, "cannot read the stream parameters");
    r = av_find_best_stream(rd->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (r < 0) return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED, "holds no video stream");
    rd->stream = r;
    rd->announced = rd->fmt->streams[r]->nb_frames;
    return 0;
}

/* The CLI's caps and the context's max_pixels, checked before any pixel
 * memory is allocated for a picture of this size. */
static int check_size(const LwcAvReader *rd, int w, int h, char *err, size_t errlen)
{
    LWC_FWD(lwc_io_check_dims((uint64_t)LWC_MAX(w, 0), (uint64_t)LWC_MAX(h, 0), "video", err, errlen));
    if ((uint64_t)w * (uint64_t)h > rd->max_pixels)
        return lwc_io_fail(err, errlen, LWC_ERR_TOO_BIG, "video frames of %dx%d are over the limit of %llu pixels",
                           w, h, (unsigned long long)rd->max_pixels);
    return 0;
}

static int open_decoder(LwcAvReader *rd, int threads, char *err, size_t errlen)
{
    const AVStream *st = rd->fmt->streams[rd->stream];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED, "no decoder for %s", avcodec_get_name(st->codecpar->codec_id));
    if (!(rd->dec = avcodec_alloc_context3(codec))) return LWC_ERR_NOMEM;
    int r = avcodec_parameters_to_context(rd->dec, st->codecpar);
    if (r < 0) return av_fail(err, errlen, r, "cannot set up the decoder");
    /* the decoder itself refuses larger pictures before allocating them */
    rd->dec->max_pixels = (int64_t)rd->max_pixels;
    /* stop at damaged data instead of concealing it: a corrupt input is an error */
    rd->dec->err_recognition = AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_EXPLODE;
    rd->dec->thread_count = threads;
    rd->dec->pkt_timebase = st->time_base;
    if ((r = avcodec_open2(rd->dec, codec, NULL)) < 0) return av_fail(err, errlen, r, "cannot open the decoder");
    snprintf(rd->info.codec, sizeof(rd->info.codec), "%s", codec->name);
    return 0;
}

/* The average frame rate, else the container's base rate, else 25 fps. */
static void frame_rate(const AVStream *st, LwcAvInfo *info)
{
    AVRational q = st->avg_frame_rate;
    if (q.num <= 0 || q.den <= 0) q = st->r_frame_rate;
    if (q.num <= 0 || q.den <= 0) q = (AVRational){ 25, 1 };
    int num, den;
    av_reduce(&num, &den, q.num, q.den, INT_MAX);
    info->fps_num = (uint32_t)num;
    info->fps_den = (uint32_t)den;
}

/* Send the next video packet (or, at the end, the flush) to the decoder. */
static int feed(LwcAvReader *rd, char *err, size_t errlen)
{
    for (;;) {
        int r = av_read_frame(rd->fmt, rd->pkt);
        if (r == AVERROR_EOF) {
            if (rd->fmt->pb && rd->fmt->pb->error < 0) return frame_av_fail(err, errlen, rd->fmt->pb->error, rd->decoded, "read error");
            avcodec_send_packet(rd->dec, NULL);
            return 0;
        }
        if (r < 0) return frame_av_fail(err, errlen, r, rd->decoded, "cannot read the next packet");
        if (rd->pkt->stream_index != rd->stream) { av_packet_unref(rd->pkt); continue; }
        rd->packets++;
        int corrupt = rd->pkt->flags & AV_PKT_FLAG_CORRUPT;
        r = corrupt ? 0 : avcodec_send_packet(rd->dec, rd->pkt);
        av_packet_unref(rd->pkt);
        if (corrupt) return frame_fail(err, errlen, LWC_ERR_CORRUPT, rd->decoded, "damaged or cut-off packet");
        if (r < 0) return frame_av_fail(err, errlen, r, rd->decoded, "cannot decode");
        return 0;
    }
}

static int frame_check(LwcAvReader *rd, char *err, size_t errlen)
{
    const AVFrame *f = rd->frame;
    char last[sizeof(log_last)];
    if (log_news(&rd->log_seen, last, sizeof(last)))
        return frame_fail(err, errlen, LWC_ERR_CORRUPT, rd->decoded, "damaged input: %s", last);
    if (f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT))
        return frame_fail(err, errlen, LWC_ERR_CORRUPT, rd->decoded, "damaged picture (the decoder had to conceal errors)");
    if (rd->info.width && (f->width != rd->info.width || f->height != rd->info.height))
        return frame_fail(err, errlen, LWC_ERR_UNSUPPORTED, rd->decoded, "the frame size changes from %dx%d to %dx%d",
                          rd->info.width, rd->info.height, f->width, f->height);
    return 0;
}

/* A demuxer that stops short of the frame count its container announces
 * read a cut-off file. */
static int end_check(LwcAvReader *rd, char *err, size_t errlen)
{
    char last[sizeof(log_last)];
    if (log_news(&rd->log_seen, last, sizeof(last)))
        return frame_fail(err, errlen, LWC_ERR_CORRUPT, rd->decoded, "damaged input: %s", last);
    if (rd->announced > 0 && rd->packets < rd->announced)
        return frame_fail(err, errlen, LWC_ERR_TRUNCATED, rd->decoded,
                          "the input ends early, after %lld of the %lld frames it announces (truncated)",
                          (long long)rd->packets, (long long)rd->announced);
    if (rd->decoded == 0) return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED, "holds no frames");
    return 0;
}

/* Decode the next frame into rd->frame: 1, 0 at the end, or an error. */
static int fetch(LwcAvReader *rd, char *err, size_t errlen)
{
    for (;;) {
        int r = avcodec_receive_frame(rd->dec, rd->frame);
        if (r == 0) {
            LWC_FWD(frame_check(rd, err, errlen));
            rd->decoded++;
            rd->pending = 1;
            return 1;
        }
        if (r == AVERROR_EOF) return end_check(rd, err, errlen);
        if (r != AVERROR(EAGAIN)) return frame_av_fail(err, errlen, r, rd->decoded, "cannot decode");
        LWC_FWD(feed(rd, err, errlen));
    }
}

/* ---- colour */

static int is_gray(const AVPixFmtDescriptor *d)
{
    return !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) && d->nb_components <= 2;
}

static int is_yuv(const AVPixFmtDescriptor *d)
{
    return !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) && d->nb_components >= 3;
}

/* The matrix the frame declares; unspecified: BT.709 for HD (1280 wide or
 * more than 576 lines), else BT.601, as FFmpeg and most players guess. */
static int frame_matrix(const AVFrame *f, const char **name)
{
    switch (f->colorspace) {
    case AVCOL_SPC_BT709: *name = "BT.709"; return SWS_CS_ITU709;
    case AVCOL_SPC_BT470BG: case AVCOL_SPC_SMPTE170M: *name = "BT.601"; return SWS_CS_ITU601;
    case AVCOL_SPC_BT2020_NCL: case AVCOL_SPC_BT2020_CL: *name = "BT.2020"; return SWS_CS_BT2020;
    case AVCOL_SPC_SMPTE240M: *name = "SMPTE 240M"; return SWS_CS_SMPTE240M;
    case AVCOL_SPC_FCC: *name = "FCC"; return SWS_CS_FCC;
    default: break;
    }
    int hd = f->width >= 1280 || f->height > 576;
    *name = hd ? "BT.709 (unspecified, HD)" : "BT.601 (unspecified, SD)";
    return hd ? SWS_CS_ITU709 : SWS_CS_ITU601;
}

/* Full range when tagged so, and for the yuvj formats (full by definition). */
static int frame_full_range(const AVFrame *f, const AVPixFmtDescriptor *d)
{
    return f->color_range == AVCOL_RANGE_JPEG || !strncmp(d->name, "yuvj", 4);
}

static int sws_setup(LwcAvReader *rd, int64_t n, char *err, size_t errlen)
{
    const AVFrame *f = rd->frame;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    const char *matrix = "none (RGB source)", *range = "full";
    int yuv = is_yuv(d), cs = yuv ? frame_matrix(f, &matrix) : SWS_CS_DEFAULT, full = yuv ? frame_full_range(f, d) : 1;
    if (yuv) range = full ? "full" : "limited";
    else if (is_gray(d)) matrix = "none (gray source)";
    int key[3] = { f->format, cs, full };
    if (!rd->info.matrix) rd->info.matrix = matrix, rd->info.range = range;
    if (rd->sws && !memcmp(key, rd->sws_key, sizeof(key))) return 0;
    sws_freeContext(rd->sws);
    enum AVPixelFormat dst = rd->info.channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
    rd->sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, dst, SWS_READ_FLAGS, NULL, NULL, NULL);
    if (!rd->sws)
        return frame_fail(err, errlen, LWC_ERR_UNSUPPORTED, n, "cannot convert %s to %s", d->name, av_get_pix_fmt_name(dst));
    if (yuv) sws_setColorspaceDetails(rd->sws, sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                                      1 << 16, 1 << 16);
    memcpy(rd->sws_key, key, sizeof(key));
    return 0;
}

static int convert(LwcAvReader *rd, LwcImage *img, char *err, size_t errlen)
{
    int64_t n = rd->decoded - 1;
    const AVFrame *f = rd->frame;
    if (img->width != f->width || img->height != f->height || img->bit_depth != 8 || img->channels != rd->info.channels)
        return LWC_ERR_INVAL;
    LWC_FWD(sws_setup(rd, n, err, errlen));
    uint8_t *dst[4] = { img->data, NULL, NULL, NULL };
    int stride[4] = { (int)img->stride, 0, 0, 0 };
    if (sws_scale(rd->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride) != f->height)
        return frame_fail(err, errlen, LWC_ERR_CORRUPT, n, "colour conversion failed");
    return 0;
}

/* Y4M's name for the source layout, as FFmpeg's Y4M muxer picks it. */
static int source_format(const AVFrame *f, const AVPixFmtDescriptor *d)
{
    if (is_gray(d)) return LWC_VIDEO_SRC_GRAY;
    if (!is_yuv(d)) return LWC_VIDEO_SRC_RGB;
    if (d->log2_chroma_w == 1 && d->log2_chroma_h == 1)
        return f->chroma_location == AVCHROMA_LOC_TOPLEFT ? LWC_VIDEO_SRC_YUV420PALDV
               : f->chroma_location == AVCHROMA_LOC_LEFT  ? LWC_VIDEO_SRC_YUV420MPEG2
                                                          : LWC_VIDEO_SRC_YUV420JPEG;
    if (d->log2_chroma_w == 1 && d->log2_chroma_h == 0) return LWC_VIDEO_SRC_YUV422;
    if (d->log2_chroma_w == 0 && d->log2_chroma_h == 0) return LWC_VIDEO_SRC_YUV444;
    return LWC_VIDEO_SRC_RGB;
}

/* Fill info from the first decoded frame. */
static int first_frame(LwcAvReader *rd, char *err, size_t errlen)
{
    const AVFrame *f = rd->frame;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (!d || (d->flags & AV_PIX_FMT_FLAG_HWACCEL))
        return frame_fail(err, errlen, LWC_ERR_UNSUPPORTED, 0, "unsupported pixel format");
    LWC_FWD(check_size(rd, f->width, f->height, err, errlen));
    rd->info.width = f->width;
    rd->info.height = f->height;
    rd->info.channels = is_gray(d) ? 1 : 3;
    rd->info.source_format = source_format(f, d);
    snprintf(rd->info.pix_fmt, sizeof(rd->info.pix_fmt), "%s", d->name);
    return sws_setup(rd, 0, err, errlen);
}

static int reader_start(LwcAvReader *rd, const char *path, int threads, char *err, size_t errlen)
{
    LWC_FWD(open_input(rd, path, err, errlen));
    const AVCodecParameters *par = rd->fmt->streams[rd->stream]->codecpar;
    LWC_FWD(check_size(rd, par->width, par->height, err, errlen));
    LWC_FWD(open_decoder(rd, threads, err, errlen));
    char last[sizeof(log_last)];
    log_news(&rd->log_seen, last, sizeof(last)); /* count from the first frame on */
    frame_rate(rd->fmt->streams[rd->stream], &rd->info);
    if (!(rd->pkt = av_packet_alloc()) || !(rd->frame = av_frame_alloc())) return LWC_ERR_NOMEM;
    int r = fetch(rd, err, errlen);
    if (r == 0) return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED, "holds no frames");
    return r < 0 ? r : first_frame(rd, err, errlen);
}

int lwc_av_reader_open(const char *path, uint64_t max_pixels, int threads, LwcAvReader **out, LwcAvInfo *info,
                       char *err, size_t errlen)
{
    *out = NULL;
    log_setup();
    LwcAvReader *rd = calloc(1, sizeof(*rd));
    if (!rd) return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    rd->max_pixels = max_pixels && max_pixels < LWC_IO_MAX_PIXELS ? max_pixels : LWC_IO_MAX_PIXELS;
    int r = reader_start(rd, path, threads, err, errlen);
    if (r == LWC_ERR_NOMEM) lwc_io_fail(err, errlen, r, "out of memory");
    if (r < 0) {
        lwc_av_reader_close(&rd);
        return r;
    }
    *info = rd->info;
    *out = rd;
    return 0;
}

int lwc_av_reader_next(LwcAvReader *rd, LwcImage *img, char *err, size_t errlen)
{
    if (!rd->pending) {
        int r = fetch(rd, err, errlen);
        if (r <= 0) return r;
    }
    rd->pending = 0;
    LWC_FWD(convert(rd, img, err, errlen));
    return 1;
}

void lwc_av_reader_close(LwcAvReader **rd)
{
    if (!rd || !*rd) return;
    LwcAvReader *r = *rd;
    sws_freeContext(r->sws);
    av_frame_free(&r->frame);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
    free(r);
    *rd = NULL;
}

/* ---- writing */

struct LwcAvWriter {
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *st;
    struct SwsContext *sws;
    AVFrame *frame;
    AVPacket *pkt;
    char *tmp;              /* a container's temporary file; NULL for a pattern */
    char *path;
    int64_t sent;           /* frames given to the encoder */
    int done;
    char desc[64];
};

int lwc_av_output_wanted(const char *path)
{
    log_setup();
    return strcmp(path, "-") && av_guess_format(NULL, path, NULL) != NULL;
}

/* The lossless codec for a container: FFV1 where it is allowed, PNG in
 * MP4/MOV (whose muxer refuses FFV1), or an image2 pattern's own codec. */
static enum AVCodecID output_codec(const AVOutputFormat *of, const char *path)
{
    if (!strcmp(of->name, "matroska") || !strcmp(of->name, "nut") || !strcmp(of->name, "avi")) return AV_CODEC_ID_FFV1;
    if (!strcmp(of->name, "mp4") || !strcmp(of->name, "mov")) return AV_CODEC_ID_PNG;
    if (!strcmp(of->name, "image2") && lwc_av_is_pattern(path)) return av_guess_codec(of, NULL, path, NULL, AVMEDIA_TYPE_VIDEO);
    return AV_CODEC_ID_NONE;
}

/* Exact 8-bit layouts only: the frames are stored without any change. */
static enum AVPixelFormat output_pix_fmt(const AVCodec *c, int channels)
{
    static const enum AVPixelFormat rgb[] = { AV_PIX_FMT_RGB24, AV_PIX_FMT_GBRP, AV_PIX_FMT_BGR0, AV_PIX_FMT_NONE };
    static const enum AVPixelFormat gray[] = { AV_PIX_FMT_GRAY8, AV_PIX_FMT_NONE };
    for (const enum AVPixelFormat *want = channels == 1 ? gray : rgb; *want != AV_PIX_FMT_NONE; want++)
        for (const enum AVPixelFormat *p = c->pix_fmts; p && *p != AV_PIX_FMT_NONE; p++)
            if (*p == *want) return *want;
    return AV_PIX_FMT_NONE;
}

static int unsupported_output(char *err, size_t errlen)
{
    return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED,
                       "no lossless way to store the frames in this format: use .mkv or .nut (FFV1), "
                       ".mp4 (PNG), .y4m, .rgb, or an image pattern such as out_%%03d.png");
}

/* The encoder: lossless codec, exact pixel format, the .lwcv's frame rate. */
static int open_encoder(LwcAvWriter *w, int width, int height, int channels, AVRational fps, char *err, size_t errlen)
{
    enum AVCodecID id = output_codec(w->fmt->oformat, w->path);
    const AVCodec *c = id != AV_CODEC_ID_NONE ? avcodec_find_encoder(id) : NULL;
    const AVCodecDescriptor *cd = avcodec_descriptor_get(id);
    enum AVPixelFormat pf = c ? output_pix_fmt(c, channels) : AV_PIX_FMT_NONE;
    if (!c || !cd || !(cd->props & AV_CODEC_PROP_LOSSLESS) || (cd->props & AV_CODEC_PROP_LOSSY) || pf == AV_PIX_FMT_NONE)
        return unsupported_output(err, errlen);
    if (!(w->enc = avcodec_alloc_context3(c)) || !(w->st = avformat_new_stream(w->fmt, NULL))) return LWC_ERR_NOMEM;
    w->enc->width = width;
    w->enc->height = height;
    w->enc->pix_fmt = pf;
    w->enc->time_base = av_inv_q(fps);
    w->enc->framerate = fps;
    w->enc->color_range = AVCOL_RANGE_JPEG; /* RGB and gray: every code value is used */
    if (channels == 3) w->enc->colorspace = AVCOL_SPC_RGB;
    w->enc->flags |= AV_CODEC_FLAG_BITEXACT; /* no version strings: the same frames give the same file */
    if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER) w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int r = avcodec_open2(w->enc, c, NULL);
    if (r < 0) return av_fail(err, errlen, r, "cannot open the encoder");
    if ((r = avcodec_parameters_from_context(w->st->codecpar, w->enc)) < 0) return av_fail(err, errlen, r, "cannot set up the stream");
    w->st->time_base = w->enc->time_base;
    w->st->avg_frame_rate = w->st->r_frame_rate = fps;
    snprintf(w->desc, sizeof(w->desc), "%s in %s", c->name, w->fmt->oformat->name);
    enum AVPixelFormat src = channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
    w->sws = sws_getContext(width, height, src, width, height, pf, SWS_WRITE_FLAGS, NULL, NULL, NULL);
    if (!w->sws || !(w->frame = av_frame_alloc()) || !(w->pkt = av_packet_alloc())) return LWC_ERR_NOMEM;
    w->frame->format = pf;
    w->frame->width = width;
    w->frame->height = height;
    return av_frame_get_buffer(w->frame, 0) < 0 ? LWC_ERR_NOMEM : 0;
}

/* A container goes to a temporary file beside path, renamed by finish. */
static int open_file(LwcAvWriter *w, char *err, size_t errlen)
{
    if (w->fmt->oformat->flags & AVFMT_NOFILE) return 0;
    size_t n = strlen(w->path) + 16;
    if (!(w->tmp = malloc(n))) return LWC_ERR_NOMEM;
    snprintf(w->tmp, n, "%s.tmpXXXXXX", w->path);
    int fd = mkstemp(w->tmp);
    if (fd < 0) {
        free(w->tmp);
        w->tmp = NULL;
        return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot create a file there");
    }
    close(fd);
    char url[PATH_MAX + 8];
    snprintf(url, sizeof(url), "file:%s", w->tmp); /* "file:": a ':' in the name is no protocol */
    int r = avio_open(&w->fmt->pb, url, AVIO_FLAG_WRITE);
    return r < 0 ? av_fail(err, errlen, r, "cannot open") : 0;
}

static int writer_start(LwcAvWriter *w, int width, int height, int channels, AVRational fps, char *err, size_t errlen)
{
    int r = avformat_alloc_output_context2(&w->fmt, NULL, NULL, w->path);
    if (r < 0 || !w->fmt) return unsupported_output(err, errlen);
    w->fmt->flags |= AVFMT_FLAG_BITEXACT;
    LWC_FWD(open_encoder(w, width, height, channels, fps, err, errlen));
    LWC_FWD(open_file(w, err, errlen));
    if ((r = avformat_write_header(w->fmt, NULL)) < 0) return av_fail(err, errlen, r, "cannot write the header");
    return 0;
}

int lwc_av_writer_open(const char *path, int width, int height, int channels, uint32_t fps_num, uint32_t fps_den,
                       LwcAvWriter **out, char *err, size_t errlen)
{
    *out = NULL;
    log_setup();
    LwcAvWriter *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    }
    int num, den;
    av_reduce(&num, &den, fps_num, fps_den, INT_MAX);
    int r = writer_start(w, width, height, channels, (AVRational){ num, den }, err, errlen);
    if (r == LWC_ERR_NOMEM) lwc_io_fail(err, errlen, r, "out of memory");
    if (r < 0) {
        lwc_av_writer_close(&w);
        return r;
    }
    *out = w;
    return 0;
}

/* Move every packet the encoder has ready into the muxer. */
static int drain(LwcAvWriter *w, char *err, size_t errlen)
{
    for (;;) {
        int r = avcodec_receive_packet(w->enc, w->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
        if (r < 0) return av_fail(err, errlen, r, "cannot encode");
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        if ((r = av_interleaved_write_frame(w->fmt, w->pkt)) < 0) return av_fail(err, errlen, r, "cannot write");
    }
}

int lwc_av_writer_frame(LwcAvWriter *w, const LwcImage *img, char *err, size_t errlen)
{
    if (img->width != w->enc->width || img->height != w->enc->height || img->bit_depth != 8)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "frame does not match the stream");
    int r = av_frame_make_writable(w->frame);
    if (r < 0) return av_fail(err, errlen, r, "out of memory");
    const uint8_t *src[4] = { img->data, NULL, NULL, NULL };
    int stride[4] = { (int)img->stride, 0, 0, 0 };
    sws_scale(w->sws, src, stride, 0, img->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->sent++;
    if ((r = avcodec_send_frame(w->enc, w->frame)) < 0) return av_fail(err, errlen, r, "cannot encode");
    return drain(w, err, errlen);
}

int lwc_av_writer_finish(LwcAvWriter *w, char *err, size_t errlen)
{
    int r = avcodec_send_frame(w->enc, NULL);
    if (r < 0) return av_fail(err, errlen, r, "cannot encode");
    LWC_FWD(drain(w, err, errlen));
    if ((r = av_write_trailer(w->fmt)) < 0) return av_fail(err, errlen, r, "cannot write the trailer");
    if (w->tmp) {
        if ((r = avio_closep(&w->fmt->pb)) < 0) return av_fail(err, errlen, r, "cannot write");
        if (rename(w->tmp, w->path)) return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot move the file into place");
        chmod(w->path, 0644);
    }
    w->done = 1;
    return 0;
}

const char *lwc_av_writer_desc(const LwcAvWriter *w)
{
    return w->desc;
}

/* An unfinished output goes: the temporary file, or the pattern's files
 * (image2 numbers them from 1). */
static void remove_partial(LwcAvWriter *w)
{
    if (w->fmt && w->fmt->pb) avio_closep(&w->fmt->pb);
    if (w->tmp) {
        remove(w->tmp);
        return;
    }
    char name[PATH_MAX];
    for (int64_t i = 1; i <= w->sent && i < INT_MAX; i++)
        if (av_get_frame_filename(name, sizeof(name), w->path, (int)i) == 0) remove(name);
}

void lwc_av_writer_close(LwcAvWriter **wp)
{
    if (!wp || !*wp) return;
    LwcAvWriter *w = *wp;
    if (!w->done) remove_partial(w);
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->enc);
    avformat_free_context(w->fmt);
    free(w->tmp);
    free(w->path);
    free(w);
    *wp = NULL;
}

/* ---- the plugin's entry point */

static const LwcAvApi k_api = {
    .input_wanted = lwc_av_input_wanted,
    .reader_open = lwc_av_reader_open,
    .reader_next = lwc_av_reader_next,
    .reader_close = lwc_av_reader_close,
    .is_pattern = lwc_av_is_pattern,
    .output_wanted = lwc_av_output_wanted,
    .writer_open = lwc_av_writer_open,
    .writer_frame = lwc_av_writer_frame,
    .writer_finish = lwc_av_writer_finish,
    .writer_desc = lwc_av_writer_desc,
    .writer_close = lwc_av_writer_close,
};

__attribute__((visibility("default"))) const LwcAvApi *lwc_av_plugin_api(int abi_version)
{
    return abi_version == LWC_AV_PLUGIN_ABI ? &k_api : NULL;
}
