/* Single-precision GEMM dispatch for the float layers.
 *
 * lwc_sgemm computes, in row-major storage,
 *     C = alpha * op(A) * op(B) + beta * C
 * where op(A) is m x k (A itself is k x m when trans_a), op(B) is k x n
 * (B is n x k when trans_b) and C is m x n. lda/ldb/ldc are row strides in
 * floats (at least the number of stored columns). beta == 0 overwrites C
 * without reading it, so C may hold NaN or garbage.
 *
 * Two implementations sit behind a table of function pointers (dav1d habit):
 * a portable C reference (cache-blocked, single-threaded, fixed summation
 * order) and cblas_sgemm from OpenBLAS when built with LWC_HAVE_BLAS. The
 * BLAS path is the default where available. Float results differ slightly
 * between the two (and between BLAS builds and thread counts): nothing whose
 * exact bits matter for decoding may go through here (docs/bitstream.md).
 *
 * Unlike the other kernel families (common/cpu.h), the CPU flags do not
 * choose between the two: their results differ in the last bits, so the
 * choice is a setting (LwcSettings.reference_kernels), never a CPU mask that
 * must leave every stream unchanged; and OpenBLAS does its own CPU dispatch.
 * The selection is process-wide (an atomic pointer to a constant table);
 * change it only while no other thread is inside lwc_sgemm. */
#ifndef LWC_GEMM_H
#define LWC_GEMM_H

typedef void (*LwcSgemmFn)(int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta,
                           float *c, int ldc);

/* One kernel table per implementation; lwc_sgemm calls the active one. */
typedef struct LwcGemmDsp {
    const char *name; /* "reference" or "openblas" */
    LwcSgemmFn sgemm;
} LwcGemmDsp;

void lwc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc);

/* The table for a reference_kernels setting: the C reference first,
 * replaced by OpenBLAS when it is compiled in and reference == 0. */
const LwcGemmDsp *lwc_gemm_dsp(int reference);
/* on != 0: lwc_sgemm uses lwc_gemm_dsp(1) from now on; on == 0: back to
 * lwc_gemm_dsp(0) (OpenBLAS if compiled in, else still the reference). */
void lwc_gemm_force_reference(int on);
/* 1 when lwc_sgemm currently runs the C reference (always 1 without BLAS). */
int lwc_gemm_is_reference(void);
/* Thread count for OpenBLAS (openblas_set_num_threads); no effect on the
 * reference path, which is single-threaded. n < 1 is treated as 1. */
void lwc_gemm_set_threads(int n);
/* Name of the table lwc_sgemm uses now. */
const char *lwc_gemm_kernel_name(void);

#endif
