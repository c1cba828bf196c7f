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
#include "codec/ypred.h"
#include "codec/ystripes.h"
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

/* The prediction's arithmetic by hand: rounding half up (floor of x + 1/2,
 * negative sums included), the clamp of each tap, the extreme weights. */
START_TEST(ypred_by_hand)
{
    int16_t w[LWC_YPRED_TAPS] = { 2048, 0, 0, 0, 0, 0 }; /* one half */
    int32_t x[LWC_YPRED_TAPS] = { 3, 7, -7, 9, 9, 9 };
    ck_assert_int_eq(lwc_ypred_apply(w, x), 2);  /* 1.5 -> 2 */
    x[0] = -3;
    ck_assert_int_eq(lwc_ypred_apply(w, x), -1); /* -1.5 -> -1 */
    x[0] = -1;
    ck_assert_int_eq(lwc_ypred_apply(w, x), 0);  /* -0.5 -> 0 */
    x[0] = -4;
    ck_assert_int_eq(lwc_ypred_apply(w, x), -2);
    w[0] = 1365;                                  /* about a third */
    x[0] = -2;
    ck_assert_int_eq(lwc_ypred_apply(w, x), -1); /* -0.667 -> -1 */
    w[0] = 4096;
    x[0] = 100000;
    ck_assert_int_eq(lwc_ypred_apply(w, x), LWC_YPRED_CLAMP);
    int16_t mix[LWC_YPRED_TAPS] = { 4096, -4096, 1024, 0, 2048, -2048 };
    int32_t v[LWC_YPRED_TAPS] = { 5, 2, 4, 1000, 6, -2 }; /* 5 - 2 + 1 + 3 + 1 = 8 */
    ck_assert_int_eq(lwc_ypred_apply(mix, v), 8);
    int16_t low[LWC_YPRED_TAPS], high[LWC_YPRED_TAPS];
    int32_t big[LWC_YPRED_TAPS];
    for (int n = 0; n < LWC_YPRED_TAPS; n++) low[n] = INT16_MIN, high[n] = INT16_MAX, big[n] = LWC_Y_SYM_MAX;
    ck_assert_int_eq(lwc_ypred_apply(low, big), -6 * 32768); /* -6 * 2^15 * 2^12 / 2^12 */
    ck_assert_int_eq(lwc_ypred_apply(high, big), (2048 + 6 * 32767 * 4096) >> 12);
}
END_TEST

/* What the coder computes (lwc_ypass_pred on the stripe's plane, written
 * as it goes and never cleared between channels and passes) is the
 * definition on a full map (the taps of the same parity, earlier in raster
 * order, 0 outside the latent and above the stripe's first row), for both
 * parities, odd and even sizes and any first row. */
START_TEST(ypred_pass_matches_definition)
{
    int hy = k_ctx_sizes[_i].hy, wy = k_ctx_sizes[_i].wy, ms = 3;
    TestRng rng;
    trng_seed(&rng, 900 + _i);
    int16_t w[3 * 2 * LWC_YPRED_TAPS];
    for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++) w[k] = (int16_t)((int)(trng_u64(&rng) % 16384) - 8192);
    LwcModel m;
    memset(&m, 0, sizeof(m));
    m.ypred = w;
    LwcCtx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.m = &m;
    ctx.hy = hy; ctx.wy = wy; ctx.ms = ms;
    size_t hw = (size_t)hy * wy;
    int32_t *q = lwc_malloc_array(hw, sizeof(int32_t));
    LwcYPass p;
    memset(&p, 0, sizeof(p));
    p.ctx = &ctx;
    p.rows = hy;
    p.plane = lwc_calloc((size_t)(hy + 2) * (wy + 4), sizeof(int16_t));
    for (int r0 = 0; r0 < hy; r0++)
        for (int par = 0; par < 2; par++)
            for (int c = 0; c < ms; c++) {
                p.par = par;
                for (size_t k = 0; k < hw; k++) {
                    q[k] = (int32_t)(trng_u64(&rng) % 21) - 10;
                    if (trng_u64(&rng) % 50 == 0) q[k] *= 1000; /* past the clamp */
                }
                for (int i = r0; i < hy; i++)
                    for (int j = (i & 1) ^ par; j < wy; j += 2) {
                        int32_t x[LWC_YPRED_TAPS];
                        lwc_ypred_taps_map(q, wy, r0, i, j, x);
                        for (int n = 0; n < LWC_YPRED_TAPS; n++) /* the other parity is never a tap */
                            ck_assert((lwc_ypred_off[n][0] + lwc_ypred_off[n][1]) % 2 == 0);
                        int16_t *at = lwc_ypass_plane_at(&p, 0, r0, i, j);
                        int32_t want = lwc_ypred_apply(w + ((size_t)c * 2 + par) * LWC_YPRED_TAPS, x);
                        ck_assert_int_eq(lwc_ypass_pred(&p, c, at), want);
                        *at = lwc_ypred_tap(q[(size_t)i * wy + j]);
                    }
            }
    p.plane = (lwc_free(p.plane), NULL);
    ck_assert_ptr_null(lwc_ypass_plane_at(&p, 0, 0, 0, 0));
    ck_assert_int_eq(lwc_ypass_pred(&p, 0, NULL), 0);
    lwc_free(q);
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
    tcase_add_test(t, ypred_by_hand);
    tcase_add_loop_test(t, ypred_pass_matches_definition, 0, sizeof(k_ctx_sizes) / sizeof(k_ctx_sizes[0]));
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(ctxmodel_suite()); }
