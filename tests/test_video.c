/* Video: the .lwcv container (header round trip and every header error,
 * packets coded with a small pseudo-random model and walked back, truncated
 * and corrupt streams) and Y4M (reader/writer round trips for every colour
 * space, header variants, bad headers and frames, BT.601 conversions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bitstream.h"
#include "common/common.h"
#include "common/mem.h"
#include "imageio/imageio.h"
#include "testutil.h"
#include "learn/net.h"
#include "learn/random_model.h"

static LwcModel *g_model, *g_other;
static uint8_t *g_model_buf, *g_other_buf;

static const LwcArch k_arch = { .M = 16, .Nz = 8, .N = 16, .Ch = 16, .S = 2, .Cc = 8, .P = 16, .D = 16, .B = 1, .L = 4 };

static void setup(void)
{
    size_t n;
    ck_assert_int_eq(lwc_net_random_model(&k_arch, 7, &g_model_buf, &n), 0);
    ck_assert_int_eq(lwc_model_load(&g_model, g_model_buf, n), 0);
    ck_assert_int_eq(lwc_net_random_model(&k_arch, 8, &g_other_buf, &n), 0);
    ck_assert_int_eq(lwc_model_load(&g_other, g_other_buf, n), 0);
}

static void teardown(void)
{
    lwc_model_free(&g_model);
    lwc_model_free(&g_other);
    lwc_free(g_model_buf);
    lwc_free(g_other_buf);
}

static LwcVideoHeader sample_header(int fmt)
{
    LwcVideoHeader h = { .width = 40, .height = 24, .fps_num = 30000, .fps_den = 1001,
                         .model_id = lwc_model_id(g_model), .frame_count = 3, .source_format = fmt };
    return h;
}

/* Re-seal a modified header so that only the field under test is wrong. */
static void reseal(uint8_t *b)
{
    uint32_t c = lwc_crc32c(0, b, 44);
    for (int i = 0; i < 4; i++) b[44 + i] = (uint8_t)(c >> (8 * i));
}

/* ---- .lwcv header */

START_TEST(lwcv_header_roundtrip)
{
    LwcVideoHeader h = sample_header(_i), g;
    h.model_id = 0x0123456789abcdefULL;
    uint8_t b[LWC_VIDEO_HEADER_SIZE];
    ck_assert_int_eq(lwc_video_header_write(&h, b), 0);
    ck_assert(lwc_video_probe(b, sizeof(b)));
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 0, &g), 0);
    ck_assert_int_eq(g.version, 1);
    ck_assert_int_eq(g.width, 40);
    ck_assert_int_eq(g.height, 24);
    ck_assert_uint_eq(g.fps_num, 30000);
    ck_assert_uint_eq(g.fps_den, 1001);
    ck_assert(g.model_id == h.model_id);
    ck_assert_uint_eq(g.frame_count, 3);
    ck_assert_int_eq(g.source_format, _i);
    /* frame count 0 (unknown) is valid */
    h.frame_count = 0;
    ck_assert_int_eq(lwc_video_header_write(&h, b), 0);
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 0, &g), 0);
    ck_assert_uint_eq(g.frame_count, 0);
}
END_TEST

START_TEST(lwcv_header_write_refuses)
{
    uint8_t b[LWC_VIDEO_HEADER_SIZE];
    LwcVideoHeader h = sample_header(0);
    h.width = 0;
    ck_assert_int_eq(lwc_video_header_write(&h, b), LWC_ERR_INVAL);
    h = sample_header(0);
    h.height = (1 << 20) + 1;
    ck_assert_int_eq(lwc_video_header_write(&h, b), LWC_ERR_INVAL);
    h = sample_header(0);
    h.fps_den = 0;
    ck_assert_int_eq(lwc_video_header_write(&h, b), LWC_ERR_INVAL);
    h = sample_header(LWC_VIDEO_SRC_COUNT);
    ck_assert_int_eq(lwc_video_header_write(&h, b), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_video_header_write(NULL, b), LWC_ERR_INVAL);
}
END_TEST

