/* CPU feature detection and the library-wide mask (see cpu.h). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/cpu.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LWC_CPU_X86 1
#else
#define LWC_CPU_X86 0
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static unsigned g_detected;    /* written once inside pthread_once, read after it */
static _Atomic unsigned g_mask; /* the tests may store it while kernels read it */

static unsigned detect(void)
{
    unsigned f = 0;
#if LWC_CPU_X86
    /* __builtin_cpu_supports also checks that the OS saves the AVX and
     * AVX-512 registers, so a flag here means the instructions can run. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2")) f |= LWC_CPU_SSE2;
    if (__builtin_cpu_supports("sse4.1")) f |= LWC_CPU_SSE41;
    if (__builtin_cpu_supports("avx2")) f |= LWC_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= LWC_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= LWC_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= LWC_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vnni")) f |= LWC_CPU_AVX512VNNI;
#elif defined(__aarch64__) && defined(__ARM_NEON)
    f |= LWC_CPU_NEON;
#endif
    return f;
}

/* LWC_CPU_MASK in hex; all ones when unset or not a whole hex number that
 * fits (a typo must not silently select the C reference everywhere). */
static unsigned env_mask(void)
{
    const char *s = getenv("LWC_CPU_MASK");
    if (!s || !*s || *s == '-') return ~0u;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 16);
    if (errno || *end || v > UINT_MAX) return ~0u;
    return (unsigned)v;
}

static void cpu_init(void)
{
    g_detected = detect();
    atomic_store_explicit(&g_mask, env_mask(), memory_order_relaxed);
}

/* Relaxed is enough: the mask is a value on its own, and what it selects
 * are constant tables. */
unsigned lwc_cpu_flags(void)
{
    pthread_once(&g_once, cpu_init);
    return g_detected & atomic_load_explicit(&g_mask, memory_order_relaxed);
}

unsigned lwc_cpu_set_flags_mask(unsigned mask)
{
    pthread_once(&g_once, cpu_init); /* or the first lwc_cpu_flags would overwrite it */
    return atomic_exchange_explicit(&g_mask, mask, memory_order_relaxed);
}

const char *lwc_cpu_flag_name(unsigned flag)
{
    static const struct { unsigned flag; const char *name; } names[] = {
        { LWC_CPU_SSE2, "sse2" },         { LWC_CPU_SSE41, "sse4.1" },
        { LWC_CPU_AVX2, "avx2" },         { LWC_CPU_FMA, "fma" },
        { LWC_CPU_AVX512F, "avx512f" },   { LWC_CPU_AVX512BW, "avx512bw" },
        { LWC_CPU_AVX512VNNI, "avx512vnni" }, { LWC_CPU_NEON, "neon" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].flag == flag) return names[i].name;
    return NULL;
}

static _Thread_local int tl_reference;

int lwc_cpu_bind_reference(int on)
{
    int prev = tl_reference;
    tl_reference = on != 0;
    return prev;
}

int lwc_cpu_reference(void) { return tl_reference; }
