/* lwc compare A B: quality metrics between two images. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "tools/cli/cli.h"
#include "imageio/imageio.h"
#include "tools/lib/metrics.h"

enum { OUT_TEXT, OUT_CSV, OUT_JSON };

static void compare_usage(FILE *f)
{
    fputs("usage: lwc compare A B [--csv | --json]\n"
          "\n"
          "Quality of image B against reference A (PNG, JPEG, PPM/PGM; '-' reads stdin).\n"
          "Both must have the same size, channel count and bit depth.\n"
          "\n"
          "  --csv       a header line and a value line: psnr,psnr_y,ssim,msssim,max_abs_diff\n"
          "  --json      one JSON object with the same keys (null for inf/nan, and\n"
          "              \"identical\": true when the colour channels are equal)\n"
          "  -h, --help  this text\n"
          "\n"
          "Definitions (L = 255 for 8-bit, 65535 for 16-bit images; colour channels are\n"
          "R,G,B, or gray for gray images; alpha is ignored except in max_abs_diff):\n"
          "  PSNR      10*log10(L^2/MSE), MSE over all colour channels; inf if equal.\n"
          "  PSNR-Y    same on luma Y = 0.299R + 0.587G + 0.114B (BT.601, unrounded).\n"
          "  SSIM      Wang et al. 2004: 11x11 Gaussian window (sigma 1.5), K1 = 0.01,\n"
          "            K2 = 0.03, valid-region map (no padding), mean of the map, mean\n"
          "            over colour channels.\n"
          "  MS-SSIM   Wang et al. 2003: 5 scales, weights 0.0448 0.2856 0.3001 0.2363\n"
          "            0.1333, 2x2 mean downsampling (odd sizes repeat the last row/col),\n"
          "            contrast-structure at scales 1-4 and SSIM at scale 5, negative\n"
          "            terms clamped to 0; per colour channel, then averaged. Fewer scales\n"
          "            (weights renormalised) when the smaller side is below 161 pixels.\n"
          "  SSIM and MS-SSIM are nan for images with a side below 11 pixels.\n"
          "  max_abs_diff  largest absolute sample difference, all channels.\n",
          f);
}

/* Parse options; returns -1 to go on, else an exit code. */
static int compare_parse(int argc, char **argv, int *mode)
{
    static const struct option opts[] = {{"csv", no_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 0; /* 0, not 1: makes glibc and musl fully reset their scan state */
    opterr = 0; /* we print our own one-line errors */
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': *mode = OUT_CSV; break;
        case 'j': *mode = OUT_JSON; break;
        case 'h': compare_usage(stdout); return 0;
        default: /* optopt names an unknown short option; 0 for a long one */
            if (optopt)
                fprintf(stderr, "lwc compare: unknown option '-%c' (see lwc compare --help)\n", optopt);
            else
                fprintf(stderr, "lwc compare: unknown option '%s' (see lwc compare --help)\n",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "lwc compare: expected 2 images, got %d (see lwc compare --help)\n",
                argc - optind);
        return 2;
    }
    return -1;
}

static void json_num(const char *key, double v, const char *fmt, const char *sep)
{
    printf("  \"%s\": ", key);
    if (isfinite(v)) printf(fmt, v);
    else fputs("null", stdout);
    fputs(sep, stdout);
}

static void compare_print(const LwcMetrics *m, int mode, int gray)
{
    if (mode == OUT_CSV) {
        printf("psnr,psnr_y,ssim,msssim,max_abs_diff\n%.6f,%.6f,%.8f,%.8f,%.0f\n", m->psnr,
               m->psnr_y, m->ssim, m->msssim, m->max_abs_diff);
    } else if (mode == OUT_JSON) {
        puts("{");
        json_num("psnr", m->psnr, "%.6f", ",\n");
        json_num("psnr_y", m->psnr_y, "%.6f", ",\n");
        json_num("ssim", m->ssim, "%.8f", ",\n");
        json_num("msssim", m->msssim, "%.8f", ",\n");
        json_num("max_abs_diff", m->max_abs_diff, "%.0f", ",\n");
        printf("  \"identical\": %s\n}\n", isinf(m->psnr) ? "true" : "false");
    } else {
        printf("PSNR (%s)    %.4f dB\n", gray ? "gray" : "RGB", m->psnr);
        printf("PSNR-Y        %.4f dB\n", m->psnr_y);
        printf("SSIM          %.6f\n", m->ssim);
        printf("MS-SSIM       %.6f\n", m->msssim);
        printf("max abs diff  %.0f\n", m->max_abs_diff);
    }
}

/* Explain why two images cannot be compared; 0 if they can. */
static int compare_check_shapes(const LwcImage *a, const LwcImage *b)
{
    if (a->width != b->width || a->height != b->height)
        fprintf(stderr, "lwc compare: images differ in size (%dx%d vs %dx%d)\n", a->width,
                a->height, b->width, b->height);
    else if (a->channels != b->channels)
        fprintf(stderr, "lwc compare: images differ in channels (%d vs %d)\n", a->channels,
                b->channels);
    else if (a->bit_depth != b->bit_depth)
        fprintf(stderr, "lwc compare: images differ in bit depth (%d vs %d)\n", a->bit_depth,
                b->bit_depth);
    else return 0;
    return -1;
}

int lwc_cmd_compare(int argc, char **argv)
{
    int mode = OUT_TEXT;
    int r = compare_parse(argc, argv, &mode);
    if (r >= 0) return r;
    const char *pa = argv[optind], *pb = argv[optind + 1];
    if (!strcmp(pa, "-") && !strcmp(pb, "-")) {
        fprintf(stderr, "lwc compare: only one image can come from stdin\n");
        return 2;
    }
    LwcImage a = {0}, b = {0};
    char err[256];
    int rc = 1;
    if (lwc_image_read_file(pa, &a, err, sizeof(err)) < 0)
        fprintf(stderr, "lwc compare: %s: %s\n", pa, err);
    else if (lwc_image_read_file(pb, &b, err, sizeof(err)) < 0)
        fprintf(stderr, "lwc compare: %s: %s\n", pb, err);
    else if (compare_check_shapes(&a, &b) == 0) {
        LwcMetrics m;
        if (lwc_metrics_compute(&a, &b, &m) < 0) {
            fprintf(stderr, "lwc compare: out of memory\n");
        } else {
            compare_print(&m, mode, a.channels < 3);
            rc = 0;
        }
    }
    lwc_image_free(&a);
    lwc_image_free(&b);
    return rc;
}