/* Each case: offset, 32-bit value written there (reseal: fix the CRC), expected error. */
static const struct { int off; uint32_t v; int reseal; int err; } k_bad_headers[] = {
    { 0, 0x4357 << 16 | 0x4c89, 1, LWC_ERR_MAGIC },    /* the image magic */
    { 4, 2, 1, LWC_ERR_VERSION },                      /* version 2 (byte 4; bytes 5..7 zero) */
    { 8, 41, 0, LWC_ERR_CRC },                         /* width changed, CRC not */
    { 8, 0, 1, LWC_ERR_CORRUPT },                      /* zero width */
    { 12, 0, 1, LWC_ERR_CORRUPT },                     /* zero height */
    { 8, (1 << 20) + 1, 1, LWC_ERR_TOO_BIG },          /* width above 2^20 */
    { 16, 0, 1, LWC_ERR_CORRUPT },                     /* fps num 0 */
    { 20, 0, 1, LWC_ERR_CORRUPT },                     /* fps den 0 */
    { 36, 1, 1, LWC_ERR_CORRUPT },                     /* reserved bytes */
    { 40, 1u << 24, 1, LWC_ERR_CORRUPT },
    { 44, 0, 0, LWC_ERR_CRC },
};

START_TEST(lwcv_header_errors)
{
    LwcVideoHeader h = sample_header(LWC_VIDEO_SRC_RGB), g;
    uint8_t b[LWC_VIDEO_HEADER_SIZE];
    ck_assert_int_eq(lwc_video_header_write(&h, b), 0);
    if (k_bad_headers[_i].off == 4) {
        b[4] = 2;
    } else {
        lwc_wr32(b + k_bad_headers[_i].off, k_bad_headers[_i].v);
    }
    if (k_bad_headers[_i].reseal) reseal(b);
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 0, &g), k_bad_headers[_i].err);
    ck_assert_int_eq(g.width, 0); /* zeroed on failure */
}
END_TEST

START_TEST(lwcv_header_misc_errors)
{
    LwcVideoHeader h = sample_header(LWC_VIDEO_SRC_RGB), g;
    uint8_t b[LWC_VIDEO_HEADER_SIZE];
    ck_assert_int_eq(lwc_video_header_write(&h, b), 0);
    for (size_t n = 0; n < sizeof(b); n++)
        ck_assert_int_eq(lwc_video_header_parse(b, n, 0, &g), LWC_ERR_TRUNCATED);
    /* unknown source format, a reserved byte, the pixel cap */
    b[5] = LWC_VIDEO_SRC_COUNT;
    reseal(b);
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 0, &g), LWC_ERR_CORRUPT);
    b[5] = 0;
    b[6] = 1;
    reseal(b);
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 0, &g), LWC_ERR_CORRUPT);
    b[6] = 0;
    reseal(b);
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 40 * 24, &g), 0);
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 40 * 24 - 1, &g), LWC_ERR_TOO_BIG);
    /* an lwc image is not a video */
    memcpy(b, "\x89LWC", 4);
    ck_assert(!lwc_video_probe(b, sizeof(b)));
    ck_assert_int_eq(lwc_video_header_parse(b, sizeof(b), 0, &g), LWC_ERR_MAGIC);
}
END_TEST

