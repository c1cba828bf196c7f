/* Fuzz the FFmpeg decoder wrapper (tools/ffmpeg/liblwc.c, decoder "liblwc")
 * through libavcodec's public API, with the test model tests/golden/tiny.lwcm.
 *
 * Not part of the CMake build: it links the static FFmpeg libraries that
 * tools/ffmpeg/build-ffmpeg.sh makes, so tests/fuzz/ffmpeg-codec-fuzz.sh
 * builds it (replaying the seed corpus, or under libFuzzer).
 *
 * Every input is sent as one packet twice, as it is and with its CRCs and
 * model id repaired (fuzz_fix_stream), like fuzz_decode. Properties: the
 * decoder never crashes; a refused packet gives an FFmpeg error code, never
 * a frame; a frame has the size and pixel format the stream header gives and
 * exactly the samples lwc_decode gives for the same bytes; and whatever
 * lwc_decode accepts within the size cap the wrapper accepts too. */
#include <string.h>

#include "fuzz.h"

#include "libavcodec/avcodec.h"
#include "libavutil/dict.h"
#include "libavutil/error.h"
#include "libavutil/frame.h"
#include "libavutil/log.h"
#include "libavutil/pixfmt.h"

#define MAX_INPUT (64 << 10)
#define MAX_PIXELS (1 << 20)

static unsigned long n_frames, n_refused;

/* FUZZ_VERBOSE: how many packets gave a frame, to see that seeds get through */
static void print_counts(void)
{
    fprintf(stderr, "fuzz_ffmpeg_codec: %lu frames, %lu packets refused\n", n_frames, n_refused);
}

static AVCodecContext *decoder(void)
{
    static AVCodecContext *avctx;
    if (!avctx) {
        const AVCodec *codec = avcodec_find_decoder_by_name("liblwc");
        const char *path = getenv("LWC_FUZZ_MODEL");
        AVDictionary *opts = NULL;
        if (!codec) {
            fprintf(stderr, "fuzz_ffmpeg_codec: this FFmpeg has no liblwc decoder\n");
            abort();
        }
        av_log_set_level(getenv("FUZZ_VERBOSE") ? AV_LOG_ERROR : AV_LOG_QUIET);
        if (getenv("FUZZ_VERBOSE")) atexit(print_counts);
        avctx = avcodec_alloc_context3(codec);
        if (!avctx) abort();
        avctx->thread_count = 1;
        avctx->max_pixels = MAX_PIXELS;
        av_dict_set(&opts, "model", path ? path : LWC_FUZZ_MODEL_PATH, 0);
        if (avcodec_open2(avctx, codec, &opts) < 0) {
            fprintf(stderr, "fuzz_ffmpeg_codec: cannot open the liblwc decoder\n");
            abort();
        }
        av_dict_free(&opts);
    }
    return avctx;
}

/* The reference: liblwc itself, with the same cap. */
static LwcContext *reference(void)
{
    static LwcContext *ctx;
    if (!ctx) {
        LwcSettings s;
        lwc_default_settings(&s);
        s.max_pixels = MAX_PIXELS;
        if (lwc_open(&ctx, fuzz_model(), &s) < 0) abort();
    }
    return ctx;
}

static enum AVPixelFormat expected_format(const LwcImage *img)
{
    static const enum AVPixelFormat f8[] = { AV_PIX_FMT_GRAY8, AV_PIX_FMT_YA8, AV_PIX_FMT_RGB24, AV_PIX_FMT_RGBA };
    static const enum AVPixelFormat f16[] = { AV_PIX_FMT_GRAY16, AV_PIX_FMT_YA16, AV_PIX_FMT_RGB48, AV_PIX_FMT_RGBA64 };
    return img->bit_depth == 8 ? f8[img->channels - 1] : f16[img->channels - 1];
}

static void decode_one(const uint8_t *b, size_t size)
{
    AVCodecContext *avctx = decoder();
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    LwcImage ref;
    int rr, r, got = 0;

    FUZZ_CHECK(pkt && frame);
    /* av_new_packet adds FFmpeg's input padding, as a demuxer would */
    FUZZ_CHECK(av_new_packet(pkt, (int)size) == 0);
    memcpy(pkt->data, b, size);
    pkt->flags |= AV_PKT_FLAG_KEY;

    r = avcodec_send_packet(avctx, pkt);
    if (r >= 0) {
        r = avcodec_receive_frame(avctx, frame);
        got = r >= 0;
    }
    /* refusals are data errors (or an unsupported layout), never anything else */
    if (!got)
        FUZZ_CHECK(r == AVERROR_INVALIDDATA || r == AVERROR_PATCHWELCOME || r == AVERROR(EINVAL));

    if (got) n_frames++; else n_refused++;
    rr = lwc_decode(reference(), b, size, &ref, NULL);
    if (got) {
        FUZZ_CHECK(rr == 0);
        FUZZ_CHECK(frame->width == ref.width && frame->height == ref.height);
        FUZZ_CHECK(frame->format == expected_format(&ref));
        FUZZ_CHECK(frame->key_frame);
        size_t row = (size_t)ref.width * ref.channels * (ref.bit_depth / 8);
        for (int y = 0; y < ref.height; y++)
            FUZZ_CHECK(!memcmp(frame->data[0] + (ptrdiff_t)y * frame->linesize[0],
                               ref.data + (size_t)y * ref.stride, row));
    } else if (rr == 0) {
        /* only FFmpeg's own, stricter size check may refuse what liblwc decodes */
        FUZZ_CHECK(r == AVERROR(EINVAL));
    }
    if (rr == 0) lwc_image_free(&ref);

    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_flush_buffers(avctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT || size == 0) return 0;
    uint8_t *b = malloc(size);
    if (!b) return 0;
    memcpy(b, data, size);
    decode_one(b, size);
    fuzz_fix_stream(b, size, lwc_model_id(fuzz_model()));
    if (memcmp(b, data, size)) decode_one(b, size);
    free(b);
    return 0;
}
