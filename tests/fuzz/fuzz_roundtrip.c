/* Fuzz encode -> decode with the test model (tests/golden/tiny.lwcm).
 *
 * Input: byte 0 width-1 (mod 48), byte 1 height-1 (mod 48), byte 2 bits 0-1
 * channels-1, bit 2 16-bit, byte 3 quality (0..255 -> 0..100), then the
 * samples (cycled; zeros when absent). Checks:
 *   - a valid image encodes (only LWC_ERR_NOMEM would be excused),
 *   - the decoder gives exactly the encoder's reported reconstruction,
 *   - alpha comes back losslessly,
 *   - a second encode gives identical bytes (determinism),
 *   - lwc_stream_info reports the image's shape and the model id. */
#include <string.h>

#include "fuzz.h"

#define MAX_SIDE 48
#define MAX_INPUT (4 + MAX_SIDE * MAX_SIDE * 4 * 2)

static void fill(LwcImage *img, const uint8_t *px, size_t n)
{
    size_t row = (size_t)img->width * img->channels * (img->bit_depth / 8), k = 0;
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < row; i++, k++) img->data[(size_t)y * img->stride + i] = n ? px[k % n] : 0;
}

static void check_alpha(const LwcImage *a, const LwcImage *b)
{
    if (a->channels != 2 && a->channels != 4) return;
    size_t bps = (size_t)a->bit_depth / 8;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            size_t off = ((size_t)x * a->channels + a->channels - 1) * bps;
            FUZZ_CHECK(!memcmp(a->data + y * a->stride + off, b->data + y * b->stride + off, bps));
        }
}

static LwcContext *context(void)
{
    static LwcContext *ctx;
    if (!ctx) {
        LwcSettings s;
        lwc_default_settings(&s);
        if (lwc_open(&ctx, fuzz_model(), &s) < 0) abort();
    }
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > MAX_INPUT) return 0;
    LwcContext *c = context();
    LwcImage img, recon, dec;
    int w = 1 + data[0] % MAX_SIDE, h = 1 + data[1] % MAX_SIDE;
    int ch = 1 + (data[2] & 3), depth = data[2] & 4 ? 16 : 8;
    FUZZ_CHECK(lwc_image_alloc(&img, w, h, ch, depth) == 0);
    fill(&img, data + 4, size - 4);
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    p.quality = data[3] * (100.0 / 255.0);
    uint8_t *buf, *buf2;
    size_t len, len2;
    FUZZ_CHECK(lwc_encode(c, &img, &p, &buf, &len, &recon, NULL) == 0);
    FUZZ_CHECK(lwc_decode(c, buf, len, &dec, NULL) == 0);
    FUZZ_CHECK(fuzz_images_equal(&recon, &dec));
    check_alpha(&img, &dec);
    FUZZ_CHECK(lwc_encode(c, &img, &p, &buf2, &len2, NULL, NULL) == 0);
    FUZZ_CHECK(len == len2 && !memcmp(buf, buf2, len));
    LwcStreamInfo si;
    FUZZ_CHECK(lwc_stream_info(buf, len, &si) == 0);
    FUZZ_CHECK(si.width == w && si.height == h && si.channels == ch && si.bit_depth == depth);
    FUZZ_CHECK(si.model_id == lwc_model_id(fuzz_model()) && si.total_size == len);
    lwc_free_buffer(buf);
    lwc_free_buffer(buf2);
    lwc_image_free(&img); lwc_image_free(&recon); lwc_image_free(&dec);
    return 0;
}
