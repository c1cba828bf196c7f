/* Adam and gradient clipping (see adam.h). */
#include <math.h>
#include <string.h>

#include "learn/adam.h"
#include "common/common.h"

int lwc_adam_init(LwcAdam *a, size_t n, float lr)
{
    memset(a, 0, sizeof(*a));
    LWC_RET_IF(n == 0, LWC_ERR_INVAL);
    a->m = lwc_calloc(n, sizeof(float));
    a->v = lwc_calloc(n, sizeof(float));
    if (!a->m || !a->v) {
        lwc_adam_free(a);
        return LWC_ERR_NOMEM;
    }
    a->n = n;
    a->lr = lr;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    return LWC_OK;
}

void lwc_adam_step(LwcAdam *a, float *params, const float *grads)
{
    a->step++;
    /* Bias corrections in double: 1 - beta2^t is ~1e-3 at t = 1. */
    double b1 = a->beta1, b2 = a->beta2;
    double c1 = 1.0 - pow(b1, (double)a->step);
    double c2 = 1.0 - pow(b2, (double)a->step);
    double lr = a->lr, eps = a->eps;
    for (size_t i = 0; i < a->n; i++) {
        double g = grads[i];
        double m = b1 * a->m[i] + (1.0 - b1) * g;
        double v = b2 * a->v[i] + (1.0 - b2) * g * g;
        a->m[i] = (float)m;
        a->v[i] = (float)v;
        params[i] = (float)(params[i] - lr * (m / c1) / (sqrt(v / c2) + eps));
    }
}

void lwc_adam_free(LwcAdam *a)
{
    if (!a) return;
    lwc_free(a->m);
    lwc_free(a->v);
    memset(a, 0, sizeof(*a));
}

double lwc_grad_clip(float *grads, size_t n, double max_norm)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)grads[i] * grads[i];
    double norm = sqrt(ss);
    if (isfinite(norm) && norm > max_norm) {
        double s = max_norm / norm;
        for (size_t i = 0; i < n; i++) grads[i] = (float)(grads[i] * s);
    }
    return norm;
}
