/* Quantised cumulative frequency tables for the rANS coder, and coding of
 * integer values through such a table with an escape for the tails.
 *
 * A table for n symbols is cdf[0..n] (n+1 entries, uint32_t) with cdf[0] = 0,
 * cdf[n] = 1<<16 and cdf[s+1] - cdf[s] >= 1 for every s: symbol s has
 * start cdf[s] and frequency cdf[s+1] - cdf[s]. 2 <= n <= 65535.
 *
 * Value coding (normative; part of the lwc bitstream). A table with n
 * symbols and an offset covers the values lo..hi, lo = -offset,
 * hi = n - 2 - offset, as symbols v + offset = 0..n-2; symbol n-1 is the
 * escape. A value outside [lo, hi] is coded as:
 *   1. the escape symbol n-1 through the table;
 *   2. one bypass bit s: 0 if v > hi, 1 if v < lo;
 *   3. the distance beyond the range, d = v - hi - 1 (s = 0) or
 *      d = lo - 1 - v (s = 1), so d >= 0 and d < 2^32 for any int32 v;
 *      k = the number of 4-bit chunks of d, k = max(1, ceil(bitlen(d)/4)),
 *      so 1 <= k <= 8, sent as 4 bypass bits holding k - 1;
 *   4. k chunks of 4 bypass bits each, least significant chunk first.
 * A decoder rejects with LWC_ERR_CORRUPT: k - 1 >= 8; a most significant
 * chunk of zero when k > 1 (the encoding is canonical); a decoded value
 * outside the int32 range. The escape path therefore reads at most 37 raw
 * bits, whatever the input. */
#ifndef LWC_CDF_H
#define LWC_CDF_H

#include <stdint.h>

#include "common/common.h"
#include "rans.h"

/* Coding tables: table t covers sizes[t] symbols (the last one is the escape)
 * for values [-offsets[t], sizes[t]-2-offsets[t]]; its cdf starts at
 * data + starts[t] and has sizes[t]+1 entries. */
typedef struct LwcCdfSet {
    int count;
    uint32_t *starts, *sizes;
    int32_t *offsets;
    uint32_t *data;
    uint32_t data_len;
    uint16_t *guides; /* NULL, or count x (LWC_CDF_GUIDE + 1): each table's guide */
} LwcCdfSet;

/* Table t of a set: its cdf, with *n symbols and values offset by *offset. */
const uint32_t *lwc_cdf_table(const LwcCdfSet *s, int t, int *n, int *offset);

#define LWC_CDF_MAX_SYMBOLS 65535
#define LWC_SCALE_LEVELS 64
/* Two-sided tail mass of the Gaussian tables is about 1e-9: half width
 * R = ceil(sigma * LWC_GAUSS_Z), P(|X| > 6.1 sigma) = 1.06e-9. */
#define LWC_GAUSS_Z 6.1

/* Quantise pmf[0..n) (finite, >= 0, positive sum; need not be normalised)
 * to cdf[0..n]. Each symbol first gets max(1, round(p * 2^16)); the total is
 * then fixed one unit at a time by the greedy step of least cost in
 * estimated code length (cost of f -> f-1 ~ p / (f - 1/2), gain of f -> f+1
 * ~ p / (f + 1/2); ties go to the lower index). Uses only IEEE double
 * +,-,*,/ and comparisons, so the table is the same on every machine with
 * FLT_EVAL_METHOD == 0. Returns 0, LWC_ERR_INVAL (bad n or pmf) or
 * LWC_ERR_NOMEM (it allocates a heap of n entries). */
int lwc_cdf_from_pmf(const double *pmf, int n, uint32_t *cdf);

/* 0 if cdf[0..n] is a valid table (see above), else LWC_ERR_CORRUPT. For
 * tables read from a model file: coding assumes valid tables. */
int lwc_cdf_validate(const uint32_t *cdf, int n);

