/* JPEG through libjpeg(-turbo). libjpeg's default error_exit() prints and
 * calls exit(): we replace it with one that keeps the message and longjmps,
 * and silence emit_message() while remembering which warnings were raised.
 * As in png.c, the setjmp lives in a *_guarded() function whose changing
 * state is all in a caller-owned context struct.
 *
 * Strictness: libjpeg only *warns* about a truncated stream (and pads the
 * picture with grey) or about damaged entropy-coded data (and resyncs). A
 * metrics tool must not score such a picture, so those warnings turn into
 * LWC_ERR_TRUNCATED / LWC_ERR_CORRUPT. Harmless warnings (extraneous bytes
 * between markers, odd APPn markers) are tolerated. */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "common/common.h"
#include "imageio.h"

/* A progressive JPEG may hold a huge number of tiny scans, each costing a
 * full pass: refuse such files (libjpeg-turbo's TurboJPEG uses 500 too). */
#define JPEG_MAX_SCANS 500
/* Most DCT blocks a file byte can hold (imageio.h, "Memory"): a sequential
 * Huffman block costs at least 1 bit; progressive (end-of-band runs) and
 * arithmetic coding have no hard bound, so a looser plausibility limit. */
#define JPEG_BLOCKS_PER_BYTE 8
#define JPEG_BLOCKS_PER_BYTE_MULTI 64
#define JPEG_BLOCK_SLACK 16384 /* blocks always allowed (1 Mpixel gray) */

typedef struct {
    struct jpeg_error_mgr pub; /* first: libjpeg casts err to this */
    jmp_buf jb;
    int eof;                   /* JWRN_JPEG_EOF seen: input truncated */
    int damaged;               /* a warning about damaged entropy data */
    char msg[JMSG_LENGTH_MAX];
} JpegErr;

typedef struct {
    struct jpeg_decompress_struct d;
    struct jpeg_progress_mgr progress;
    JpegErr err;
    LwcImage *img;
    int own_msg;               /* err.msg is a complete message of ours */
} JpegReadCtx;

static void jpeg_error_exit(j_common_ptr cinfo)
{
    JpegErr *e = (JpegErr *)cinfo->err;
    cinfo->err->format_message(cinfo, e->msg);
    longjmp(e->jb, 1);
}

static void jpeg_emit_message(j_common_ptr cinfo, int level)
{
    JpegErr *e = (JpegErr *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF) e->eof = 1;
    else if (code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC || code == JWRN_NOT_SEQUENTIAL ||
             code == JWRN_BOGUS_PROGRESSION || code == JWRN_HUFF_BAD_CODE)
        e->damaged = 1;
    else return;
    if (!e->msg[0]) cinfo->err->format_message(cinfo, e->msg);
}

static void jpeg_init_err(JpegErr *e, struct jpeg_error_mgr **slot)
{
    *slot = jpeg_std_error(&e->pub);
    e->pub.error_exit = jpeg_error_exit;
    e->pub.emit_message = jpeg_emit_message;
}

static void jpeg_progress(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor ||
        ((j_decompress_ptr)cinfo)->input_scan_number <= JPEG_MAX_SCANS)
        return;
    JpegErr *e = (JpegErr *)cinfo->err;
    snprintf(e->msg, sizeof(e->msg), "more than %d progressive scans", JPEG_MAX_SCANS);
    longjmp(e->jb, 1);
}

/* DCT blocks of all components, padded to the sampling factors as libjpeg
 * pads its whole-image coefficient buffer. Valid after jpeg_read_header. */
static uint64_t jpeg_blocks(j_decompress_ptr d)
{
    uint64_t n = 0;
    for (int i = 0; i < d->num_components; i++) {
        const jpeg_component_info *ci = &d->comp_info[i];
        uint64_t hs = (uint64_t)LWC_MAX(ci->h_samp_factor, 1), vs = (uint64_t)LWC_MAX(ci->v_samp_factor, 1);
        n += (ci->width_in_blocks + hs - 1) / hs * hs * ((ci->height_in_blocks + vs - 1) / vs * vs);
    }
    return n;
}

/* Before anything big is allocated: the file must be long enough for its
 * blocks (imageio.h, "Memory"), the pixels plus the coefficient buffer of a
 * multi-scan file must fit the allocation cap, and libjpeg's memory manager
 * gets the rest of the cap (max_memory_to_use bounds its virtual arrays). */
static int jpeg_check_memory(JpegReadCtx *c, size_t size)
{
    j_decompress_ptr d = &c->d;
    uint64_t w = d->image_width, h = d->image_height, blocks = jpeg_blocks(d);
    int multi = jpeg_has_multiple_scans(d);
    uint64_t per_byte = multi || d->arith_code ? JPEG_BLOCKS_PER_BYTE_MULTI : JPEG_BLOCKS_PER_BYTE;
    uint64_t min_size = blocks > JPEG_BLOCK_SLACK ? (blocks - JPEG_BLOCK_SLACK) / per_byte : 0;
    LWC_FWD(lwc_io_check_data(min_size, size, w, h, "JPEG", c->err.msg, sizeof(c->err.msg)));
    uint64_t pixels = w * h * (d->num_components == 1 ? 1 : 3);
    uint64_t bytes = pixels + (multi ? blocks * sizeof(JBLOCK) : 0);
    LWC_FWD(lwc_io_check_memory(bytes, w, h, "JPEG", c->err.msg, sizeof(c->err.msg)));
    uint64_t left = lwc_alloc_get_cap() - pixels;
    d->mem->max_memory_to_use = left > (uint64_t)LONG_MAX ? LONG_MAX : (long)left;
    return 0;
}

