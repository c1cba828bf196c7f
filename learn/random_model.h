/* Models with fixed pseudo-random weights, for tests: they code and decode
 * correctly but compress poorly. */
#ifndef LWC_RANDOM_MODEL_H
#define LWC_RANDOM_MODEL_H

#include "learn/net.h"

/* A model from `seed`, hyper-latent gains not 1. */
int lwc_net_random_model(const LwcArch *a, uint64_t seed, uint8_t **out, size_t *size);
/* The same with zsets densities of z (1, or L: one per level, each
 * different; a version-3 model). */
int lwc_net_random_model_z(const LwcArch *a, uint64_t seed, int zsets, uint8_t **out, size_t *size);
/* The same with export flags (LWC_EXPORT_INT_SYNTHESIS: a version-4 model)
 * and LWC_RANDOM_MODEL_YCTX (with the integer synthesis: y tables per
 * parity and context class, each class's different; a version-6 model)
 * and LWC_RANDOM_MODEL_YPRED (with YCTX: in-pass prediction weights, every
 * channel's and parity's different; a version-7 model) and
 * LWC_RANDOM_MODEL_ZCTX (with YPRED: z tables per context class, 4 classes,
 * each class's different; a version-8 model). */
#define LWC_RANDOM_MODEL_YCTX 0x100
#define LWC_RANDOM_MODEL_YPRED 0x200
#define LWC_RANDOM_MODEL_ZCTX 0x400
int lwc_net_random_model_flags(const LwcArch *a, uint64_t seed, int zsets, int flags, uint8_t **out, size_t *size);

#endif
