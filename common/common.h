/* Internal helpers shared by every part of liblwc: error macros and the one
 * checked allocator. Nothing here is installed. */
#ifndef LWC_COMMON_H
#define LWC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "lwc.h"

/* Early-return helpers (zstd style): keep error paths one line long. */
#define LWC_RET_IF(cond, err) do { if (cond) return (err); } while (0)
#define LWC_FWD(expr) do { int lwc_r_ = (expr); if (lwc_r_ < 0) return lwc_r_; } while (0)

#define LWC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LWC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define LWC_CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))

/* The only allocator: refuses requests above a global cap (default 4 GiB,
 * see lwc_alloc_set_cap; the image readers also hold libpng/libjpeg to it,
 * via lwc_alloc_get_cap) and n*size products that overflow. Memory is
 * 64-byte aligned. lwc_free(NULL) is a no-op. An allocation-failure hook for
 * tests: lwc_alloc_fail_after(n) makes the n-th next call fail (-1: never). */
void *lwc_malloc(size_t size);
void *lwc_calloc(size_t n, size_t size);
void *lwc_malloc_array(size_t n, size_t size);
void lwc_free(void *p);
void lwc_alloc_set_cap(size_t cap);
size_t lwc_alloc_get_cap(void);
void lwc_alloc_fail_after(long n);

/* Seconds on a monotonic clock (differences only). */
double lwc_now(void);

/* Checked size arithmetic: returns 0 and stores the product, or -1 on overflow. */
static inline int lwc_mul_size(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

#endif