START_TEST(lwcv_prefix_caps)
{
    LwcVideoHeader h = sample_header(LWC_VIDEO_SRC_RGB);
    size_t cap = lwc_video_max_packet(&h), n;
    ck_assert_uint_eq(cap, 65536 + 32 * 64 * 32); /* 40x24 padded to 64x32 */
    uint8_t p[4];
    ck_assert_int_eq(lwc_video_prefix_write(&h, 100, p), 0);
    ck_assert_int_eq(lwc_video_prefix_parse(&h, p, &n), 0);
    ck_assert_uint_eq(n, 100);
    ck_assert_int_eq(lwc_video_prefix_write(&h, cap + 1, p), LWC_ERR_TOO_BIG);
    ck_assert_int_eq(lwc_video_prefix_write(&h, 31, p), LWC_ERR_INVAL);
    lwc_wr32(p, (uint32_t)cap);
    ck_assert_int_eq(lwc_video_prefix_parse(&h, p, &n), 0);
    lwc_wr32(p, (uint32_t)cap + 1);
    ck_assert_int_eq(lwc_video_prefix_parse(&h, p, &n), LWC_ERR_CORRUPT);
    lwc_wr32(p, 0xffffffffu);
    ck_assert_int_eq(lwc_video_prefix_parse(&h, p, &n), LWC_ERR_CORRUPT);
    lwc_wr32(p, 0);
    ck_assert_int_eq(lwc_video_prefix_parse(&h, p, &n), LWC_ERR_CORRUPT);
    /* the cap never exceeds 2^30, even for the largest frame */
    h.width = h.height = 1 << 14;
    ck_assert_uint_eq(lwc_video_max_packet(&h), (size_t)1 << 30);
}
END_TEST

/* ---- .lwcv streams coded with the test model */

typedef struct {
    uint8_t *buf;
    size_t size;
    LwcImage recon[3];
} Clip;

static void make_image(LwcImage *img, int w, int h, int ch, uint64_t seed)
{
    TestRng r;
    trng_seed(&r, seed);
    ck_assert_int_eq(lwc_image_alloc(img, w, h, ch, 8), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * ch; x++)
            img->data[(size_t)y * img->stride + x] = (uint8_t)((x * 3 + y * 5) + (trng_u64(&r) & 31));
}

/* A 3-frame clip (frame_count 3, or 0 when `unknown`) of w x h images. */
static void make_clip(Clip *c, int fmt, int unknown)
{
    LwcVideoHeader h = sample_header(fmt);
    h.frame_count = unknown ? 0 : 3;
    int ch = fmt == LWC_VIDEO_SRC_GRAY ? 1 : 3;
    LwcContext *ctx;
    LwcSettings s;
    lwc_default_settings(&s);
    ck_assert_int_eq(lwc_open(&ctx, g_model, &s), 0);
    c->size = LWC_VIDEO_HEADER_SIZE;
    c->buf = malloc(LWC_VIDEO_HEADER_SIZE);
    ck_assert_int_eq(lwc_video_header_write(&h, c->buf), 0);
    for (int i = 0; i < 3; i++) {
        LwcImage img;
        LwcEncodeParams p;
        lwc_default_encode_params(&p);
        p.quality = 20 + 30 * i;
        make_image(&img, h.width, h.height, ch, 100 + (uint64_t)i);
        uint8_t *pkt;
        size_t len;
        ck_assert_int_eq(lwc_encode(ctx, &img, &p, &pkt, &len, &c->recon[i], NULL), 0);
        c->buf = realloc(c->buf, c->size + 4 + len);
        ck_assert_int_eq(lwc_video_prefix_write(&h, len, c->buf + c->size), 0);
        memcpy(c->buf + c->size + 4, pkt, len);
        c->size += 4 + len;
        lwc_free_buffer(pkt);
        lwc_image_free(&img);
    }
    lwc_close(&ctx);
}

static void free_clip(Clip *c)
{
    free(c->buf);
    for (int i = 0; i < 3; i++) lwc_image_free(&c->recon[i]);
}

/* Walk a clip like a decoder: 0 when every packet checks (and decodes, unless
 * m is NULL) and the count matches the header (when known), else the first
 * error. With ref, decoded frames must equal its reconstructions. */
