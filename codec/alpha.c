/* Lossless alpha: MED (LOCO-I) prediction, residuals modulo 2^bits, coded
 * with rANS under a static table sent in the section.
 * Section layout: u8 mode. mode 0: u16 value (every pixel has it).
 * mode 1: for each residual byte plane (1 for 8-bit, 2 for 16-bit: high
 * byte then low byte) 256 u16 frequencies (each >= 1, summing to 65536),
 * then one rANS stream with, per pixel in raster order, the high byte (16-bit
 * only) and the low byte. This file decodes; encoder/alpha_enc.c encodes. */
#include <string.h>

#include "alpha.h"
#include "common/common.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"
#include "internal.h"

static void set_a(LwcImage *img, int x, int y, uint32_t v)
{
    uint8_t *row = img->data + (size_t)y * img->stride;
    size_t k = (size_t)x * img->channels + img->channels - 1;
    if (img->bit_depth == 16) ((uint16_t *)row)[k] = (uint16_t)v; else row[k] = (uint8_t)v;
}

static int read_cdf(const uint8_t *b, uint32_t *cdf)
{
    cdf[0] = 0;
    for (int s = 0; s < 256; s++) {
        uint32_t f = b[2 * s] | (uint32_t)b[2 * s + 1] << 8;
        LWC_RET_IF(f == 0, LWC_ERR_CORRUPT);
        cdf[s + 1] = cdf[s] + f;
    }
    LWC_RET_IF(cdf[256] != 65536, LWC_ERR_CORRUPT);
    return LWC_OK;
}

static uint32_t dec_sym(LwcRansDec *d, const uint32_t *cdf)
{
    uint32_t slot = lwc_rans_dec_peek(d);
    int s = lwc_cdf_lookup(cdf, 256, slot);
    lwc_rans_dec_advance(d, cdf[s], cdf[s + 1] - cdf[s]);
    return (uint32_t)s;
}

int lwc_alpha_decode(const uint8_t *buf, size_t size, LwcImage *img)
{
    LWC_RET_IF(size < 1, LWC_ERR_TRUNCATED);
    uint32_t mask = img->bit_depth == 16 ? 0xffff : 0xff;
    if (buf[0] == 0) {
        LWC_RET_IF(size != 3, LWC_ERR_CORRUPT);
        uint32_t v = buf[1] | (uint32_t)buf[2] << 8;
        LWC_RET_IF(v > mask, LWC_ERR_CORRUPT);
        for (int y = 0; y < img->height; y++)
            for (int x = 0; x < img->width; x++) set_a(img, x, y, v);
        return LWC_OK;
    }
    LWC_RET_IF(buf[0] != 1, LWC_ERR_CORRUPT);
    int planes = img->bit_depth == 16 ? 2 : 1;
    size_t hdr = 1 + 512 * (size_t)planes;
    LWC_RET_IF(size < hdr, LWC_ERR_TRUNCATED);
    uint32_t cdf[2][257];
    for (int p = 0; p < planes; p++) LWC_FWD(read_cdf(buf + 1 + 512 * p, cdf[p]));
    LwcRansDec d;
    LWC_FWD(lwc_rans_dec_init(&d, buf + hdr, size - hdr));
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            uint32_t r = planes == 2 ? dec_sym(&d, cdf[0]) << 8 : 0;
            r |= dec_sym(&d, cdf[planes - 1]);
            set_a(img, x, y, (lwc_alpha_med(img, x, y) + r) & mask);
        }
    return lwc_rans_dec_finish(&d);
}
