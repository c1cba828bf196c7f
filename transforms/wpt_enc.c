/* The encoder's and the trainer's directions of the wavelet packet
 * transform: the analysis (forward) and the adjoints of both directions,
 * run by the engine of wpt.c (wpt_prog.h). Not part of the decoder. */
#include "transforms/wpt.h"
#include "transforms/wpt_prog.h"

static const LwcWptProg g_forward = {
    { DSTEP(W97_ALPHA, 0, 1), SSTEP(W97_BETA, 1, 0),
      DSTEP(W97_GAMMA, 0, 1), SSTEP(W97_DELTA, 1, 0) },
    (float)W97_KS, (float)W97_KD };
/* forward^T: scale, then the transposed steps in reverse order. */
static const LwcWptProg g_forward_adj = {
    { DSTEP(W97_DELTA, 1, 0), SSTEP(W97_GAMMA, 0, 1),
      DSTEP(W97_BETA, 1, 0), SSTEP(W97_ALPHA, 0, 1) },
    (float)W97_KS, (float)W97_KD };
/* inverse^T: transposed steps of the inverse in reverse order, then scale. */
static const LwcWptProg g_inverse_adj = {
    { SSTEP(-W97_ALPHA, 0, 1), DSTEP(-W97_BETA, 1, 0),
      SSTEP(-W97_GAMMA, 0, 1), DSTEP(-W97_DELTA, 1, 0) },
    (float)(1.0 / W97_KS), (float)(1.0 / W97_KD) };

void lwc_wpt_forward(const float *x, int c, int h, int w, int levels, float *y, float *work)
{
    lwc_wpt_transform(&g_forward, 1, x, c, h, w, levels, y, work);
}

void lwc_wpt_forward_adjoint(const float *y, int c, int h, int w, int levels, float *x, float *work)
{
    lwc_wpt_transform(&g_forward_adj, 0, y, c, h, w, levels, x, work);
}

void lwc_wpt_inverse_adjoint(const float *x, int c, int h, int w, int levels, float *y, float *work)
{
    lwc_wpt_transform(&g_inverse_adj, 1, x, c, h, w, levels, y, work);
}
