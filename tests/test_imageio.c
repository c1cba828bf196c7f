/* Image I/O: round trips for every format and shape, PNG variants made with
 * libpng directly, truncation and corruption sweeps, size caps checked before
 * allocation, atomic writes, stdin/stdout. */
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>

#include "common/common.h"
#include "imageio/imageio.h"
#include "testutil.h"

/* ---- helpers */

static char g_dir[64];

static void make_dir(void)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/lwc_test_io_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

/* Remove every file in the test directory, then the directory. */
static void remove_dir(void)
{
    DIR *d = opendir(g_dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof(p), "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(g_dir);
}

static int count_dir_entries(void)
{
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static const char *tpath(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", g_dir, name);
    return p[k];
}

static size_t sample_bytes(const LwcImage *im) { return (size_t)im->bit_depth / 8; }

static unsigned get_sample(const LwcImage *im, int x, int y, int c)
{
    const uint8_t *row = im->data + (size_t)y * im->stride;
    size_t i = (size_t)x * im->channels + c;
    return im->bit_depth == 16 ? ((const uint16_t *)row)[i] : row[i];
}

static void set_sample(LwcImage *im, int x, int y, int c, unsigned v)
{
    uint8_t *row = im->data + (size_t)y * im->stride;
    size_t i = (size_t)x * im->channels + c;
    if (im->bit_depth == 16) ((uint16_t *)row)[i] = (uint16_t)v;
    else row[i] = (uint8_t)v;
}

static void fill_random(LwcImage *im, uint64_t seed)
{
    TestRng r;
    trng_seed(&r, seed);
    unsigned mask = im->bit_depth == 16 ? 0xffff : 0xff;
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            for (int c = 0; c < im->channels; c++) set_sample(im, x, y, c, (unsigned)trng_u64(&r) & mask);
}

/* A smooth picture that JPEG reproduces well. */
static void fill_smooth(LwcImage *im)
{
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            for (int c = 0; c < im->channels; c++)
                set_sample(im, x, y, c, (unsigned)(40 + (x + y) % 128 + c * 30));
}

static void assert_same(const LwcImage *a, const LwcImage *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_int_eq(a->channels, b->channels);
    ck_assert_int_eq(a->bit_depth, b->bit_depth);
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            for (int c = 0; c < a->channels; c++)
                ck_assert_uint_eq(get_sample(a, x, y, c), get_sample(b, x, y, c));
}

/* An image whose stride has padding, to check that writers honour stride. */
static void alloc_padded(LwcImage *im, int w, int h, int ch, int depth)
{
    size_t row = (size_t)w * ch * (depth / 8);
    im->width = w;
    im->height = h;
    im->channels = ch;
    im->bit_depth = depth;
    im->stride = row + 14; /* even: 16-bit rows stay aligned */
    im->data = lwc_calloc(im->stride, (size_t)h);
    ck_assert_ptr_nonnull(im->data);
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = lwc_malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* Write img in `fmt` and return the file's bytes. */
static uint8_t *encode_to_mem(const LwcImage *img, int fmt, const char *name, size_t *size)
{
    char err[256] = "";
    int r = lwc_image_write_file(tpath(name), img, fmt, 90, err, sizeof(err));
    ck_assert_msg(r == 0, "write %s: %s", name, err);
    return slurp(tpath(name), size);
}

static int one_line(const char *s) { return s[0] && !strchr(s, '\n'); }

/* ---- libpng writer for PNG variants our writer never produces */

typedef struct {
    uint8_t buf[1 << 16];
    size_t len;
} MemOut;

static void mem_write(png_structp p, png_bytep d, size_t n)
{
    MemOut *m = png_get_io_ptr(p);
    ck_assert_uint_le(m->len + n, sizeof(m->buf));
    memcpy(m->buf + m->len, d, n);
    m->len += n;
}

static void mem_flush(png_structp p) { (void)p; }

typedef struct {
    int color_type, depth, interlace;
    int npal;               /* palette entries (palette images) */
    int ntrns;              /* tRNS entries (palette) or 1 for gray/RGB key */
} PngVariant;

/* Raw rows: `packed` holds the file's sample layout (before any expansion). */
static void write_png_variant(MemOut *m, const PngVariant *v, int w, int h, png_bytep *rows)
{
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    ck_assert(!setjmp(png_jmpbuf(p)));
    m->len = 0;
    png_set_write_fn(p, m, mem_write, mem_flush);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, v->depth, v->color_type, v->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color pal[16];
    png_byte alpha[16];
    png_color_16 key = {0, 0, 0, 0, 0};
    for (int i = 0; i < 16; i++) {
        pal[i].red = (png_byte)(i * 16);
        pal[i].green = (png_byte)(255 - i * 16);
        pal[i].blue = (png_byte)(i * 7);
        alpha[i] = (png_byte)(i * 10);
    }
    if (v->color_type == PNG_COLOR_TYPE_PALETTE) png_set_PLTE(p, info, pal, v->npal);
    if (v->ntrns && v->color_type == PNG_COLOR_TYPE_PALETTE) png_set_tRNS(p, info, alpha, v->ntrns, NULL);
    if (v->ntrns && v->color_type != PNG_COLOR_TYPE_PALETTE) {
        key.gray = 3;
        key.red = 3;
        key.green = 4;
        key.blue = 5;
        png_set_tRNS(p, info, NULL, 0, &key);
    }
    png_write_info(p, info);
    png_write_image(p, rows);
    png_write_end(p, info);
    png_destroy_write_struct(&p, &info);
}

/* ---- round trips */

START_TEST(png_roundtrip)
{
    int ch = 1 + _i % 4, depth = _i < 4 ? 8 : 16;
    make_dir();
    LwcImage a, b;
    alloc_padded(&a, 37, 23, ch, depth);
    fill_random(&a, (uint64_t)_i + 1);
    char err[256] = "";
    ck_assert_int_eq(lwc_image_write_file(tpath("x.png"), &a, LWC_FMT_AUTO, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(lwc_image_read_file(tpath("x.png"), &b, err, sizeof(err)), 0);
    assert_same(&a, &b);
    ck_assert_uint_eq(b.stride, (size_t)b.width * b.channels * sample_bytes(&b));
    lwc_free(a.data);
    lwc_image_free(&b);
    ck_assert_int_eq(count_dir_entries(), 1); /* no temp file left */
    remove_dir();
}
END_TEST

START_TEST(pnm_roundtrip)
{
    int ch = _i % 2 ? 3 : 1, depth = _i < 2 ? 8 : 16;
    make_dir();
    LwcImage a, b;
    alloc_padded(&a, 19, 11, ch, depth);
    fill_random(&a, (uint64_t)_i + 100);
    char err[256] = "";
    ck_assert_int_eq(lwc_image_write_file(tpath("x.pnm"), &a, LWC_FMT_AUTO, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(lwc_image_read_file(tpath("x.pnm"), &b, err, sizeof(err)), 0);
    assert_same(&a, &b);
    lwc_free(a.data);
    lwc_image_free(&b);
    remove_dir();
}
END_TEST

START_TEST(jpeg_roundtrip)
{
    int ch = _i ? 3 : 1;
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 64, 48, ch, 8), 0);
    fill_smooth(&a);
    char err[256] = "";
    ck_assert_int_eq(lwc_image_write_file(tpath("x.jpeg"), &a, LWC_FMT_AUTO, 95, err, sizeof(err)), 0);
    ck_assert_int_eq(lwc_image_read_file(tpath("x.jpeg"), &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.width, 64);
    ck_assert_int_eq(b.height, 48);
    ck_assert_int_eq(b.channels, ch);
    ck_assert_int_eq(b.bit_depth, 8);
    double se = 0;
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++)
            for (int c = 0; c < ch; c++) {
                double d = (double)get_sample(&a, x, y, c) - get_sample(&b, x, y, c);
                se += d * d;
            }
    ck_assert_double_lt(se / (64 * 48 * ch), 4.0); /* PSNR > 42 dB at q95 */
    lwc_image_free(&a);
    lwc_image_free(&b);
    remove_dir();
}
END_TEST

START_TEST(jpeg_quality_changes_size)
{
    make_dir();
    LwcImage a;
    ck_assert_int_eq(lwc_image_alloc(&a, 64, 64, 3, 8), 0);
    fill_random(&a, 7);
    char err[256];
    ck_assert_int_eq(lwc_image_write_file(tpath("lo.jpg"), &a, LWC_FMT_JPEG, 10, err, sizeof(err)), 0);
    ck_assert_int_eq(lwc_image_write_file(tpath("hi.jpg"), &a, LWC_FMT_JPEG, 95, err, sizeof(err)), 0);
    struct stat lo, hi;
    stat(tpath("lo.jpg"), &lo);
    stat(tpath("hi.jpg"), &hi);
    ck_assert_int_lt(lo.st_size, hi.st_size);
    ck_assert_int_eq(lwc_image_write_file(tpath("q.jpg"), &a, LWC_FMT_JPEG, 0, err, sizeof(err)),
                     LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_image_write_file(tpath("q.jpg"), &a, LWC_FMT_JPEG, 101, err, sizeof(err)),
                     LWC_ERR_INVAL);
    lwc_image_free(&a);
    remove_dir();
}
END_TEST

/* JPEG cannot hold 16-bit or alpha, PNM cannot hold alpha: refused, and the
 * failed write leaves nothing behind. */
START_TEST(write_refusals_leave_nothing)
{
    static const struct { int fmt, ch, depth; } cases[] = {
        {LWC_FMT_JPEG, 3, 16}, {LWC_FMT_JPEG, 4, 8}, {LWC_FMT_JPEG, 2, 8},
        {LWC_FMT_PPM, 4, 8},   {LWC_FMT_PPM, 2, 16},
    };
    make_dir();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        LwcImage a;
        ck_assert_int_eq(lwc_image_alloc(&a, 8, 8, cases[i].ch, cases[i].depth), 0);
        char err[256] = "";
        int r = lwc_image_write_file(tpath("out"), &a, cases[i].fmt, 90, err, sizeof(err));
        ck_assert_int_eq(r, LWC_ERR_UNSUPPORTED);
        ck_assert(one_line(err));
        ck_assert_int_eq(count_dir_entries(), 0);
        lwc_image_free(&a);
    }
    remove_dir();
}
END_TEST

/* ---- format detection */

START_TEST(format_from_path)
{
    ck_assert_int_eq(lwc_format_from_path("a.png"), LWC_FMT_PNG);
    ck_assert_int_eq(lwc_format_from_path("DIR.x/A.PNG"), LWC_FMT_PNG);
    ck_assert_int_eq(lwc_format_from_path("a.ppm"), LWC_FMT_PPM);
    ck_assert_int_eq(lwc_format_from_path("a.pgm"), LWC_FMT_PPM);
    ck_assert_int_eq(lwc_format_from_path("a.pnm"), LWC_FMT_PPM);
    ck_assert_int_eq(lwc_format_from_path("a.jpg"), LWC_FMT_JPEG);
    ck_assert_int_eq(lwc_format_from_path("a.JPEG"), LWC_FMT_JPEG);
    ck_assert_int_eq(lwc_format_from_path("-"), LWC_FMT_PNG);
    ck_assert_int_eq(lwc_format_from_path("a.gif"), LWC_ERR_UNSUPPORTED);
    ck_assert_int_eq(lwc_format_from_path("dir.png/a"), LWC_ERR_UNSUPPORTED);
    ck_assert_int_eq(lwc_format_from_path("noext"), LWC_ERR_UNSUPPORTED);
}
END_TEST

/* The content decides: a PNG named .jpg and a JPEG named .ppm read fine. */
START_TEST(detect_by_magic_not_extension)
{
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 16, 16, 3, 8), 0);
    fill_smooth(&a);
    char err[256] = "";
    ck_assert_int_eq(lwc_image_write_file(tpath("png.jpg"), &a, LWC_FMT_PNG, 0, err, sizeof(err)), 0);
    ck_assert_int_eq(lwc_image_read_file(tpath("png.jpg"), &b, err, sizeof(err)), 0);
    assert_same(&a, &b);
    lwc_image_free(&b);
    ck_assert_int_eq(lwc_image_write_file(tpath("jpg.ppm"), &a, LWC_FMT_JPEG, 90, err, sizeof(err)), 0);
    size_t n;
    uint8_t *buf = slurp(tpath("jpg.ppm"), &n);
    ck_assert_int_eq(lwc_format_detect(buf, n), LWC_FMT_JPEG);
    ck_assert_int_eq(lwc_image_read_mem(buf, n, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.channels, 3);
    lwc_image_free(&b);
    lwc_free(buf);
    static const uint8_t gif[] = "GIF89a....";
    ck_assert_int_eq(lwc_image_read_mem(gif, sizeof(gif), &b, err, sizeof(err)), LWC_ERR_UNSUPPORTED);
    ck_assert(one_line(err));
    ck_assert_ptr_null(b.data);
    ck_assert_int_eq(lwc_image_read_mem(gif, 0, &b, err, sizeof(err)), LWC_ERR_TRUNCATED);
    ck_assert_int_eq(lwc_image_write_file(tpath("x.gif"), &a, LWC_FMT_AUTO, 90, err, sizeof(err)),
                     LWC_ERR_INVAL);
    lwc_image_free(&a);
    remove_dir();
}
END_TEST

/* ---- PNG variants: palette, tRNS, low bit depths, interlace, byte order */

START_TEST(png_palette_trns)
{
    static const PngVariant v = {PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_ADAM7, 16, 16};
    enum { W = 9, H = 7 };
    png_byte raw[H][(W + 1) / 2];
    png_bytep rows[H];
    for (int y = 0; y < H; y++) {
        rows[y] = raw[y];
        for (int x = 0; x < (W + 1) / 2; x++)
            raw[y][x] = (png_byte)((((x * 2 + y) & 15) << 4) | ((x * 2 + 1 + y) & 15));
    }
    static MemOut m;
    write_png_variant(&m, &v, W, H, rows);
    LwcImage b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_mem(m.buf, m.len, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.channels, 4);
    ck_assert_int_eq(b.bit_depth, 8);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned i = (unsigned)(x + y) & 15;
            ck_assert_uint_eq(get_sample(&b, x, y, 0), i * 16);
            ck_assert_uint_eq(get_sample(&b, x, y, 1), 255 - i * 16);
            ck_assert_uint_eq(get_sample(&b, x, y, 2), i * 7);
            ck_assert_uint_eq(get_sample(&b, x, y, 3), i * 10);
        }
    lwc_image_free(&b);
}
END_TEST

START_TEST(png_palette_no_trns_is_rgb)
{
    static const PngVariant v = {PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, 16, 0};
    png_byte raw[2][3] = {{0, 5, 15}, {1, 2, 3}};
    png_bytep rows[2] = {raw[0], raw[1]};
    static MemOut m;
    write_png_variant(&m, &v, 3, 2, rows);
    LwcImage b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_mem(m.buf, m.len, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.channels, 3);
    ck_assert_uint_eq(get_sample(&b, 1, 0, 0), 80);
    ck_assert_uint_eq(get_sample(&b, 2, 0, 1), 15);
    ck_assert_uint_eq(get_sample(&b, 2, 1, 2), 21);
    lwc_image_free(&b);
}
END_TEST

START_TEST(png_gray1_and_gray_key)
{
    /* 1-bit gray expands to 0/255. */
    static const PngVariant v1 = {PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, 0, 0};
    png_byte raw1[1][2] = {{0xA5, 0x80}}; /* 10100101 1 */
    png_bytep rows1[1] = {raw1[0]};
    static MemOut m;
    write_png_variant(&m, &v1, 9, 1, rows1);
    LwcImage b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_mem(m.buf, m.len, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.channels, 1);
    static const unsigned want[9] = {255, 0, 255, 0, 0, 255, 0, 255, 255};
    for (int x = 0; x < 9; x++) ck_assert_uint_eq(get_sample(&b, x, 0, 0), want[x]);
    lwc_image_free(&b);
    /* 8-bit gray with a tRNS key (gray 3) becomes gray+alpha. */
    static const PngVariant v2 = {PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 0, 1};
    png_byte raw2[1][3] = {{2, 3, 4}};
    png_bytep rows2[1] = {raw2[0]};
    write_png_variant(&m, &v2, 3, 1, rows2);
    ck_assert_int_eq(lwc_image_read_mem(m.buf, m.len, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.channels, 2);
    ck_assert_uint_eq(get_sample(&b, 0, 0, 1), 255);
    ck_assert_uint_eq(get_sample(&b, 1, 0, 0), 3);
    ck_assert_uint_eq(get_sample(&b, 1, 0, 1), 0);
    ck_assert_uint_eq(get_sample(&b, 2, 0, 1), 255);
    lwc_image_free(&b);
}
END_TEST

/* 16-bit interlaced RGB: samples stored big-endian come back native. */
START_TEST(png_16bit_interlaced_byte_order)
{
    static const PngVariant v = {PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_ADAM7, 0, 0};
    enum { W = 11, H = 10 };
    png_byte raw[H][W * 6];
    png_bytep rows[H];
    for (int y = 0; y < H; y++) {
        rows[y] = raw[y];
        for (int i = 0; i < W * 3; i++) {
            unsigned val = (unsigned)(y * 4099 + i * 257 + 1);
            raw[y][2 * i] = (png_byte)(val >> 8); /* PNG: big-endian */
            raw[y][2 * i + 1] = (png_byte)val;
        }
    }
    static MemOut m;
    write_png_variant(&m, &v, W, H, rows);
    LwcImage b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_mem(m.buf, m.len, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.bit_depth, 16);
    ck_assert_int_eq(b.channels, 3);
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W * 3; i++)
            ck_assert_uint_eq(get_sample(&b, i / 3, y, i % 3), (unsigned)(y * 4099 + i * 257 + 1) & 0xffff);
    lwc_image_free(&b);
}
END_TEST

/* ---- PNM details */

START_TEST(pnm_header_comments_and_maxval)
{
    static const uint8_t f8[] = "P5\n# a comment\n3 # another\n1\n100\n\x00\x32\x64";
    LwcImage b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_mem(f8, sizeof(f8) - 1, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.bit_depth, 8);
    ck_assert_uint_eq(get_sample(&b, 0, 0, 0), 0);
    ck_assert_uint_eq(get_sample(&b, 1, 0, 0), 128); /* round(50 * 255 / 100) = 127.5 -> 128 */
    ck_assert_uint_eq(get_sample(&b, 2, 0, 0), 255);
    lwc_image_free(&b);
    /* maxval 1023: 16-bit, big-endian, rescaled to 0..65535 */
    static const uint8_t f16[] = "P6 1 1 1023\n\x03\xff\x02\x00\x00\x01";
    ck_assert_int_eq(lwc_image_read_mem(f16, sizeof(f16) - 1, &b, err, sizeof(err)), 0);
    ck_assert_int_eq(b.bit_depth, 16);
    ck_assert_int_eq(b.channels, 3);
    ck_assert_uint_eq(get_sample(&b, 0, 0, 0), 65535);
    ck_assert_uint_eq(get_sample(&b, 0, 0, 1), 32800); /* 512*65535/1023 = 32800.03 */
    ck_assert_uint_eq(get_sample(&b, 0, 0, 2), 64);    /* 65535/1023 = 64.06 */
    lwc_image_free(&b);
    static const uint8_t f65535[] = "P5 2 1 65535\n\x01\x02\xff\xfe";
    ck_assert_int_eq(lwc_image_read_mem(f65535, sizeof(f65535) - 1, &b, err, sizeof(err)), 0);
    ck_assert_uint_eq(get_sample(&b, 0, 0, 0), 0x0102);
    ck_assert_uint_eq(get_sample(&b, 1, 0, 0), 0xfffe);
    lwc_image_free(&b);
}
END_TEST

START_TEST(pnm_bad_headers)
{
    static const struct { const char *data; int want; } cases[] = {
        {"P5 2 1 255\n\x01\x02", 0},
        {"P5 2 1 100\n\x01\x65", LWC_ERR_CORRUPT}, /* sample above maxval */
        {"P5 2 1 0\n\x01\x01", LWC_ERR_CORRUPT},
        {"P5 2 1 65536\n\x01\x01\x01\x01", LWC_ERR_CORRUPT},
        {"P5 0 1 255\n", LWC_ERR_CORRUPT},
        {"P5 x 1 255\n", LWC_ERR_CORRUPT},
        {"P5 2 1 255", LWC_ERR_TRUNCATED},
        {"P5 2 1 255\n\x01", LWC_ERR_TRUNCATED},
        {"P5 2 1", LWC_ERR_TRUNCATED},
        {"P6 2000000 1 255\n", LWC_ERR_TOO_BIG},
        {"P6 99999999999999999999999 1 255\n", LWC_ERR_TOO_BIG},
        {"P5 20000 20000 255\n", LWC_ERR_TOO_BIG},
        {"P3 1 1 255\n1 2 3", LWC_ERR_UNSUPPORTED}, /* ASCII PNM is not read */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        LwcImage b;
        char err[256] = "";
        int r = lwc_image_read_mem((const uint8_t *)cases[i].data, strlen(cases[i].data), &b, err,
                                   sizeof(err));
        ck_assert_msg(r == cases[i].want, "case %zu: got %d want %d (%s)", i, r, cases[i].want,
                      err);
        if (r < 0) {
            ck_assert(one_line(err));
            ck_assert_ptr_null(b.data);
        }
        lwc_image_free(&b);
    }
}
END_TEST

/* ---- size caps: refused from the header, before any allocation */

static uint32_t crc32_png(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

START_TEST(png_too_big_before_alloc)
{
    static const uint32_t dims[][2] = {{1u << 21, 1}, {1, (1u << 20) + 1}, {20000, 20000}};
    for (int i = 0; i < 3; i++) {
        /* signature, IHDR, then an empty IDAT: png_read_info stops there */
        uint8_t f[8 + 25 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                  'I', 'H', 'D', 'R'};
        put_be32(f + 16, dims[i][0]);
        put_be32(f + 20, dims[i][1]);
        f[24] = 8; /* depth */
        f[25] = 2; /* RGB */
        put_be32(f + 29, crc32_png(f + 12, 17));
        memcpy(f + 37, "IDAT", 4);
        put_be32(f + 41, crc32_png(f + 37, 4));
        LwcImage b;
        char err[256] = "";
        lwc_alloc_fail_after(0); /* any lwc allocation now would fail */
        int r = lwc_image_read_mem(f, sizeof(f), &b, err, sizeof(err));
        lwc_alloc_fail_after(-1);
        ck_assert_msg(r == LWC_ERR_TOO_BIG, "dims %u x %u: %d %s", dims[i][0], dims[i][1], r, err);
        ck_assert(one_line(err));
    }
}
END_TEST

START_TEST(jpeg_too_big_before_alloc)
{
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 16, 16, 3, 8), 0);
    fill_smooth(&a);
    size_t n;
    uint8_t *buf = encode_to_mem(&a, LWC_FMT_JPEG, "x.jpg", &n);
    size_t i = 2;
    while (i + 9 < n && !(buf[i] == 0xff && buf[i + 1] == 0xc0)) i++;
    ck_assert_uint_lt(i + 9, n);
    buf[i + 5] = 0xfd; /* height 65000 */
    buf[i + 6] = 0xe8;
    buf[i + 7] = 0xfd; /* width 65000 */
    buf[i + 8] = 0xe8;
    char err[256] = "";
    lwc_alloc_fail_after(0);
    int r = lwc_image_read_mem(buf, n, &b, err, sizeof(err));
    lwc_alloc_fail_after(-1);
    ck_assert_msg(r == LWC_ERR_TOO_BIG, "%d %s", r, err);
    lwc_free(buf);
    lwc_image_free(&a);
    remove_dir();
}
END_TEST

/* A PNG header with only a few bytes of data after it. */
static size_t tiny_png(uint8_t *f, uint32_t w, uint32_t h, int depth, int ctype, size_t pad)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t n = 0;
    memcpy(f, sig, 8);
    n = 8;
    put_be32(f + n, 13);
    memcpy(f + n + 4, "IHDR", 4);
    put_be32(f + n + 8, w);
    put_be32(f + n + 12, h);
    f[n + 16] = (uint8_t)depth;
    f[n + 17] = (uint8_t)ctype;
    f[n + 18] = f[n + 19] = f[n + 20] = 0;
    put_be32(f + n + 21, crc32_png(f + n + 4, 17));
    n += 25;
    if (pad) { /* a private ancillary chunk: only makes the file longer */
        put_be32(f + n, (uint32_t)pad);
        memcpy(f + n + 4, "prVt", 4);
        memset(f + n + 8, 0, pad);
        put_be32(f + n + 8 + pad, crc32_png(f + n + 4, 4 + pad));
        n += 12 + pad;
    }
    static const uint8_t z[] = {0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    put_be32(f + n, sizeof(z));
    memcpy(f + n + 4, "IDAT", 4);
    memcpy(f + n + 8, z, sizeof(z));
    put_be32(f + n + 8 + sizeof(z), crc32_png(f + n + 4, 4 + sizeof(z)));
    n += 12 + sizeof(z);
    put_be32(f + n, 0);
    memcpy(f + n + 4, "IEND", 4);
    put_be32(f + n + 8, crc32_png(f + n + 4, 4));
    return n + 12;
}

/* A PNG claiming 16384x16384 RGBA in 80 bytes fails from the header (too
 * little data for deflate to expand into that image), without allocating;
 * with a custom cap, an image whose pixels exceed it is refused up front. */
START_TEST(png_short_file_huge_header)
{
    static uint8_t f[16384];
    size_t n = tiny_png(f, 16384, 16384, 8, 6, 0);
    LwcImage b;
    char err[256] = "";
    lwc_alloc_fail_after(0); /* any lwc allocation now would fail */
    int r = lwc_image_read_mem(f, n, &b, err, sizeof(err));
    lwc_alloc_fail_after(-1);
    ck_assert_msg(r == LWC_ERR_TRUNCATED, "%d %s", r, err);
    ck_assert(one_line(err));
    ck_assert_ptr_nonnull(strstr(err, "16384x16384"));
    ck_assert_ptr_null(b.data);
    /* 1024x1024 RGBA = 4 MiB of pixels, enough bytes to pass the data check */
    n = tiny_png(f, 1024, 1024, 8, 6, 8192);
    lwc_alloc_set_cap((size_t)1 << 20);
    err[0] = 0;
    lwc_alloc_fail_after(0);
    r = lwc_image_read_mem(f, n, &b, err, sizeof(err));
    lwc_alloc_fail_after(-1);
    ck_assert_msg(r == LWC_ERR_TOO_BIG, "%d %s", r, err);
    ck_assert(one_line(err));
    ck_assert_ptr_nonnull(strstr(err, "memory cap"));
    /* a small image still reads under that cap */
    LwcImage a;
    ck_assert_int_eq(lwc_image_alloc(&a, 64, 64, 4, 8), 0);
    fill_smooth(&a);
    make_dir();
    uint8_t *buf = encode_to_mem(&a, LWC_FMT_PNG, "s.png", &n);
    ck_assert_int_eq(lwc_image_read_mem(buf, n, &b, err, sizeof(err)), 0);
    assert_same(&a, &b);
    lwc_alloc_set_cap((size_t)4 << 30);
    lwc_image_free(&b);
    lwc_image_free(&a);
    lwc_free(buf);
    remove_dir();
}
END_TEST

/* Found by fuzz_image: a 125-byte PNG whose tEXt chunk claims 2 GB made
 * libpng allocate 2 GB (png_set_chunk_malloc_max does not stop it); every
 * chunk is now checked against the input first. */
START_TEST(png_chunk_longer_than_file)
{
    size_t n;
    uint8_t *f = test_slurp("tests/fuzz/corpus/image/regress-png-huge-text-chunk.png", &n);
    LwcImage b;
    char err[256] = "";
    int r = lwc_image_read_mem(f, n, &b, err, sizeof(err));
    ck_assert_msg(r == LWC_ERR_TRUNCATED, "%d %s", r, err);
    ck_assert(one_line(err));
    ck_assert_ptr_nonnull(strstr(err, "chunk"));
    ck_assert_ptr_null(b.data);
    free(f);
}
END_TEST

/* Offset of the SOFn marker (baseline or progressive) in a JPEG. */
static size_t find_sof(const uint8_t *buf, size_t n)
{
    size_t i = 2;
    while (i + 9 < n && !(buf[i] == 0xff && (buf[i + 1] == 0xc0 || buf[i + 1] == 0xc2))) i++;
    ck_assert_uint_lt(i + 9, n);
    return i;
}

static void set_sof_dims(uint8_t *buf, size_t sof, unsigned w, unsigned h)
{
    buf[sof + 5] = (uint8_t)(h >> 8);
    buf[sof + 6] = (uint8_t)h;
    buf[sof + 7] = (uint8_t)(w >> 8);
    buf[sof + 8] = (uint8_t)w;
}

/* A small JPEG claiming a big image fails before any allocation; a
 * progressive one is charged its coefficient buffer against the cap. */
START_TEST(jpeg_short_file_and_coef_cap)
{
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 16, 16, 3, 8), 0);
    fill_smooth(&a);
    size_t n;
    uint8_t *buf = encode_to_mem(&a, LWC_FMT_JPEG, "x.jpg", &n);
    set_sof_dims(buf, find_sof(buf, n), 16000, 16000);
    char err[256] = "";
    lwc_alloc_fail_after(0);
    int r = lwc_image_read_mem(buf, n, &b, err, sizeof(err));
    lwc_alloc_fail_after(-1);
    ck_assert_msg(r == LWC_ERR_TRUNCATED, "%d %s", r, err);
    ck_assert(one_line(err));
    ck_assert_ptr_nonnull(strstr(err, "16000x16000"));
    lwc_free(buf);
    /* progressive 2000x2000 4:2:0: 12 MB of pixels + 12 MB of coefficients,
     * padded with junk after EOI so that the data check passes */
    size_t pn;
    uint8_t *p = test_slurp("tests/fuzz/corpus/image/progressive.jpg", &pn);
    ck_assert_ptr_nonnull(p);
    uint8_t *big = calloc(pn + 20000, 1);
    memcpy(big, p, pn);
    set_sof_dims(big, find_sof(big, pn), 2000, 2000);
    lwc_alloc_set_cap((size_t)16 << 20);
    err[0] = 0;
    lwc_alloc_fail_after(0);
    r = lwc_image_read_mem(big, pn + 20000, &b, err, sizeof(err));
    lwc_alloc_fail_after(-1);
    ck_assert_msg(r == LWC_ERR_TOO_BIG, "%d %s", r, err);
    ck_assert(one_line(err));
    ck_assert_ptr_nonnull(strstr(err, "memory cap"));
    lwc_alloc_set_cap((size_t)4 << 30);
    free(big);
    free(p);
    lwc_image_free(&a);
    remove_dir();
}
END_TEST