static int walk(const uint8_t *buf, size_t size, const LwcModel *m, const Clip *ref)
{
    LwcVideoHeader h;
    LWC_FWD(lwc_video_header_parse(buf, size, 0, &h));
    LwcContext *ctx = NULL;
    LwcSettings s;
    lwc_default_settings(&s);
    if (m) ck_assert_int_eq(lwc_open(&ctx, m, &s), 0);
    size_t pos = LWC_VIDEO_HEADER_SIZE, len;
    const uint8_t *pkt;
    uint32_t n = 0;
    int r;
    while ((r = lwc_video_next_packet(&h, buf, size, &pos, &pkt, &len)) == 1) {
        if ((r = lwc_video_packet_check(&h, pkt, len)) < 0) break;
        n++;
        if (!m) continue;
        LwcImage img;
        if ((r = lwc_decode(ctx, pkt, len, &img, NULL)) < 0) break;
        if (ref && n <= 3) {
            ck_assert_int_eq(img.width, ref->recon[n - 1].width);
            ck_assert_int_eq(memcmp(img.data, ref->recon[n - 1].data, img.stride * img.height), 0);
        }
        lwc_image_free(&img);
    }
    lwc_close(&ctx);
    if (r == 0 && h.frame_count && n != h.frame_count) r = LWC_ERR_CORRUPT;
    return r;
}

START_TEST(lwcv_stream_roundtrip)
{
    static const int fmts[] = { LWC_VIDEO_SRC_RGB, LWC_VIDEO_SRC_GRAY, LWC_VIDEO_SRC_YUV420JPEG };
    Clip c;
    make_clip(&c, fmts[_i % 3], _i >= 3);
    ck_assert_int_eq(walk(c.buf, c.size, g_model, &c), 0);
    /* the walk itself: three packets, then the end */
    LwcVideoHeader h;
    ck_assert_int_eq(lwc_video_header_parse(c.buf, c.size, 0, &h), 0);
    size_t pos = LWC_VIDEO_HEADER_SIZE, len;
    const uint8_t *pkt;
    for (int i = 0; i < 3; i++) ck_assert_int_eq(lwc_video_next_packet(&h, c.buf, c.size, &pos, &pkt, &len), 1);
    ck_assert_int_eq(lwc_video_next_packet(&h, c.buf, c.size, &pos, &pkt, &len), 0);
    ck_assert_uint_eq(pos, c.size);
    free_clip(&c);
}
END_TEST

START_TEST(lwcv_truncated)
{
    Clip c;
    make_clip(&c, LWC_VIDEO_SRC_RGB, 0);
    /* every cut fails: inside a packet (TRUNCATED), or at a packet boundary
     * (fewer frames than the header announces) */
    for (size_t n = 0; n < c.size; n++) {
        int r = walk(c.buf, n, NULL, NULL); /* structure and CRCs; no decoding */
        ck_assert_msg(r < 0, "cut at %zu of %zu decoded", n, c.size);
        ck_assert_msg(r == LWC_ERR_TRUNCATED || r == LWC_ERR_CORRUPT, "cut at %zu: %d", n, r);
    }
    free_clip(&c);
}
END_TEST

