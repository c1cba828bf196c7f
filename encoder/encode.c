/* lwc_encode, the public entry of the encoder: checks the image and the
 * parameters, then codes one pass (effort <= default, encoder.c) or runs
 * the latent search (search.c), which codes many passes. */
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "codec/internal.h"

static int check_image(const LwcContext *c, const LwcImage *img)
{
    LWC_RET_IF(!img->data || img->width < 1 || img->height < 1, LWC_ERR_INVAL);
    LWC_RET_IF(img->channels < 1 || img->channels > 4, LWC_ERR_INVAL);
    LWC_RET_IF(img->bit_depth != 8 && img->bit_depth != 16, LWC_ERR_INVAL);
    LWC_RET_IF(img->width > (1 << 20) || img->height > (1 << 20), LWC_ERR_TOO_BIG);
    LWC_RET_IF((uint64_t)img->width * img->height > c->s.max_pixels, LWC_ERR_TOO_BIG);
    return LWC_OK;
}

static int encode(LwcContext *c, const LwcImage *img, const LwcEncodeParams *p, uint8_t **out,
                  size_t *out_size, LwcImage *recon, LwcStats *st)
{
    LWC_RET_IF(!out || !out_size, LWC_ERR_INVAL);
    *out = NULL;
    *out_size = 0;
    if (recon) memset(recon, 0, sizeof(*recon));
    LWC_RET_IF(!c || !img || !p, LWC_ERR_INVAL);
    LWC_RET_IF(!(p->quality >= 0.0 && p->quality <= 100.0), LWC_ERR_INVAL);
    int effort = p->effort ? p->effort : LWC_EFFORT_DEFAULT;
    LWC_RET_IF(effort < LWC_EFFORT_MIN || effort > LWC_EFFORT_MAX, LWC_ERR_INVAL);
    LWC_FWD(check_image(c, img));
    uint16_t q100 = lwc_quality_x100(p->quality);
    int plain = p->plain_rounding || effort == LWC_EFFORT_MIN;
    if (effort <= LWC_EFFORT_DEFAULT) return lwc_encode_pass(c, img, q100, plain, NULL, NULL, out, out_size, recon, st);
    return lwc_encode_search(c, img, q100, effort, p, out, out_size, recon, st);
}

/* Every stage runs its tasks on the context's workers, its kernels as the
 * context's settings ask. */
int lwc_encode(LwcContext *c, const LwcImage *img, const LwcEncodeParams *p, uint8_t **out,
               size_t *out_size, LwcImage *recon, LwcStats *st)
{
    LwcPool *prev = lwc_pool_bind(c ? c->pool : NULL);
    int prev_ref = lwc_cpu_bind_reference(c && c->s.reference_kernels);
    int r = encode(c, img, p, out, out_size, recon, st);
    lwc_cpu_bind_reference(prev_ref);
    lwc_pool_bind(prev);
    return r;
}
