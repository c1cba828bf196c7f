/* Golden streams: tests/golden/MANIFEST lists streams that must keep decoding
 * (with tests/golden/tiny.lwcm, tiny-zg.lwcm for the zg-* streams: a
 * version-2 model with hyper-latent gains, or tiny-zl.lwcm for the zl-*
 * streams: version 3, one z density per rate level, or tiny-is.lwcm for the
 * is-* streams: version 4, integer synthesis, or tiny-ctx.lwcm for the ctx-*
 * streams: version 6, y tables per context class, or tiny-pred.lwcm for the
 * pred-* streams: version 7, in-pass prediction, or tiny-zctx.lwcm for the
 * zctx-* streams: version 8, z tables per context class; the reference
 * kernels) to a recorded
 * FNV-1a hash of the pixels, with one thread and with three (the stripes of
 * a version-2 stream decode in parallel), and broken streams that must keep
 * failing with a recorded error code. Regenerate only on a deliberate format
 * change: tests/golden/make-golden.sh. The integer synthesis' streams must
 * give their hash with every kernel set the CPU has, too: the same pixels
 * on every build and machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"
#include "codec/model.h"
#include "testutil.h"
#include "transforms/gemm.h"

static uint64_t pixel_hash(const LwcImage *img)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t row = (size_t)img->width * img->channels * (img->bit_depth / 8);
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < row; i++) h = (h ^ img->data[(size_t)y * img->stride + i]) * 0x100000001b3ull;
    return h;
}

typedef struct Decoders {
    LwcModel *m;
    LwcContext *c, *c3; /* one thread, three */
    uint8_t *mb;
} Decoders;

static void open_decoders(Decoders *d, const char *model)
{
    size_t ml;
    d->mb = test_slurp(model, &ml);
    ck_assert_int_eq(lwc_model_load(&d->m, d->mb, ml), 0);
    LwcSettings s;
    lwc_default_settings(&s);
    s.reference_kernels = 1;
    ck_assert_int_eq(lwc_open(&d->c, d->m, &s), 0);
    s.threads = 3;
    ck_assert_int_eq(lwc_open(&d->c3, d->m, &s), 0);
}

/* An integer-synthesis stream decodes to hash h with the default kernels
 * under every CPU mask (C only, SSE2, SSE4.1, AVX2, everything), 1 and 3
 * threads. */
static void same_with_every_kernel_set(const LwcModel *m, const uint8_t *b, size_t len, uint64_t h,
                                       const char *name)
{
    static const unsigned masks[] = { 0, LWC_CPU_LEVEL_SSE2, LWC_CPU_LEVEL_SSE41, LWC_CPU_LEVEL_AVX2, ~0u };
    lwc_gemm_force_reference(0);
    for (size_t k = 0; k < sizeof(masks) / sizeof(masks[0]); k++)
        for (int th = 1; th <= 3; th += 2) {
            unsigned old = lwc_cpu_set_flags_mask(masks[k]);
            LwcSettings s;
            lwc_default_settings(&s);
            s.threads = th;
            LwcContext *c;
            LwcImage img;
            ck_assert_int_eq(lwc_open(&c, m, &s), 0);
            ck_assert_msg(lwc_decode(c, b, len, &img, NULL) == 0, "%s: decode failed", name);
            ck_assert_msg(pixel_hash(&img) == h, "%s: mask %x, %d threads: other pixels", name, masks[k], th);
            lwc_image_free(&img);
            lwc_close(&c);
            lwc_cpu_set_flags_mask(old);
        }
    lwc_gemm_force_reference(1);
}

static void close_decoders(Decoders *d)
{
    lwc_close(&d->c);
    lwc_close(&d->c3);
    lwc_model_free(&d->m);
    free(d->mb);
}

