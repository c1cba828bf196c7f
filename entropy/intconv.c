/* Integer convolution layers of the entropy-parameter path (see intconv.h). */
#include <string.h>

#include "common.h"
#include "entropy/intconv.h"

static int g_force_ref;

void lwc_intconv_force_reference(int on) { g_force_ref = on; }

int lwc_int_npos(int h, int w, int parity)
{
    if (parity == LWC_INT_ALL) return h * w;
    int n = 0;
    for (int i = 0; i < h; i++) n += (w + (((i & 1) ^ parity) ? 0 : 1)) / 2;
    return n;
}

int64_t lwc_round_shift(int64_t v, int s)
{
    int64_t half = (int64_t)1 << (s - 1);
    /* floor((v + half) / 2^s) without shifting a negative number. */
    int64_t t = v + half;
    if (t >= 0) return t >> s;
    return -(((-t) + ((int64_t)1 << s) - 1) >> s);
}

size_t lwc_intconv_work_size(const LwcIntConv *l, int h, int w)
{
    size_t npos = (size_t)h * w;
    return (size_t)l->cin * l->k * l->k * npos + npos;
}

/* Gather the k x k neighbourhoods of the selected positions into
 * col[(ci*k + dy)*k + dx][p] (zero outside the map). */
static void im2col_int(const int16_t *x, int cin, int h, int w, int k, int parity,
                       int32_t *col, int npos)
{
    int r = k / 2;
    for (int ci = 0; ci < cin; ci++) {
        const int16_t *xc = x + (size_t)ci * h * w;
        for (int dy = -r; dy <= r; dy++) {
            for (int dx = -r; dx <= r; dx++) {
                int32_t *dst = col + ((size_t)(ci * k + dy + r) * k + dx + r) * npos;
                int p = 0;
                for (int i = 0; i < h; i++) {
                    int j0 = parity == LWC_INT_ALL ? 0 : ((i & 1) ^ parity);
                    int step = parity == LWC_INT_ALL ? 1 : 2;
                    int yy = i + dy;
                    for (int j = j0; j < w; j += step, p++) {
                        int xx = j + dx;
                        dst[p] = (yy < 0 || yy >= h || xx < 0 || xx >= w) ? 0 : xc[(size_t)yy * w + xx];
                    }
                }
            }
        }
    }
}

static inline int16_t requant(uint32_t acc, int32_t mult, int shift, int32_t lo, int32_t hi)
{
    int64_t v = lwc_round_shift((int64_t)(int32_t)acc * mult, shift);
    return (int16_t)(v < lo ? lo : v > hi ? hi : v);
}

/* acc[p] = bias + sum_i w[i] * col[i][p] in wrapping 32-bit arithmetic. */
static void matvec_ref(const int16_t *w, int kk, const int32_t *col, int npos, uint32_t bias,
                       uint32_t *acc)
{
    for (int p = 0; p < npos; p++) acc[p] = bias;
    for (int i = 0; i < kk; i++) {
        uint32_t wv = (uint32_t)(int32_t)w[i];
        if (!wv) continue;
        const int32_t *c = col + (size_t)i * npos;
        for (int p = 0; p < npos; p++) acc[p] += wv * (uint32_t)c[p];
    }
}

static void gemm_requant(const LwcIntConv *l, const int32_t *col, int npos, int16_t *y,
                         uint32_t *acc)
{
    int kk = l->cin * l->k * l->k;
    for (int o = 0; o < l->cout; o++) {
        matvec_ref(l->w + (size_t)o * kk, kk, col, npos, (uint32_t)l->bias[o], acc);
        int16_t *yo = y + (size_t)o * npos;
        for (int p = 0; p < npos; p++)
            yo[p] = requant(acc[p], l->mult[o], l->shift[o], l->lo, l->hi);
    }
}

void lwc_intconv_forward(const LwcIntConv *l, const int16_t *x, int h, int w, int parity,
                         int16_t *y, int32_t *work)
{
    int npos = lwc_int_npos(h, w, parity);
    int32_t *col = work;
    uint32_t *acc = (uint32_t *)(work + (size_t)l->cin * l->k * l->k * npos);
    im2col_int(x, l->cin, h, w, l->k, parity, col, npos);
    gemm_requant(l, col, npos, y, acc);
}

void lwc_intconv_1x1_forward(const LwcIntConv *l, const int16_t *x, int npos, int16_t *y,
                             int32_t *work)
{
    int32_t *col = work;
    uint32_t *acc = (uint32_t *)(work + (size_t)l->cin * npos);
    for (size_t i = 0; i < (size_t)l->cin * npos; i++) col[i] = x[i];
    gemm_requant(l, col, npos, y, acc);
}

void lwc_int_upsample2(const int16_t *x, int c, int h, int w, int16_t *y)
{
    int w2 = 2 * w;
    for (int ch = 0; ch < c; ch++) {
        const int16_t *xc = x + (size_t)ch * h * w;
        int16_t *yc = y + (size_t)ch * 4 * h * w;
        for (int i = 0; i < h; i++) {
            int16_t *r0 = yc + (size_t)(2 * i) * w2;
            for (int j = 0; j < w; j++) r0[2 * j] = r0[2 * j + 1] = xc[(size_t)i * w + j];
            memcpy(r0 + w2, r0, (size_t)w2 * sizeof(*r0));
        }
    }
}
