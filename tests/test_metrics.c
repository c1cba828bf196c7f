/* Quality metrics against values computed independently: closed forms by
 * hand, and for textured images numbers from scikit-image 0.19
 * (structural_similarity with gaussian_weights, sigma 1.5,
 * use_sample_covariance=False, data_range 255; peak_signal_noise_ratio) and
 * from a separate numpy/scipy MS-SSIM (convolve2d 'valid'), which also
 * matches a pytorch_msssim-style implementation on even sizes. */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "testutil.h"
#include "tools/lib/metrics.h"

static void set_px(LwcImage *im, int x, int y, int c, unsigned v)
{
    uint8_t *row = im->data + (size_t)y * im->stride;
    size_t i = (size_t)x * im->channels + c;
    if (im->bit_depth == 16) ((uint16_t *)row)[i] = (uint16_t)v;
    else row[i] = (uint8_t)v;
}

static unsigned get_px(const LwcImage *im, int x, int y, int c)
{
    const uint8_t *row = im->data + (size_t)y * im->stride;
    size_t i = (size_t)x * im->channels + c;
    return im->bit_depth == 16 ? ((const uint16_t *)row)[i] : row[i];
}

static void new_image(LwcImage *im, int w, int h, int ch, int depth)
{
    ck_assert_int_eq(lwc_image_alloc(im, w, h, ch, depth), 0);
}

static void fill_const(LwcImage *im, unsigned v)
{
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            for (int c = 0; c < im->channels; c++) set_px(im, x, y, c, v);
}

/* The textured pair the Python reference uses (same integer formulas). */
static void fill_pattern(LwcImage *a, LwcImage *b)
{
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++)
            for (int c = 0; c < a->channels; c++) {
                long v = ((long)x * x * 3 + y * 7 + (long)x * y + c * 50 + ((x / 8 + y / 8) % 2) * 60) % 256;
                uint32_t h = ((uint32_t)x * 73856093u) ^ ((uint32_t)y * 19349663u) ^ ((uint32_t)c * 83492791u);
                long n = (long)(h % 31) - 15;
                set_px(a, x, y, c, (unsigned)v);
                set_px(b, x, y, c, (unsigned)LWC_CLAMP(v + n, 0, 255));
            }
}

static LwcMetrics metrics(const LwcImage *a, const LwcImage *b)
{
    LwcMetrics m;
    ck_assert_int_eq(lwc_metrics_compute(a, b, &m), 0);
    return m;
}

