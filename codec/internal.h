/* Internal interfaces shared by the encoder and decoder. */
#ifndef LWC_INTERNAL_H
#define LWC_INTERNAL_H

#include <stdint.h>

#include "lwc.h"
#include "common/pool.h"
#include "model.h"

struct LwcContext {
    LwcSettings s;
    const LwcModel *m;
    LwcPool *pool; /* s.threads workers, started in lwc_open */
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

/* Colour planes <-> images, padded rows [y0, y1). Planes are [3][hp][wp]
 * floats in [-0.5, 0.5]; they point at row y0 of plane 0, `plane` floats
 * apart; rows past the image are reflected (to planes) or dropped (to the
 * image). Gray images are replicated to three planes; alpha is not touched. */
void lwc_image_to_planes_rows(const LwcImage *img, const LwcGeom *g, int y0, int y1, float *planes,
                              size_t plane);
void lwc_planes_to_image_rows(const float *planes, size_t plane, const LwcGeom *g, int y0, int y1,
                              LwcImage *img);

/* --- bands and workers (bands.c) ------------------------------------------
 * The float stages run on horizontal bands of latent rows, each computed
 * from a region grown by a halo so that every kept value equals the
 * whole-frame one. The split depends on the geometry only, never on the
 * thread count, and every parallel task writes its own rows with the same
 * GEMM shapes whatever worker runs it: output is identical for any count. */

/* Rows of latents that the 9/7 packet transform (J = 3) reads beyond a band
 * for an exact result, forward and inverse (tests/test_bands.c checks it). */
#define LWC_WPT_HALO 4
/* Band height: bands fill about `budget` floats at `floats_per_row` floats per
 * latent row (halo included), equal heights, at least 8 rows. */
int lwc_band_rows(int hy, size_t floats_per_row, int halo);
/* Tests: force the band height (0 = automatic). Process-wide, not atomic:
 * set it only while no codec call runs. */
void lwc_set_band_rows(int rows);

/* The scale of the encoder's rate-distortion weights (encoder.c,
 * rd_weights); tools and tests may change it while no encode runs. */
void lwc_set_rdo_alpha(double alpha);
double lwc_rdo_alpha(void);

/* One float conv layer over output rows [lo, hi) of an input of `h` rows,
 * split into fixed row chunks run as parallel tasks. y holds output rows
 * from `ybase` on, ldy floats per channel. Optional per chunk: ReLU, then
 * acc += y (acc laid out like y). work: threads * work_n floats. */
typedef struct LwcConvJob {
    const LwcFloatConv *l;
    const float *x;
    int h, w, lo, hi, ybase, relu;
    float *y, *acc;
    size_t ldy;
    float *work;
    size_t work_n;
} LwcConvJob;
/* 1 when lwc_conv_run computes this layer with Winograd tiles
 * (transforms/winograd.h): only whole tiles at absolute rows 4i give the
 * whole-frame bits, so callers widen the rows they ask for to whole tiles. */
int lwc_conv_winograd(const LwcFloatConv *l);
/* Floats of work per worker that lwc_conv_run needs at width w (latents). */
size_t lwc_conv_work_floats(const LwcModel *m, int w);
int lwc_conv_run(const LwcConvJob *j, int threads);
/* The same, x's row 0 being image row row0 (Winograd tiles sit at absolute
 * rows 4i; lwc_conv_run is row0 = 0). */
int lwc_conv_run_at(const LwcConvJob *j, int row0, int threads);
struct LwcCtx;
/* The hyper features (lwc_ctx_hyper_input + _range) on the context's workers. */
void lwc_ctx_hyper_mt(struct LwcCtx *c, const int32_t *zhat);

/* Synthesis: y_hat (Q4 integers, [M][hy][wy]) coded at `quality` -> pixels
 * of img (allocated by the caller at the geometry's size; alpha untouched),
 * band by band; in integers when the model has an integer synthesis. */
int lwc_synthesize(const LwcModel *m, const LwcGeom *g, const int32_t *yq, double quality, int threads,
                   LwcImage *img);

/* Lossless alpha plane coding (the last channel of 2- and 4-channel images). */
int lwc_alpha_encode(const LwcImage *img, uint8_t **out, size_t *size);
int lwc_alpha_decode(const uint8_t *buf, size_t size, LwcImage *img);

/* y_hat -> image of the given shape; shared by the decoder and the encoder's
 * reconstruction so both give the same pixels. Alpha is not filled. */
int lwc_reconstruct(const LwcModel *m, const LwcGeom *g, const int32_t *yq, double quality,
                    int channels, int bit_depth, int threads, LwcImage *out, LwcStats *st);
/* Quality as stored in the stream (1/100 steps); the encoder codes with it. */
uint16_t lwc_quality_x100(double quality);
/* Largest |q| of a y symbol, so that y_hat = 16 q + mu fits in int32: the
 * encoder clamps to it and the decoder rejects a larger one as corrupt. */
#define LWC_Y_SYM_MAX (1 << 26)

/* --- encoder passes (encoder.c) and the latent search (search.c) -------- */

/* Latents of one pass: y [M][hy][wy] (gained floats, before coding),
 * zhat [Nz][hz][wz] and y_hat yq [M][hy][wy] (Q4), each lwc_malloc'd. */
typedef struct LwcLatents { float *y; int32_t *zhat, *yq; } LwcLatents;
void lwc_latents_free(LwcLatents *l);

/* One encode at quality q100/100: the analysis of img, or the latents `in`
 * (y and zhat) when it is not NULL. With `keep`, its y, zhat and yq are
 * handed over (the caller frees them). */
int lwc_encode_pass(LwcContext *c, const LwcImage *img, uint16_t q100, int plain, const LwcLatents *in,
                    LwcLatents *keep, uint8_t **out, size_t *out_size, LwcImage *recon, LwcStats *st);

/* Efforts above LWC_EFFORT_DEFAULT: the pass above, a search of y through
 * the float model, a second pass from the searched y, and the cheaper of
 * the two streams in real bits + lambda 255^2 MSE. */
int lwc_encode_search(LwcContext *c, const LwcImage *img, uint16_t q100, int effort,
                      const LwcEncodeParams *p, uint8_t **out, size_t *out_size, LwcImage *recon,
                      LwcStats *st);
/* Tests: the search's tile core in latents (rounded up to a multiple of 4;
 * 0 = the default 64). Process-wide; set it only while no encode runs. */
void lwc_set_search_tile(int core);

#endif