static int jpeg_header(JpegReadCtx *c, const uint8_t *buf, size_t size)
{
    j_decompress_ptr d = &c->d;
    jpeg_mem_src(d, buf, (unsigned long)size);
    jpeg_read_header(d, TRUE);
    int r = lwc_io_check_dims(d->image_width, d->image_height, "JPEG", c->err.msg,
                              sizeof(c->err.msg));
    if (r < 0) {
        c->own_msg = 1;
        return r;
    }
    if (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK) {
        c->own_msg = 1;
        snprintf(c->err.msg, sizeof(c->err.msg), "CMYK JPEG files are not supported");
        return LWC_ERR_UNSUPPORTED;
    }
    d->out_color_space = d->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    r = jpeg_check_memory(c, size);
    c->own_msg = r < 0;
    return r;
}

static int jpeg_read_guarded(JpegReadCtx *c, const uint8_t *buf, size_t size)
{
    if (setjmp(c->err.jb)) return c->err.eof ? LWC_ERR_TRUNCATED : LWC_ERR_CORRUPT;
    jpeg_create_decompress(&c->d);
    c->progress.progress_monitor = jpeg_progress;
    c->d.progress = &c->progress;
    int r = jpeg_header(c, buf, size);
    if (r < 0) return r;
    jpeg_start_decompress(&c->d);
    LwcImage *img = c->img;
    if (lwc_image_alloc(img, (int)c->d.output_width, (int)c->d.output_height,
                        c->d.output_components, 8) < 0)
        return LWC_ERR_NOMEM;
    while (c->d.output_scanline < c->d.output_height) {
        JSAMPROW row = img->data + (size_t)c->d.output_scanline * img->stride;
        jpeg_read_scanlines(&c->d, &row, 1);
    }
    jpeg_finish_decompress(&c->d);
    if (c->err.eof) return LWC_ERR_TRUNCATED;
    return c->err.damaged ? LWC_ERR_CORRUPT : 0;
}

int lwc_jpeg_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err, size_t errlen)
{
    JpegReadCtx c;
    memset(&c, 0, sizeof(c));
    memset(img, 0, sizeof(*img));
    c.img = img;
    jpeg_init_err(&c.err, &c.d.err);
    int r = jpeg_read_guarded(&c, buf, size);
    jpeg_destroy_decompress(&c.d);
    if (r == 0) return 0;
    lwc_image_free(img);
    memset(img, 0, sizeof(*img));
    if (c.own_msg) return lwc_io_fail(err, errlen, r, "%s", c.err.msg);
    if (r == LWC_ERR_TRUNCATED) return lwc_io_fail(err, errlen, r, "truncated JPEG file");
    if (r == LWC_ERR_NOMEM) return lwc_io_fail(err, errlen, r, "out of memory");
    return lwc_io_fail(err, errlen, r, "corrupt JPEG file: %s", c.err.msg);
}

typedef struct {
    struct jpeg_compress_struct cc;
    JpegErr err;
} JpegWriteCtx;

static int jpeg_write_guarded(JpegWriteCtx *c, FILE *f, const LwcImage *img, int quality)
{
    if (setjmp(c->err.jb)) return LWC_ERR_IO;
    jpeg_create_compress(&c->cc);
    jpeg_stdio_dest(&c->cc, f);
    c->cc.image_width = (JDIMENSION)img->width;
    c->cc.image_height = (JDIMENSION)img->height;
    c->cc.input_components = img->channels;
    c->cc.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c->cc);
    jpeg_set_quality(&c->cc, quality, TRUE);
    jpeg_start_compress(&c->cc, TRUE);
    while (c->cc.next_scanline < c->cc.image_height) {
        /* libjpeg's API is not const-correct; it only reads the row. */
        JSAMPROW row = (JSAMPROW)(img->data + (size_t)c->cc.next_scanline * img->stride);
        jpeg_write_scanlines(&c->cc, &row, 1);
    }
    jpeg_finish_compress(&c->cc);
    return 0;
}

int lwc_jpeg_write(FILE *f, const LwcImage *img, int quality, char *err, size_t errlen)
{
    LWC_FWD(lwc_io_check_image(img, err, errlen));
    if (img->bit_depth != 8 || (img->channels != 1 && img->channels != 3))
        return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED,
                           "JPEG output needs an 8-bit gray or RGB image (got %d-bit, %d channels)",
                           img->bit_depth, img->channels);
    if (quality < 1 || quality > 100)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "JPEG quality %d outside 1..100", quality);
    JpegWriteCtx c;
    memset(&c, 0, sizeof(c));
    jpeg_init_err(&c.err, &c.cc.err);
    int r = jpeg_write_guarded(&c, f, img, quality);
    jpeg_destroy_compress(&c.cc);
    if (r < 0) return lwc_io_fail(err, errlen, r, "cannot write JPEG: %s", c.err.msg);
    return 0;
}
