/* Binary PGM (P5) and PPM (P6). Only the first image of a multi-image file
 * is read; bytes after it are ignored. 16-bit samples are big-endian in the
 * file (Netpbm) and native-endian in LwcImage. */
#include <string.h>

#include "common/common.h"
#include "imageio.h"

typedef struct {
    const uint8_t *buf;
    size_t size, pos;
} PnmCursor;

static int pnm_is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skip whitespace and '#' comments (which run to the end of the line). */
static void pnm_skip_space(PnmCursor *c)
{
    while (c->pos < c->size) {
        uint8_t ch = c->buf[c->pos];
        if (ch == '#') {
            while (c->pos < c->size && c->buf[c->pos] != '\n' && c->buf[c->pos] != '\r') c->pos++;
        } else if (pnm_is_space(ch)) {
            c->pos++;
        } else {
            return;
        }
    }
}

/* A decimal header field. Returns 0, LWC_ERR_TRUNCATED or LWC_ERR_CORRUPT.
 * Values are capped (not overflowed) at just above any legal size. */
static int pnm_read_uint(PnmCursor *c, uint64_t *out)
{
    pnm_skip_space(c);
    if (c->pos >= c->size) return LWC_ERR_TRUNCATED;
    if (c->buf[c->pos] < '0' || c->buf[c->pos] > '9') return LWC_ERR_CORRUPT;
    uint64_t v = 0;
    while (c->pos < c->size && c->buf[c->pos] >= '0' && c->buf[c->pos] <= '9') {
        v = v * 10 + (uint64_t)(c->buf[c->pos++] - '0');
        if (v > ((uint64_t)1 << 40)) v = (uint64_t)1 << 40;
    }
    *out = v;
    return 0;
}

typedef struct {
    uint64_t w, h, maxval;
    int channels;
} PnmHeader;

static int pnm_read_header(PnmCursor *c, PnmHeader *hd, char *err, size_t errlen)
{
    hd->channels = c->buf[1] == '5' ? 1 : 3;
    c->pos = 2;
    int r = pnm_read_uint(c, &hd->w);
    if (r == 0) r = pnm_read_uint(c, &hd->h);
    if (r == 0) r = pnm_read_uint(c, &hd->maxval);
    /* Exactly one whitespace byte separates the header from the samples. */
    if (r == 0 && c->pos >= c->size) r = LWC_ERR_TRUNCATED;
    if (r == 0 && !pnm_is_space(c->buf[c->pos])) r = LWC_ERR_CORRUPT;
    if (r == LWC_ERR_TRUNCATED) return lwc_io_fail(err, errlen, r, "truncated PNM file");
    if (r < 0) return lwc_io_fail(err, errlen, r, "corrupt PNM header");
    c->pos++;
    if (hd->maxval < 1 || hd->maxval > 65535)
        return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "PNM maxval %llu outside 1..65535",
                           (unsigned long long)hd->maxval);
    return lwc_io_check_dims(hd->w, hd->h, "PNM", err, errlen);
}

/* Scale v in 0..maxval to 0..full, rounding to nearest. */
static inline uint32_t pnm_scale(uint32_t v, uint32_t maxval, uint32_t full)
{
    return maxval == full ? v : (uint32_t)(((uint64_t)v * full + maxval / 2) / maxval);
}

static int pnm_read_samples(PnmCursor *c, const PnmHeader *hd, LwcImage *img, char *err,
                            size_t errlen)
{
    int wide = hd->maxval > 255;
    uint32_t maxval = (uint32_t)hd->maxval, full = wide ? 65535 : 255;
    size_t n = (size_t)img->width * (size_t)img->channels;
    size_t need = (size_t)img->height * n * (wide ? 2 : 1);
    if (c->size - c->pos < need) return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED, "truncated PNM file");
    const uint8_t *p = c->buf + c->pos;
    for (int y = 0; y < img->height; y++) {
        uint8_t *row8 = img->data + (size_t)y * img->stride;
        uint16_t *row16 = (uint16_t *)row8;
        for (size_t i = 0; i < n; i++) {
            uint32_t v = wide ? (uint32_t)p[0] << 8 | p[1] : p[0];
            p += wide ? 2 : 1;
            if (v > maxval)
                return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "PNM sample %u above maxval %u",
                                   v, maxval);
            v = pnm_scale(v, maxval, full);
            if (wide) row16[i] = (uint16_t)v;
            else row8[i] = (uint8_t)v;
        }
    }
    return 0;
}

int lwc_pnm_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err, size_t errlen)
{
    memset(img, 0, sizeof(*img));
    if (size < 2 || buf[0] != 'P' || (buf[1] != '5' && buf[1] != '6'))
        return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED, "not a binary PGM/PPM file");
    PnmCursor c = {buf, size, 0};
    PnmHeader hd;
    LWC_FWD(pnm_read_header(&c, &hd, err, errlen));
    /* All samples must be present before pixel memory is allocated: a short
     * header alone must not cost an allocation of up to 1.5 GiB. */
    if (c.size - c.pos < hd.w * hd.h * (uint64_t)hd.channels * (hd.maxval > 255 ? 2 : 1))
        return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED, "truncated PNM file");
    if (lwc_image_alloc(img, (int)hd.w, (int)hd.h, hd.channels, hd.maxval > 255 ? 16 : 8) < 0)
        return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    int r = pnm_read_samples(&c, &hd, img, err, errlen);
    if (r < 0) {
        lwc_image_free(img);
        memset(img, 0, sizeof(*img));
    }
    return r;
}

int lwc_pnm_write(FILE *f, const LwcImage *img, char *err, size_t errlen)
{
    LWC_FWD(lwc_io_check_image(img, err, errlen));
    if (img->channels != 1 && img->channels != 3)
        return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED,
                           "PPM/PGM output needs 1 or 3 channels (got %d); use PNG for alpha",
                           img->channels);
    int wide = img->bit_depth == 16;
    if (fprintf(f, "P%c\n%d %d\n%d\n", img->channels == 1 ? '5' : '6', img->width, img->height,
                wide ? 65535 : 255) < 0)
        return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot write PNM header");
    size_t n = (size_t)img->width * (size_t)img->channels;
    uint8_t tmp[4096];
    for (int y = 0; y < img->height; y++) {
        const uint8_t *row = img->data + (size_t)y * img->stride;
        if (!wide) {
            if (fwrite(row, 1, n, f) != n) return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot write PNM");
            continue;
        }
        /* 16-bit: convert to big-endian through a small bounce buffer. */
        const uint16_t *row16 = (const uint16_t *)row;
        for (size_t i = 0; i < n;) {
            size_t k = 0;
            for (; i < n && k < sizeof(tmp); i++, k += 2) {
                tmp[k] = (uint8_t)(row16[i] >> 8);
                tmp[k + 1] = (uint8_t)row16[i];
            }
            if (fwrite(tmp, 1, k, f) != k) return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot write PNM");
        }
    }
    return 0;
}