START_TEST(psnr_constant_offset)
{
    LwcImage a, b;
    new_image(&a, 32, 20, 3, 8);
    new_image(&b, 32, 20, 3, 8);
    fill_const(&a, 100);
    fill_const(&b, 101);
    LwcMetrics m = metrics(&a, &b);
    ck_assert_double_eq_tol(m.psnr, 48.130803608679, 1e-9);   /* 20 log10(255) */
    ck_assert_double_eq_tol(m.psnr_y, 48.130803608679, 1e-9); /* Y moves by exactly 1 */
    ck_assert_double_eq(m.max_abs_diff, 1);
    lwc_image_free(&a);
    lwc_image_free(&b);
    new_image(&a, 32, 20, 1, 16);
    new_image(&b, 32, 20, 1, 16);
    fill_const(&a, 30000);
    fill_const(&b, 30001);
    m = metrics(&a, &b);
    ck_assert_double_eq_tol(m.psnr, 96.329466075305, 1e-9); /* 20 log10(65535) */
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

/* Two pixels, one differing by 3 in R only:
 * RGB MSE = 9/6 -> 46.369891018122 dB; luma differs by 0.299*3 = 0.897 on one
 * of two pixels, MSE_Y = 0.897^2/2 -> 52.085254704437 dB. */
START_TEST(psnr_y_by_hand)
{
    LwcImage a, b;
    new_image(&a, 2, 1, 3, 8);
    new_image(&b, 2, 1, 3, 8);
    static const unsigned pa[6] = {10, 20, 30, 40, 50, 60}, pb[6] = {13, 20, 30, 40, 50, 60};
    for (int i = 0; i < 6; i++) {
        set_px(&a, i / 3, 0, i % 3, pa[i]);
        set_px(&b, i / 3, 0, i % 3, pb[i]);
    }
    LwcMetrics m = metrics(&a, &b);
    ck_assert_double_eq_tol(m.psnr, 46.369891018122, 1e-9);
    ck_assert_double_eq_tol(m.psnr_y, 52.085254704437, 1e-9);
    ck_assert_double_eq(m.max_abs_diff, 3);
    ck_assert(isnan(m.ssim) && isnan(m.msssim)); /* 2x1: no 11x11 window fits */
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

START_TEST(identical_images)
{
    int ch = 1 + _i;
    LwcImage a, b;
    new_image(&a, 200, 170, ch, 8);
    new_image(&b, 200, 170, ch, 8);
    fill_pattern(&a, &b);
    LwcMetrics m = metrics(&a, &a);
    ck_assert(isinf(m.psnr) && m.psnr > 0);
    ck_assert(isinf(m.psnr_y) && m.psnr_y > 0);
    ck_assert_double_eq_tol(m.ssim, 1.0, 1e-12);
    ck_assert_double_eq_tol(m.msssim, 1.0, 1e-12);
    ck_assert_double_eq(m.max_abs_diff, 0);
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

/* Alpha never enters the colour metrics but does count in max_abs_diff. */
START_TEST(alpha_is_ignored)
{
    LwcImage a, b;
    new_image(&a, 24, 24, 4, 8);
    new_image(&b, 24, 24, 4, 8);
    fill_const(&a, 77);
    fill_const(&b, 77);
    for (int y = 0; y < 24; y++)
        for (int x = 0; x < 24; x++) set_px(&b, x, y, 3, (unsigned)(x * 10));
    LwcMetrics m = metrics(&a, &b);
    ck_assert(isinf(m.psnr));
    ck_assert(isinf(m.psnr_y));
    ck_assert_double_eq_tol(m.ssim, 1.0, 1e-12);
    ck_assert_double_eq(m.max_abs_diff, 230 - 77);
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

/* Flat images: variances and covariance are 0, so cs = 1 and
 * SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1), C1 = (0.01*255)^2:
 * 100 vs 110 -> 22006.5025 / 22106.5025 = 0.995476444091507.
 * MS-SSIM = that luminance term to the power of the last scale's weight:
 * 32x32 fits 2 scales (32, 16) -> exponent 0.2856/(0.0448+0.2856);
 * 200x200 fits all 5 -> exponent 0.1333. */
START_TEST(ssim_flat_offset_by_hand)
{
    static const struct { int side; double msssim; } cases[] = {
        {32, 0.996088606361506}, {200, 0.999395824628480}};
    for (int i = 0; i < 2; i++) {
        LwcImage a, b;
        new_image(&a, cases[i].side, cases[i].side, 1, 8);
        new_image(&b, cases[i].side, cases[i].side, 1, 8);
        fill_const(&a, 100);
        fill_const(&b, 110);
        LwcMetrics m = metrics(&a, &b);
        ck_assert_double_eq_tol(m.ssim, 0.995476444091507, 1e-9);
        ck_assert_double_eq_tol(m.msssim, cases[i].msssim, 1e-9);
        ck_assert_double_eq_tol(m.psnr, 20 * log10(255.0 / 10), 1e-9);
        lwc_image_free(&a);
        lwc_image_free(&b);
    }
}
END_TEST

/* Textured pairs against the Python references (see the file comment):
 * even sizes, odd sizes (the repeat-last-row downsampling), gray, and a
 * size that fits only 2 MS-SSIM scales. */
START_TEST(reference_values)
{
    static const struct { int w, h, ch; double psnr, psnr_y, ssim, msssim; } cases[] = {
        {64, 48, 3, 29.204815828303, 32.761623955137, 0.992753095220, 0.990822113514},
        {192, 176, 3, 29.237052562031, 32.722866437982, 0.992817805257, 0.990298326041},
        {181, 163, 3, 29.228502433630, 32.724221035628, 0.992809750154, 0.990331578645},
        {181, 163, 1, 29.232038056961, 29.232038056961, 0.992827439064, 0.990182992468},
        {40, 30, 1, 29.352916247864, 29.352916247864, 0.993061049217, 0.994141156654},
    };
    const int i = _i;
    LwcImage a, b;
    new_image(&a, cases[i].w, cases[i].h, cases[i].ch, 8);
    new_image(&b, cases[i].w, cases[i].h, cases[i].ch, 8);
    fill_pattern(&a, &b);
    LwcMetrics m = metrics(&a, &b);
    ck_assert_double_eq_tol(m.psnr, cases[i].psnr, 1e-9);
    ck_assert_double_eq_tol(m.psnr_y, cases[i].psnr_y, 1e-9);
    ck_assert_double_eq_tol(m.ssim, cases[i].ssim, 1e-10);
    ck_assert_double_eq_tol(m.msssim, cases[i].msssim, 1e-10);
    ck_assert_double_eq(m.max_abs_diff, 15);
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

START_TEST(symmetric)
{
    LwcImage a, b;
    new_image(&a, 181, 163, 3, 8);
    new_image(&b, 181, 163, 3, 8);
    fill_pattern(&a, &b);
    LwcMetrics ab = metrics(&a, &b), ba = metrics(&b, &a);
    ck_assert_double_eq(ab.psnr, ba.psnr);
    ck_assert_double_eq_tol(ab.psnr_y, ba.psnr_y, 1e-12);
    ck_assert_double_eq_tol(ab.ssim, ba.ssim, 1e-14);
    ck_assert_double_eq_tol(ab.msssim, ba.msssim, 1e-14);
    ck_assert_double_eq(ab.max_abs_diff, ba.max_abs_diff);
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

/* More noise, worse scores: every metric strictly decreases. */
START_TEST(monotone_in_noise)
{
    static const double amp[] = {1, 3, 8, 20, 50};
    LwcImage a, b, unused;
    new_image(&a, 192, 180, 3, 8);
    new_image(&b, 192, 180, 3, 8);
    new_image(&unused, 192, 180, 3, 8);
    fill_pattern(&a, &unused);
    LwcMetrics prev = {INFINITY, INFINITY, 2, 2, 0};
    for (int k = 0; k < 5; k++) {
        TestRng r;
        trng_seed(&r, 42); /* same noise shape, growing amplitude */
        for (int y = 0; y < 180; y++)
            for (int x = 0; x < 192; x++)
                for (int c = 0; c < 3; c++) {
                    double v = get_px(&a, x, y, c) + amp[k] * trng_normal(&r);
                    set_px(&b, x, y, c, (unsigned)LWC_CLAMP(lround(v), 0, 255));
                }
        LwcMetrics m = metrics(&a, &b);
        ck_assert_double_lt(m.psnr, prev.psnr);
        ck_assert_double_lt(m.psnr_y, prev.psnr_y);
        ck_assert_double_lt(m.ssim, prev.ssim);
        ck_assert_double_lt(m.msssim, prev.msssim);
        ck_assert_double_gt(m.msssim, 0);
        prev = m;
    }
    lwc_image_free(&a);
    lwc_image_free(&b);
    lwc_image_free(&unused);
}
END_TEST

/* A 16-bit image equal to an 8-bit one times 257 scores the same. */
START_TEST(sixteen_bit_matches_eight_bit)
{
    LwcImage a, b, a16, b16;
    new_image(&a, 170, 165, 3, 8);
    new_image(&b, 170, 165, 3, 8);
    new_image(&a16, 170, 165, 3, 16);
    new_image(&b16, 170, 165, 3, 16);
    fill_pattern(&a, &b);
    for (int y = 0; y < 165; y++)
        for (int x = 0; x < 170; x++)
            for (int c = 0; c < 3; c++) {
                set_px(&a16, x, y, c, get_px(&a, x, y, c) * 257);
                set_px(&b16, x, y, c, get_px(&b, x, y, c) * 257);
            }
    LwcMetrics m8 = metrics(&a, &b), m16 = metrics(&a16, &b16);
    ck_assert_double_eq_tol(m8.psnr, m16.psnr, 1e-9);
    ck_assert_double_eq_tol(m8.psnr_y, m16.psnr_y, 1e-9);
    ck_assert_double_eq_tol(m8.ssim, m16.ssim, 1e-9);
    ck_assert_double_eq_tol(m8.msssim, m16.msssim, 1e-9);
    ck_assert_double_eq(m16.max_abs_diff, 257 * m8.max_abs_diff);
    lwc_image_free(&a);
    lwc_image_free(&b);
    lwc_image_free(&a16);
    lwc_image_free(&b16);
}
END_TEST

/* Below 11 pixels no window fits: NAN. At 11 one window, one scale. */
START_TEST(small_images)
{
    LwcImage a, b;
    new_image(&a, 30, 10, 1, 8);
    new_image(&b, 30, 10, 1, 8);
    fill_pattern(&a, &b);
    LwcMetrics m = metrics(&a, &b);
    ck_assert(isnan(m.ssim));
    ck_assert(isnan(m.msssim));
    ck_assert(isfinite(m.psnr));
    lwc_image_free(&a);
    lwc_image_free(&b);
    new_image(&a, 11, 11, 1, 8);
    new_image(&b, 11, 11, 1, 8);
    fill_pattern(&a, &b);
    m = metrics(&a, &b);
    ck_assert(isfinite(m.ssim));
    ck_assert_double_eq_tol(m.msssim, m.ssim, 1e-12); /* one scale: MS-SSIM = SSIM */
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

START_TEST(mismatch_is_inval)
{
    LwcImage a, b, c, d, e;
    new_image(&a, 16, 16, 3, 8);
    new_image(&b, 16, 15, 3, 8);
    new_image(&c, 16, 16, 4, 8);
    new_image(&d, 16, 16, 3, 16);
    new_image(&e, 15, 16, 3, 8);
    fill_const(&a, 1);
    LwcMetrics m;
    ck_assert_int_eq(lwc_metrics_compute(&a, &b, &m), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_metrics_compute(&a, &c, &m), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_metrics_compute(&a, &d, &m), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_metrics_compute(&a, &e, &m), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_metrics_compute(&a, NULL, &m), LWC_ERR_INVAL);
    ck_assert_int_eq(lwc_metrics_compute(&a, &a, NULL), LWC_ERR_INVAL);
    ck_assert(isnan(lwc_metric_psnr(&a, &b)));
    ck_assert(isnan(lwc_metric_psnr_y(&a, &c)));
    lwc_image_free(&a);
    lwc_image_free(&b);
    lwc_image_free(&c);
    lwc_image_free(&d);
    lwc_image_free(&e);
}
END_TEST

START_TEST(nomem_is_reported)
{
    LwcImage a, b;
    new_image(&a, 64, 64, 3, 8);
    new_image(&b, 64, 64, 3, 8);
    fill_pattern(&a, &b);
    LwcMetrics m;
    lwc_alloc_fail_after(0);
    int r = lwc_metrics_compute(&a, &b, &m);
    lwc_alloc_fail_after(-1);
    ck_assert_int_eq(r, LWC_ERR_NOMEM);
    lwc_image_free(&a);
    lwc_image_free(&b);
}
END_TEST

Suite *metrics_suite(void);
Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *t = tcase_create("metrics");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, psnr_constant_offset);
    tcase_add_test(t, psnr_y_by_hand);
    tcase_add_loop_test(t, identical_images, 0, 4);
    tcase_add_test(t, alpha_is_ignored);
    tcase_add_test(t, ssim_flat_offset_by_hand);
    tcase_add_loop_test(t, reference_values, 0, 5);
    tcase_add_test(t, symmetric);
    tcase_add_test(t, monotone_in_noise);
    tcase_add_test(t, sixteen_bit_matches_eight_bit);
    tcase_add_test(t, small_images);
    tcase_add_test(t, mismatch_is_inval);
    tcase_add_test(t, nomem_is_reported);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(metrics_suite()); }
