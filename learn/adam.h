/* Adam optimiser (Kingma & Ba 2015) and global-norm gradient clipping.
 *
 * The state is plain data so the trainer can checkpoint it as is: write
 * step, the four hyper-parameters and the arrays m and v (n floats each);
 * to resume, lwc_adam_init with the same n, then read them back. */
#ifndef LWC_TRAIN_ADAM_H
#define LWC_TRAIN_ADAM_H

#include <stddef.h>

typedef struct LwcAdam {
    size_t n;       /* number of parameters */
    float *m, *v;   /* owned: first and second moment estimates, n each */
    long step;      /* steps taken so far (drives the bias correction) */
    float lr;       /* learning rate; the trainer may change it between steps */
    float beta1;    /* default 0.9 */
    float beta2;    /* default 0.999 */
    float eps;      /* default 1e-8 */
} LwcAdam;

/* Zeroed moments, step 0, default betas and eps. Returns 0, LWC_ERR_INVAL
 * (n == 0) or LWC_ERR_NOMEM; on failure *a is zeroed. */
int lwc_adam_init(LwcAdam *a, size_t n, float lr);

/* One update of params (a->n floats) from grads (a->n floats):
 * m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
 * params -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). */
void lwc_adam_step(LwcAdam *a, float *params, const float *grads);

/* Free m and v and zero the struct. NULL-safe. */
void lwc_adam_free(LwcAdam *a);

/* Global L2-norm clipping: if the norm of grads exceeds max_norm, scale all
 * of them by max_norm / norm. Returns the norm before clipping (computed in
 * double). A non-finite norm leaves grads untouched; the caller should then
 * skip the step. */
double lwc_grad_clip(float *grads, size_t n, double max_norm);

#endif
