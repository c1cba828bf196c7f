/* The context model's two ways through a pass must give the same integers:
 * the whole-pass path (ref_ctx_params, tests/ref_ctxmodel.c: a serial gather and a masked copy of
 * the anchors) and the row-range path the stripes use (lwc_ctx_params_rows:
 * gathers per row range, anchors read from y_hat itself), for any split of
 * the rows into ranges and any worker per range; and lwc_ctx_store_rows over
 * any split must store what ref_ctx_store stores. Checked pass after pass on
 * random latents (values past int16 included), so that every pass sees the
 * state the earlier ones left. */
#include <string.h>

#include "common/common.h"
#include "codec/ctxmodel.h"
#include "codec/yctx.h"
#include "entropy/intconv.h"
#include "codec/internal.h"
#include "ref_ctxmodel.h"
#include "testutil.h"
#include "learn/net.h"
#include "learn/random_model.h"

static const LwcArch k_arch = { .M = 16, .Nz = 8, .N = 16, .Ch = 16, .S = 4, .Cc = 8, .P = 16, .D = 16, .B = 1, .L = 4 };
static const struct { int hy, wy; } k_sizes[] = { { 4, 4 }, { 8, 12 }, { 12, 20 }, { 20, 36 }, { 36, 8 } };

/* Rows [0, hy) cut at random into ranges [cut[k], cut[k+1]); returns their count. */
static int random_cuts(TestRng *rng, int hy, int *cut)
{
    int n = 0;
    cut[0] = 0;
    for (; cut[n] < hy; n++) {
        int step = 1 + (int)(trng_u64(rng) % 5);
        cut[n + 1] = LWC_MIN(hy, cut[n] + step);
    }
    return n;
}

START_TEST(rows_equal_whole_pass)
{
    int hy = k_sizes[_i].hy, wy = k_sizes[_i].wy;
    uint8_t *mb;
    size_t ml;
    LwcModel *m;
    ck_assert_int_eq(lwc_net_random_model(&k_arch, 11, &mb, &ml), 0);
    ck_assert_int_eq(lwc_model_load(&m, mb, ml), 0);
    LwcCtx a, b;
    ck_assert_int_eq(lwc_ctx_open(&a, m, hy, wy, 1), 0);
    ck_assert_int_eq(lwc_ctx_open(&b, m, hy, wy, 3), 0);
    TestRng rng;
    trng_seed(&rng, 100 + _i);
    size_t nz = (size_t)k_arch.Nz * (hy / 4) * (wy / 4), n = (size_t)a.ms * lwc_int_npos(hy, wy, 0);
    int32_t *zhat = lwc_malloc_array(nz, sizeof(int32_t)), *vals = lwc_malloc_array(n, sizeof(int32_t));
    int32_t *mua = lwc_malloc_array(n, sizeof(int32_t)), *mub = lwc_malloc_array(n, sizeof(int32_t));
    uint8_t *idxa = lwc_malloc(n), *idxb = lwc_malloc(n);
    for (size_t i = 0; i < nz; i++) zhat[i] = (int32_t)(trng_u64(&rng) % 9) - 4;
    ref_ctx_hyper(&a, zhat);
    lwc_ctx_hyper_mt(&b, zhat); /* the library's path: the layers split over workers */
    for (int s = 0; s < k_arch.S; s++)
        for (int par = 0; par < 2; par++) {
            int npos = lwc_int_npos(hy, wy, par);
            ck_assert_int_eq(lwc_ctx_row_pos(hy, wy, par), npos);
            int cut[64], nc = random_cuts(&rng, hy, cut);
            memset(mub, 0x55, n * sizeof(int32_t));
            memset(idxb, 0x55, n);
            ref_ctx_params(&a, s, par, mua, idxa);
            for (int k = 0; k < nc; k++) lwc_ctx_params_rows(&b, s, par, cut[k], cut[k + 1], mub, idxb, k % 3);
            for (size_t i = 0; i < (size_t)a.ms * npos; i++)
                ck_assert_msg(mua[i] == mub[i] && idxa[i] == idxb[i], "%dx%d slice %d pass %d position %zu: %d/%d %d/%d",
                              hy, wy, s, par, i, mua[i], mub[i], idxa[i], idxb[i]);
            for (size_t i = 0; i < (size_t)a.ms * npos; i++) {
                uint64_t u = trng_u64(&rng);
                vals[i] = u % 61 ? 16 * ((int32_t)(u >> 8) % 7) + mua[i] : (u & 256 ? 40000 : -40000);
            }
            ref_ctx_store(&a, s, par, vals);
            nc = random_cuts(&rng, hy, cut);
            for (int k = nc; k-- > 0;) lwc_ctx_store_rows(&b, s, par, cut[k], cut[k + 1], vals); /* any order */
            ck_assert(!memcmp(a.yq, b.yq, (size_t)k_arch.M * hy * wy * sizeof(int16_t)));
        }
    lwc_free(zhat); lwc_free(mua); lwc_free(mub); lwc_free(vals); lwc_free(idxa); lwc_free(idxb);
    lwc_ctx_close(&a);
    lwc_ctx_close(&b);
    lwc_model_free(&m);
    lwc_free(mb);
}
END_TEST

