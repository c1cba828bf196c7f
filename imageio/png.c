/* PNG through libpng. libpng reports errors by longjmp: each entry point
 * creates the libpng structs, then calls a *_guarded() function that does the
 * setjmp and all the work. Everything the guarded part changes lives in a
 * context struct owned by the caller, so nothing the cleanup needs is an
 * automatic variable modified after setjmp (whose value longjmp would leave
 * indeterminate). Messages go to the context, never to stderr. */
#include <png.h>
#include <zlib.h>
#include <string.h>

#include "common/common.h"
#include "imageio.h"

#define PNG_MAX_CHUNKS 1000              /* ancillary chunks kept per file */
#define PNG_MAX_CHUNK_BYTES 8000000      /* bytes per (decompressed) ancillary chunk */
#define PNG_MAX_RATIO 1040               /* raw row bytes per file byte (deflate: 1032) */
#define PNG_RAW_SLACK ((uint64_t)1 << 20) /* raw bytes always allowed */

typedef struct {
    png_structp png;
    png_infop info;
    const uint8_t *buf;     /* reader: input and position */
    size_t size, pos;
    int truncated;          /* reader ran off the end of the input */
    int own_msg;            /* msg is complete (from lwc_io_check_dims) */
    LwcImage *img;
    png_bytep *rows;
    char msg[160];
} PngCtx;

static void png_err_fn(png_structp png, png_const_charp msg)
{
    PngCtx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof(c->msg), "%s", msg);
    png_longjmp(png, 1);
}

static void png_warn_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void png_mem_read(png_structp png, png_bytep out, size_t n)
{
    PngCtx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) {
        c->truncated = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, c->buf + c->pos, n);
    c->pos += n;
}

