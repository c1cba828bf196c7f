/* GEMM dispatch: C reference and OpenBLAS behind one kernel table.
 *
 * The reference follows the GotoBLAS blocking: a KC x NC block of op(B) and
 * an MC x KC block of alpha*op(A) are packed into small stack buffers laid
 * out panel by panel, then an MR x NR micro-kernel keeps its tile of C in
 * local accumulators across the whole KC depth. Plain C: gcc/clang vectorise
 * the fixed-size inner loops. Packing zero-pads partial panels so the
 * micro-kernel never branches; only the write-back is clipped. The buffers
 * are on the stack (48 KiB) so the reference never allocates and cannot
 * fail. Summation order is fixed, so results are reproducible run to run. */
#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "transforms/gemm.h"

#ifdef LWC_HAVE_BLAS
#include <cblas.h>
#endif

enum {
    MR = 4,   /* micro-tile rows */
    NR = 8,   /* micro-tile columns: 4x8 accumulators fit 8 SSE registers */
    KC = 128, /* depth of one packed block */
    MC = 32,  /* rows of A per packed block (multiple of MR) */
    NC = 64   /* columns of B per packed block (multiple of NR) */
};

/* C = beta * C over an m x n window; beta == 0 stores zeros (NaN-safe). */
static void scale_c(int m, int n, float beta, float *c, int ldc)
{
    if (beta == 1.0f) return;
    for (int i = 0; i < m; i++) {
        float *row = c + (size_t)i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(*row));
        else for (int j = 0; j < n; j++) row[j] *= beta;
    }
}

/* Packs alpha * op(A)[i0 .. i0+mc, p0 .. p0+kc] as MR-row panels:
 * panel r holds, for each depth p, MR consecutive values (zero past m). */
static void pack_a(int ta, const float *a, int lda, int i0, int mc, int p0,
                   int kc, float alpha, float *restrict dst)
{
    for (int r = 0; r < mc; r += MR) {
        int rows = LWC_MIN(MR, mc - r);
        for (int p = 0; p < kc; p++) {
            for (int i = 0; i < MR; i++) {
                float v = 0.0f;
                if (i < rows) {
                    size_t ii = (size_t)(i0 + r + i), pp = (size_t)(p0 + p);
                    v = alpha * (ta ? a[pp * lda + ii] : a[ii * lda + pp]);
                }
                *dst++ = v;
            }
        }
    }
}

/* Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] as NR-column panels (zero past n). */
static void pack_b(int tb, const float *b, int ldb, int p0, int kc, int j0,
                   int nc, float *restrict dst)
{
    for (int c = 0; c < nc; c += NR) {
        int cols = LWC_MIN(NR, nc - c);
        for (int p = 0; p < kc; p++) {
            size_t pp = (size_t)(p0 + p);
            if (!tb && cols == NR) {
                memcpy(dst, b + pp * ldb + j0 + c, NR * sizeof(*dst));
                dst += NR;
                continue;
            }
            for (int j = 0; j < NR; j++) {
                size_t jj = (size_t)(j0 + c + j);
                *dst++ = j < cols ? (tb ? b[jj * ldb + pp] : b[pp * ldb + jj]) : 0.0f;
            }
        }
    }
}

/* One 4-wide column group of the micro-tile: 4 rows x 4 columns of named
 * scalar accumulators. Scalars (not arrays) let compilers at -O2 keep them in
 * registers and pack them into SIMD lanes. */
#define LWC_ACC_DECL(g) float r0##g##0 = 0, r0##g##1 = 0, r0##g##2 = 0, r0##g##3 = 0, \
    r1##g##0 = 0, r1##g##1 = 0, r1##g##2 = 0, r1##g##3 = 0, \
    r2##g##0 = 0, r2##g##1 = 0, r2##g##2 = 0, r2##g##3 = 0, \
    r3##g##0 = 0, r3##g##1 = 0, r3##g##2 = 0, r3##g##3 = 0
#define LWC_ACC_ROW(i, g, b) do { \
    r##i##g##0 += a##i * b[4 * g + 0]; r##i##g##1 += a##i * b[4 * g + 1]; \
    r##i##g##2 += a##i * b[4 * g + 2]; r##i##g##3 += a##i * b[4 * g + 3]; } while (0)
#define LWC_ACC_STORE(i, g, t) do { \
    t[i][4 * g + 0] = r##i##g##0; t[i][4 * g + 1] = r##i##g##1; \
    t[i][4 * g + 2] = r##i##g##2; t[i][4 * g + 3] = r##i##g##3; } while (0)

/* C[0..mr, 0..nr] += Apanel * Bpanel over depth kc (MR = 4, NR = 8). */
static void micro_kernel(int kc, const float *restrict a, const float *restrict b,
                         float *restrict c, int ldc, int mr, int nr)
{
    LWC_ACC_DECL(0);
    LWC_ACC_DECL(1);
    for (int p = 0; p < kc; p++, a += MR, b += NR) {
        float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        LWC_ACC_ROW(0, 0, b); LWC_ACC_ROW(1, 0, b); LWC_ACC_ROW(2, 0, b); LWC_ACC_ROW(3, 0, b);
        LWC_ACC_ROW(0, 1, b); LWC_ACC_ROW(1, 1, b); LWC_ACC_ROW(2, 1, b); LWC_ACC_ROW(3, 1, b);
    }
    float t[MR][NR];
    LWC_ACC_STORE(0, 0, t); LWC_ACC_STORE(1, 0, t); LWC_ACC_STORE(2, 0, t); LWC_ACC_STORE(3, 0, t);
    LWC_ACC_STORE(0, 1, t); LWC_ACC_STORE(1, 1, t); LWC_ACC_STORE(2, 1, t); LWC_ACC_STORE(3, 1, t);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[(size_t)i * ldc + j] += t[i][j];
}

