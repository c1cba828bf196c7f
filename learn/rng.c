#include "learn/rng.h"

uint64_t lwc_rng_next(uint64_t *s)
{
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

double lwc_rng_uniform(uint64_t *s) { return (double)(lwc_rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }
