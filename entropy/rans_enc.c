/* rANS encoder (rans.h): symbols are queued, then finish() codes the queue
 * backwards and writes the renormalisation words into the queue itself (see
 * encode_queue). The decoder is in rans.c. */
#include <assert.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "rans.h"

#define MASK (LWC_RANS_TOTAL - 1)
#define INIT_CAP 1024

void lwc_rans_enc_init(LwcRansEnc *e)
{
    memset(e, 0, sizeof(*e));
}

void lwc_rans_enc_free(LwcRansEnc *e)
{
    lwc_free(e->q);
    memset(e, 0, sizeof(*e));
}

void lwc_rans_enc_reset(LwcRansEnc *e)
{
    e->count = 0;
    e->err = LWC_OK;
}

size_t lwc_rans_enc_count(const LwcRansEnc *e)
{
    return e->count;
}

/* Grow to hold at least `need` entries (no realloc in lwc: copy over). */
static int enc_grow(LwcRansEnc *e, size_t need)
{
    size_t cap = e->cap ? e->cap : INIT_CAP;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return LWC_ERR_NOMEM;
        cap *= 2;
    }
    uint32_t *q = lwc_malloc_array(cap, sizeof(*q));
    LWC_RET_IF(!q, LWC_ERR_NOMEM);
    if (e->count) memcpy(q, e->q, e->count * sizeof(*q));
    lwc_free(e->q);
    e->q = q;
    e->cap = cap;
    return LWC_OK;
}

int lwc_rans_enc_reserve(LwcRansEnc *e, size_t n)
{
    LWC_FWD(e->err);
    if (n <= e->cap - e->count) return LWC_OK;
    if (n > SIZE_MAX - e->count) return e->err = LWC_ERR_NOMEM;
    int r = enc_grow(e, e->count + n);
    if (r) e->err = r;
    return r;
}

int lwc_rans_enc_put(LwcRansEnc *e, uint32_t start, uint32_t freq)
{
    LWC_FWD(e->err);
    if (freq < 1 || freq > LWC_RANS_TOTAL || start > LWC_RANS_TOTAL - freq)
        return e->err = LWC_ERR_INVAL;
    if (e->count == e->cap) {
        int r = enc_grow(e, e->count + 1);
        if (r) return e->err = r;
    }
    e->q[e->count++] = start | (freq - 1) << 16;
    return LWC_OK;
}

int lwc_rans_enc_put_bits(LwcRansEnc *e, uint32_t value, int nbits)
{
    LWC_FWD(e->err);
    if (nbits < 1 || nbits > LWC_RANS_PREC || value >> nbits)
        return e->err = LWC_ERR_INVAL;
    int sh = LWC_RANS_PREC - nbits;
    return lwc_rans_enc_put(e, value << sh, 1u << sh);
}

/* Code q[0..count) from last to first. Each symbol emits at most one word
 * (x < 2^63 and x_max >= 2^47 * freq, so one 32-bit shift suffices), and
 * the k-th word emitted while coding entry i is stored at q[count-k] with
 * count-k >= i: only already-consumed entries are overwritten. The words end
 * up in q[count-nw..count) in decoder order. Returns the final state. */
static uint64_t encode_queue(uint32_t *q, size_t count, size_t *nwords)
{
    uint64_t x = LWC_RANS_L;
    size_t w = count;
    for (size_t i = count; i-- > 0;) {
        uint32_t start = q[i] & MASK, freq = (q[i] >> 16) + 1;
        uint64_t x_max = ((LWC_RANS_L >> LWC_RANS_PREC) << 32) * freq;
        if (x >= x_max) {
            q[--w] = (uint32_t)x;
            x >>= 32;
        }
        assert(w >= i);
        x = ((x / freq) << LWC_RANS_PREC) + (x % freq) + start;
    }
    *nwords = count - w;
    return x;
}

int lwc_rans_enc_finish(LwcRansEnc *e, uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    int err = e->err;
    size_t nw = 0;
    uint64_t x = err ? 0 : encode_queue(e->q, e->count, &nw);
    uint32_t *words = e->q ? e->q + (e->count - nw) : NULL;
    lwc_rans_enc_reset(e);
    LWC_FWD(err);
    uint8_t *buf = lwc_malloc_array(nw + 2, 4);
    LWC_RET_IF(!buf, LWC_ERR_NOMEM);
    lwc_wr32(buf, (uint32_t)x);
    lwc_wr32(buf + 4, (uint32_t)(x >> 32));
    for (size_t i = 0; i < nw; i++)
        lwc_wr32(buf + 8 + 4 * i, words[i]);
    *out = buf;
    *size = 8 + 4 * nw;
    return LWC_OK;
}
