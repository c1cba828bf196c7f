/* CDF tables, the decoder's side: validation, lookup, value decoding with
 * escapes. Quantisation from a pmf, value encoding and the Gaussian tables
 * are in cdf_enc.c. Formats in cdf.h. */

#include "cdf.h"
#include "common/common.h"

int lwc_cdf_validate(const uint32_t *cdf, int n)
{
    LWC_RET_IF(n < 2 || n > LWC_CDF_MAX_SYMBOLS, LWC_ERR_CORRUPT);
    LWC_RET_IF(cdf[0] != 0 || cdf[n] != LWC_RANS_TOTAL, LWC_ERR_CORRUPT);
    for (int i = 0; i < n; i++)
        LWC_RET_IF(cdf[i + 1] <= cdf[i], LWC_ERR_CORRUPT);
    return LWC_OK;
}

/* The s in [lo, hi) with cdf[s] <= slot < cdf[s+1], given cdf[lo] <= slot < cdf[hi]. */
static inline int search(const uint32_t *cdf, int lo, int hi, uint32_t slot)
{
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (cdf[mid] <= slot) lo = mid;
        else hi = mid;
    }
    return lo;
}

int lwc_cdf_lookup(const uint32_t *cdf, int n, uint32_t slot) { return search(cdf, 0, n, slot); }

void lwc_cdf_guide_build(const uint32_t *cdf, int n, uint16_t *guide)
{
    int s = 0;
    for (int j = 0; j < LWC_CDF_GUIDE; j++) {
        uint32_t slot = (uint32_t)j << LWC_CDF_GUIDE_SHIFT;
        while (cdf[s + 1] <= slot) s++;
        guide[j] = (uint16_t)s;
    }
    guide[LWC_CDF_GUIDE] = (uint16_t)(n - 1);
}

int lwc_cdf_lookup_guided(const uint32_t *cdf, const uint16_t *guide, uint32_t slot)
{
    /* cdf[guide[j]] <= slot, and slot < ((j+1) << SHIFT) < cdf[guide[j+1] + 1] */
    const uint16_t *g = guide + (slot >> LWC_CDF_GUIDE_SHIFT);
    return search(cdf, g[0], g[1] + 1, slot);
}

/* ---- values with escape ---- */

static int dec_corrupt(LwcRansDec *d)
{
    if (!d->err) d->err = LWC_ERR_CORRUPT;
    return LWC_ERR_CORRUPT;
}

/* Steps 2..4 of the escape (cdf.h); *out is the signed value. */
static int get_escape(LwcRansDec *d, int64_t lo, int64_t hi, int32_t *out)
{
    uint32_t sign = lwc_rans_dec_get_bits(d, 1);
    uint32_t k = lwc_rans_dec_get_bits(d, LWC_CDF_ESC_CHUNK_BITS) + 1;
    if (k > LWC_CDF_ESC_MAX_CHUNKS) return dec_corrupt(d);
    uint64_t dist = 0, chunk = 0;
    for (uint32_t j = 0; j < k; j++) {
        chunk = lwc_rans_dec_get_bits(d, LWC_CDF_ESC_CHUNK_BITS);
        dist |= chunk << (LWC_CDF_ESC_CHUNK_BITS * j);
    }
    if (k > 1 && chunk == 0) return dec_corrupt(d);
    int64_t v = sign ? lo - 1 - (int64_t)dist : hi + 1 + (int64_t)dist;
    if (v < INT32_MIN || v > INT32_MAX) return dec_corrupt(d);
    *out = (int32_t)v;
    return LWC_OK;
}

int lwc_cdf_decode_value(LwcRansDec *d, const uint32_t *cdf, int n, int offset, int32_t *v)
{
    int64_t lo, hi;
    LWC_FWD(lwc_cdf_value_range(n, offset, &lo, &hi));
    int s = lwc_cdf_lookup(cdf, n, lwc_rans_dec_peek(d));
    lwc_rans_dec_advance(d, cdf[s], cdf[s + 1] - cdf[s]);
    if (s < n - 1) {
        *v = (int32_t)(lo + s);
        return LWC_OK;
    }
    return get_escape(d, lo, hi, v);
}

int lwc_cdf_decode_value_guided(LwcRansDec *d, const uint32_t *cdf, const uint16_t *guide, int n, int offset,
                                int32_t *v)
{
    int s = lwc_cdf_lookup_guided(cdf, guide, lwc_rans_dec_peek(d));
    lwc_rans_dec_advance(d, cdf[s], cdf[s + 1] - cdf[s]);
    if (s < n - 1) { /* the common case first: n and offset were checked when the table was loaded */
        *v = s - offset;
        return LWC_OK;
    }
    int64_t lo, hi;
    LWC_FWD(lwc_cdf_value_range(n, offset, &lo, &hi));
    return get_escape(d, lo, hi, v);
}

const uint32_t *lwc_cdf_table(const LwcCdfSet *s, int t, int *n, int *offset)
{
    *n = (int)s->sizes[t];
    *offset = s->offsets[t];
    return s->data + s->starts[t];
}
