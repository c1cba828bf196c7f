/* Internal interfaces shared by the encoder and decoder. */
#ifndef LWC_INTERNAL_H
#define LWC_INTERNAL_H

#include <stdint.h>

#include "lwc.h"
#include "model.h"

struct LwcContext {
    LwcSettings s;
    const LwcModel *m;
};

/* Geometry: the image is padded (mirrored) to a multiple of 32 so that the
 * latent (H/8) and hyper-latent (H/32) maps have integer sizes. */
typedef struct LwcGeom {
    int w, h;    /* image */
    int wp, hp;  /* padded */
    int wy, hy;  /* latent y */
    int wz, hz;  /* hyper-latent z */
} LwcGeom;

void lwc_geom_init(LwcGeom *g, int w, int h);
double lwc_now(void);

/* Colour planes <-> images. Planes are [3][hp][wp] floats in [-0.5, 0.5].
 * Gray images are replicated to three planes; alpha is not touched. */
void lwc_image_to_planes(const LwcImage *img, const LwcGeom *g, float *planes);
void lwc_planes_to_image(const float *planes, const LwcGeom *g, LwcImage *img);

/* Synthesis: y_hat (Q4 integers, [M][hy][wy]) -> colour planes. */
int lwc_synthesize(const LwcModel *m, const LwcGeom *g, const int32_t *yq, const float *igain,
                   float *planes);

/* Lossless alpha plane coding (the last channel of 2- and 4-channel images). */
int lwc_alpha_encode(const LwcImage *img, uint8_t **out, size_t *size);
int lwc_alpha_decode(const uint8_t *buf, size_t size, LwcImage *img);

/* Latent coding helpers used by both sides. */
const uint32_t *lwc_cdf_table(const LwcCdfSet *s, int t, int *n, int *offset);

/* Write a pass's values ([ms][npos]) into the full y_hat map [M][hy][wy]. */
void lwc_scatter_pass(const int32_t *src, int hy, int wy, int ch0, int ms, int parity, int32_t *yq);
/* y_hat -> image of the given shape; shared by the decoder and the encoder's
 * reconstruction so both give the same pixels. Alpha is not filled. */
int lwc_reconstruct(const LwcModel *m, const LwcGeom *g, const int32_t *yq, double quality,
                    int channels, int bit_depth, LwcImage *out, LwcStats *st);
/* Quality as stored in the stream (1/100 steps); the encoder codes with it. */
uint16_t lwc_quality_x100(double quality);
/* Largest |q| of a y symbol, so that y_hat = 16 q + mu fits in int32: the
 * encoder clamps to it and the decoder rejects a larger one as corrupt. */
#define LWC_Y_SYM_MAX (1 << 26)

#endif