/* The symbol s with cdf[s] <= slot < cdf[s+1] (binary search); slot < 1<<16. */
int lwc_cdf_lookup(const uint32_t *cdf, int n, uint32_t slot);

/* A guide narrows that search for a table used for many symbols: entry j
 * (0 <= j < LWC_CDF_GUIDE) is the symbol holding slot j << LWC_CDF_GUIDE_SHIFT,
 * and entry LWC_CDF_GUIDE is n - 1. The symbol of any slot in bucket j then
 * lies in [guide[j], guide[j+1]], usually a single symbol, so the lookup
 * mostly needs no search at all. Same result as lwc_cdf_lookup. */
#define LWC_CDF_GUIDE_SHIFT 8
#define LWC_CDF_GUIDE ((int)(LWC_RANS_TOTAL >> LWC_CDF_GUIDE_SHIFT))
void lwc_cdf_guide_build(const uint32_t *cdf, int n, uint16_t *guide);
int lwc_cdf_lookup_guided(const uint32_t *cdf, const uint16_t *guide, uint32_t slot);

/* Queue / decode one value with the table (see "Value coding" above).
 * Encode returns LWC_ERR_INVAL (made sticky in e) if lo or hi falls outside
 * int32, else the encoder's status. Decode returns 0 or LWC_ERR_CORRUPT / LWC_ERR_INVAL;
 * truncation shows up in d->err (see lwc_rans_dec_finish). */
int lwc_cdf_encode_value(LwcRansEnc *e, const uint32_t *cdf, int n, int offset, int32_t v);
int lwc_cdf_decode_value(LwcRansDec *d, const uint32_t *cdf, int n, int offset, int32_t *v);
/* The same through the table's guide (lwc_cdf_guide_build). */
int lwc_cdf_decode_value_guided(LwcRansDec *d, const uint32_t *cdf, const uint16_t *guide, int n, int offset,
                                int32_t *v);

/* The 64 scale levels of the Gaussian conditional, log-spaced from 0.11 to
 * 256: levels[i] = exp(log(0.11) + i * (log(256) - log(0.11)) / 63). The
 * values are a built-in constant table (not computed with libm at run time),
 * so scale-index selection is identical on every machine. */
void lwc_scale_levels(double levels[LWC_SCALE_LEVELS]);

/* Discretised zero-mean Gaussian N(0, sigma^2): pmf[i] for i = 0..2R is the
 * mass of [v - 1/2, v + 1/2] with v = i - R, and pmf[2R+1] is the tail mass
 * beyond R + 1/2 on both sides (the escape). R = ceil(sigma * LWC_GAUSS_Z),
 * clamped to [1, min(max_n, 65535) / 2 - 1] (so 2R+2 <= max_n and the table
 * fits lwc_cdf_from_pmf); pmf must hold max_n entries. Stores R in
 * *half_width and returns n = 2R + 2 (use offset R with the value coder), or
 * LWC_ERR_INVAL (sigma not > 0 and finite, or max_n < 4).
 * Uses libm (erfc): model export only; decoders use stored integer tables. */
int lwc_gaussian_pmf(double sigma, int *half_width, double *pmf, int max_n);

/* Escapes (see the top of this file): a sign bit, 4 bits for k-1, then k
 * chunks of 4 bits. */
#define LWC_CDF_ESC_CHUNK_BITS 4
#define LWC_CDF_ESC_MAX_CHUNKS 8

/* The value range [lo, hi] of a table; both must fit in int32. */
static inline int lwc_cdf_value_range(int n, int offset, int64_t *lo, int64_t *hi)
{
    *lo = -(int64_t)offset;
    *hi = (int64_t)n - 2 - offset;
    LWC_RET_IF(n < 2 || n > LWC_CDF_MAX_SYMBOLS, LWC_ERR_INVAL);
    LWC_RET_IF(*lo > INT32_MAX || *hi > INT32_MAX, LWC_ERR_INVAL);
    return LWC_OK;
}

#endif