START_TEST(jpeg_cmyk_refused)
{
    make_dir();
    FILE *f = fopen(tpath("cmyk.jpg"), "wb");
    struct jpeg_compress_struct cc;
    struct jpeg_error_mgr jerr;
    cc.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cc);
    jpeg_stdio_dest(&cc, f);
    cc.image_width = 8;
    cc.image_height = 8;
    cc.input_components = 4;
    cc.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cc);
    jpeg_start_compress(&cc, TRUE);
    uint8_t row[32] = {0};
    JSAMPROW rp = row;
    while (cc.next_scanline < 8) jpeg_write_scanlines(&cc, &rp, 1);
    jpeg_finish_compress(&cc);
    jpeg_destroy_compress(&cc);
    fclose(f);
    LwcImage b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_file(tpath("cmyk.jpg"), &b, err, sizeof(err)), LWC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err, "CMYK"));
    ck_assert_ptr_null(b.data);
    remove_dir();
}
END_TEST

/* libjpeg only warns about damaged scan data; we refuse such a picture. */
START_TEST(jpeg_damaged_scan_is_corrupt)
{
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 64, 64, 3, 8), 0);
    fill_random(&a, 17);
    size_t n;
    uint8_t *buf = encode_to_mem(&a, LWC_FMT_JPEG, "d.jpg", &n);
    buf[n / 2] = 0xff; /* a stray restart marker inside the entropy-coded data */
    buf[n / 2 + 1] = 0xd3;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_mem(buf, n, &b, err, sizeof(err)), LWC_ERR_CORRUPT);
    ck_assert(one_line(err));
    ck_assert_ptr_null(b.data);
    lwc_free(buf);
    lwc_image_free(&a);
    remove_dir();
}
END_TEST

