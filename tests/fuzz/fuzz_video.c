/* Fuzz the .lwcv sequence reader: lwc_video_header_parse, lwc_video_next_packet
 * (and the streaming lwc_video_prefix_parse it shares), lwc_video_packet_check,
 * then lwc_decode of every frame with the test model tests/golden/tiny.lwcm
 * and, as `lwc decode` does, the conversion of each frame back to its source
 * layout (Y4M planes) for the Y'CbCr and gray source formats.
 *
 * Every input runs twice: as it is, and with the sequence header's model id
 * and CRC and every packet's header CRC, model id and section CRCs
 * recomputed (fuzz_fix_stream), so that mutations reach the frame decoder.
 * Caps: 2^18 pixels per frame (header and context), 16 frames decoded per
 * input, inputs above 64 KiB ignored. Properties: errors are LWC_ERR_*
 * codes, a failed header parse leaves it zeroed, packets lie inside the input
 * and within lwc_video_max_packet, a decoded frame has the sequence's shape
 * (8-bit, 1 channel for GRAY else 3). */
#include <string.h>

#include "common/mem.h"
#include "imageio/imageio.h"
#include "fuzz.h"

#define MAX_INPUT (64 << 10)
#define MAX_PIXELS (1 << 18)
#define MAX_FRAMES 16

static LwcContext *context(void)
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

/* Back to the source layout, as the CLI writes Y4M. */
static void to_source(const LwcVideoHeader *h, const LwcImage *img)
{
    if (h->source_format == LWC_VIDEO_SRC_RGB) return;
    LwcY4mInfo yi = {.width = h->width, .height = h->height, .fps_num = h->fps_num,
                     .fps_den = h->fps_den, .chroma = h->source_format, .interlace = 'p'};
    FUZZ_CHECK(lwc_y4m_image_channels(&yi) == img->channels);
    uint8_t *frame = malloc(lwc_y4m_frame_size(&yi));
    FUZZ_CHECK(frame != NULL);
    FUZZ_CHECK(lwc_y4m_from_image(&yi, img, frame) == 0);
    free(frame);
}

static void decode_frame(const LwcVideoHeader *h, const uint8_t *pkt, size_t n)
{
    int r = lwc_video_packet_check(h, pkt, n);
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED);
    if (r < 0) return;
    LwcImage img;
    r = lwc_decode(context(), pkt, n, &img, NULL);
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED);
    if (r < 0) {
        FUZZ_CHECK(img.data == NULL && img.width == 0);
        return;
    }
    FUZZ_CHECK(img.width == h->width && img.height == h->height && img.bit_depth == 8);
    FUZZ_CHECK(img.channels == (h->source_format == LWC_VIDEO_SRC_GRAY ? 1 : 3));
    (void)fuzz_image_hash(&img);
    to_source(h, &img);
    lwc_image_free(&img);
}

static void read_sequence(const uint8_t *b, size_t size)
{
    LwcVideoHeader h;
    int r = lwc_video_header_parse(b, size, MAX_PIXELS, &h);
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED);
    if (r < 0) {
        FUZZ_CHECK(h.width == 0 && h.height == 0 && h.version == 0);
        return;
    }
    FUZZ_CHECK((uint64_t)h.width * h.height <= MAX_PIXELS);
    size_t pos = LWC_VIDEO_HEADER_SIZE, cap = lwc_video_max_packet(&h);
    FUZZ_CHECK(cap >= LWC_VIDEO_HEADER_SIZE);
    for (int frames = 0;; frames++) {
        const uint8_t *pkt;
        size_t n, before = pos;
        r = lwc_video_next_packet(&h, b, size, &pos, &pkt, &n);
        FUZZ_CHECK(r <= 1 && r >= LWC_ERR_UNSUPPORTED);
        if (r <= 0) {
            FUZZ_CHECK(pos == before);
            return;
        }
        size_t streamed;
        FUZZ_CHECK(lwc_video_prefix_parse(&h, b + before, &streamed) == 0 && streamed == n);
        FUZZ_CHECK(pkt == b + before + LWC_VIDEO_PREFIX_SIZE && pos == before + LWC_VIDEO_PREFIX_SIZE + n);
        FUZZ_CHECK(pos <= size && n >= 32 && n <= cap);
        if (frames < MAX_FRAMES) decode_frame(&h, pkt, n);
    }
}

/* Make the header's model id and CRC and each packet's checksums right. */
static void fix_sequence(uint8_t *b, size_t size, uint64_t model_id)
{
    if (size < LWC_VIDEO_HEADER_SIZE) return;
    lwc_wr32(b + 24, (uint32_t)model_id);
    lwc_wr32(b + 28, (uint32_t)(model_id >> 32));
    lwc_wr32(b + 44, fuzz_crc32c(b, 44));
    LwcVideoHeader h;
    if (lwc_video_header_parse(b, size, MAX_PIXELS, &h) < 0) return;
    size_t pos = LWC_VIDEO_HEADER_SIZE, n;
    const uint8_t *pkt;
    while (lwc_video_next_packet(&h, b, size, &pos, &pkt, &n) == 1)
        fuzz_fix_stream(b + (pkt - b), n, model_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    /* A private copy: the reader must not need more than the bytes given. */
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    read_sequence(b, size);
    fix_sequence(b, size, lwc_model_id(fuzz_model()));
    if (memcmp(b, data, size)) read_sequence(b, size);
    free(b);
    return 0;
}