/* All micro-tiles of one packed (mc x kc) * (kc x nc) block. */
static void block_kernel(int mc, int nc, int kc, const float *ap, const float *bp,
                         float *c, int ldc)
{
    for (int jr = 0; jr < nc; jr += NR)
        for (int ir = 0; ir < mc; ir += MR)
            micro_kernel(kc, ap + (size_t)ir * kc, bp + (size_t)jr * kc,
                         c + (size_t)ir * ldc + jr, ldc,
                         LWC_MIN(MR, mc - ir), LWC_MIN(NR, nc - jr));
}

static void sgemm_reference(int ta, int tb, int m, int n, int k, float alpha,
                            const float *a, int lda, const float *b, int ldb,
                            float beta, float *c, int ldc)
{
    float apack[MC * KC], bpack[KC * NC];
    if (m <= 0 || n <= 0) return;
    scale_c(m, n, beta, c, ldc);
    if (k <= 0 || alpha == 0.0f) return;
    for (int jc = 0; jc < n; jc += NC) {
        int nc = LWC_MIN(NC, n - jc);
        for (int pc = 0; pc < k; pc += KC) {
            int kc = LWC_MIN(KC, k - pc);
            pack_b(tb, b, ldb, pc, kc, jc, nc, bpack);
            for (int ic = 0; ic < m; ic += MC) {
                int mc = LWC_MIN(MC, m - ic);
                pack_a(ta, a, lda, ic, mc, pc, kc, alpha, apack);
                block_kernel(mc, nc, kc, apack, bpack, c + (size_t)ic * ldc + jc, ldc);
            }
        }
    }
}

static const LwcGemmDsp g_reference = { "reference", sgemm_reference };

#ifdef LWC_HAVE_BLAS
static void sgemm_openblas(int ta, int tb, int m, int n, int k, float alpha,
                           const float *a, int lda, const float *b, int ldb,
                           float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    /* BLAS only promises not to read C when beta == 0; make the NaN-safety
     * explicit rather than depend on each OpenBLAS kernel. */
    if (beta == 0.0f) scale_c(m, n, 0.0f, c, ldc);
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
}

static const LwcGemmDsp g_openblas = { "openblas", sgemm_openblas };
#endif

const LwcGemmDsp *lwc_gemm_dsp(int reference)
{
    const LwcGemmDsp *d = &g_reference;
#ifdef LWC_HAVE_BLAS
    if (!reference) d = &g_openblas;
#endif
    return d;
}

/* The process-wide choice of tests and tools (lwc_gemm_force_reference);
 * NULL: lwc_gemm_dsp(0). Atomic, relaxed: a pointer to one of two constant
 * tables. */
static _Atomic(const LwcGemmDsp *) g_active = NULL;

/* The calling thread's context asks for the reference (common/cpu.h), or a
 * test or tool forced it for the whole process. */
static const LwcGemmDsp *active_dsp(void)
{
    if (lwc_cpu_reference()) return &g_reference;
    const LwcGemmDsp *a = atomic_load_explicit(&g_active, memory_order_relaxed);
    return a ? a : lwc_gemm_dsp(0);
}

void lwc_gemm_force_reference(int on)
{
    atomic_store_explicit(&g_active, lwc_gemm_dsp(on), memory_order_relaxed);
}

int lwc_gemm_is_reference(void) { return active_dsp() == &g_reference; }

const char *lwc_gemm_kernel_name(void) { return active_dsp()->name; }

#ifdef LWC_HAVE_BLAS
/* OpenBLAS's pthread build starts its worker threads when it loads, and
 * they poll for work with sched_yield for about 0.1 s (its thread timeout)
 * before they sleep: in a short process, such as one `lwc decode`, that is
 * a second core spent spinning (measured: 0.9 s of system time in 10 CLI
 * decodes of a Kodak image, 118 -> 95 ms each on 2 cores without it). With
 * one thread they are never used, so stop them; OpenBLAS starts them again
 * itself if a caller asks for more threads. Weak: builds of OpenBLAS
 * without the function simply keep their threads. */
extern void blas_thread_shutdown_(void) __attribute__((weak));
static atomic_int g_blas_threads_stopped;
#endif

void lwc_gemm_set_threads(int n)
{
#ifdef LWC_HAVE_BLAS
    n = n < 1 ? 1 : n;
    /* Asking again for one thread once they are stopped would start them
     * again (openblas_set_num_threads re-initialises its thread server):
     * the CLI asks at start-up and lwc_open asks again. */
    if (n == 1 && atomic_load(&g_blas_threads_stopped) && openblas_get_num_threads() == 1) return;
    openblas_set_num_threads(n);
    if (n == 1 && blas_thread_shutdown_) {
        blas_thread_shutdown_();
        atomic_store(&g_blas_threads_stopped, 1);
    } else {
        atomic_store(&g_blas_threads_stopped, 0);
    }
#else
    (void)n;
#endif
}

void lwc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc)
{
    assert(m >= 0 && n >= 0 && k >= 0);
    assert(ldc >= LWC_MAX(1, n));
    assert(lda >= LWC_MAX(1, trans_a ? m : k));
    assert(ldb >= LWC_MAX(1, trans_b ? k : n));
    active_dsp()->sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                        beta, c, ldc);
}
