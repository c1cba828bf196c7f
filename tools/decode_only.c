/* A decoder linked from the decoder objects alone (no encoder, trainer or
 * image readers): proves the split, and writes raw PPM/PGM for tests.
 * usage: lwc_decode_only MODEL.lwcm IN.lwc OUT.pnm */
#include <stdio.h>
#include <stdlib.h>

#include "lwc.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            uint8_t *nb = cap < ((size_t)1 << 30) ? realloc(b, cap *= 2) : NULL;
            if (!nb) { free(b); b = NULL; }
            else b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: lwc_decode_only MODEL IN.lwc OUT.pnm\n"); return 2; }
    LwcModel *m = NULL;
    LwcContext *c = NULL;
    LwcSettings s;
    LwcImage img = { 0 };
    size_t len = 0;
    uint8_t *buf = slurp(argv[2], &len);
    int r = buf ? lwc_model_load_file(&m, argv[1]) : LWC_ERR_IO;
    lwc_default_settings(&s);
    if (r == LWC_OK) r = lwc_open(&c, m, &s);
    if (r == LWC_OK) r = lwc_decode(c, buf, len, &img, NULL);
    if (r == LWC_OK) {
        FILE *f = fopen(argv[3], "wb");
        int colour = img.channels >= 3;
        int bps = img.bit_depth / 8;
        if (!f) r = LWC_ERR_IO;
        else {
            fprintf(f, "P%c\n%d %d\n%d\n", colour ? '6' : '5', img.width, img.height, img.bit_depth == 16 ? 65535 : 255);
            for (int y = 0; y < img.height; y++)
                for (int x = 0; x < img.width; x++)
                    for (int ch = 0; ch < (colour ? 3 : 1); ch++) {
                        const uint8_t *p = img.data + (size_t)y * img.stride + ((size_t)x * img.channels + ch) * bps;
                        if (bps == 2) { uint16_t v = *(const uint16_t *)p; fputc(v >> 8, f); fputc(v & 255, f); }
                        else fputc(*p, f);
                    }
            if (fclose(f)) r = LWC_ERR_IO;
        }
    }
    if (r < 0) fprintf(stderr, "lwc_decode_only: %s\n", lwc_strerror(r));
    lwc_image_free(&img);
    lwc_close(&c);
    lwc_model_free(&m);
    free(buf);
    return r < 0;
}