/* Context classes (yctx.h) on a hand-made 3x4 map, ms = 2, edges at mean
 * |q| 0.5 and 1.5: a non-anchor's class counts how many of 2 and 6 its
 * four neighbours' sum reaches; an anchor's, how many of 1 and 3 the
 * previous slice's two channels sum to at its place. */
START_TEST(yctx_classes_by_hand)
{
    LwcYCtx y;
    const double means[2] = { 0.5, 1.5 };
    ck_assert_int_eq(lwc_yctx_from_means(&y, means, 2), 0);
    ck_assert_int_eq(y.edge[0], 128);
    ck_assert_int_eq(y.edge[1], 384);
    enum { H = 3, W = 4 };
    /* channel 0 of the current slice: anchors ((i+j) even) set, the rest must not matter */
    uint8_t cur[2][H][W] = { { { 1, 99, 0, 99 }, { 99, 1, 99, 5 }, { 0, 99, 2, 99 } },
                             { { 0, 99, 0, 99 }, { 99, 0, 99, 0 }, { 0, 99, 0, 99 } } };
    /* the previous slice's two channels summed: { 0, 1, 3, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 7 }
     * and { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 2, 0 } */
    uint32_t prev[H][W] = { { 0, 1, 3, 0 }, { 0, 0, 0, 0 }, { 0, 0, 2, 7 } };
    int np1 = lwc_ctx_row_pos(H, W, 1), np0 = lwc_ctx_row_pos(H, W, 0);
    uint8_t cls[2 * 8];
    /* non-anchors of channel 0 in raster order: (0,1) (0,3) (1,0) (1,2) (2,1) (2,3)
     * neighbour sums: 1+0+1=2, 0+5=5, 1+0+1=2, 0+1+5+2=8, 0+2+1=3, 2+5=7 */
    const uint8_t want1[6] = { 1, 1, 1, 2, 1, 2 };
    lwc_yctx_rows(&y, &cur[0][0][0], &prev[0][0], H, W, 2, 1, 0, H, cls, np1);
    for (int q = 0; q < np1; q++) {
        ck_assert_int_eq(cls[q], want1[q]);
        ck_assert_int_eq(cls[np1 + q], 0); /* channel 1: all zero */
    }
    /* anchors (0,0) (0,2) (1,1) (1,3) (2,0) (2,2): previous slice sums 0, 3, 0, 0, 0, 2 */
    const uint8_t want0[6] = { 0, 2, 0, 0, 0, 1 };
    lwc_yctx_rows(&y, &cur[0][0][0], &prev[0][0], H, W, 2, 0, 0, H, cls, np0);
    for (int q = 0; q < np0; q++) {
        ck_assert_int_eq(cls[q], want0[q]);
        ck_assert_int_eq(cls[np0 + q], want0[q]); /* one class for every channel */
    }
    lwc_yctx_rows(&y, &cur[0][0][0], NULL, H, W, 2, 0, 0, H, cls, np0); /* slice 0 */
    for (int q = 0; q < 2 * np0; q++) ck_assert_int_eq(cls[q], 0);
}
END_TEST

/* Random maps of odd and even sizes, any split of the rows: the classes
 * equal a direct reading of the definition in floating point (mean
 * magnitude >= edge). */
static const struct { int hy, wy; } k_ctx_sizes[] = { { 1, 1 }, { 1, 6 }, { 5, 1 }, { 2, 3 }, { 7, 9 }, { 8, 12 },
                                                     { 13, 20 }, { 20, 37 } };

