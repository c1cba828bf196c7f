/* lwc info: describe a stream (header, sections, bpp) or a model file. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "tools/cli/cli.h"

static void tag_text(uint32_t t, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char ch = (char)(t >> (8 * i));
        out[i] = (ch >= 32 && ch < 127) ? ch : '?';
    }
    out[4] = 0;
}

static int stream_info(const char *path, const uint8_t *buf, size_t len, int json)
{
    LwcStreamInfo si;
    int r = lwc_stream_info(buf, len, &si);
    if (r < 0) return lwc_cli_error("info", "'%s': %s", path, lwc_strerror(r));
    double bpp = 8.0 * len / ((double)si.width * si.height);
    char t[5];
    if (json) {
        printf("{\"file\": \"%s\", \"version\": %d, \"width\": %d, \"height\": %d, \"channels\": %d, "
               "\"bit_depth\": %d, \"quality\": %.2f, \"model_id\": \"%016" PRIx64 "\", \"bytes\": %zu, "
               "\"bpp\": %.6f, \"sections\": [", path, si.version, si.width, si.height, si.channels,
               si.bit_depth, si.quality, si.model_id, si.total_size, bpp);
        for (int i = 0; i < si.num_sections; i++) {
            tag_text(si.sections[i].tag, t);
            printf("%s{\"tag\": \"%s\", \"bytes\": %u}", i ? ", " : "", t, si.sections[i].size);
        }
        printf("]}\n");
        return 0;
    }
    printf("%s: lwc stream v%d\n  image: %dx%d, %d channel(s), %d-bit\n  quality: %.2f\n"
           "  model id: %016" PRIx64 "\n  size: %zu bytes, %.4f bpp\n", path, si.version, si.width,
           si.height, si.channels, si.bit_depth, si.quality, si.model_id, si.total_size, bpp);
    for (int i = 0; i < si.num_sections; i++) {
        tag_text(si.sections[i].tag, t);
        printf("  section %s: %u bytes (%.4f bpp)\n", t, si.sections[i].size,
               8.0 * si.sections[i].size / ((double)si.width * si.height));
    }
    return 0;
}

/* Multiply-adds per pixel (decoder: hyper + entropy nets + synthesis). */
static void model_info(const char *path, const LwcModel *m)
{
    const LwcArch *a = &m->a;
    int ms = a->M / a->S;
    double syn = (9.0 * a->M * a->D + 2.0 * a->B * 9 * a->D * a->D + (double)a->D * 192 + (double)a->M * 192) / 64;
    double ent = 0;
    for (int s = 0; s < a->S; s++)
        ent += (double)(a->Ch + s * ms + a->Cc) * a->P + (double)a->P * a->P + 2.0 * a->P * ms + 9.0 * ms * a->Cc / 2;
    ent /= 64;
    double hyp = (9.0 * a->Nz * a->N) / 256 + (9.0 * a->N * a->Ch) / 64;
    double enc = 192.0 * a->M / 64 + 9.0 * a->M * a->N / 256 + 9.0 * a->N * a->Nz / 1024;
    printf("%s: lwc model v%d, id %016" PRIx64 "\n", path, LWC_MODEL_VERSION, m->id);
    printf("  arch: M=%d Nz=%d N=%d Ch=%d slices=%d Cc=%d P=%d D=%d blocks=%d levels=%d\n", a->M, a->Nz,
           a->N, a->Ch, a->S, a->Cc, a->P, a->D, a->B, a->L);
    printf("  multiply-adds per pixel: decoder %.0f (synthesis %.0f, entropy %.0f, hyper %.0f), "
           "encoder %.0f + entropy %.0f + hyper %.0f\n", syn + ent + hyp, syn, ent, hyp, enc, ent, hyp);
}

int lwc_cmd_info(int argc, char **argv)
{
    static const struct option lo[] = { { "json", 0, 0, 'j' }, { "model", 1, 0, 'm' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    int json = 0, c;
    const char *model = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        if (c == 'j') json = 1;
        else if (c == 'm') model = optarg;
        else if (c == 'h') {
            printf("usage: lwc info FILE.lwc [--json]\n       lwc info --model [FILE.lwcm]   (default: the shipped model)\n");
            return 0;
        } else if (c == ':' && !strcmp(argv[optind - 1], "--model")) model = "";
        else return lwc_cli_error("info", "unknown option '%s' (try --help)", argv[optind - 1]) + 1;
    }
    if (model) {
        LwcModel *m = lwc_cli_load_model("info", *model ? model : (optind < argc ? argv[optind] : NULL));
        if (!m) return 1;
        model_info(*model ? model : "model", m);
        lwc_model_free(&m);
        return 0;
    }
    if (optind != argc - 1) return lwc_cli_error("info", "expected one .lwc file (try --help)") + 1;
    uint8_t *buf;
    size_t len;
    int r = lwc_cli_read_all(argv[optind], (size_t)1 << 30, &buf, &len);
    if (r < 0) return lwc_cli_error("info", "cannot read '%s': %s", argv[optind], lwc_strerror(r));
    int ret = stream_info(argv[optind], buf, len, json);
    lwc_free_buffer(buf);
    return ret;
}
