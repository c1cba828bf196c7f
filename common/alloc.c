#include <stdlib.h>
#include <string.h>

#include "common.h"

static size_t g_cap = (size_t)4 << 30;
static long g_fail_after = -1;

void lwc_alloc_set_cap(size_t cap) { g_cap = cap; }
size_t lwc_alloc_get_cap(void) { return g_cap; }
void lwc_alloc_fail_after(long n) { g_fail_after = n; }

void *lwc_malloc(size_t size)
{
    if (size == 0) size = 1;
    if (size > g_cap) return NULL;
    if (g_fail_after >= 0 && g_fail_after-- == 0) return NULL;
    void *p = NULL;
    size_t rounded = (size + 63) & ~(size_t)63;
    if (rounded < size) return NULL;
    if (posix_memalign(&p, 64, rounded)) return NULL;
    return p;
}

void *lwc_malloc_array(size_t n, size_t size)
{
    size_t total;
    if (lwc_mul_size(n, size, &total)) return NULL;
    return lwc_malloc(total);
}

void *lwc_calloc(size_t n, size_t size)
{
    void *p = lwc_malloc_array(n, size);
    if (p) memset(p, 0, n * size);
    return p;
}

void lwc_free(void *p) { free(p); }
