#include "common/common.h"
#include "codec/ctxmodel.h"
#include "codec/yctx.h"

static int class_of(const LwcYCtx *y, int64_t sum, int64_t n)
{
    int c = 0;
    while (c < y->edges && 256 * sum >= (int64_t)y->edge[c] * n) c++;
    return c;
}

static int neighbour_class(const LwcYCtx *y, const uint8_t *m, int hy, int wy, int i, int j)
{
    const uint8_t *p = m + (size_t)i * wy + j;
    int sum = (i > 0 ? p[-wy] : 0) + (i + 1 < hy ? p[wy] : 0) + (j > 0 ? p[-1] : 0) + (j + 1 < wy ? p[1] : 0);
    return y->class4[sum];
}

/* Row i's non-anchors of one channel map m: inner positions without the
 * bounds checks. */
static void neighbour_row(const LwcYCtx *y, const uint8_t *m, int hy, int wy, int i, uint8_t *out)
{
    int j = (i & 1) ^ 1;
    if (i == 0 || i + 1 == hy) {
        for (; j < wy; j += 2) *out++ = (uint8_t)neighbour_class(y, m, hy, wy, i, j);
        return;
    }
    if (j == 0) *out++ = (uint8_t)neighbour_class(y, m, hy, wy, i, 0), j = 2;
    const uint8_t *p = m + (size_t)i * wy;
    for (; j + 1 < wy; j += 2) *out++ = y->class4[p[j - wy] + p[j + wy] + p[j - 1] + p[j + 1]];
    if (j < wy) *out++ = (uint8_t)neighbour_class(y, m, hy, wy, i, j);
}

void lwc_yctx_rows(const LwcYCtx *y, const uint8_t *cur, const uint32_t *prev, int hy, int wy, int ms, int par,
                   int r0, int r1, uint8_t *cls, int npos)
{
    size_t hw = (size_t)hy * wy;
    size_t q0 = (size_t)lwc_ctx_row_pos(r0, wy, par);
    if (par == 0) {
        size_t q = q0;
        for (int i = r0; i < r1; i++)
            for (int j = (i & 1); j < wy; j += 2, q++) {
                int k = prev ? class_of(y, prev[(size_t)i * wy + j], ms) : 0;
                for (int c = 0; c < ms; c++) cls[(size_t)c * npos + q] = (uint8_t)k;
            }
        return;
    }
    for (int c = 0; c < ms; c++) {
        uint8_t *q = cls + (size_t)c * npos + q0;
        for (int i = r0; i < r1; i++) {
            neighbour_row(y, cur + (size_t)c * hw, hy, wy, i, q);
            q += (wy + (i & 1)) / 2; /* the row's non-anchors */
        }
    }
}

int lwc_yctx_prepare(LwcYCtx *y)
{
    LWC_RET_IF(y->edges < 1 || y->edges > LWC_YCTX_EDGES_MAX, LWC_ERR_INVAL);
    for (int k = 0; k < y->edges; k++) {
        LWC_RET_IF(y->edge[k] <= 0 || y->edge[k] > 255 * 256, LWC_ERR_INVAL);
        LWC_RET_IF(k > 0 && y->edge[k] <= y->edge[k - 1], LWC_ERR_INVAL);
    }
    for (int sum = 0; sum <= 4 * 255; sum++) y->class4[sum] = (uint8_t)class_of(y, sum, 4);
    return LWC_OK;
}

int lwc_yctx_from_means(LwcYCtx *y, const double *mean, int n)
{
    LWC_RET_IF(n < 1 || n > LWC_YCTX_EDGES_MAX, LWC_ERR_INVAL);
    y->edges = n;
    for (int k = 0; k < n; k++) {
        LWC_RET_IF(!(mean[k] > 0.0 && mean[k] <= 255.0), LWC_ERR_INVAL);
        y->edge[k] = (int32_t)(mean[k] * 256.0 + 0.5);
    }
    return lwc_yctx_prepare(y);
}
