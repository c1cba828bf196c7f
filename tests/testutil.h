/* Shared helpers for the Check suites. */
#ifndef LWC_TESTUTIL_H
#define LWC_TESTUTIL_H
#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Deterministic PRNG for tests (xorshift64*). */
typedef struct { uint64_t s; } TestRng;
void trng_seed(TestRng *r, uint64_t seed);
uint64_t trng_u64(TestRng *r);
double trng_uniform(TestRng *r);          /* [0,1) */
double trng_normal(TestRng *r);           /* N(0,1) */
int32_t trng_range(TestRng *r, int32_t lo, int32_t hi); /* [lo, hi] */
int32_t trng_pick(TestRng *r, const int32_t *set, int n);

/* Values for integer layers: typical ones, int16 extremes mixed in, or all
 * at the minimum or maximum (modes TV_*). */
enum { TV_TYPICAL, TV_EXTREME, TV_ALL_MIN, TV_ALL_MAX, TV_COUNT };
int16_t trng_ic_weight(TestRng *r, int mode);
int16_t trng_ic_input(TestRng *r, int mode);
void trng_ic_requant(TestRng *r, int mode, int32_t *bias, int32_t *mult, uint8_t *shift);
/* Read a whole file (fails the test if it cannot); caller frees with free().
 * One extra byte is allocated so empty files still give a valid pointer. */
uint8_t *test_slurp(const char *path, size_t *len);
/* Run one suite and return the process exit code. */
int test_run_suite(Suite *s);
#endif
