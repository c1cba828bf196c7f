/* Wavelet kernel benchmark: lwc_wpt_forward + lwc_wpt_inverse (J = 3, three
 * planes) with each kernel set (C reference, SSE2, AVX2), run alternately so
 * that load from other jobs hits all sets alike; prints the median time per
 * set and the median of the per-round speed-ups over C.
 *     build/wpt_bench [rounds] [HxW ...]      (default 15 rounds, 512x768 3000x4000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "common/cpu.h"
#include "transforms/wpt.h"

enum { LEVELS = 3, CH = 3, MAX_ROUNDS = 101 };

/* CPU flag masks (common/cpu.h): C reference, at most SSE2, everything. */
static const unsigned k_masks[] = { 0, LWC_CPU_LEVEL_SSE2, ~0u };
#define N_SETS 3

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int bench(int h, int w, int rounds)
{
    size_t n = (size_t)CH * h * w;
    float *x = lwc_malloc_array(n, sizeof(float)), *y = lwc_malloc_array(n, sizeof(float));
    float *back = lwc_malloc_array(n, sizeof(float));
    float *work = lwc_malloc_array(lwc_wpt_work_size(h, w), sizeof(float));
    if (!x || !y || !back || !work) return 1;
    uint64_t s = 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)(s >> 40) / (float)(1 << 24) * 255.0f;
    }
    static double t[N_SETS][MAX_ROUNDS], ratio[N_SETS][MAX_ROUNDS];
    const char *names[N_SETS];
    unsigned old = lwc_cpu_set_flags_mask(~0u);
    for (int k = 0; k < N_SETS; k++) { /* warm-up, names */
        lwc_cpu_set_flags_mask(k_masks[k]);
        names[k] = lwc_wpt_kernel_name();
        lwc_wpt_forward(x, CH, h, w, LEVELS, y, work);
        lwc_wpt_inverse(y, CH, h, w, LEVELS, back, work);
    }
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < N_SETS; j++) {
            int k = (j + r) % N_SETS; /* rotate the order every round */
            lwc_cpu_set_flags_mask(k_masks[k]);
            double t0 = now_ms();
            lwc_wpt_forward(x, CH, h, w, LEVELS, y, work);
            lwc_wpt_inverse(y, CH, h, w, LEVELS, back, work);
            t[k][r] = now_ms() - t0;
        }
    for (int k = 0; k < N_SETS; k++)
        for (int r = 0; r < rounds; r++) ratio[k][r] = t[0][r] / t[k][r];
    for (int k = 0; k < N_SETS; k++) {
        double rm = median(ratio[k], rounds), tm = median(t[k], rounds);
        printf("%dx%dx%d J=%d %-5s fwd+inv median %8.2f ms  speed-up vs c %.2fx\n", w, h, CH,
               LEVELS, names[k], tm, rm);
    }
    lwc_cpu_set_flags_mask(old);
    lwc_free(x);
    lwc_free(y);
    lwc_free(back);
    lwc_free(work);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "wpt_bench: rounds must be 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    if (argc <= 2) return bench(512, 768, rounds) || bench(3000, 4000, rounds);
    for (int i = 2; i < argc; i++) {
        int h, w;
        if (sscanf(argv[i], "%dx%d", &h, &w) != 2 || h < 8 || w < 8 || h % 8 || w % 8) {
            fprintf(stderr, "wpt_bench: bad size '%s' (HxW, multiples of 8)\n", argv[i]);
            return 2;
        }
        if (bench(h, w, rounds)) return 1;
    }
    return 0;
}
