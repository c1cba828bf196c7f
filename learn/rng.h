/* The float model's pseudo-random generator (xorshift64*): initialisation,
 * training noise and data sampling draw from it, so a seed fixes a run. */
#ifndef LWC_LEARN_RNG_H
#define LWC_LEARN_RNG_H

#include <stdint.h>

uint64_t lwc_rng_next(uint64_t *s);
double lwc_rng_uniform(uint64_t *s); /* [0, 1) */

#endif
