/* The encoder's and the trainer's side of the coding tables (cdf.h):
 * quantisation of a pmf, values with escapes into a rANS encoder, and the
 * Gaussian conditional tables the exporter quantises. The decoder's side is
 * in cdf.c. */
#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "cdf.h"
#include "common/common.h"

/* ---- quantisation ---- */

/* A binary heap of symbol indices ordered by the marginal value of one
 * frequency step: dir < 0 removes units (least cost p/(f-1/2) on top, only
 * symbols with f > 1), dir > 0 adds units (largest gain p/(f+1/2) on top).
 * The index breaks ties so the order is total and the result deterministic. */
typedef struct {
    const double *pmf;
    const uint32_t *f;
    int *h;
    int len;
    int dir;
} StepHeap;

static double step_key(const StepHeap *hp, int i)
{
    return hp->pmf[i] / ((double)hp->f[i] + (hp->dir < 0 ? -0.5 : 0.5));
}

/* Should symbol a sit above symbol b? */
static int step_before(const StepHeap *hp, int a, int b)
{
    double ka = step_key(hp, a), kb = step_key(hp, b);
    if (ka != kb) return hp->dir < 0 ? ka < kb : ka > kb;
    return a < b;
}

static void heap_sift_down(StepHeap *hp, int pos)
{
    for (;;) {
        int best = pos, l = 2 * pos + 1, r = l + 1;
        if (l < hp->len && step_before(hp, hp->h[l], hp->h[best])) best = l;
        if (r < hp->len && step_before(hp, hp->h[r], hp->h[best])) best = r;
        if (best == pos) return;
        int t = hp->h[pos];
        hp->h[pos] = hp->h[best];
        hp->h[best] = t;
        pos = best;
    }
}

/* Move sum(f) to exactly LWC_RANS_TOTAL one unit at a time, each time at the
 * symbol whose step costs the least code length. Feasible since n < 2^16. */
static int fix_total(const double *pmf, int n, uint32_t *f, int64_t sum)
{
    StepHeap hp = { pmf, f, NULL, 0, sum > (int64_t)LWC_RANS_TOTAL ? -1 : 1 };
    hp.h = lwc_malloc_array((size_t)n, sizeof(int));
    LWC_RET_IF(!hp.h, LWC_ERR_NOMEM);
    for (int i = 0; i < n; i++)
        if (hp.dir > 0 || f[i] > 1) hp.h[hp.len++] = i;
    for (int i = hp.len / 2; i-- > 0;) heap_sift_down(&hp, i);
    for (; sum != (int64_t)LWC_RANS_TOTAL; sum += hp.dir) {
        assert(hp.len > 0);
        int s = hp.h[0];
        f[s] += (uint32_t)hp.dir;
        if (f[s] == 1) hp.h[0] = hp.h[--hp.len];  /* can't go lower */
        heap_sift_down(&hp, 0);
    }
    lwc_free(hp.h);
    return LWC_OK;
}

static int pmf_total(const double *pmf, int n, double *total)
{
    double t = 0;
    for (int i = 0; i < n; i++) {
        LWC_RET_IF(!(pmf[i] >= 0 && pmf[i] <= DBL_MAX), LWC_ERR_INVAL);
        t += pmf[i];
    }
    LWC_RET_IF(!(t > 0 && t <= DBL_MAX), LWC_ERR_INVAL);
    *total = t;
    return LWC_OK;
}

int lwc_cdf_from_pmf(const double *pmf, int n, uint32_t *cdf)
{
    LWC_RET_IF(n < 2 || n > LWC_CDF_MAX_SYMBOLS, LWC_ERR_INVAL);
    double total;
    LWC_FWD(pmf_total(pmf, n, &total));
    uint32_t *f = cdf + 1;  /* frequencies first, prefix-summed at the end */
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        /* pmf[i] <= total (a sum of non-negative terms), so t <= 65536.5 */
        double t = pmf[i] / total * (double)LWC_RANS_TOTAL + 0.5;
        f[i] = t < 1 ? 1 : (uint32_t)t;
        sum += f[i];
    }
    if (sum != (int64_t)LWC_RANS_TOTAL) LWC_FWD(fix_total(pmf, n, f, sum));
    cdf[0] = 0;
    for (int i = 0; i < n; i++) cdf[i + 1] += cdf[i];
    return LWC_OK;
}

/* ---- values with escape ---- */

static int put_symbol(LwcRansEnc *e, const uint32_t *cdf, int s)
{
    return lwc_rans_enc_put(e, cdf[s], cdf[s + 1] - cdf[s]);
}

static int put_escape(LwcRansEnc *e, uint32_t sign, uint32_t d)
{
    int k = 1;
    while (k < LWC_CDF_ESC_MAX_CHUNKS && d >> (LWC_CDF_ESC_CHUNK_BITS * k)) k++;
    lwc_rans_enc_put_bits(e, sign, 1);
    lwc_rans_enc_put_bits(e, (uint32_t)(k - 1), LWC_CDF_ESC_CHUNK_BITS);
    for (int j = 0; j < k; j++)
        lwc_rans_enc_put_bits(e, (d >> (LWC_CDF_ESC_CHUNK_BITS * j)) & 15, LWC_CDF_ESC_CHUNK_BITS);
    return e->err;
}

int lwc_cdf_encode_value(LwcRansEnc *e, const uint32_t *cdf, int n, int offset, int32_t v)
{
    int64_t lo, hi;
    int r = lwc_cdf_value_range(n, offset, &lo, &hi);
    if (r) {
        if (!e->err) e->err = r;
        return r;
    }
    if (v >= lo && v <= hi) return put_symbol(e, cdf, (int)(v - lo));
    LWC_FWD(put_symbol(e, cdf, n - 1));
    if (v > hi) return put_escape(e, 0, (uint32_t)(v - hi - 1));
    return put_escape(e, 1, (uint32_t)(lo - 1 - v));
}

/* ---- Gaussian conditional tables ---- */

/* exp(log(0.11) + i*(log(256)-log(0.11))/63) rounded by glibc's exp/log,
 * with the end points pinned to exactly 0.11 and 256. */
static const double k_scale_levels[LWC_SCALE_LEVELS] = {
    0x1.c28f5c28f5c29p-4, 0x1.fd8f2837ff12dp-4, 0x1.20245ef9396dfp-3, 0x1.45df8ca5aff37p-3,
    0x1.708b8ff98cb5bp-3, 0x1.a0ce0917714e6p-3, 0x1.d7624847133a6p-3, 0x1.0a8e127ee2a44p-2,
    0x1.2d759a0d689b4p-2, 0x1.54ef34e78414ap-2, 0x1.81941aa46bd97p-2, 0x1.b411930b6897fp-2,
    0x1.ed2b96a48a651p-2, 0x1.16dfe3ada4c92p-1, 0x1.3b64665db0b12p-1, 0x1.64b11069659abp-1,
    0x1.93662e3c7c2b3p-1, 0x1.c83909d4f04f6p-1, 0x1.01fb5534acfc6p+0, 0x1.23c378199ba9dp+0,
    0x1.49f80c36f4ff5p+0, 0x1.752d5b97cf7f9p+0, 0x1.a60b1b4562de4p+0, 0x1.dd4ef636066b8p+0,
    0x1.0de7b6bc7affcp+1, 0x1.313f8c641bbd7p+1, 0x1.59382a1011efap+1, 0x1.866cb4519f527p+1,
    0x1.b98ca077cb5bdp+1, 0x1.f35e5d9413e9dp+1, 0x1.1a612b56336cp+2,  0x1.3f5b2ce3e70b4p+2,
    0x1.692cb88555e3fp+2, 0x1.98781e690d1d4p+2, 0x1.cdf4efd95949ap+2, 0x1.053963dd4f05ap+3,
    0x1.276e382b0abefp+3, 0x1.4e1db954457ddp+3, 0x1.79de0e83183c3p+3, 0x1.ab590859ecefbp+3,
    0x1.e34eb410de865p+3, 0x1.114c22710fe4cp+4, 0x1.3515af8956695p+4, 0x1.5d8ee8afb3b6ep+4,
    0x1.8b54e5a19c036p+4, 0x1.bf195037b093p+4,  0x1.f9a515f99e34ap+4, 0x1.1dedb9ff18f64p+5,
    0x1.435eb4754ff3cp+5, 0x1.6db6cd382c114p+5, 0x1.9d9a5eb485809p+5, 0x1.d3c348d5bcfe9p+5,
    0x1.0881e13c43637p+6, 0x1.2b24c4ab26bccp+6, 0x1.5250be6407bf5p+6, 0x1.7e9dd8af256cdp+6,
    0x1.b0b8069044e94p+6, 0x1.e961bf2cc5b43p+6, 0x1.14bb784b37cd6p+7, 0x1.38f82ab64d931p+7,
    0x1.61f39d227a7cap+7, 0x1.904ce0bf7c348p+7, 0x1.c4b7db07f491fp+7, 0x1.0000000000000p+8,
};

void lwc_scale_levels(double levels[LWC_SCALE_LEVELS])
{
    memcpy(levels, k_scale_levels, sizeof(k_scale_levels));
}

int lwc_gaussian_pmf(double sigma, int *half_width, double *pmf, int max_n)
{
    LWC_RET_IF(!(sigma > 0 && sigma <= DBL_MAX) || max_n < 4, LWC_ERR_INVAL);
    double want = ceil(sigma * LWC_GAUSS_Z);
    int rmax = LWC_MIN(max_n, LWC_CDF_MAX_SYMBOLS) / 2 - 1;
    int r = want < 1 ? 1 : want > rmax ? rmax : (int)want;
    /* mass(v) = P(v-1/2 < X < v+1/2); upper tails via erfc stay accurate */
    double s = sigma * sqrt(2.0);
    pmf[r] = erf(0.5 / s);
    for (int v = 1; v <= r; v++) {
        double m = 0.5 * (erfc((v - 0.5) / s) - erfc((v + 0.5) / s));
        pmf[r + v] = pmf[r - v] = m;
    }
    pmf[2 * r + 1] = erfc((r + 0.5) / s);
    *half_width = r;
    return 2 * r + 2;
}
