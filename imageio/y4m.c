/* Y4M (YUV4MPEG2) streams, 8-bit, and Y'CbCr <-> RGB with BT.601
 * limited-range matrices; conventions in imageio.h. */
#include <string.h>

#include "common/common.h"
#include "imageio.h"

#define Y4M_MAX_LINE 4096 /* stream and frame header lines, tags included */

static const char *const chroma_names[LWC_VIDEO_SRC_COUNT] = {
    [LWC_VIDEO_SRC_GRAY] = "mono",          [LWC_VIDEO_SRC_YUV420JPEG] = "420jpeg",
    [LWC_VIDEO_SRC_YUV420MPEG2] = "420mpeg2", [LWC_VIDEO_SRC_YUV420PALDV] = "420paldv",
    [LWC_VIDEO_SRC_YUV420] = "420",         [LWC_VIDEO_SRC_YUV422] = "422",
    [LWC_VIDEO_SRC_YUV444] = "444",
};

const char *lwc_y4m_chroma_name(int chroma)
{
    return chroma >= 0 && chroma < LWC_VIDEO_SRC_COUNT ? chroma_names[chroma] : NULL;
}

static int chroma_ok(int chroma) { return lwc_y4m_chroma_name(chroma) != NULL; }

/* Horizontal and vertical chroma subsampling factors. */
static int sub_x(int chroma) { return chroma == LWC_VIDEO_SRC_YUV444 ? 1 : 2; }
static int sub_y(int chroma) { return chroma == LWC_VIDEO_SRC_YUV444 || chroma == LWC_VIDEO_SRC_YUV422 ? 1 : 2; }

void lwc_y4m_chroma_size(const LwcY4mInfo *info, int *cw, int *ch)
{
    int c = info->chroma;
    *cw = c == LWC_VIDEO_SRC_GRAY ? 0 : (info->width + sub_x(c) - 1) / sub_x(c);
    *ch = c == LWC_VIDEO_SRC_GRAY ? 0 : (info->height + sub_y(c) - 1) / sub_y(c);
}

size_t lwc_y4m_frame_size(const LwcY4mInfo *info)
{
    int cw, ch;
    lwc_y4m_chroma_size(info, &cw, &ch);
    return (size_t)info->width * info->height + 2 * (size_t)cw * ch;
}

int lwc_y4m_image_channels(const LwcY4mInfo *info)
{
    return info->chroma == LWC_VIDEO_SRC_GRAY ? 1 : 3;
}

/* ---- header parsing */

/* Read one line (without '\n') into line. 0, or TRUNCATED (EOF first; *got
 * says whether any byte was read), or CORRUPT (too long). */
static int read_line(FILE *f, char *line, size_t cap, int *got)
{
    size_t n = 0;
    int c;
    *got = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        *got = 1;
        if (n + 1 >= cap) return LWC_ERR_CORRUPT;
        line[n++] = (char)c;
    }
    line[n] = 0;
    if (c == '\n') *got = 1;
    return c == EOF ? LWC_ERR_TRUNCATED : 0;
}

/* Parse "<a>:<b>" (both unsigned decimal, b may be absent for I/W/H). */
static int parse_u32(const char **p, uint32_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') return -1;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (uint64_t)(*s++ - '0');
        if (v > UINT32_MAX) return -1;
    }
    *p = s;
    *out = (uint32_t)v;
    return 0;
}

static int parse_ratio(const char *s, uint32_t *num, uint32_t *den)
{
    if (parse_u32(&s, num) || *s++ != ':' || parse_u32(&s, den) || *s) return -1;
    return 0;
}

static int parse_chroma(const char *v, int *chroma)
{
    for (int i = 0; i < LWC_VIDEO_SRC_COUNT; i++)
        if (chroma_names[i] && !strcmp(v, chroma_names[i])) { *chroma = i; return 0; }
    return -1;
}

/* One "X..." tag of the stream header. */
static int parse_tag(char *tok, LwcY4mInfo *info, uint64_t *w, uint64_t *h, char *err, size_t errlen)
{
    const char *v = tok + 1;
    uint32_t a;
    switch (tok[0]) {
    case 'W': case 'H':
        if (parse_u32(&v, &a) || *v) break;
        *(tok[0] == 'W' ? w : h) = a;
        return 0;
    case 'F':
        if (parse_ratio(v, &info->fps_num, &info->fps_den)) break;
        return 0;
    case 'A':
        if (parse_ratio(v, &info->par_num, &info->par_den)) break;
        return 0;
    case 'I':
        if (strlen(v) != 1 || !strchr("ptbm?", v[0])) break;
        info->interlace = v[0];
        return 0;
    case 'C':
        if (parse_chroma(v, &info->chroma))
            return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED,
                               "Y4M colour space 'C%.32s' is not supported (8-bit 420jpeg, 420mpeg2, "
                               "420paldv, 420, 422, 444 or mono)", v);
        return 0;
    case 'X':
        return 0;
    default:
        return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "unknown Y4M header tag '%.32s'", tok);
    }
    return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "bad Y4M header field '%.32s'", tok);
}

