#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

void trng_seed(TestRng *r, uint64_t seed) { r->s = seed * 2654435761u + 0x9E3779B97F4A7C15ull; if (!r->s) r->s = 1; }

uint64_t trng_u64(TestRng *r)
{
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

double trng_uniform(TestRng *r) { return (double)(trng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

double trng_normal(TestRng *r)
{
    double u1 = trng_uniform(r), u2 = trng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

uint8_t *test_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

/* ---- random integer layers (intconv tests) ---- */

int32_t trng_pick(TestRng *r, const int32_t *set, int n) { return set[trng_u64(r) % (uint64_t)n]; }

int32_t trng_range(TestRng *r, int32_t lo, int32_t hi)
{
    return (int32_t)(lo + (int64_t)(trng_u64(r) % (uint64_t)((int64_t)hi - lo + 1)));
}

int16_t trng_ic_weight(TestRng *r, int mode)
{
    static const int32_t ext[] = { -32768, -32767, 32767, -2047, 2047, 0, 1, -1 };
    if (mode == TV_ALL_MIN) return -32768;
    if (mode == TV_ALL_MAX) return 32767;
    if (mode == TV_EXTREME) return (int16_t)(trng_u64(r) & 1 ? trng_pick(r, ext, 8) : trng_range(r, -32768, 32767));
    return (int16_t)trng_range(r, -2047, 2047);
}

int16_t trng_ic_input(TestRng *r, int mode)
{
    static const int32_t ext[] = { -32768, -32767, 32767, 0 };
    if (mode == TV_ALL_MIN) return -32768;
    if (mode == TV_ALL_MAX) return 32767;
    if (mode == TV_EXTREME) return (int16_t)(trng_u64(r) & 1 ? trng_pick(r, ext, 4) : trng_range(r, -32768, 32767));
    return (int16_t)trng_range(r, -600, 600);
}

/* Typical requantisation, or int32 extremes and shifts 1..62. */
void trng_ic_requant(TestRng *r, int mode, int32_t *bias, int32_t *mult, uint8_t *shift)
{
    static const int32_t ext[] = { INT32_MIN, INT32_MAX, INT32_MIN + 1, -1, 1, 0 };
    if (mode == TV_TYPICAL) {
        *bias = trng_range(r, -(1 << 20), 1 << 20);
        *mult = trng_range(r, 1, 1 << 16);
        *shift = (uint8_t)trng_range(r, 8, 30);
        return;
    }
    *bias = trng_u64(r) & 1 ? trng_pick(r, ext, 6) : (int32_t)trng_u64(r);
    *mult = trng_u64(r) & 1 ? trng_pick(r, ext, 6) : (int32_t)trng_u64(r);
    int32_t s = trng_range(r, 0, 3);
    *shift = (uint8_t)(s == 0 ? 1 : s == 1 ? 62 : trng_range(r, 1, 62));
}
