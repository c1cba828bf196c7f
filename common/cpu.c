/* CPU feature detection and the library-wide mask (see cpu.h). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/cpu.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LWC_CPU_X86 1
#include <cpuid.h>
#else
#define LWC_CPU_X86 0
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static unsigned g_detected;    /* written once inside pthread_once, read after it */
static _Atomic unsigned g_mask; /* the tests may store it while kernels read it */

#if LWC_CPU_X86
/* XCR0: which register states the OS saves on a context switch. Encoded as
 * bytes so that no assembler or target attribute (xsave) is needed; run only
 * after CPUID said OSXSAVE. */
static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return (unsigned long long)hi << 32 | lo;
}
#endif

/* From CPUID, each vector extension only when XCR0 says the OS saves its
 * registers: AVX2 and FMA need the SSE and AVX (ymm) states, bits 1 and 2;
 * AVX-512 needs those and the opmask, ZMM_Hi256 and Hi16_ZMM states, bits 5,
 * 6 and 7. (A CPU can have the instructions with the OS not enabling them;
 * running them then raises #UD.) */
static unsigned detect(void)
{
    unsigned f = 0;
#if LWC_CPU_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & bit_SSE2) f |= LWC_CPU_SSE2;
    if (c & bit_SSE4_1) f |= LWC_CPU_SSE41;
    unsigned long long xcr0 = (c & bit_OSXSAVE) ? xgetbv0() : 0;
    int os_avx = (c & bit_AVX) && (xcr0 & 0x06) == 0x06;
    int os_avx512 = os_avx && (xcr0 & 0xe6) == 0xe6;
    if (os_avx && (c & bit_FMA)) f |= LWC_CPU_FMA;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (os_avx && (b & (1u << 5))) f |= LWC_CPU_AVX2;
        if (os_avx512) {
            if (b & (1u << 16)) f |= LWC_CPU_AVX512F;
            if (b & (1u << 30)) f |= LWC_CPU_AVX512BW;
            if (b & (1u << 31)) f |= LWC_CPU_AVX512VL;
            if (c & (1u << 11)) f |= LWC_CPU_AVX512VNNI;
        }
    }
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
        { LWC_CPU_AVX512VNNI, "avx512vnni" }, { LWC_CPU_AVX512VL, "avx512vl" },
        { LWC_CPU_NEON, "neon" },
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