START_TEST(lwcv_corrupt)
{
    Clip c, g;
    make_clip(&c, LWC_VIDEO_SRC_RGB, 1);
    uint8_t *b = malloc(c.size);
    /* any byte flipped after the header: some check fails, nothing crashes */
    for (size_t i = LWC_VIDEO_HEADER_SIZE; i < c.size; i += 1 + i % 7) {
        memcpy(b, c.buf, c.size);
        b[i] ^= 0x40;
        ck_assert_msg(walk(b, c.size, g_model, NULL) < 0, "flip at %zu went unnoticed", i);
    }
    /* a length beyond the cap is refused before reading further */
    memcpy(b, c.buf, c.size);
    lwc_wr32(b + LWC_VIDEO_HEADER_SIZE, 0x7fffffff);
    ck_assert_int_eq(walk(b, c.size, g_model, NULL), LWC_ERR_CORRUPT);
    /* another model */
    ck_assert_int_eq(walk(c.buf, c.size, g_other, NULL), LWC_ERR_MODEL);
    memcpy(b, c.buf, c.size);
    b[24] ^= 1;
    reseal(b);
    ck_assert_int_eq(walk(b, c.size, g_model, NULL), LWC_ERR_MODEL);
    /* frames of another size or channel count do not belong to the sequence */
    make_clip(&g, LWC_VIDEO_SRC_GRAY, 1);
    memcpy(b, c.buf, LWC_VIDEO_HEADER_SIZE);
    ck_assert_int_eq(walk(b, LWC_VIDEO_HEADER_SIZE, g_model, NULL), 0);
    uint8_t *mix = malloc(g.size);
    memcpy(mix, c.buf, LWC_VIDEO_HEADER_SIZE);
    memcpy(mix + LWC_VIDEO_HEADER_SIZE, g.buf + LWC_VIDEO_HEADER_SIZE, g.size - LWC_VIDEO_HEADER_SIZE);
    ck_assert_int_eq(walk(mix, g.size, g_model, NULL), LWC_ERR_CORRUPT);
    LwcVideoHeader h = sample_header(LWC_VIDEO_SRC_RGB);
    h.width = 41;
    h.frame_count = 0;
    ck_assert_int_eq(lwc_video_header_write(&h, b), 0);
    memcpy(b + LWC_VIDEO_HEADER_SIZE, c.buf + LWC_VIDEO_HEADER_SIZE, c.size - LWC_VIDEO_HEADER_SIZE);
    ck_assert_int_eq(walk(b, c.size, g_model, NULL), LWC_ERR_CORRUPT);
    free(mix);
    free(b);
    free_clip(&g);
    free_clip(&c);
}
END_TEST

/* ---- Y4M */

static const int k_chromas[] = { LWC_VIDEO_SRC_GRAY, LWC_VIDEO_SRC_YUV420JPEG, LWC_VIDEO_SRC_YUV420MPEG2,
                                 LWC_VIDEO_SRC_YUV420PALDV, LWC_VIDEO_SRC_YUV420, LWC_VIDEO_SRC_YUV422,
                                 LWC_VIDEO_SRC_YUV444 };

static FILE *mem_file(const char *text, size_t n)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    rewind(f);
    return f;
}

