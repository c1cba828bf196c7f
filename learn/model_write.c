/* The model file writer (format in codec/model.h): the trainer's export and
 * the tests' model builders use it; the decoder only reads models. Tensor
 * payloads are written in host order, as the loader reads them. */
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "learn/model_write.h"

void lwc_mw_init(LwcModelWriter *w)
{
    memset(w, 0, sizeof(*w));
    w->buf = lwc_malloc(1 << 16);
    w->cap = 1 << 16;
    if (!w->buf) { w->err = LWC_ERR_NOMEM; return; }
    memcpy(w->buf, "LWCM", 4);
    w->version = LWC_MODEL_VERSION;
    w->len = 12;
}

static void put(LwcModelWriter *w, const void *p, size_t n)
{
    if (w->err) return;
    if (w->cap - w->len < n) {
        size_t nc = w->cap;
        while (nc - w->len < n) nc *= 2;
        uint8_t *nb = lwc_malloc(nc);
        if (!nb) { w->err = LWC_ERR_NOMEM; return; }
        memcpy(nb, w->buf, w->len);
        lwc_free(w->buf);
        w->buf = nb;
        w->cap = nc;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void lwc_mw_tensor(LwcModelWriter *w, const char *name, int dtype, int ndim,
                   const uint32_t *dims, const void *data)
{
    uint8_t b[4];
    uint16_t nl = (uint16_t)strlen(name);
    uint8_t hdr[2] = { (uint8_t)dtype, (uint8_t)ndim };
    size_t cnt = 1;
    lwc_wr16(b, nl);
    put(w, b, 2);
    put(w, name, nl);
    put(w, hdr, 2);
    for (int d = 0; d < ndim; d++) {
        lwc_wr32(b, dims[d]);
        put(w, b, 4);
        cnt *= dims[d];
    }
    put(w, data, cnt * lwc_model_dtype_size[dtype]);
    w->count++;
}

int lwc_mw_finish(LwcModelWriter *w, uint8_t **out, size_t *size)
{
    if (w->err) return w->err;
    lwc_wr32(w->buf + 4, w->version);
    lwc_wr32(w->buf + 8, w->count);
    *out = w->buf;
    *size = w->len;
    w->buf = NULL;
    return LWC_OK;
}

void lwc_mw_free(LwcModelWriter *w)
{
    lwc_free(w->buf);
    w->buf = NULL;
}
