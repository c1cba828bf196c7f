/* Helpers shared by the fuzz harnesses (see fuzz.h). */
#include <string.h>

#include "common/mem.h"
#include "fuzz.h"

#ifndef LWC_FUZZ_MODEL_PATH
#define LWC_FUZZ_MODEL_PATH "tests/golden/tiny.lwcm"
#endif

uint8_t *fuzz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    long n = -1;
    if (!fseek(f, 0, SEEK_END)) n = ftell(f);
    if (n >= 0 && !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)n;
    return buf;
}

const LwcModel *fuzz_model(void)
{
    static LwcModel *model;
    if (model) return model;
    const char *path = getenv("LWC_FUZZ_MODEL");
    if (!path) path = LWC_FUZZ_MODEL_PATH;
    int r = lwc_model_load_file(&model, path);
    if (r < 0) {
        fprintf(stderr, "fuzz: cannot load model %s: %s\n", path, lwc_strerror(r));
        exit(2);
    }
    return model;
}

uint64_t fuzz_image_hash(const LwcImage *img)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t row = (size_t)img->width * img->channels * (img->bit_depth / 8);
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < row; i++) h = (h ^ img->data[(size_t)y * img->stride + i]) * 0x100000001b3ull;
    return h;
}

int fuzz_images_equal(const LwcImage *a, const LwcImage *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels ||
        a->bit_depth != b->bit_depth)
        return 0;
    size_t row = (size_t)a->width * a->channels * (a->bit_depth / 8);
    for (int y = 0; y < a->height; y++)
        if (memcmp(a->data + (size_t)y * a->stride, b->data + (size_t)y * b->stride, row)) return 0;
    return 1;
}

uint32_t fuzz_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return ~c;
}

void fuzz_fix_stream(uint8_t *b, size_t size, uint64_t model_id)
{
    if (size < 32) return;
    lwc_wr32(b + 16, (uint32_t)model_id);
    lwc_wr32(b + 20, (uint32_t)(model_id >> 32));
    lwc_wr32(b + 28, fuzz_crc32c(b, 28));
    size_t n = b[26], pos = 32 + 12 * n;
    for (size_t i = 0; i < n && 32 + 12 * (i + 1) <= size; i++) {
        uint8_t *e = b + 32 + 12 * i;
        uint32_t len = lwc_rd32(e + 4);
        if (pos > size || size - pos < len) return;
        lwc_wr32(e + 8, fuzz_crc32c(b + pos, len));
        pos += len;
    }
}
