/* CPU features: detected once for the whole library, limited by one mask.
 *
 * Each kernel family (entropy/intconv.c, transforms/wpt.c,
 * transforms/winograd.c) picks its table with a selector
 * lwc_<family>_dsp(flags): the C reference first, replaced by each better
 * set whose level (below) is wholly in `flags` (dav1d's *_dsp_init habit).
 * The kernels call it with lwc_cpu_flags() at each entry point, so there is
 * no table to initialise or to race on: the tables are constant and the
 * flags one atomic word. The sets of a family give bit-identical results,
 * so the flags change speed only (tests/test_checkasm.c proves it).
 *
 * The mask: at first LWC_CPU_MASK from the environment, read once (hex, as
 * strtoul base 16 reads it: "0" runs the C reference everywhere, "1" at most
 * SSE2); unset or unreadable means all ones. lwc_cpu_set_flags_mask replaces
 * it for the next kernel call; it is for tests and benchmarks, made while no
 * other thread runs kernels (an atomic store, so harmless under TSan, but a
 * call already running keeps the set it picked). */
#ifndef LWC_CPU_H
#define LWC_CPU_H

/* x86 */
#define LWC_CPU_SSE2 (1u << 0)
#define LWC_CPU_SSE41 (1u << 1)
#define LWC_CPU_AVX2 (1u << 2)
#define LWC_CPU_FMA (1u << 3)        /* detected only: no kernel may fuse (bit-exactness) */
#define LWC_CPU_AVX512F (1u << 4)    /* AVX-512 (each only with the OS saving zmm/opmask state) */
#define LWC_CPU_AVX512BW (1u << 5)
#define LWC_CPU_AVX512VNNI (1u << 6)
#define LWC_CPU_AVX512VL (1u << 7)
/* AArch64: Advanced SIMD, part of the base ISA, so always detected there */
#define LWC_CPU_NEON (1u << 8)

/* Levels: what a kernel set may execute. A set compiled with
 * target("avx2") can also contain SSE4.1 and older instructions (GCC's
 * "avx2" implies them), so it is chosen only when every flag of its level
 * is present, and masking out a lower flag also disables the sets above. */
#define LWC_CPU_LEVEL_SSE2 LWC_CPU_SSE2
/* target("sse4.1") also enables SSSE3 and SSE3, which every SSE4.1 CPU has. */
#define LWC_CPU_LEVEL_SSE41 (LWC_CPU_SSE2 | LWC_CPU_SSE41)
#define LWC_CPU_LEVEL_AVX2 (LWC_CPU_LEVEL_SSE41 | LWC_CPU_AVX2)
/* target("avx512f,avx512bw,avx512vl,avx512vnni"): the compiler may also
 * emit 128/256-bit EVEX (VL) forms and anything of AVX2, hence all of it. */
#define LWC_CPU_LEVEL_AVX512VNNI \
    (LWC_CPU_LEVEL_AVX2 | LWC_CPU_AVX512F | LWC_CPU_AVX512BW | LWC_CPU_AVX512VL | LWC_CPU_AVX512VNNI)

static inline int lwc_cpu_has(unsigned flags, unsigned level) { return (flags & level) == level; }

/* Detected features & mask. Thread-safe; detection runs once. */
unsigned lwc_cpu_flags(void);
/* Replace the mask; returns the previous one (dav1d_set_cpu_flags_mask). */
unsigned lwc_cpu_set_flags_mask(unsigned mask);
/* Name of one flag bit ("sse2", "sse4.1", "avx2", "fma", "avx512f",
 * "avx512bw", "avx512vnni", "avx512vl", "neon"), or NULL for a bit without
 * a meaning. */
const char *lwc_cpu_flag_name(unsigned flag);

/* The float kernels' mode of the calling thread: on, the C reference GEMM
 * (and direct convolution instead of Winograd), which is not bit-exact with
 * OpenBLAS. It is a context's settings.reference_kernels: lwc_encode and
 * lwc_decode bind it for the length of the call, and the worker pool
 * carries it to its workers with each job, so two contexts with different
 * settings run at once without touching each other. Returns the previous
 * value. */
int lwc_cpu_bind_reference(int on);
int lwc_cpu_reference(void);

#endif
