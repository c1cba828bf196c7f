/* rANS decoder; the stream format and the LIFO handling are described in
 * rans.h. The encoder is in rans_enc.c. */
#include <assert.h>

#include "common/common.h"
#include "common/mem.h"
#include "rans.h"

uint32_t lwc_rans_dec_word(LwcRansDec *d)
{
    if (d->p == d->end || d->end - d->p < 4) {  /* p == end may be NULL */
        if (!d->err) d->err = LWC_ERR_TRUNCATED;
        d->p = d->end;
        return 0;
    }
    uint32_t w = lwc_rd32(d->p);
    d->p += 4;
    return w;
}

int lwc_rans_dec_init(LwcRansDec *d, const uint8_t *buf, size_t size)
{
    d->p = d->end = buf;
    d->state = LWC_RANS_L;
    d->err = LWC_OK;
    if (size < 8) return d->err = LWC_ERR_TRUNCATED;
    uint64_t x = lwc_rd32(buf) | (uint64_t)lwc_rd32(buf + 4) << 32;
    d->p = buf + 8;
    d->end = buf + size;
    if (x < LWC_RANS_L || x >> 63) return d->err = LWC_ERR_CORRUPT;
    d->state = x;
    return LWC_OK;
}

uint32_t lwc_rans_dec_get_bits(LwcRansDec *d, int nbits)
{
    assert(nbits >= 1 && nbits <= LWC_RANS_PREC);
    int sh = LWC_RANS_PREC - nbits;
    uint32_t v = lwc_rans_dec_peek(d) >> sh;
    lwc_rans_dec_advance(d, v << sh, 1u << sh);
    return v;
}

int lwc_rans_dec_finish(const LwcRansDec *d)
{
    LWC_FWD(d->err);
    LWC_RET_IF(d->state != LWC_RANS_L || d->p != d->end, LWC_ERR_CORRUPT);
    return LWC_OK;
}
