/* The container writer (format in bitstream.h); the parser is in
 * bitstream.c. */
#include <string.h>

#include "bitstream.h"
#include "common/common.h"
#include "common/mem.h"

int lwc_stream_write(const LwcHeader *h, const LwcSection *secs, int nsec, uint8_t **out,
                     size_t *size)
{
    LWC_RET_IF(nsec < 0 || nsec > LWC_MAX_SECTIONS, LWC_ERR_INVAL);
    size_t total = LWC_HEADER_SIZE + 12 * (size_t)nsec;
    for (int i = 0; i < nsec; i++) total += secs[i].size;
    uint8_t *b = lwc_calloc(total, 1);
    LWC_RET_IF(!b, LWC_ERR_NOMEM);
    memcpy(b, LWC_STREAM_MAGIC, 4);
    b[4] = LWC_STREAM_VERSION;
    b[5] = (uint8_t)h->channels;
    b[6] = (uint8_t)h->bit_depth;
    lwc_wr32(b + 8, (uint32_t)h->width);
    lwc_wr32(b + 12, (uint32_t)h->height);
    lwc_wr32(b + 16, (uint32_t)h->model_id);
    lwc_wr32(b + 20, (uint32_t)(h->model_id >> 32));
    lwc_wr16(b + 24, h->quality_x100);
    b[26] = (uint8_t)nsec;
    lwc_wr32(b + 28, lwc_crc32c(0, b, 28));
    size_t pos = LWC_HEADER_SIZE + 12 * (size_t)nsec;
    for (int i = 0; i < nsec; i++) {
        uint8_t *e = b + LWC_HEADER_SIZE + 12 * i;
        lwc_wr32(e, secs[i].tag);
        lwc_wr32(e + 4, secs[i].size);
        lwc_wr32(e + 8, lwc_crc32c(0, secs[i].data, secs[i].size));
        if (secs[i].size) memcpy(b + pos, secs[i].data, secs[i].size);
        pos += secs[i].size;
    }
    *out = b;
    *size = total;
    return LWC_OK;
}
