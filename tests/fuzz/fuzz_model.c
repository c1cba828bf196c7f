/* Fuzz the model loader (lwc_model_load). A model that loads must also be
 * usable: a small RGBA image is encoded and decoded with it, and the decoded
 * image must equal the encoder's reconstruction bit for bit. Inputs above
 * 1 MiB are ignored (tests/golden/tiny.lwcm is 215 KiB; the seeds of model
 * versions 6 and 7, with 8 sets of y tables, about 870 KiB). */
#include <string.h>

#include "fuzz.h"

#define MAX_INPUT (1 << 20)

static void exercise(const LwcModel *m)
{
    LwcSettings s;
    lwc_default_settings(&s);
    LwcContext *c;
    FUZZ_CHECK(lwc_open(&c, m, &s) == 0);
    LwcImage img, recon, dec;
    FUZZ_CHECK(lwc_image_alloc(&img, 20, 12, 4, 8) == 0);
    for (size_t i = 0; i < img.stride * img.height; i++) img.data[i] = (uint8_t)(i * 37 + (i >> 5) * 11);
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    uint8_t *buf;
    size_t len;
    int r = lwc_encode(c, &img, &p, &buf, &len, &recon, NULL);
    FUZZ_CHECK(r == 0);
    r = lwc_decode(c, buf, len, &dec, NULL);
    FUZZ_CHECK(r == 0);
    FUZZ_CHECK(fuzz_images_equal(&recon, &dec));
    lwc_free_buffer(buf);
    lwc_image_free(&img); lwc_image_free(&recon); lwc_image_free(&dec);
    lwc_close(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    LwcModel *m = (LwcModel *)1;
    int r = lwc_model_load(&m, data, size);
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED);
    if (r < 0) {
        FUZZ_CHECK(m == NULL);
        return 0;
    }
    exercise(m);
    lwc_model_free(&m);
    FUZZ_CHECK(m == NULL);
    return 0;
}
