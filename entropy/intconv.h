/* Integer convolutions for the entropy-parameter path.
 *
 * Everything the decoder recomputes to choose a CDF goes through these
 * layers, so they are pure integer arithmetic and give the same result on
 * every build and machine (docs/bitstream.md):
 *   acc = bias[o] + sum_i w[o][i] * x[i]      (int32, wrapping: computed in uint32)
 *   out = clamp(round_shift((int64)acc * mult[o], shift[o]), lo, hi)
 * where round_shift(v, s) = floor((v + 2^(s-1)) / 2^s), defined for negative v
 * without relying on implementation-defined shifts. Inputs and outputs are
 * int16 values stored in int16_t; weights int16 with |w| <= 2047 so the
 * accumulation cannot overflow for the channel counts we use (and if it
 * did, the wrap is still identical everywhere).
 *
 * A 3x3 layer uses zero padding. Outputs can be computed at every position or
 * only at the positions of one checkerboard parity ((i+j)&1 == parity), which
 * the context model needs; those are stored compactly in raster order. */
#ifndef LWC_INTCONV_H
#define LWC_INTCONV_H

#include <stddef.h>
#include <stdint.h>

typedef struct LwcIntConv {
    int cin, cout, k;     /* k = 1 or 3 */
    int16_t *w;           /* [cout][cin][k][k] */
    int32_t *bias, *mult; /* [cout] */
    uint8_t *shift;       /* [cout], 1..62 */
    int32_t lo, hi;       /* output clamp */
    int16_t *wu;          /* exact Winograd weights (intwino.h) or NULL: 3x3 synthesis layers only */
} LwcIntConv;

#define LWC_INT_ALL (-1)

/* Number of positions of a parity in an h x w map (all positions for LWC_INT_ALL). */
int lwc_int_npos(int h, int w, int parity);

/* Forward over planar input x [cin][h][w] (int16). Output y [cout][npos].
 * work: lwc_intconv_work_size() int32 elements. */
size_t lwc_intconv_work_size(const LwcIntConv *l, int h, int w);
void lwc_intconv_forward(const LwcIntConv *l, const int16_t *x, int h, int w,
                         int parity, int16_t *y, int32_t *work);

/* Same, with the input already laid out as [cin][npos] (1x1 layers only). */
void lwc_intconv_1x1_forward(const LwcIntConv *l, const int16_t *x, int npos,
                             int16_t *y, int32_t *work);

/* Positions [pbeg, pend) only of the two above (same output layout, same
 * values): lets callers split a layer over threads. */
void lwc_intconv_forward_range(const LwcIntConv *l, const int16_t *x, int h, int w, int parity,
                               int pbeg, int pend, int16_t *y, int32_t *work);
void lwc_intconv_1x1_forward_range(const LwcIntConv *l, const int16_t *x, int npos, int pbeg, int pend,
                                   int16_t *y, int32_t *work);

/* The largest |acc| any output channel can reach for inputs in [-act, act]:
 * max over o of sum_i |w[o][i]| * act + |bias[o]| (exact, 64-bit). */
int64_t lwc_intconv_max_acc(const LwcIntConv *l, int act);

/* Nearest-neighbour 2x upsampling of a planar int16 map. */
void lwc_int_upsample2(const int16_t *x, int c, int h, int w, int16_t *y);

/* Exact rounding shift used by the requantisation (exposed for tests). */
int64_t lwc_round_shift(int64_t v, int s);

/* Kernel table. gemm: y[o*ys + p] = out (above) of acc = bias[o] +
 * sum_r w[o][r] * x[r][p], for o < cout and p < n (nothing else of y is
 * written), x in the pair layout: word xp[ip*n + p] holds row 2ip in its
 * low half and row 2ip+1 in its high half (zero when 2ip+1 = cin*k*k);
 * scratch: n words. Every set gives the same bits (see intconv.c). */
typedef struct LwcIntConvDsp {
    const char *name; /* "c", "sse2", "sse41", "avx2", "avx512vnni" or "neon" */
    void (*gemm)(const LwcIntConv *l, const uint32_t *xp, int n, int16_t *y, size_t ys, uint32_t *scratch);
} LwcIntConvDsp;

/* The best set that CPU flags `flags` (common/cpu.h) allow; flags 0 gives
 * the C reference. The layers use lwc_intconv_dsp(lwc_cpu_flags()). */
const LwcIntConvDsp *lwc_intconv_dsp(unsigned flags);
/* on != 0: the layers use the C reference whatever the flags (the two are
 * bit-exact: for benchmarks and tests). */
void lwc_intconv_force_reference(int on);
/* Name of the set the layers use now. */
const char *lwc_intconv_kernel_name(void);

#endif
