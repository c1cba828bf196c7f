/* lwc bdrate ANCHOR.csv TEST.csv: Bjontegaard delta rate / quality. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "tools/cli/cli.h"
#include "tools/lib/bdrate.h"

typedef struct {
    int method;
    const char *metric;
    int json;
} BdOptions;

static void bdrate_usage(FILE *f)
{
    fputs("usage: lwc bdrate ANCHOR.csv TEST.csv [--method M] [--metric Q] [--json]\n"
          "\n"
          "BD-rate and BD-quality of TEST against ANCHOR. Each CSV has a header line\n"
          "naming its columns (bpp and psnr, optionally msssim; others are ignored) and\n"
          "one row per rate point, in any order.\n"
          "\n"
          "  --method M  pchip (default): monotone piecewise cubic (scipy PchipInterpolator,\n"
          "              JVET CTC practice); cubic: Bjontegaard's least-squares cubic\n"
          "              (VCEG-M33, needs 4+ points); akima: Akima spline\n"
          "  --metric Q  psnr (default) or msssim (used as -10*log10(1 - MS-SSIM) dB)\n"
          "  --json      one JSON object: bd_rate, bd_psnr, method, metric, overlap\n"
          "  -h, --help  this text\n"
          "\n"
          "BD-rate: mean log-rate difference over the common quality range, in %\n"
          "(negative: TEST saves bits). BD-PSNR: mean quality difference in dB over the\n"
          "common log-rate range (positive: TEST is better). A warning goes to stderr\n"
          "when the quality ranges overlap over less than 75% of the smaller one.\n",
          f);
}

static int bdrate_parse(int argc, char **argv, BdOptions *o)
{
    static const struct option opts[] = {{"method", required_argument, NULL, 'm'},
                                         {"metric", required_argument, NULL, 'q'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 0; /* 0, not 1: makes glibc and musl fully reset their scan state */
    opterr = 0; /* we print our own one-line errors */
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            o->method = lwc_bd_method_from_name(optarg);
            if (o->method >= 0) break;
            fprintf(stderr, "lwc bdrate: --method '%s' is not pchip, cubic or akima\n", optarg);
            return 2;
        case 'q':
            o->metric = optarg;
            if (!strcmp(optarg, "psnr") || !strcmp(optarg, "msssim")) break;
            fprintf(stderr, "lwc bdrate: --metric '%s' is not psnr or msssim\n", optarg);
            return 2;
        case 'j': o->json = 1; break;
        case 'h': bdrate_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "lwc bdrate: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default: /* optopt names an unknown short option; 0 for a long one */
            if (optopt)
                fprintf(stderr, "lwc bdrate: unknown option '-%c' (see lwc bdrate --help)\n", optopt);
            else
                fprintf(stderr, "lwc bdrate: unknown option '%s' (see lwc bdrate --help)\n",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "lwc bdrate: expected 2 files (ANCHOR.csv TEST.csv), got %d "
                "(see lwc bdrate --help)\n", argc - optind);
        return 2;
    }
    return -1;
}

static void bdrate_print(const BdOptions *o, double rate, double dq, double overlap)
{
    const char *name = lwc_bd_method_name(o->method);
    if (o->json) {
        printf("{\n  \"bd_rate\": %.6f,\n  \"bd_psnr\": ", rate);
        if (isfinite(dq)) printf("%.6f", dq);
        else fputs("null", stdout);
        printf(",\n  \"method\": \"%s\",\n  \"metric\": \"%s\",\n  \"overlap\": %.6f\n}\n", name,
               o->metric, overlap);
        return;
    }
    printf("BD-rate       %.4f %%\n", rate);
    const char *label = strcmp(o->metric, "msssim") ? "BD-PSNR   " : "BD-MS-SSIM";
    if (isfinite(dq)) printf("%s    %.4f dB\n", label, dq);
    else printf("%s    n/a (the curves share no rate range)\n", label);
    printf("method        %s, %s, overlap %.1f%%\n", name, o->metric, 100 * overlap);
}

/* Load one curve; prints the error and returns -1 on failure. */
static int bdrate_load(const char *path, const char *metric, double **r, double **q, int *n)
{
    char err[256];
    if (lwc_rd_csv_read(path, metric, r, q, n, err, sizeof(err)) == 0) return 0;
    fprintf(stderr, "lwc bdrate: %s\n", err);
    return -1;
}

int lwc_cmd_bdrate(int argc, char **argv)
{
    BdOptions o = {LWC_BD_PCHIP, "psnr", 0};
    int r = bdrate_parse(argc, argv, &o);
    if (r >= 0) return r;
    double *ra = NULL, *qa = NULL, *rt = NULL, *qt = NULL;
    int na = 0, nt = 0, rc = 1;
    if (bdrate_load(argv[optind], o.metric, &ra, &qa, &na) == 0 &&
        bdrate_load(argv[optind + 1], o.metric, &rt, &qt, &nt) == 0) {
        double rate, dq, overlap;
        char err[256];
        if (lwc_bdrate(ra, qa, na, rt, qt, nt, o.method, &rate, &dq, &overlap, err,
                       sizeof(err)) < 0) {
            fprintf(stderr, "lwc bdrate: %s\n", err);
        } else {
            if (overlap < 0.75)
                fprintf(stderr, "lwc bdrate: warning: the quality ranges overlap over only "
                        "%.0f%% of the smaller one; treat the result with care\n", 100 * overlap);
            bdrate_print(&o, rate, dq, overlap);
            rc = 0;
        }
    }
    lwc_free(ra);
    lwc_free(qa);
    lwc_free(rt);
    lwc_free(qt);
    return rc;
}