/* Ask libpng for 8/16-bit gray, gray+alpha, RGB or RGBA in host byte order. */
static void png_set_transforms(PngCtx *c)
{
    int ct = png_get_color_type(c->png, c->info);
    int depth = png_get_bit_depth(c->png, c->info);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
    if (png_get_valid(c->png, c->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(c->png);
    if (depth == 16 && lwc_io_host_is_le()) png_set_swap(c->png);
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
}

static int png_alloc_rows(PngCtx *c)
{
    LwcImage *img = c->img;
    int ch = png_get_channels(c->png, c->info);
    int depth = png_get_bit_depth(c->png, c->info);
    if (lwc_image_alloc(img, img->width, img->height, ch, depth) < 0) return LWC_ERR_NOMEM;
    if (png_get_rowbytes(c->png, c->info) != (size_t)img->width * ch * (depth / 8))
        return LWC_ERR_CORRUPT; /* cannot happen after the transforms above */
    c->rows = lwc_malloc_array((size_t)img->height, sizeof(*c->rows));
    if (!c->rows) return LWC_ERR_NOMEM;
    for (int y = 0; y < img->height; y++) c->rows[y] = img->data + (size_t)y * img->stride;
    return 0;
}

/* libpng allocates a chunk's announced length before reading its data (a
 * 100-byte file with a 2 GB tEXt chunk); the whole file is here, so check
 * first that every chunk up to IEND whose header is complete lies inside it. */
static int png_chunks_fit(const uint8_t *b, size_t size)
{
    size_t pos = 8;
    while (size - pos >= 12) {
        size_t len = (size_t)b[pos] << 24 | (size_t)b[pos + 1] << 16 | (size_t)b[pos + 2] << 8 | b[pos + 3];
        if (len > size - pos - 12) return 0;
        if (!memcmp(b + pos + 4, "IEND", 4)) return 1;
        pos += 12 + len;
    }
    return 1; /* a cut chunk header: libpng reports it, allocating nothing */
}

/* Size limits, and enough input for the raw rows the header announces:
 * deflate expands at most 1032:1, so a short file cannot claim a huge image. */
static int png_check_header(PngCtx *c, uint64_t w, uint64_t h)
{
    LWC_FWD(lwc_io_check_dims(w, h, "PNG", c->msg, sizeof(c->msg)));
    uint64_t raw = h * (uint64_t)png_get_rowbytes(c->png, c->info);
    uint64_t min_size = raw > PNG_RAW_SLACK ? (raw - PNG_RAW_SLACK) / PNG_MAX_RATIO : 0;
    return lwc_io_check_data(min_size, c->size, w, h, "PNG", c->msg, sizeof(c->msg));
}

static int png_read_guarded(PngCtx *c)
{
    if (setjmp(png_jmpbuf(c->png))) return c->truncated ? LWC_ERR_TRUNCATED : LWC_ERR_CORRUPT;
    if (c->size < 8 || !png_chunks_fit(c->buf, c->size)) {
        snprintf(c->msg, sizeof(c->msg), "truncated PNG file: a chunk runs past the end of the data");
        c->own_msg = 1;
        return LWC_ERR_TRUNCATED;
    }
    png_set_read_fn(c->png, c, png_mem_read);
    /* Our own size limits apply (checked below with our message); libpng's
     * default (1e6 per side) would refuse sizes we accept. Ancillary chunks
     * (text, ICC, unknown) get small fixed limits. */
    png_set_user_limits(c->png, 0x7fffffff, 0x7fffffff);
    png_set_chunk_cache_max(c->png, PNG_MAX_CHUNKS);
    png_set_chunk_malloc_max(c->png, PNG_MAX_CHUNK_BYTES);
    png_read_info(c->png, c->info);
    uint64_t w = png_get_image_width(c->png, c->info);
    uint64_t h = png_get_image_height(c->png, c->info);
    int r = png_check_header(c, w, h);
    if (r < 0) {
        c->own_msg = 1;
        return r;
    }
    c->img->width = (int)w;
    c->img->height = (int)h;
    png_set_transforms(c);
    uint64_t bytes = w * h * png_get_channels(c->png, c->info) * (png_get_bit_depth(c->png, c->info) / 8) +
                     h * sizeof(png_bytep);
    r = lwc_io_check_memory(bytes, w, h, "PNG", c->msg, sizeof(c->msg));
    if (r < 0) {
        c->own_msg = 1;
        return r;
    }
    r = png_alloc_rows(c);
    if (r < 0) return r;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL);
    return 0;
}

int lwc_png_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err, size_t errlen)
{
    PngCtx c = {.buf = buf, .size = size, .img = img};
    memset(img, 0, sizeof(*img));
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_err_fn, png_warn_fn);
    if (c.png) c.info = png_create_info_struct(c.png);
    if (!c.info) {
        png_destroy_read_struct(&c.png, NULL, NULL);
        return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    }
    int r = png_read_guarded(&c);
    png_destroy_read_struct(&c.png, &c.info, NULL);
    lwc_free(c.rows);
    if (r == 0) return 0;
    lwc_image_free(img);
    memset(img, 0, sizeof(*img));
    if (c.own_msg) return lwc_io_fail(err, errlen, r, "%s", c.msg);
    if (r == LWC_ERR_TRUNCATED) return lwc_io_fail(err, errlen, r, "truncated PNG file");
    if (r == LWC_ERR_NOMEM) return lwc_io_fail(err, errlen, r, "out of memory");
    return lwc_io_fail(err, errlen, r, "corrupt PNG file: %s", c.msg);
}

static const int png_color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};

static int png_write_guarded(PngCtx *c, FILE *f, const LwcImage *img)
{
    if (setjmp(png_jmpbuf(c->png))) return LWC_ERR_IO;
    png_init_io(c->png, f);
    png_set_IHDR(c->png, c->info, (png_uint_32)img->width, (png_uint_32)img->height,
                 img->bit_depth, png_color_types[img->channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* zlib level 2: 3-4x faster than libpng's default (level 6, Z_FILTERED)
     * on decoded Kodak images, files -2% .. +11% (docs/performance.md) */
    png_set_compression_level(c->png, 2);
    png_set_compression_strategy(c->png, Z_DEFAULT_STRATEGY);
    png_write_info(c->png, c->info);
    if (img->bit_depth == 16 && lwc_io_host_is_le()) png_set_swap(c->png);
    for (int y = 0; y < img->height; y++)
        png_write_row(c->png, img->data + (size_t)y * img->stride);
    png_write_end(c->png, NULL);
    return 0;
}

int lwc_png_write(FILE *f, const LwcImage *img, char *err, size_t errlen)
{
    LWC_FWD(lwc_io_check_image(img, err, errlen));
    PngCtx c = {0};
    c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, png_err_fn, png_warn_fn);
    if (c.png) c.info = png_create_info_struct(c.png);
    if (!c.info) {
        png_destroy_write_struct(&c.png, NULL);
        return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    }
    int r = png_write_guarded(&c, f, img);
    png_destroy_write_struct(&c.png, &c.info);
    if (r < 0) return lwc_io_fail(err, errlen, r, "cannot write PNG: %s", c.msg);
    return 0;
}