/* ---- damaged input: every truncation fails cleanly, silently */

static void check_all_prefixes_fail(const uint8_t *buf, size_t n, size_t step)
{
    for (size_t len = 1; len < n; len += (len < 64 ? 1 : step)) {
        LwcImage b;
        char err[256] = "";
        int r = lwc_image_read_mem(buf, len, &b, err, sizeof(err));
        ck_assert_msg(r == LWC_ERR_TRUNCATED || r == LWC_ERR_CORRUPT,
                      "prefix %zu of %zu: %d (%s)", len, n, r, err);
        ck_assert(one_line(err));
        ck_assert_ptr_null(b.data);
    }
    /* the last bytes matter too */
    for (size_t cut = 1; cut <= 3 && cut < n; cut++) {
        LwcImage b;
        char err[256] = "";
        int r = lwc_image_read_mem(buf, n - cut, &b, err, sizeof(err));
        ck_assert_msg(r == LWC_ERR_TRUNCATED, "cut %zu of %zu: %d (%s)", cut, n, r, err);
    }
}

START_TEST(truncated_files_fail)
{
    static const struct { int fmt, ch, depth; const char *name; } cases[] = {
        {LWC_FMT_PNG, 3, 8, "t.png"}, {LWC_FMT_PNG, 4, 16, "t16.png"},
        {LWC_FMT_JPEG, 3, 8, "t.jpg"}, {LWC_FMT_JPEG, 1, 8, "g.jpg"},
        {LWC_FMT_PPM, 3, 16, "t.ppm"},
    };
    make_dir();
    /* Nothing may reach stderr: send it to a file and check it stays empty. */
    ck_assert_ptr_nonnull(freopen(tpath("stderr.txt"), "w", stderr));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        LwcImage a;
        ck_assert_int_eq(lwc_image_alloc(&a, 40, 24, cases[i].ch, cases[i].depth), 0);
        fill_random(&a, i + 5);
        size_t n;
        uint8_t *buf = encode_to_mem(&a, cases[i].fmt, cases[i].name, &n);
        LwcImage b;
        char err[256];
        ck_assert_int_eq(lwc_image_read_mem(buf, n, &b, err, sizeof(err)), 0);
        lwc_image_free(&b);
        check_all_prefixes_fail(buf, n, 7);
        lwc_free(buf);
        lwc_image_free(&a);
    }
    fflush(stderr);
    struct stat st;
    ck_assert_int_eq(stat(tpath("stderr.txt"), &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    remove_dir();
}
END_TEST

/* Random byte damage: any result is allowed except a crash, a leak (ASan) or
 * a success with an inconsistent image. CRCs catch most PNG damage. */
START_TEST(corrupted_files_never_crash)
{
    static const int fmts[] = {LWC_FMT_PNG, LWC_FMT_JPEG, LWC_FMT_PPM};
    static const char *names[] = {"c.png", "c.jpg", "c.ppm"};
    make_dir();
    ck_assert_ptr_nonnull(freopen(tpath("stderr.txt"), "w", stderr));
    TestRng rng;
    trng_seed(&rng, 99);
    for (int k = 0; k < 3; k++) {
        LwcImage a;
        ck_assert_int_eq(lwc_image_alloc(&a, 33, 17, 3, 8), 0);
        fill_smooth(&a);
        size_t n;
        uint8_t *orig = encode_to_mem(&a, fmts[k], names[k], &n);
        uint8_t *buf = lwc_malloc(n);
        int failures = 0;
        for (int t = 0; t < 300; t++) {
            memcpy(buf, orig, n);
            int flips = 1 + (int)(trng_u64(&rng) % 4);
            for (int j = 0; j < flips; j++) buf[trng_u64(&rng) % n] ^= (uint8_t)(1 + trng_u64(&rng) % 255);
            LwcImage b;
            char err[256] = "";
            int r = lwc_image_read_mem(buf, n, &b, err, sizeof(err));
            if (r < 0) {
                failures++;
                ck_assert(one_line(err));
                ck_assert_ptr_null(b.data);
            } else {
                ck_assert(b.width > 0 && b.height > 0 && b.data);
            }
            lwc_image_free(&b);
        }
        if (fmts[k] == LWC_FMT_PNG) ck_assert_int_gt(failures, 250);
        lwc_free(buf);
        lwc_free(orig);
        lwc_image_free(&a);
    }
    fflush(stderr);
    struct stat st;
    ck_assert_int_eq(stat(tpath("stderr.txt"), &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    remove_dir();
}
END_TEST

/* ---- atomic write, errors, stdin/stdout */

START_TEST(failed_write_keeps_old_file)
{
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 8, 8, 3, 16), 0);
    fill_random(&a, 3);
    char err[256] = "";
    ck_assert_int_eq(lwc_image_write_file(tpath("keep.png"), &a, LWC_FMT_AUTO, 0, err, sizeof(err)), 0);
    size_t n0, n1;
    uint8_t *before = slurp(tpath("keep.png"), &n0);
    /* JPEG cannot take 16-bit: fails after choosing the format. */
    ck_assert_int_eq(lwc_image_write_file(tpath("keep.png"), &a, LWC_FMT_JPEG, 90, err, sizeof(err)),
                     LWC_ERR_UNSUPPORTED);
    uint8_t *after = slurp(tpath("keep.png"), &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert(!memcmp(before, after, n0));
    ck_assert_int_eq(count_dir_entries(), 1);
    ck_assert_int_eq(lwc_image_read_file(tpath("keep.png"), &b, err, sizeof(err)), 0);
    assert_same(&a, &b);
    /* the written file gets ordinary permissions, not mkstemp's 0600 */
    struct stat st;
    ck_assert_int_eq(stat(tpath("keep.png"), &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);
    lwc_free(before);
    lwc_free(after);
    lwc_image_free(&a);
    lwc_image_free(&b);
    remove_dir();
}
END_TEST

START_TEST(io_errors)
{
    LwcImage a, b;
    char err[256] = "";
    ck_assert_int_eq(lwc_image_read_file("/nonexistent/x.png", &b, err, sizeof(err)), LWC_ERR_IO);
    ck_assert(one_line(err));
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    ck_assert_int_eq(lwc_image_alloc(&a, 4, 4, 3, 8), 0);
    ck_assert_int_eq(lwc_image_write_file("/nonexistent/x.png", &a, LWC_FMT_AUTO, 0, err, sizeof(err)),
                     LWC_ERR_IO);
    ck_assert(one_line(err));
    LwcImage bad = a;
    bad.stride = 5;
    ck_assert_int_eq(lwc_image_write_file("/tmp/never.png", &bad, LWC_FMT_AUTO, 0, err, sizeof(err)),
                     LWC_ERR_INVAL);
    LwcImage a16;
    ck_assert_int_eq(lwc_image_alloc(&a16, 4, 4, 3, 16), 0);
    bad = a16;
    bad.stride = a16.stride + 1; /* 16-bit rows must stay uint16_t aligned */
    ck_assert_int_eq(lwc_image_write_file("/tmp/never.png", &bad, LWC_FMT_AUTO, 0, err, sizeof(err)),
                     LWC_ERR_INVAL);
    lwc_image_free(&a16);
    bad = a;
    bad.channels = 5;
    ck_assert_int_eq(lwc_image_write_file("/tmp/never.png", &bad, LWC_FMT_AUTO, 0, err, sizeof(err)),
                     LWC_ERR_INVAL);
    bad = a;
    bad.bit_depth = 12;
    ck_assert_int_eq(lwc_image_write_file("/tmp/never.png", &bad, LWC_FMT_AUTO, 0, err, sizeof(err)),
                     LWC_ERR_INVAL);
    ck_assert_int_eq(access("/tmp/never.png", F_OK), -1);
    lwc_image_free(&a);
}
END_TEST

/* Check runs each test in its own process, so redirecting stdin/stdout here
 * does not leak into other tests. */
START_TEST(stdin_and_stdout)
{
    make_dir();
    LwcImage a, b;
    ck_assert_int_eq(lwc_image_alloc(&a, 300, 200, 3, 8), 0); /* > 64 KiB: the buffer must grow */
    fill_random(&a, 11);
    char err[256] = "";
    ck_assert_ptr_nonnull(freopen(tpath("out.png"), "wb", stdout));
    ck_assert_int_eq(lwc_image_write_file("-", &a, LWC_FMT_AUTO, 0, err, sizeof(err)), 0);
    fflush(stdout);
    /* a pipe-like stream: read through a FIFO so fstat cannot size it */
    ck_assert_int_eq(mkfifo(tpath("fifo"), 0600), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        size_t n;
        uint8_t *buf = slurp(tpath("out.png"), &n);
        FILE *w = fopen(tpath("fifo"), "wb");
        fwrite(buf, 1, n, w);
        fclose(w);
        _exit(0);
    }
    ck_assert_ptr_nonnull(freopen(tpath("fifo"), "rb", stdin));
    ck_assert_int_eq(lwc_image_read_file("-", &b, err, sizeof(err)), 0);
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(status, 0);
    assert_same(&a, &b);
    lwc_image_free(&a);
    lwc_image_free(&b);
    remove_dir();
}
END_TEST

Suite *imageio_suite(void);
Suite *imageio_suite(void)
{
    Suite *s = suite_create("imageio");
    TCase *t = tcase_create("roundtrip");
    tcase_add_loop_test(t, png_roundtrip, 0, 8);
    tcase_add_loop_test(t, pnm_roundtrip, 0, 4);
    tcase_add_loop_test(t, jpeg_roundtrip, 0, 2);
    tcase_add_test(t, jpeg_quality_changes_size);
    tcase_add_test(t, write_refusals_leave_nothing);
    suite_add_tcase(s, t);
    t = tcase_create("formats");
    tcase_add_test(t, format_from_path);
    tcase_add_test(t, detect_by_magic_not_extension);
    tcase_add_test(t, png_palette_trns);
    tcase_add_test(t, png_palette_no_trns_is_rgb);
    tcase_add_test(t, png_gray1_and_gray_key);
    tcase_add_test(t, png_16bit_interlaced_byte_order);
    tcase_add_test(t, pnm_header_comments_and_maxval);
    tcase_add_test(t, pnm_bad_headers);
    suite_add_tcase(s, t);
    t = tcase_create("robustness");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, png_too_big_before_alloc);
    tcase_add_test(t, jpeg_too_big_before_alloc);
    tcase_add_test(t, png_short_file_huge_header);
    tcase_add_test(t, png_chunk_longer_than_file);
    tcase_add_test(t, jpeg_short_file_and_coef_cap);
    tcase_add_test(t, jpeg_cmyk_refused);
    tcase_add_test(t, jpeg_damaged_scan_is_corrupt);
    tcase_add_test(t, truncated_files_fail);
    tcase_add_test(t, corrupted_files_never_crash);
    tcase_add_test(t, failed_write_keeps_old_file);
    tcase_add_test(t, io_errors);
    tcase_add_test(t, stdin_and_stdout);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(imageio_suite()); }