START_TEST(golden)
{
    lwc_gemm_force_reference(1);
    Decoders d1, dz, dl, di, dc, dp, dx;
    open_decoders(&d1, "tests/golden/tiny.lwcm");
    open_decoders(&dz, "tests/golden/tiny-zg.lwcm");
    open_decoders(&dl, "tests/golden/tiny-zl.lwcm");
    open_decoders(&di, "tests/golden/tiny-is.lwcm");
    open_decoders(&dc, "tests/golden/tiny-ctx.lwcm");
    open_decoders(&dp, "tests/golden/tiny-pred.lwcm");
    open_decoders(&dx, "tests/golden/tiny-zctx.lwcm");
    ck_assert_int_eq(d1.m->version, 1);
    ck_assert_int_eq(dz.m->version, 2);
    ck_assert_int_eq(dl.m->version, 3);
    ck_assert_int_eq(di.m->version, 4);
    ck_assert_int_eq(dc.m->version, 6);
    ck_assert_int_eq(dp.m->version, 7);
    ck_assert_int_eq(dx.m->version, 8);
    ck_assert(dx.m->zclasses == 4 && dx.m->zsets == dx.m->a.L);
    ck_assert(di.m->int_synthesis && !dl.m->int_synthesis);
    FILE *f = fopen("tests/golden/MANIFEST", "r");
    ck_assert_ptr_nonnull(f);
    char line[512], name[256], kind[32], val[64];
    int n = 0, errors = 0, zg = 0, zl = 0, is = 0, ctx = 0, pred = 0, zctx = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || sscanf(line, "%255s %31s %63s", name, kind, val) != 3) continue;
        const Decoders *d = !strncmp(name, "zg-", 3) ? &dz : !strncmp(name, "zl-", 3) ? &dl
                          : !strncmp(name, "is-", 3) ? &di : !strncmp(name, "ctx-", 4) ? &dc
                          : !strncmp(name, "pred-", 5) ? &dp : !strncmp(name, "zctx-", 5) ? &dx : &d1;
        LwcContext *c = d->c, *c3 = d->c3;
        zg += d == &dz;
        zl += d == &dl;
        is += d == &di;
        ctx += d == &dc;
        pred += d == &dp;
        zctx += d == &dx;
        char path[300];
        snprintf(path, sizeof(path), "tests/golden/%s", name);
        size_t len;
        uint8_t *b = test_slurp(path, &len);
        LwcImage img;
        int r = lwc_decode(c, b, len, &img, NULL);
        if (!strcmp(kind, "pixels")) {
            ck_assert_msg(r == 0, "%s: decode failed: %s", name, lwc_strerror(r));
            char hex[32];
            snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)pixel_hash(&img));
            if (getenv("LWC_GOLDEN_RECORD")) printf("%s pixels %s\n", name, hex);
            else ck_assert_msg(!strcmp(hex, val), "%s: pixels hash %s, recorded %s", name, hex, val);
            uint64_t h1 = pixel_hash(&img);
            lwc_image_free(&img);
            ck_assert_msg(lwc_decode(c3, b, len, &img, NULL) == 0, "%s: decode with 3 threads failed", name);
            ck_assert_msg(pixel_hash(&img) == h1, "%s: 3 threads decode other pixels", name);
            lwc_image_free(&img);
            if (d == &di || d == &dc || d == &dp || d == &dx) same_with_every_kernel_set(d->m, b, len, h1, name);
        } else {
            if (getenv("LWC_GOLDEN_RECORD")) printf("%s error %d  # %s\n", name, r, lwc_strerror(r));
            else ck_assert_msg(r == atoi(val), "%s: got %d (%s), recorded %s", name, r, lwc_strerror(r), val);
            ck_assert_msg(lwc_decode(c3, b, len, &img, NULL) == r, "%s: another error with 3 threads", name);
            errors++;
        }
        free(b);
        n++;
    }
    fclose(f);
    ck_assert_int_ge(n, 4);
    ck_assert_int_ge(errors, 5);
    ck_assert_int_ge(zg, 2);
    ck_assert_int_ge(zl, 3);
    ck_assert_int_ge(is, 5);
    ck_assert_int_ge(ctx, 3);
    ck_assert_int_ge(pred, 3);
    ck_assert_int_ge(zctx, 3);
    close_decoders(&d1);
    close_decoders(&dc);
    close_decoders(&dp);
    close_decoders(&dx);
    close_decoders(&di);
    close_decoders(&dz);
    close_decoders(&dl);
}
END_TEST

static Suite *golden_suite(void)
{
    Suite *s = suite_create("golden");
    TCase *t = tcase_create("streams");
    tcase_add_test(t, golden);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return test_run_suite(golden_suite()); }
