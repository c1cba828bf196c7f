/* Public API glue: settings, contexts, images, error text, stream info. */
#include <math.h>
#include <string.h>

#include "bitstream.h"
#include "common/common.h"
#include "internal.h"
#include "transforms/gemm.h"

const char *lwc_strerror(int err)
{
    switch (err) {
    case LWC_OK: return "success";
    case LWC_ERR_NOMEM: return "out of memory";
    case LWC_ERR_INVAL: return "invalid argument";
    case LWC_ERR_TRUNCATED: return "truncated data";
    case LWC_ERR_CORRUPT: return "corrupt data";
    case LWC_ERR_CRC: return "checksum mismatch";
    case LWC_ERR_MAGIC: return "not an lwc file (bad magic)";
    case LWC_ERR_VERSION: return "unsupported format version";
    case LWC_ERR_MODEL: return "stream was encoded with a different model";
    case LWC_ERR_TOO_BIG: return "dimensions or size above the limit";
    case LWC_ERR_IO: return "I/O error";
    case LWC_ERR_UNSUPPORTED: return "unsupported feature";
    default: return "unknown error";
    }
}

const char *lwc_version(void) { return "0.1.0"; }

int lwc_image_alloc(LwcImage *img, int width, int height, int channels, int bit_depth)
{
    LWC_RET_IF(!img, LWC_ERR_INVAL);
    memset(img, 0, sizeof(*img));
    LWC_RET_IF(width < 1 || height < 1 || channels < 1 || channels > 4, LWC_ERR_INVAL);
    LWC_RET_IF(bit_depth != 8 && bit_depth != 16, LWC_ERR_INVAL);
    size_t stride, total;
    LWC_RET_IF(lwc_mul_size((size_t)width, (size_t)channels * (bit_depth / 8), &stride), LWC_ERR_TOO_BIG);
    LWC_RET_IF(lwc_mul_size(stride, (size_t)height, &total), LWC_ERR_TOO_BIG);
    img->data = lwc_calloc(total, 1);
    LWC_RET_IF(!img->data, LWC_ERR_NOMEM);
    img->width = width; img->height = height;
    img->channels = channels; img->bit_depth = bit_depth;
    img->stride = stride;
    return LWC_OK;
}

void lwc_image_free(LwcImage *img)
{
    if (!img) return;
    lwc_free(img->data);
    memset(img, 0, sizeof(*img));
}

void lwc_free_buffer(void *buf) { lwc_free(buf); }

void lwc_default_settings(LwcSettings *s)
{
    memset(s, 0, sizeof(*s));
    s->threads = 1;
    s->max_pixels = (uint64_t)1 << 28;
}

/* The effort and progress fields took reserved bytes: the struct keeps its
 * size, so programs built against the older header still work. */
_Static_assert(sizeof(LwcEncodeParams) == 40, "LwcEncodeParams must keep its size");

void lwc_default_encode_params(LwcEncodeParams *p)
{
    memset(p, 0, sizeof(*p));
    p->quality = 50.0;
    p->effort = LWC_EFFORT_DEFAULT;
}

static int reserved_zero(const uint8_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i]) return 0;
    return 1;
}

int lwc_open(LwcContext **out, const LwcModel *model, const LwcSettings *s)
{
    LWC_RET_IF(!out, LWC_ERR_INVAL);
    *out = NULL;
    LWC_RET_IF(!model || !s, LWC_ERR_INVAL);
    LWC_RET_IF(s->threads < 1 || s->threads > 64 || !s->max_pixels, LWC_ERR_INVAL);
    LWC_RET_IF(!reserved_zero(s->reserved, sizeof(s->reserved)), LWC_ERR_INVAL);
    LwcContext *c = lwc_calloc(1, sizeof(*c));
    LWC_RET_IF(!c, LWC_ERR_NOMEM);
    c->s = *s;
    c->m = model;
    int r = lwc_pool_create(s->threads, &c->pool);
    if (r < 0) {
        lwc_free(c);
        return r;
    }
    lwc_gemm_set_threads(1); /* our own workers split the float layers (bands.c) */
    *out = c;
    return LWC_OK;
}

void lwc_close(LwcContext **c)
{
    if (!c || !*c) return;
    lwc_pool_destroy(&(*c)->pool);
    lwc_free(*c);
    *c = NULL;
}

uint16_t lwc_quality_x100(double quality)
{
    double q = floor(LWC_CLAMP(quality, 0.0, 100.0) * 100.0 + 0.5);
    return (uint16_t)q;
}

int lwc_stream_info(const uint8_t *buf, size_t size, LwcStreamInfo *info)
{
    LWC_RET_IF(!buf || !info, LWC_ERR_INVAL);
    memset(info, 0, sizeof(*info));
    LwcHeader h;
    LwcSection secs[LWC_MAX_SECTIONS];
    int n;
    LWC_FWD(lwc_stream_parse(buf, size, UINT64_MAX, &h, secs, &n));
    info->version = h.version;
    info->width = h.width; info->height = h.height;
    info->channels = h.channels; info->bit_depth = h.bit_depth;
    info->quality = h.quality_x100 / 100.0;
    info->model_id = h.model_id;
    info->num_sections = n;
    for (int i = 0; i < n; i++) {
        info->sections[i].tag = secs[i].tag;
        info->sections[i].size = secs[i].size;
    }
    info->total_size = size;
    return LWC_OK;
}