START_TEST(yctx_classes_match_definition)
{
    int hy = k_ctx_sizes[_i].hy, wy = k_ctx_sizes[_i].wy, ms = 3;
    LwcYCtx y;
    const double means[3] = { 0.01, 0.5, 1.5 };
    ck_assert_int_eq(lwc_yctx_from_means(&y, means, 3), 0);
    TestRng rng;
    trng_seed(&rng, 300 + _i);
    size_t hw = (size_t)hy * wy;
    uint8_t *cur = lwc_malloc(ms * hw), *prev = lwc_malloc(ms * hw), *cls = lwc_malloc(ms * hw);
    uint32_t *psum = lwc_calloc(hw, sizeof(uint32_t));
    for (size_t i = 0; i < ms * hw; i++) {
        uint64_t u = trng_u64(&rng);
        cur[i] = (uint8_t)(u % 5 ? u % 3 : (u >> 8) % 256);
        prev[i] = (uint8_t)((u >> 16) % 4);
        psum[i % hw] += prev[i];
    }
    for (int par = 0; par < 2; par++) {
        int npos = lwc_ctx_row_pos(hy, wy, par), cut[64], nc = random_cuts(&rng, hy, cut);
        for (int k = 0; k < nc; k++) lwc_yctx_rows(&y, cur, psum, hy, wy, ms, par, cut[k], cut[k + 1], cls, npos);
        for (int c = 0; c < ms; c++) {
            int q = 0;
            for (int i = 0; i < hy; i++)
                for (int j = (i & 1) ^ par; j < wy; j += 2, q++) {
                    double mean = 0;
                    if (par) {
                        const uint8_t *m = cur + c * hw;
                        mean = ((i > 0 ? m[(i - 1) * wy + j] : 0) + (i + 1 < hy ? m[(i + 1) * wy + j] : 0) +
                                (j > 0 ? m[i * wy + j - 1] : 0) + (j + 1 < wy ? m[i * wy + j + 1] : 0)) / 4.0;
                    } else {
                        for (int k = 0; k < ms; k++) mean += prev[k * hw + (size_t)i * wy + j] / (double)ms;
                    }
                    int want = 0;
                    while (want < 3 && mean >= y.edge[want] / 256.0) want++;
                    ck_assert_msg(cls[(size_t)c * npos + q] == want, "%dx%d parity %d channel %d (%d,%d): %d, want %d",
                                  hy, wy, par, c, i, j, cls[(size_t)c * npos + q], want);
                }
        }
    }
    lwc_free(cur); lwc_free(prev); lwc_free(cls); lwc_free(psum);
}
END_TEST

/* Edges must be 1..7 increasing values in (0, 255]. */
START_TEST(yctx_edges_checked)
{
    LwcYCtx y;
    const double ok[7] = { 0.01, 0.3, 0.6, 1, 1.6, 2.5, 4 }, same[2] = { 0.5, 0.5001 }, down[2] = { 1, 0.5 };
    const double zero[1] = { 0 }, big[1] = { 256 }, eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    ck_assert_int_eq(lwc_yctx_from_means(&y, ok, 7), 0);
    ck_assert_int_eq(lwc_yctx_classes(&y), 8);
    ck_assert_int_eq(lwc_yctx_from_means(&y, same, 2), LWC_ERR_INVAL); /* equal once in Q8 */
    ck_assert_int_eq(lwc_yctx_from_means(&y, down, 2), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_yctx_from_means(&y, zero, 1), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_yctx_from_means(&y, big, 1), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_yctx_from_means(&y, eight, 8), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_yctx_from_means(&y, ok, 0), LWC_ERR_INVAL);
}
END_TEST

static Suite *ctxmodel_suite(void)
{
    Suite *s = suite_create("ctxmodel");
    TCase *t = tcase_create("rows");
    tcase_add_loop_test(t, rows_equal_whole_pass, 0, sizeof(k_sizes) / sizeof(k_sizes[0]));
    tcase_add_test(t, yctx_classes_by_hand);
    tcase_add_loop_test(t, yctx_classes_match_definition, 0, sizeof(k_ctx_sizes) / sizeof(k_ctx_sizes[0]));
    tcase_add_test(t, yctx_edges_checked);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(ctxmodel_suite()); }
