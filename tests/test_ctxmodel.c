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

static Suite *ctxmodel_suite(void)
{
    Suite *s = suite_create("ctxmodel");
    TCase *t = tcase_create("rows");
    tcase_add_loop_test(t, rows_equal_whole_pass, 0, sizeof(k_sizes) / sizeof(k_sizes[0]));
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(ctxmodel_suite()); }