START_TEST(y4m_roundtrip)
{
    static const int sizes[][2] = { { 16, 8 }, { 7, 5 }, { 1, 1 } };
    for (int s = 0; s < 3; s++) {
        LwcY4mInfo in = { .width = sizes[s][0], .height = sizes[s][1], .fps_num = 24000, .fps_den = 1001,
                          .chroma = k_chromas[_i], .interlace = 'p', .par_num = 1, .par_den = 1 }, out;
        size_t fs = lwc_y4m_frame_size(&in);
        uint8_t *a = malloc(2 * fs), *b = malloc(fs);
        TestRng r;
        trng_seed(&r, 5);
        for (size_t i = 0; i < 2 * fs; i++) a[i] = (uint8_t)trng_u64(&r);
        FILE *f = tmpfile();
        char err[256];
        ck_assert_int_eq(lwc_y4m_write_header(f, &in, err, sizeof(err)), 0);
        ck_assert_int_eq(lwc_y4m_write_frame(f, &in, a, err, sizeof(err)), 0);
        ck_assert_int_eq(lwc_y4m_write_frame(f, &in, a + fs, err, sizeof(err)), 0);
        rewind(f);
        ck_assert_int_eq(lwc_y4m_read_header(f, 0, &out, err, sizeof(err)), 0);
        ck_assert_int_eq(out.width, in.width);
        ck_assert_int_eq(out.height, in.height);
        ck_assert_uint_eq(out.fps_num, 24000);
        ck_assert_uint_eq(out.fps_den, 1001);
        ck_assert_int_eq(out.chroma, in.chroma);
        ck_assert_uint_eq(out.par_num, 1);
        ck_assert_int_eq(lwc_y4m_read_frame(f, &out, b, err, sizeof(err)), 1);
        ck_assert_int_eq(memcmp(a, b, fs), 0);
        ck_assert_int_eq(lwc_y4m_read_frame(f, &out, b, err, sizeof(err)), 1);
        ck_assert_int_eq(memcmp(a + fs, b, fs), 0);
        ck_assert_int_eq(lwc_y4m_read_frame(f, &out, b, err, sizeof(err)), 0);
        fclose(f);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(y4m_frame_sizes)
{
    LwcY4mInfo i = { .width = 7, .height = 5, .chroma = LWC_VIDEO_SRC_YUV420JPEG };
    ck_assert_uint_eq(lwc_y4m_frame_size(&i), 35 + 2 * 4 * 3);
    i.chroma = LWC_VIDEO_SRC_YUV422;
    ck_assert_uint_eq(lwc_y4m_frame_size(&i), 35 + 2 * 4 * 5);
    i.chroma = LWC_VIDEO_SRC_YUV444;
    ck_assert_uint_eq(lwc_y4m_frame_size(&i), 3 * 35);
    i.chroma = LWC_VIDEO_SRC_GRAY;
    ck_assert_uint_eq(lwc_y4m_frame_size(&i), 35);
}
END_TEST

START_TEST(y4m_header_variants)
{
    static const char *h1 = "YUV4MPEG2 W16 H8 F30000:1001 It A10:11 C420mpeg2 XYSCSS=420MPEG2\nFRAME Ixyz\n";
    static const char *h2 = "YUV4MPEG2 H2 W4\n";
    static const char *h3 = "YUV4MPEG2 W4 H2 F0:0 Cmono\n";
    char err[256];
    LwcY4mInfo i;
    FILE *f = mem_file(h1, strlen(h1));
    ck_assert_int_eq(lwc_y4m_read_header(f, 0, &i, err, sizeof(err)), 0);
    ck_assert_int_eq(i.width, 16);
    ck_assert_int_eq(i.height, 8);
    ck_assert_uint_eq(i.fps_num, 30000);
    ck_assert_int_eq(i.interlace, 't');
    ck_assert_uint_eq(i.par_den, 11);
    ck_assert_int_eq(i.chroma, LWC_VIDEO_SRC_YUV420MPEG2);
    /* FRAME with parameters, then a cut frame */
    uint8_t buf[256];
    ck_assert_int_eq(lwc_y4m_read_frame(f, &i, buf, err, sizeof(err)), LWC_ERR_TRUNCATED);
    fclose(f);
    f = mem_file(h2, strlen(h2));
    ck_assert_int_eq(lwc_y4m_read_header(f, 0, &i, err, sizeof(err)), 0);
    ck_assert_int_eq(i.chroma, LWC_VIDEO_SRC_YUV420JPEG); /* the default */
    ck_assert_uint_eq(i.fps_num, 25);
    ck_assert_uint_eq(i.fps_den, 1);
    fclose(f);
    f = mem_file(h3 + 9, strlen(h3) - 9); /* the caller consumed the magic */
    ck_assert_int_eq(lwc_y4m_read_header(f, 1, &i, err, sizeof(err)), 0);
    ck_assert_int_eq(i.chroma, LWC_VIDEO_SRC_GRAY);
    ck_assert_uint_eq(i.fps_num, 25);
    fclose(f);
}
END_TEST

static const struct { const char *text; int err; } k_bad_y4m[] = {
    { "", LWC_ERR_TRUNCATED },
    { "YUV4MPEG2 W4 H2", LWC_ERR_TRUNCATED },            /* no newline */
    { "YUV4MPEG W4 H2\n", LWC_ERR_MAGIC },
    { "P6\n4 2\n255\n", LWC_ERR_MAGIC },
    { "YUV4MPEG2W4 H2\n", LWC_ERR_MAGIC },
    { "YUV4MPEG2 H2\n", LWC_ERR_CORRUPT },               /* no W */
    { "YUV4MPEG2 W4\n", LWC_ERR_CORRUPT },               /* no H */
    { "YUV4MPEG2 W0 H2\n", LWC_ERR_CORRUPT },
    { "YUV4MPEG2 Wx H2\n", LWC_ERR_CORRUPT },
    { "YUV4MPEG2 W4 H2 F30\n", LWC_ERR_CORRUPT },
    { "YUV4MPEG2 W4 H2 A1:\n", LWC_ERR_CORRUPT },
    { "YUV4MPEG2 W4 H2 Iq\n", LWC_ERR_CORRUPT },
    { "YUV4MPEG2 W4 H2 Q1\n", LWC_ERR_CORRUPT },          /* unknown tag */
    { "YUV4MPEG2 W4 H2 C420p10\n", LWC_ERR_UNSUPPORTED },
    { "YUV4MPEG2 W4 H2 C444alpha\n", LWC_ERR_UNSUPPORTED },
    { "YUV4MPEG2 W4 H2 Cmono16\n", LWC_ERR_UNSUPPORTED },
    { "YUV4MPEG2 W99999999999 H2\n", LWC_ERR_CORRUPT },
    { "YUV4MPEG2 W1048577 H2\n", LWC_ERR_TOO_BIG },
    { "YUV4MPEG2 W65536 H65536\n", LWC_ERR_TOO_BIG },
};

START_TEST(y4m_bad_headers)
{
    char err[256] = "";
    LwcY4mInfo i;
    FILE *f = mem_file(k_bad_y4m[_i].text, strlen(k_bad_y4m[_i].text));
    int r = lwc_y4m_read_header(f, 0, &i, err, sizeof(err));
    ck_assert_msg(r == k_bad_y4m[_i].err, "'%s': %d (%s), wanted %d", k_bad_y4m[_i].text, r, err, k_bad_y4m[_i].err);
    ck_assert(strlen(err) > 0);
    fclose(f);
}
END_TEST

START_TEST(y4m_bad_frames)
{
    static const char *cases[] = { "YUV4MPEG2 W2 H2 Cmono\nFRAMX\n0123",
                                   "YUV4MPEG2 W2 H2 Cmono\nFRAMES\n0123",
                                   "YUV4MPEG2 W2 H2 Cmono\nFRAME\n012",
                                   "YUV4MPEG2 W2 H2 Cmono\nFRA" };
    static const int want[] = { LWC_ERR_CORRUPT, LWC_ERR_CORRUPT, LWC_ERR_TRUNCATED, LWC_ERR_TRUNCATED };
    for (int k = 0; k < 4; k++) {
        char err[256];
        LwcY4mInfo i;
        uint8_t buf[4];
        FILE *f = mem_file(cases[k], strlen(cases[k]));
        ck_assert_int_eq(lwc_y4m_read_header(f, 0, &i, err, sizeof(err)), 0);
        ck_assert_int_eq(lwc_y4m_read_frame(f, &i, buf, err, sizeof(err)), want[k]);
        fclose(f);
    }
    /* a header line longer than any real one */
    char *big = malloc(9000);
    memset(big, 'X', 9000);
    memcpy(big, "YUV4MPEG2 W2 H2 X", 17);
    big[8999] = '\n';
    FILE *f = mem_file(big, 9000);
    LwcY4mInfo i;
    ck_assert_int_eq(lwc_y4m_read_header(f, 0, &i, NULL, 0), LWC_ERR_CORRUPT);
    fclose(f);
    free(big);
}
END_TEST

/* ---- colour conversion */

START_TEST(bt601_reference_values)
{
    LwcY4mInfo i = { .width = 4, .height = 1, .chroma = LWC_VIDEO_SRC_YUV444 };
    static const uint8_t rgb[12] = { 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255 };
    /* black, white, red, blue: Y 16 235 81 41, Cb 128 128 90 240, Cr 128 128 240 110 */
    static const uint8_t yuv[12] = { 16, 235, 81, 41, 128, 128, 90, 240, 128, 128, 240, 110 };
    LwcImage img;
    uint8_t frame[12];
    ck_assert_int_eq(lwc_image_alloc(&img, 4, 1, 3, 8), 0);
    memcpy(img.data, rgb, 12);
    ck_assert_int_eq(lwc_y4m_from_image(&i, &img, frame), 0);
    for (int k = 0; k < 12; k++) ck_assert_msg(frame[k] == yuv[k], "sample %d: %d, wanted %d", k, frame[k], yuv[k]);
    ck_assert_int_eq(lwc_y4m_to_image(&i, yuv, &img), 0);
    for (int k = 0; k < 12; k++) ck_assert_msg(abs(img.data[k] - rgb[k]) <= 1, "rgb %d: %d vs %d", k, img.data[k], rgb[k]);
    /* shape mismatches are refused */
    i.chroma = LWC_VIDEO_SRC_GRAY;
    ck_assert_int_eq(lwc_y4m_to_image(&i, yuv, &img), LWC_ERR_INVAL);
    lwc_image_free(&img);
}
END_TEST

/* YUV made from RGB survives YUV -> RGB -> YUV within one code value, and
 * subsampled chroma planes come back (replicate, then average). */
START_TEST(yuv_rgb_yuv_stable)
{
    LwcY4mInfo i = { .width = 9, .height = 7, .chroma = k_chromas[_i] };
    int ch = lwc_y4m_image_channels(&i);
    LwcImage src, img;
    make_image(&src, 9, 7, ch, 3);
    ck_assert_int_eq(lwc_image_alloc(&img, 9, 7, ch, 8), 0);
    size_t fs = lwc_y4m_frame_size(&i);
    uint8_t *a = malloc(fs), *b = malloc(fs);
    ck_assert_int_eq(lwc_y4m_from_image(&i, &src, a), 0);
    ck_assert_int_eq(lwc_y4m_to_image(&i, a, &img), 0);
    ck_assert_int_eq(lwc_y4m_from_image(&i, &img, b), 0);
    int maxd = 0;
    for (size_t k = 0; k < fs; k++) maxd = abs(a[k] - b[k]) > maxd ? abs(a[k] - b[k]) : maxd;
    ck_assert_msg(maxd <= (ch == 1 ? 0 : 1), "max difference %d", maxd);
    free(a);
    free(b);
    lwc_image_free(&src);
    lwc_image_free(&img);
}
END_TEST

static Suite *video_suite(void)
{
    Suite *s = suite_create("video");
    TCase *t = tcase_create("lwcv");
    tcase_add_unchecked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, lwcv_header_roundtrip, 0, LWC_VIDEO_SRC_COUNT);
    tcase_add_test(t, lwcv_header_write_refuses);
    tcase_add_loop_test(t, lwcv_header_errors, 0, (int)(sizeof(k_bad_headers) / sizeof(k_bad_headers[0])));
    tcase_add_test(t, lwcv_header_misc_errors);
    tcase_add_test(t, lwcv_prefix_caps);
    tcase_add_loop_test(t, lwcv_stream_roundtrip, 0, 6);
    tcase_add_test(t, lwcv_truncated);
    tcase_add_test(t, lwcv_corrupt);
    suite_add_tcase(s, t);
    t = tcase_create("y4m");
    tcase_add_unchecked_fixture(t, setup, teardown);
    tcase_add_loop_test(t, y4m_roundtrip, 0, 7);
    tcase_add_test(t, y4m_frame_sizes);
    tcase_add_test(t, y4m_header_variants);
    tcase_add_loop_test(t, y4m_bad_headers, 0, (int)(sizeof(k_bad_y4m) / sizeof(k_bad_y4m[0])));
    tcase_add_test(t, y4m_bad_frames);
    tcase_add_test(t, bt601_reference_values);
    tcase_add_loop_test(t, yuv_rgb_yuv_stable, 0, 7);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(video_suite()); }
