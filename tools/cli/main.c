/* lwc: the command-line front end. One file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "tools/cli/cli.h"
#include "transforms/gemm.h"

typedef struct Cmd {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} Cmd;

static const Cmd k_cmds[] = {
    { "encode", lwc_cmd_encode, "compress an image (PNG, JPEG, PPM/PGM) to .lwc" },
    { "decode", lwc_cmd_decode, "decompress .lwc to PNG or PPM/PGM" },
    { "info", lwc_cmd_info, "show the header and sections of a .lwc file, or a model" },
    { "compare", lwc_cmd_compare, "quality metrics between two images (PSNR, SSIM, MS-SSIM)" },
    { "bdrate", lwc_cmd_bdrate, "Bjontegaard delta rate between two RD curves" },
    { "train", lwc_cmd_train, "train a model on a folder of images (see lwc train --help)" },
    { "bench", lwc_cmd_bench, "time encode/decode per stage: MP/s, multiply-adds/pixel, peak memory" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: lwc <command> [options]   (lwc <command> --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(k_cmds) / sizeof(k_cmds[0]); i++)
        fprintf(f, "  %-8s %s\n", k_cmds[i].name, k_cmds[i].help);
    fprintf(f, "\n  --version  print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    /* lwc splits work over its own threads: stop OpenBLAS's now, before a
     * model loads, rather than let them spin through a short command */
    lwc_gemm_set_threads(1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("lwc %s\n", lwc_version()); return 0; }
    for (size_t i = 0; i < sizeof(k_cmds) / sizeof(k_cmds[0]); i++)
        if (!strcmp(argv[1], k_cmds[i].name)) return k_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lwc: unknown command '%s' (try lwc --help)\n", argv[1]);
    return 2;
}
