/* Context classes of z's symbols (zctx.h). */
#include "codec/zctx.h"

const int8_t lwc_zctx_off[LWC_ZCTX_TAPS][2] = { { 0, -1 }, { -1, 0 }, { -1, -1 }, { -1, 1 }, { 0, -2 }, { -2, 0 } };

int lwc_zctx_class(const int32_t *z, int h, int w, int i, int j, int32_t ref, int classes)
{
    int64_t cap = classes - 1, sum = 0;
    if (cap <= 0) return 0;
    for (int n = 0; n < LWC_ZCTX_TAPS; n++) {
        int ii = i + lwc_zctx_off[n][0], jj = j + lwc_zctx_off[n][1];
        if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
        int64_t d = (int64_t)z[(int64_t)ii * w + jj] - ref;
        d = d < 0 ? -d : d;
        sum += d < cap ? d : cap;
    }
    return (int)(sum < cap ? sum : cap);
}
