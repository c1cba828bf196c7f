/* Fuzz the image readers (lwc_image_read_mem: PNG, JPEG, PPM/PGM). A read
 * must succeed with a well-formed image or fail with a message and a zeroed
 * image. A small image that was read is written back as PNG (and PPM/PGM
 * when it has 1 or 3 channels) into memory and read again: the samples must
 * come back unchanged. Pixel allocations are capped at 64 MiB (the readers'
 * own header limits allow 2^28 pixels); inputs above 256 KiB are ignored. */
#include <string.h>

#include "common/common.h"
#include "imageio/imageio.h"
#include "fuzz.h"

#define MAX_INPUT (256 << 10)

static void rewrite(const LwcImage *img, int format)
{
    char *mem = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    FUZZ_CHECK(f != NULL);
    int r = format == LWC_FMT_PNG ? lwc_png_write(f, img, err, sizeof(err)) : lwc_pnm_write(f, img, err, sizeof(err));
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(r == 0);
    LwcImage back;
    r = lwc_image_read_mem((const uint8_t *)mem, len, &back, err, sizeof(err));
    FUZZ_CHECK(r == 0);
    FUZZ_CHECK(fuzz_images_equal(img, &back));
    lwc_image_free(&back);
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT) return 0;
    lwc_alloc_set_cap((size_t)64 << 20);
    LwcImage img;
    char err[256];
    err[0] = 0;
    int r = lwc_image_read_mem(data, size, &img, err, sizeof(err));
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED);
    FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
    if (r < 0) {
        FUZZ_CHECK(img.data == NULL && img.width == 0 && err[0]);
        return 0;
    }
    FUZZ_CHECK(lwc_io_check_image(&img, NULL, 0) == 0);
    (void)fuzz_image_hash(&img);
    if ((uint64_t)img.width * img.height <= 65536) {
        rewrite(&img, LWC_FMT_PNG);
        if (img.channels == 1 || img.channels == 3) rewrite(&img, LWC_FMT_PPM);
    }
    lwc_image_free(&img);
    return 0;
}
