/* The encoder's per-quality model values: z's gains and the rate-distortion
 * weight lambda, interpolated between rate levels as the decoder's gains
 * are (model.c). */
#include <math.h>

#include "model.h"

void lwc_model_zgains(const LwcModel *m, double quality, float *zgain)
{
    int Nz = m->a.Nz, l, l1;
    double f;
    lwc_model_level_pos(m, quality, &l, &l1, &f);
    for (int c = 0; c < Nz; c++)
        zgain[c] = m->zgain ? (float)(pow(m->zgain[l * Nz + c], 1 - f) * pow(m->zgain[l1 * Nz + c], f)) : 1.0f;
}

double lwc_model_lambda(const LwcModel *m, double quality)
{
    int l, l1;
    double f;
    lwc_model_level_pos(m, quality, &l, &l1, &f);
    return exp((1 - f) * log(fabs(m->lambda[l]) + 1e-12) + f * log(fabs(m->lambda[l1]) + 1e-12));
}
