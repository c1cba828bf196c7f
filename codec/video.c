/* .lwcv sequence container (docs/bitstream.md, ".lwcv"): a fixed 48-byte
 * header, then per frame a u32 length and an lwc image stream. Everything
 * here is serialisation and checking; the image coder does the rest. */
#include <string.h>

#include "bitstream.h"
#include "common/common.h"
#include "common/mem.h"

#define VIDEO_VERSION 1
#define MAX_SIDE (1 << 20)
#define MAX_PACKET ((size_t)1 << 30)
#define MIN_PACKET LWC_HEADER_SIZE

static const uint8_t video_magic[4] = { 0x89, 'L', 'W', 'V' };

static int header_fields_ok(const LwcVideoHeader *h)
{
    return h->width >= 1 && h->width <= MAX_SIDE && h->height >= 1 && h->height <= MAX_SIDE &&
           h->fps_num >= 1 && h->fps_den >= 1 && h->source_format >= 0 &&
           h->source_format < LWC_VIDEO_SRC_COUNT;
}

int lwc_video_header_write(const LwcVideoHeader *h, uint8_t out[LWC_VIDEO_HEADER_SIZE])
{
    LWC_RET_IF(!h || !out || !header_fields_ok(h), LWC_ERR_INVAL);
    memset(out, 0, LWC_VIDEO_HEADER_SIZE);
    memcpy(out, video_magic, 4);
    out[4] = VIDEO_VERSION;
    out[5] = (uint8_t)h->source_format;
    lwc_wr32(out + 8, (uint32_t)h->width);
    lwc_wr32(out + 12, (uint32_t)h->height);
    lwc_wr32(out + 16, h->fps_num);
    lwc_wr32(out + 20, h->fps_den);
    lwc_wr32(out + 24, (uint32_t)h->model_id);
    lwc_wr32(out + 28, (uint32_t)(h->model_id >> 32));
    lwc_wr32(out + 32, h->frame_count);
    lwc_wr32(out + 44, lwc_crc32c(0, out, 44));
    return LWC_OK;
}

int lwc_video_probe(const uint8_t *buf, size_t size)
{
    return buf && size >= 4 && !memcmp(buf, video_magic, 4);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

int lwc_video_header_parse(const uint8_t *b, size_t size, uint64_t max_pixels, LwcVideoHeader *h)
{
    LWC_RET_IF(!b || !h, LWC_ERR_INVAL);
    memset(h, 0, sizeof(*h));
    LWC_RET_IF(size < 4, LWC_ERR_TRUNCATED);
    LWC_RET_IF(!lwc_video_probe(b, size), LWC_ERR_MAGIC);
    LWC_RET_IF(size < LWC_VIDEO_HEADER_SIZE, LWC_ERR_TRUNCATED);
    LWC_RET_IF(b[4] != VIDEO_VERSION, LWC_ERR_VERSION);
    LWC_RET_IF(lwc_rd32(b + 44) != lwc_crc32c(0, b, 44), LWC_ERR_CRC);
    LWC_RET_IF(!all_zero(b + 6, 2) || !all_zero(b + 36, 8), LWC_ERR_CORRUPT);
    uint32_t w = lwc_rd32(b + 8), hh = lwc_rd32(b + 12);
    LWC_RET_IF(w == 0 || hh == 0, LWC_ERR_CORRUPT);
    LWC_RET_IF(w > MAX_SIDE || hh > MAX_SIDE, LWC_ERR_TOO_BIG);
    LWC_RET_IF((uint64_t)w * hh > (max_pixels ? max_pixels : (uint64_t)1 << 28), LWC_ERR_TOO_BIG);
    h->version = b[4];
    h->source_format = b[5];
    h->width = (int)w;
    h->height = (int)hh;
    h->fps_num = lwc_rd32(b + 16);
    h->fps_den = lwc_rd32(b + 20);
    h->model_id = (uint64_t)lwc_rd32(b + 24) | (uint64_t)lwc_rd32(b + 28) << 32;
    h->frame_count = lwc_rd32(b + 32);
    if (!header_fields_ok(h)) {
        memset(h, 0, sizeof(*h));
        return LWC_ERR_CORRUPT;
    }
    return LWC_OK;
}

size_t lwc_video_max_packet(const LwcVideoHeader *h)
{
    if (!h || !header_fields_ok(h)) return 0;
    uint64_t wp = ((uint64_t)h->width + 31) / 32 * 32, hp = ((uint64_t)h->height + 31) / 32 * 32;
    uint64_t cap = 65536 + 32 * wp * hp;
    return cap > MAX_PACKET ? MAX_PACKET : (size_t)cap;
}

int lwc_video_prefix_write(const LwcVideoHeader *h, size_t size, uint8_t out[LWC_VIDEO_PREFIX_SIZE])
{
    LWC_RET_IF(!h || !out || !header_fields_ok(h), LWC_ERR_INVAL);
    LWC_RET_IF(size < MIN_PACKET, LWC_ERR_INVAL);
    LWC_RET_IF(size > lwc_video_max_packet(h), LWC_ERR_TOO_BIG);
    lwc_wr32(out, (uint32_t)size);
    return LWC_OK;
}

int lwc_video_prefix_parse(const LwcVideoHeader *h, const uint8_t in[LWC_VIDEO_PREFIX_SIZE], size_t *size)
{
    LWC_RET_IF(!h || !in || !size, LWC_ERR_INVAL);
    size_t n = lwc_rd32(in);
    LWC_RET_IF(n < MIN_PACKET || n > lwc_video_max_packet(h), LWC_ERR_CORRUPT);
    *size = n;
    return LWC_OK;
}

int lwc_video_packet_check(const LwcVideoHeader *h, const uint8_t *pkt, size_t size)
{
    LWC_RET_IF(!h || !pkt, LWC_ERR_INVAL);
    LwcStreamInfo si;
    LWC_FWD(lwc_stream_info(pkt, size, &si));
    int channels = h->source_format == LWC_VIDEO_SRC_GRAY ? 1 : 3;
    LWC_RET_IF(si.width != h->width || si.height != h->height, LWC_ERR_CORRUPT);
    LWC_RET_IF(si.channels != channels || si.bit_depth != 8, LWC_ERR_CORRUPT);
    LWC_RET_IF(si.model_id != h->model_id, LWC_ERR_MODEL);
    return LWC_OK;
}

int lwc_video_next_packet(const LwcVideoHeader *h, const uint8_t *buf, size_t size, size_t *pos,
                          const uint8_t **pkt, size_t *pkt_size)
{
    LWC_RET_IF(!h || !buf || !pos || !pkt || !pkt_size, LWC_ERR_INVAL);
    LWC_RET_IF(*pos < LWC_VIDEO_HEADER_SIZE || *pos > size, LWC_ERR_INVAL);
    if (*pos == size) return 0;
    LWC_RET_IF(size - *pos < LWC_VIDEO_PREFIX_SIZE, LWC_ERR_TRUNCATED);
    size_t n;
    LWC_FWD(lwc_video_prefix_parse(h, buf + *pos, &n));
    LWC_RET_IF(size - *pos - LWC_VIDEO_PREFIX_SIZE < n, LWC_ERR_TRUNCATED);
    *pkt = buf + *pos + LWC_VIDEO_PREFIX_SIZE;
    *pkt_size = n;
    *pos += LWC_VIDEO_PREFIX_SIZE + n;
    return 1;
}
