/* Conversions between interleaved images and padded float colour planes. */
#include <math.h>

#include "common/common.h"
#include "internal.h"

void lwc_geom_init(LwcGeom *g, int w, int h)
{
    g->w = w; g->h = h;
    g->wp = (w + 31) & ~31;
    g->hp = (h + 31) & ~31;
    g->wy = g->wp / 8; g->hy = g->hp / 8;
    g->wz = g->wp / 32; g->hz = g->hp / 32;
}

static int to_code(float v)
{
    float s = floorf((v + 0.5f) * 255.0f + 0.5f);
    /* clamp before converting: a float outside int range (or NaN) is UB */
    return !(s > 0.0f) ? 0 : s > 255.0f ? 255 : (int)s;
}

void lwc_planes_to_image_rows(const float *planes, size_t plane, const LwcGeom *g, int y0, int y1,
                               LwcImage *img)
{
    int colour = img->channels >= 3 ? 3 : 1;
    for (int y = y0; y < LWC_MIN(y1, g->h); y++) {
        uint8_t *row = img->data + (size_t)y * img->stride;
        const float *p = planes + (size_t)(y - y0) * g->wp;
        for (int x = 0; x < g->w; x++)
            for (int c = 0; c < colour; c++) {
                int v = colour == 3 ? to_code(p[c * plane + x])
                                    : to_code((p[x] + p[plane + x] + p[2 * plane + x]) / 3.0f);
                if (img->bit_depth == 16)
                    ((uint16_t *)row)[(size_t)x * img->channels + c] = (uint16_t)(v * 257);
                else
                    row[(size_t)x * img->channels + c] = (uint8_t)v;
            }
    }
}
