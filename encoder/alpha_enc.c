/* Lossless alpha, the encoder (format in codec/alpha.c): a static table
 * per residual byte plane from the image's own histogram, then rANS. */
#include <string.h>

#include "codec/alpha.h"
#include "codec/internal.h"
#include "common/common.h"
#include "entropy/cdf.h"
#include "entropy/rans.h"

static int build_cdfs(const LwcImage *img, int planes, uint32_t cdf[2][257])
{
    double hist[2][256] = { { 0 } };
    uint32_t mask = img->bit_depth == 16 ? 0xffff : 0xff;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            uint32_t r = (lwc_alpha_get(img, x, y) - lwc_alpha_med(img, x, y)) & mask;
            if (planes == 2) hist[0][r >> 8] += 1;
            hist[planes - 1][r & 0xff] += 1;
        }
    for (int p = 0; p < planes; p++) LWC_FWD(lwc_cdf_from_pmf(hist[p], 256, cdf[p]));
    return LWC_OK;
}

static int is_constant(const LwcImage *img)
{
    uint32_t v = lwc_alpha_get(img, 0, 0);
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            if (lwc_alpha_get(img, x, y) != v) return 0;
    return 1;
}

int lwc_alpha_encode(const LwcImage *img, uint8_t **out, size_t *size)
{
    if (is_constant(img)) {
        uint8_t *b = lwc_malloc(3);
        LWC_RET_IF(!b, LWC_ERR_NOMEM);
        uint32_t v = lwc_alpha_get(img, 0, 0);
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
            uint32_t r = (lwc_alpha_get(img, x, y) - lwc_alpha_med(img, x, y)) & mask;
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
