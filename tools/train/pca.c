#include <math.h>
#include <string.h>

#include "common/common.h"
#include "tools/train/pca.h"
#include "transforms/wpt.h"

static void rotate(double *a, int n, int p, int q, double c, double s)
{
    for (int k = 0; k < n; k++) { /* columns p, q */
        double akp = a[k * n + p], akq = a[k * n + q];
        a[k * n + p] = c * akp - s * akq;
        a[k * n + q] = s * akp + c * akq;
    }
    for (int k = 0; k < n; k++) { /* rows p, q */
        double apk = a[p * n + k], aqk = a[q * n + k];
        a[p * n + k] = c * apk - s * aqk;
        a[q * n + k] = s * apk + c * aqk;
    }
}

void lwc_sym_eigen(double *a, int n, double *evals, double *evecs)
{
    double *v = evecs; /* accumulate V with columns = eigenvectors, transposed at the end */
    for (int i = 0; i < n * n; i++) v[i] = (i / n == i % n);
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
        if (off < 1e-22) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (fabs(apq) < 1e-300) continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                rotate(a, n, p, q, c, s);
                for (int k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    /* sort descending; transpose so that row i is eigenvector i */
    int *order = lwc_malloc_array((size_t)n, sizeof(int));
    double *tmp = lwc_malloc_array((size_t)n * n, sizeof(double));
    if (!order || !tmp) { lwc_free(order); lwc_free(tmp); return; }
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (a[order[j] * n + order[j]] > a[order[i] * n + order[i]]) { int t = order[i]; order[i] = order[j]; order[j] = t; }
    for (int i = 0; i < n; i++) {
        evals[i] = a[order[i] * n + order[i]];
        for (int k = 0; k < n; k++) tmp[i * n + k] = v[k * n + order[i]];
    }
    memcpy(evecs, tmp, (size_t)n * n * sizeof(double));
    lwc_free(order);
    lwc_free(tmp);
}

/* Second-moment matrix (not centred: the DC of the LL bands matters) of the
 * 192-dim wavelet packet vectors over random crops. */
static int moments(const LwcDataset *d, int crop, int ncrops, uint64_t *rng, double *cov)
{
    const int C = LWC_WPT_CHANNELS;
    size_t px = (size_t)crop * crop, hw = px / 64;
    float *x = lwc_malloc_array(3 * px, sizeof(float)), *X = lwc_malloc_array(3 * px, sizeof(float));
    float *work = lwc_malloc_array(lwc_wpt_work_size(crop, crop), sizeof(float));
    int r = (!x || !X || !work) ? LWC_ERR_NOMEM : LWC_OK;
    memset(cov, 0, (size_t)C * C * sizeof(double));
    double cnt = 0;
    for (int k = 0; k < ncrops && r == LWC_OK; k++) {
        lwc_dataset_crop(d, crop, rng, x);
        lwc_wpt_forward(x, 3, crop, crop, LWC_WPT_LEVELS, X, work);
        for (size_t p = 0; p < hw; p++, cnt++)
            for (int i = 0; i < C; i++) {
                double xi = X[i * hw + p];
                for (int j = i; j < C; j++) cov[i * C + j] += xi * X[j * hw + p];
            }
    }
    for (int i = 0; i < C; i++)
        for (int j = i; j < C; j++) cov[j * C + i] = cov[i * C + j] /= (cnt > 0 ? cnt : 1);
    lwc_free(x); lwc_free(X); lwc_free(work);
    return r;
}

int lwc_net_init_pca(LwcNet *n, const LwcDataset *d, int crop, int ncrops, uint64_t *rng)
{
    const int C = LWC_WPT_CHANNELS, M = n->a.M;
    LWC_RET_IF(M > C, LWC_ERR_INVAL);
    double *cov = lwc_malloc_array((size_t)C * C, sizeof(double));
    double *ev = lwc_malloc_array((size_t)C, sizeof(double));
    double *vec = lwc_malloc_array((size_t)C * C, sizeof(double));
    int r = (!cov || !ev || !vec) ? LWC_ERR_NOMEM : moments(d, crop, ncrops, rng, cov);
    if (r == LWC_OK) {
        lwc_sym_eigen(cov, C, ev, vec);
        float *ga = n->params + n->ga.w_off, *sk = n->params + n->gs_skip.w_off;
        for (int m = 0; m < M; m++)
            for (int c = 0; c < C; c++) {
                ga[m * C + c] = (float)vec[m * C + c]; /* orthonormal rows */
                sk[c * M + m] = (float)vec[m * C + c];
            }
        memset(n->params + n->ga.b_off, 0, (size_t)M * sizeof(float));
        /* the nonlinear synthesis path starts silent (it still gets gradients),
         * so the untrained codec is exactly the KLT coder */
        memset(n->params + n->gs_out.w_off, 0, (size_t)n->gs_out.cin * n->gs_out.cout * sizeof(float));
    }
    lwc_free(cov); lwc_free(ev); lwc_free(vec);
    return r;
}