int lwc_y4m_read_header(FILE *f, int skip_magic, LwcY4mInfo *info, char *err, size_t errlen)
{
    LWC_RET_IF(!f || !info, LWC_ERR_INVAL);
    memset(info, 0, sizeof(*info));
    char line[Y4M_MAX_LINE];
    int got, r = read_line(f, line, sizeof(line), &got);
    const char *body = line;
    if (!skip_magic) {
        if (strncmp(line, "YUV4MPEG2", 9))
            return got && r == 0 ? lwc_io_fail(err, errlen, LWC_ERR_MAGIC, "not a Y4M stream")
                                 : lwc_io_fail(err, errlen, got ? LWC_ERR_MAGIC : LWC_ERR_TRUNCATED,
                                               got ? "not a Y4M stream" : "empty input");
        body += 9;
    }
    if (r == LWC_ERR_CORRUPT) return lwc_io_fail(err, errlen, r, "Y4M header line too long");
    if (r < 0) return lwc_io_fail(err, errlen, r, "Y4M header ends without a newline");
    if (*body && *body != ' ') return lwc_io_fail(err, errlen, LWC_ERR_MAGIC, "not a Y4M stream");
    uint64_t w = 0, h = 0;
    info->chroma = LWC_VIDEO_SRC_YUV420JPEG;
    info->interlace = 'p';
    char tmp[Y4M_MAX_LINE];
    strcpy(tmp, body);
    for (char *save = NULL, *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
        LWC_FWD(parse_tag(tok, info, &w, &h, err, errlen));
    if (!w || !h) return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "Y4M header lacks W or H");
    LWC_FWD(lwc_io_check_dims(w, h, "Y4M", err, errlen));
    info->width = (int)w;
    info->height = (int)h;
    if (!info->fps_num || !info->fps_den) info->fps_num = 25, info->fps_den = 1;
    return 0;
}

int lwc_y4m_read_frame(FILE *f, const LwcY4mInfo *info, uint8_t *frame, char *err, size_t errlen)
{
    LWC_RET_IF(!f || !info || !frame, LWC_ERR_INVAL);
    char line[Y4M_MAX_LINE];
    int got, r = read_line(f, line, sizeof(line), &got);
    if (r == LWC_ERR_TRUNCATED && !got) return 0; /* clean end */
    if (r == LWC_ERR_TRUNCATED) return lwc_io_fail(err, errlen, r, "Y4M frame header is cut off");
    if (r < 0 || strncmp(line, "FRAME", 5) || (line[5] && line[5] != ' '))
        return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "expected a Y4M FRAME header");
    size_t n = lwc_y4m_frame_size(info), got_n = fread(frame, 1, n, f);
    if (got_n != n)
        return lwc_io_fail(err, errlen, ferror(f) ? LWC_ERR_IO : LWC_ERR_TRUNCATED,
                           "Y4M frame is cut off (%zu of %zu bytes)", got_n, n);
    return 1;
}

int lwc_y4m_write_header(FILE *f, const LwcY4mInfo *info, char *err, size_t errlen)
{
    LWC_RET_IF(!f || !info || !chroma_ok(info->chroma) || !info->fps_num || !info->fps_den,
               lwc_io_fail(err, errlen, LWC_ERR_INVAL, "bad Y4M stream parameters"));
    LWC_FWD(lwc_io_check_dims((uint64_t)(info->width > 0 ? info->width : 0),
                              (uint64_t)(info->height > 0 ? info->height : 0), "Y4M", err, errlen));
    int n = fprintf(f, "YUV4MPEG2 W%d H%d F%u:%u Ip", info->width, info->height, info->fps_num,
                    info->fps_den);
    if (n > 0 && info->par_num && info->par_den) n = fprintf(f, " A%u:%u", info->par_num, info->par_den);
    if (n > 0) n = fprintf(f, " C%s\n", lwc_y4m_chroma_name(info->chroma));
    return n > 0 ? 0 : lwc_io_fail(err, errlen, LWC_ERR_IO, "write error");
}

int lwc_y4m_write_frame(FILE *f, const LwcY4mInfo *info, const uint8_t *frame, char *err, size_t errlen)
{
    LWC_RET_IF(!f || !info || !frame, LWC_ERR_INVAL);
    size_t n = lwc_y4m_frame_size(info);
    if (fputs("FRAME\n", f) < 0 || fwrite(frame, 1, n, f) != n)
        return lwc_io_fail(err, errlen, LWC_ERR_IO, "write error");
    return 0;
}

