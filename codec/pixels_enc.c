/* Image -> padded float colour planes (the encoder's input); the way back
 * is in pixels.c. */
#include "common/common.h"
#include "internal.h"

/* Half-sample symmetric reflection of index i into [0, n). */
static int reflect(int i, int n)
{
    if (n == 1) return 0;
    int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

static float sample(const LwcImage *img, int x, int y, int c)
{
    const uint8_t *row = img->data + (size_t)y * img->stride;
    if (img->bit_depth == 16) return ((const uint16_t *)row)[(size_t)x * img->channels + c] / 65535.0f;
    return row[(size_t)x * img->channels + c] / 255.0f;
}

void lwc_image_to_planes_rows(const LwcImage *img, const LwcGeom *g, int y0, int y1, float *planes,
                              size_t plane)
{
    int colour = img->channels >= 3 ? 3 : 1;
    for (int y = y0; y < y1; y++) {
        int sy = reflect(y, g->h);
        float *dst = planes + (size_t)(y - y0) * g->wp;
        for (int x = 0; x < g->wp; x++) {
            int sx = reflect(x, g->w);
            for (int c = 0; c < 3; c++) dst[c * plane + x] = sample(img, sx, sy, colour == 3 ? c : 0) - 0.5f;
        }
    }
}
