#include <math.h>
#include <string.h>

#include "common/common.h"
#include "common/mem.h"
#include "learn/predfit.h"

#define T LWC_YPRED_TAPS

int lwc_predfit_init(LwcPredFit *f, int M)
{
    f->M = M;
    f->ata = lwc_calloc((size_t)M * 2 * T * T, sizeof(double));
    f->atb = lwc_calloc((size_t)M * 2 * T, sizeof(double));
    if (f->ata && f->atb) return LWC_OK;
    lwc_predfit_free(f);
    return LWC_ERR_NOMEM;
}

void lwc_predfit_free(LwcPredFit *f)
{
    lwc_free(f->ata);
    lwc_free(f->atb);
    f->ata = f->atb = NULL;
}

void lwc_predfit_add(LwcPredFit *f, const int32_t *q, int h, int w)
{
    for (int c = 0; c < f->M; c++) {
        const int32_t *m = q + (size_t)c * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int32_t x[T];
                lwc_ypred_taps_map(m, w, 0, i, j, x);
                size_t k = (size_t)c * 2 + ((i + j) & 1);
                double *a = f->ata + k * T * T, *b = f->atb + k * T;
                for (int u = 0; u < T; u++) {
                    double xu = lwc_ypred_tap(x[u]);
                    if (xu == 0) continue;
                    b[u] += xu * m[(size_t)i * w + j];
                    for (int v = 0; v < T; v++) a[u * T + v] += xu * lwc_ypred_tap(x[v]);
                }
            }
    }
}

void lwc_predfit_merge(LwcPredFit *dst, const LwcPredFit *src)
{
    for (size_t i = 0; i < (size_t)dst->M * 2 * T * T; i++) dst->ata[i] += src->ata[i];
    for (size_t i = 0; i < (size_t)dst->M * 2 * T; i++) dst->atb[i] += src->atb[i];
}

/* Solve (A + ridge I) x = b by Gaussian elimination with partial pivoting;
 * A is symmetric positive semi-definite, so the ridge makes it definite. */
static void solve(const double *A, const double *b, double *x)
{
    double m[T][T + 1], ridge = 1e-3;
    for (int u = 0; u < T; u++) ridge += A[u * T + u] * 1e-6;
    for (int u = 0; u < T; u++) {
        for (int v = 0; v < T; v++) m[u][v] = A[u * T + v] + (u == v ? ridge : 0);
        m[u][T] = b[u];
    }
    for (int k = 0; k < T; k++) {
        int p = k;
        for (int u = k + 1; u < T; u++)
            if (fabs(m[u][k]) > fabs(m[p][k])) p = u;
        for (int v = 0; v <= T; v++) {
            double t = m[k][v];
            m[k][v] = m[p][v];
            m[p][v] = t;
        }
        for (int u = k + 1; u < T; u++) {
            double r = m[u][k] / m[k][k];
            for (int v = k; v <= T; v++) m[u][v] -= r * m[k][v];
        }
    }
    for (int k = T - 1; k >= 0; k--) {
        double s = m[k][T];
        for (int v = k + 1; v < T; v++) s -= m[k][v] * x[v];
        x[k] = s / m[k][k];
    }
}

int lwc_predfit_solve(const LwcPredFit *f, int16_t *w)
{
    for (size_t k = 0; k < (size_t)f->M * 2; k++) {
        double x[T];
        solve(f->ata + k * T * T, f->atb + k * T, x);
        for (int u = 0; u < T; u++) {
            double v = floor(x[u] * (1 << LWC_YPRED_SHIFT) + 0.5);
            LWC_RET_IF(v != v, LWC_ERR_INVAL);
            w[k * T + u] = (int16_t)LWC_CLAMP(v, INT16_MIN, INT16_MAX);
        }
    }
    return LWC_OK;
}