/* ---- colour: BT.601 limited range, 16-bit fixed point */

static uint8_t clamp8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

static void yuv_to_rgb(int y, int cb, int cr, uint8_t *rgb)
{
    int yy = 76309 * (y - 16) + 32768;
    cb -= 128;
    cr -= 128;
    rgb[0] = clamp8((yy + 104597 * cr) >> 16);
    rgb[1] = clamp8((yy - 25675 * cb - 53279 * cr) >> 16);
    rgb[2] = clamp8((yy + 132201 * cb) >> 16);
}

/* Y in 8.16 fixed point (without the +16 offset and rounding). */
static int rgb_y(const uint8_t *p) { return 16829 * p[0] + 33039 * p[1] + 6416 * p[2]; }
static int rgb_cb(const uint8_t *p) { return -9714 * p[0] - 19070 * p[1] + 28784 * p[2]; }
static int rgb_cr(const uint8_t *p) { return 28784 * p[0] - 24103 * p[1] - 4681 * p[2]; }

static int image_shape_ok(const LwcY4mInfo *info, const LwcImage *img)
{
    return img && img->data && img->width == info->width && img->height == info->height &&
           img->bit_depth == 8 && img->channels == lwc_y4m_image_channels(info) &&
           img->stride >= (size_t)img->width * img->channels && chroma_ok(info->chroma);
}

int lwc_y4m_to_image(const LwcY4mInfo *info, const uint8_t *frame, LwcImage *img)
{
    LWC_RET_IF(!info || !frame || !image_shape_ok(info, img), LWC_ERR_INVAL);
    int w = info->width, h = info->height, cw, ch;
    lwc_y4m_chroma_size(info, &cw, &ch);
    const uint8_t *yp = frame, *up = frame + (size_t)w * h, *vp = up + (size_t)cw * ch;
    int sx = sub_x(info->chroma), sy = sub_y(info->chroma);
    for (int y = 0; y < h; y++) {
        uint8_t *row = img->data + (size_t)y * img->stride;
        if (img->channels == 1) {
            memcpy(row, yp + (size_t)y * w, (size_t)w);
            continue;
        }
        const uint8_t *urow = up + (size_t)(y / sy) * cw, *vrow = vp + (size_t)(y / sy) * cw;
        for (int x = 0; x < w; x++)
            yuv_to_rgb(yp[(size_t)y * w + x], urow[x / sx], vrow[x / sx], row + 3 * x);
    }
    return 0;
}

/* Mean chroma of the sx*sy block at chroma position (cx, cy), rounded. */
static void block_chroma(const LwcImage *img, int cx, int cy, int sx, int sy, uint8_t *cb, uint8_t *cr)
{
    int64_t sb = 0, sr = 0;
    int n = 0;
    for (int y = cy * sy; y < cy * sy + sy && y < img->height; y++)
        for (int x = cx * sx; x < cx * sx + sx && x < img->width; x++) {
            const uint8_t *p = img->data + (size_t)y * img->stride + 3 * (size_t)x;
            sb += rgb_cb(p);
            sr += rgb_cr(p);
            n++;
        }
    int64_t half = (int64_t)n << 15, off = (int64_t)128 * n << 16;
    *cb = clamp8((int)((sb + off + half) / ((int64_t)n << 16)));
    *cr = clamp8((int)((sr + off + half) / ((int64_t)n << 16)));
}

int lwc_y4m_from_image(const LwcY4mInfo *info, const LwcImage *img, uint8_t *frame)
{
    LWC_RET_IF(!info || !frame || !image_shape_ok(info, img), LWC_ERR_INVAL);
    int w = info->width, h = info->height, cw, ch;
    lwc_y4m_chroma_size(info, &cw, &ch);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->data + (size_t)y * img->stride;
        uint8_t *yrow = frame + (size_t)y * w;
        if (img->channels == 1) {
            memcpy(yrow, row, (size_t)w);
            continue;
        }
        for (int x = 0; x < w; x++)
            yrow[x] = clamp8(16 + ((rgb_y(row + 3 * x) + 32768) >> 16));
    }
    if (!cw) return 0;
    uint8_t *up = frame + (size_t)w * h, *vp = up + (size_t)cw * ch;
    int sx = sub_x(info->chroma), sy = sub_y(info->chroma);
    for (int cy = 0; cy < ch; cy++)
        for (int cx = 0; cx < cw; cx++)
            block_chroma(img, cx, cy, sx, sy, up + (size_t)cy * cw + cx, vp + (size_t)cy * cw + cx);
    return 0;
}
