/* Fuzz the bitstream decoder (lwc_decode, lwc_stream_info) with the test
 * model tests/golden/tiny.lwcm.
 *
 * Every input is decoded twice: as it is (container checks, CRCs, model id),
 * and with the header CRC, the model id and each section CRC recomputed, so
 * that mutations also reach the entropy decoder, the context model and the
 * synthesis instead of stopping at a checksum. The context's pixel cap is
 * 2^20 so that a header cannot ask for a huge image; inputs above 64 KiB are
 * ignored. A successful decode must give an image of the header's shape. */
#include <string.h>

#include "fuzz.h"

#define MAX_INPUT (64 << 10)

static LwcContext *context(void)
{
    static LwcContext *ctx;
    if (!ctx) {
        LwcSettings s;
        lwc_default_settings(&s);
        s.max_pixels = 1 << 20;
        if (lwc_open(&ctx, fuzz_model(), &s) < 0) abort();
    }
    return ctx;
}

static void decode_one(const uint8_t *b, size_t size)
{
    LwcStreamInfo si;
    int ri = lwc_stream_info(b, size, &si);
    LwcImage img;
    LwcStats st;
    int r = lwc_decode(context(), b, size, &img, &st);
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED);
    if (r < 0) {
        FUZZ_CHECK(img.data == NULL && img.width == 0);
        return;
    }
    FUZZ_CHECK(ri == 0); /* whatever decodes has a readable header */
    FUZZ_CHECK(img.width == si.width && img.height == si.height);
    FUZZ_CHECK(img.channels == si.channels && img.bit_depth == si.bit_depth);
    FUZZ_CHECK(img.data != NULL && st.bytes_total == size);
    (void)fuzz_image_hash(&img); /* touch every sample */
    lwc_image_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    /* A private copy: the decoder must not need more than the bytes given. */
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    decode_one(b, size);
    fuzz_fix_stream(b, size, lwc_model_id(fuzz_model()));
    if (memcmp(b, data, size)) decode_one(b, size);
    free(b);
    return 0;
}
