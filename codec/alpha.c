/* Lossless alpha: MED (LOCO-I) prediction, residuals modulo 2^bits, coded
 * with rANS under a static table sent in the section.
 * Section layout: u8 mode. mode 0: u16 value (every pixel has it).
 * mode 1: for each residual byte plane (1 for 8-bit, 2 for 16-bit: high
 * byte then low byte) 256 u16 frequencies (each >= 1, summing to 65536),
 * then one rANS stream with, per pixel in raster order, the high byte (16-bit
 * only) and the low byte. */
#include <string.h>

#include "common/common.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"
#include "internal.h"

static uint32_t get_a(const LwcImage *img, int x, int y)
{
    const uint8_t *row = img->data + (size_t)y * img->stride;
    size_t k = (size_t)x * img->channels + img->channels - 1;
    return img->bit_depth == 16 ? ((const uint16_t *)row)[k] : row[k];
}

static void set_a(LwcImage *img, int x, int y, uint32_t v)
{
    uint8_t *row = img->data + (size_t)y * img->stride;
    size_t k = (size_t)x * img->channels + img->channels - 1;
    if (img->bit_depth == 16) ((uint16_t *)row)[k] = (uint16_t)v; else row[k] = (uint8_t)v;
}

static uint32_t med(const LwcImage *img, int x, int y)
{
    if (y == 0) return x ? get_a(img, x - 1, 0) : 0;
    if (x == 0) return get_a(img, 0, y - 1);
    int a = (int)get_a(img, x - 1, y), b = (int)get_a(img, x, y - 1), c = (int)get_a(img, x - 1, y - 1);
    int mx = LWC_MAX(a, b), mn = LWC_MIN(a, b);
    return (uint32_t)(c >= mx ? mn : c <= mn ? mx : a + b - c);
}

static int build_cdfs(const LwcImage *img, int planes, uint32_t cdf[2][257])
{
    double hist[2][256] = { { 0 } };
    uint32_t mask = img->bit_depth == 16 ? 0xffff : 0xff;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            uint32_t r = (get_a(img, x, y) - med(img, x, y)) & mask;
            if (planes == 2) hist[0][r >> 8] += 1;
            hist[planes - 1][r & 0xff] += 1;
        }
    for (int p = 0; p < planes; p++) LWC_FWD(lwc_cdf_from_pmf(hist[p], 256, cdf[p]));
    return LWC_OK;
}

static int is_constant(const LwcImage *img)
{
    uint32_t v = get_a(img, 0, 0);
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            if (get_a(img, x, y) != v) return 0;
    return 1;
}

int lwc_alpha_encode(const LwcImage *img, uint8_t **out, size_t *size)
{
    if (is_constant(img)) {
        uint8_t *b = lwc_malloc(3);
        LWC_RET_IF(!b, LWC_ERR_NOMEM);
        uint32_t v = get_a(img, 0, 0);
        b[0] = 0; b[1] = (uint8_t)v; b[2] = (uint8_t)(v >> 8);
        *out = b; *size = 3;
        return LWC_OK;
    }
    int planes = img->bit_depth == 16 ? 2 : 1;
    uint32_t cdf[2][257], mask = img->bit_depth == 16 ? 0xffff : 0xff;
    LWC_FWD(build_cdfs(img, planes, cdf));
    LwcRansEnc e;
    lwc_rans_enc_init(&e);
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            uint32_t r = (get_a(img, x, y) - med(img, x, y)) & mask;
            if (planes == 2) lwc_rans_enc_put(&e, cdf[0][r >> 8], cdf[0][(r >> 8) + 1] - cdf[0][r >> 8]);
            const uint32_t *c = cdf[planes - 1];
            lwc_rans_enc_put(&e, c[r & 0xff], c[(r & 0xff) + 1] - c[r & 0xff]);
        }
    uint8_t *stream;
    size_t slen;
    int r = lwc_rans_enc_finish(&e, &stream, &slen);
    lwc_rans_enc_free(&e);
    LWC_FWD(r);
    size_t hdr = 1 + 512 * (size_t)planes;
    uint8_t *b = lwc_malloc(hdr + slen);
    if (!b) { lwc_free(stream); return LWC_ERR_NOMEM; }
    b[0] = 1;
    for (int p = 0; p < planes; p++)
        for (int s = 0; s < 256; s++) {
            uint32_t f = cdf[p][s + 1] - cdf[p][s]; /* 1..65535: a lone symbol cannot take it all */
            b[1 + 512 * p + 2 * s] = (uint8_t)f;
            b[2 + 512 * p + 2 * s] = (uint8_t)(f >> 8);
        }
    memcpy(b + hdr, stream, slen);
    lwc_free(stream);
    *out = b; *size = hdr + slen;
    return LWC_OK;
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
            set_a(img, x, y, (med(img, x, y) + r) & mask);
        }
    return lwc_rans_dec_finish(&d);
}
