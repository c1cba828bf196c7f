/* Test helper: write a model with fixed pseudo-random weights.
 * usage: lwc_test_mkmodel OUT.lwcm [SEED] [M,Nz,N,Ch,S,Cc,P,D,B,L|-] [OPTIONS]
 * OPTIONS (comma-separated): "zlevels": one z density per rate level (model
 * version 3); "int": with the integer synthesis (model version 4); "ctx":
 * with "int", y tables per context class (model version 6); "pred": with
 * "ctx", in-pass prediction (model version 7); "zctx": with "pred", z
 * tables per context class (model version 8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "learn/net.h"
#include "learn/random_model.h"

int main(int argc, char **argv)
{
    LwcArch a = { .M = 16, .Nz = 8, .N = 16, .Ch = 16, .S = 2, .Cc = 8, .P = 16, .D = 16, .B = 1, .L = 4 };
    if (argc < 2) { fprintf(stderr, "usage: lwc_test_mkmodel OUT [SEED] [ARCH]\n"); return 2; }
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 7;
    if (argc > 3 && strcmp(argv[3], "-") && sscanf(argv[3], "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d", &a.M, &a.Nz, &a.N, &a.Ch, &a.S, &a.Cc, &a.P,
                           &a.D, &a.B, &a.L) != 10) { fprintf(stderr, "bad arch\n"); return 2; }
    int zsets = argc > 4 && strstr(argv[4], "zlevels") ? a.L : 1;
    int flags = argc > 4 && strstr(argv[4], "int") ? LWC_EXPORT_INT_SYNTHESIS : 0;
    if (argc > 4 && strstr(argv[4], "ctx")) flags |= LWC_RANDOM_MODEL_YCTX;
    if (argc > 4 && strstr(argv[4], "pred")) flags |= LWC_RANDOM_MODEL_YPRED;
    if (argc > 4 && strstr(argv[4], "zctx")) flags |= LWC_RANDOM_MODEL_ZCTX;
    uint8_t *buf;
    size_t len;
    int r = lwc_net_random_model_flags(&a, seed, zsets, flags, &buf, &len);
    if (r < 0) { fprintf(stderr, "lwc_test_mkmodel: %s\n", lwc_strerror(r)); return 1; }
    FILE *f = fopen(argv[1], "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f) ok = !fclose(f) && ok;
    lwc_free(buf);
    return ok ? 0 : 1;
}
