/* Synthesis g_s (float): y_hat -> 3x3 conv -> residual blocks -> 1x1 conv,
 * plus a linear 1x1 skip from y_hat, -> inverse wavelet packet -> planes.
 * Float arithmetic only shapes pixels; it never feeds the entropy coder. */
#include <string.h>

#include "common.h"
#include "internal.h"
#include "transforms/layers.h"
#include "transforms/wpt.h"

static void relu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void conv(const LwcFloatConv *l, const float *x, int h, int w, float *y, float *work)
{
    lwc_conv2d_forward(x, 1, l->cin, h, w, l->w, l->b, l->cout, l->k, l->stride, y, work);
}

int lwc_synthesize(const LwcModel *m, const LwcGeom *g, const int32_t *yq, const float *igain,
                   float *planes)
{
    const LwcArch *a = &m->a;
    int h = g->hy, w = g->wy;
    size_t hw = (size_t)h * w;
    size_t work_n = LWC_MAX(lwc_conv2d_work_size(a->D, h, w, 3, 1), lwc_conv2d_work_size(a->M, h, w, 3, 1));
    work_n = LWC_MAX(work_n, lwc_wpt_work_size(g->hp, g->wp));
    float *yf = lwc_malloc_array((size_t)a->M * hw, sizeof(float));
    float *t = lwc_malloc_array((size_t)a->D * hw, sizeof(float));
    float *r = lwc_malloc_array((size_t)a->D * hw, sizeof(float));
    float *o = lwc_malloc_array((size_t)LWC_WPT_CHANNELS * hw, sizeof(float));
    float *o2 = lwc_malloc_array((size_t)LWC_WPT_CHANNELS * hw, sizeof(float));
    float *work = lwc_malloc_array(work_n, sizeof(float));
    int ret = LWC_ERR_NOMEM;
    if (!yf || !t || !r || !o || !o2 || !work) goto done;
    for (int c = 0; c < a->M; c++)
        for (size_t i = 0; i < hw; i++) yf[c * hw + i] = (float)yq[c * hw + i] * (igain[c] / 16.0f);
    conv(&m->gs_in, yf, h, w, t, work);
    relu(t, (size_t)a->D * hw);
    for (int b = 0; b < a->B; b++) {
        conv(&m->gs_rb[2 * b], t, h, w, r, work);
        relu(r, (size_t)a->D * hw);
        conv(&m->gs_rb[2 * b + 1], r, h, w, o, work); /* o as scratch: D <= 192 checked at load */
        for (size_t i = 0; i < (size_t)a->D * hw; i++) t[i] += o[i];
    }
    conv(&m->gs_out, t, h, w, o, work);
    conv(&m->gs_skip, yf, h, w, o2, work);
    for (size_t i = 0; i < (size_t)LWC_WPT_CHANNELS * hw; i++) o[i] += o2[i];
    lwc_wpt_inverse(o, 3, g->hp, g->wp, LWC_WPT_LEVELS, planes, work);
    ret = LWC_OK;
done:
    lwc_free(yf); lwc_free(t); lwc_free(r); lwc_free(o); lwc_free(o2); lwc_free(work);
    return ret;
}
