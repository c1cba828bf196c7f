/* lwc info: describe a stream (header, sections, bpp) or a model file. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "codec/model.h"
#include "imageio/imageio.h"
#include "tools/cli/cli.h"
#include "tools/cli/cli_video.h"

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
    LwcMacs k = lwc_model_macs_of(m);
    double syn = k.syn, ent = k.ent, hyp = k.hyp, enc = k.enc;
    double conv = 0; /* weights + biases of every layer, plus the gain vectors */
    conv += 192.0 * a->M + a->M + 9.0 * a->M * a->N + a->N + 9.0 * a->N * a->Nz + a->Nz;
    conv += 9.0 * a->M * a->D + a->D + 2.0 * a->B * (9.0 * a->D * a->D + a->D) + 192.0 * a->D + 192 + 192.0 * a->M;
    conv += 9.0 * a->Nz * a->N + a->N + 9.0 * a->N * a->Ch + a->Ch;
    for (int s = 0; s < a->S; s++)
        conv += 9.0 * ms * a->Cc + a->Cc + (double)(a->Ch + s * ms + a->Cc) * a->P + a->P + (double)a->P * a->P + a->P +
                2.0 * a->P * ms + 2.0 * ms;
    conv += 2.0 * a->L * a->M;
    if (m->zigain) conv += 2.0 * a->L * a->Nz;
    conv += (192.0 + 1 + a->M) * m->ab;
    if (m->ypred) conv += 2.0 * a->M * LWC_YPRED_TAPS;
    printf("%s: lwc model v%u, id %016" PRIx64 ", %.0f parameters\n", path, m->version, m->id, conv);
    printf("  arch: M=%d Nz=%d N=%d Ch=%d slices=%d Cc=%d P=%d D=%d blocks=%d levels=%d\n", a->M, a->Nz,
           a->N, a->Ch, a->S, a->Cc, a->P, a->D, a->B, a->L);
    if (m->zigain || m->ab) printf("  hyper-latent gains: %s; analysis branch: %d channels\n", m->zigain ? "yes" : "no", m->ab);
    if (m->zclasses > 1)
        printf("  z tables: %d context classes per channel%s (%d tables)\n", m->zclasses,
               m->zsets > 1 ? " and rate level" : "", m->fact.count);
    else if (m->fact.count != m->a.Nz)
        printf("  z density: one per rate level (%d x %d tables)\n", m->a.L, m->a.Nz);
    if (m->yctx.edges) {
        printf("  y tables: one set per parity and context class (2 x %d x %d tables), classes at mean |q|",
               lwc_yctx_classes(&m->yctx), LWC_NUM_SCALES);
        for (int e = 0; e < m->yctx.edges; e++) printf("%s%g", e ? ", " : " ", m->yctx.edge[e] / 256.0);
        printf("\n");
        if (m->ypred)
            printf("  y symbols: predicted from the %d coded before each in its pass (in-pass prediction)\n",
                   LWC_YPRED_TAPS);
    } else if (m->gauss.count != LWC_NUM_SCALES) {
        printf("  y tables: one set per rate level (%d x %d tables)\n", m->a.L, LWC_NUM_SCALES);
    }
    printf("  synthesis: %s\n", m->int_synthesis ? "integer (the same pixels on every build and CPU)"
                                                 : "float (pixels may differ by 1 between builds)");
    printf("  multiply-adds per pixel: decoder %.0f (synthesis %.0f, entropy %.0f, hyper %.0f), "
           "encoder %.0f + entropy %.0f + hyper %.0f\n", syn + ent + hyp, syn, ent, hyp, enc, ent, hyp);
}

/* ---- .lwcv: sequence header and per-frame sizes */

typedef struct VideoFrames {
    uint32_t n, cap;
    uint32_t *bytes;
    uint16_t *q100;
} VideoFrames;

static int frames_push(VideoFrames *fr, uint32_t bytes, double q)
{
    if (fr->n == fr->cap) {
        uint32_t ncap = fr->cap ? fr->cap * 2 : 256;
        uint32_t *nb = lwc_malloc_array(ncap, sizeof(*nb));
        uint16_t *nq = lwc_malloc_array(ncap, sizeof(*nq));
        if (!nb || !nq) { lwc_free(nb); lwc_free(nq); return LWC_ERR_NOMEM; }
        if (fr->n) { memcpy(nb, fr->bytes, fr->n * sizeof(*nb)); memcpy(nq, fr->q100, fr->n * sizeof(*nq)); }
        lwc_free(fr->bytes);
        lwc_free(fr->q100);
        fr->bytes = nb;
        fr->q100 = nq;
        fr->cap = ncap;
    }
    fr->bytes[fr->n] = bytes;
    fr->q100[fr->n++] = (uint16_t)(q * 100 + 0.5);
    return LWC_OK;
}

/* Read every packet (checked like a decoder does, without decoding). */
static int video_scan(FILE *f, const LwcVideoHeader *vh, VideoFrames *fr)
{
    uint8_t *pkt = lwc_malloc(lwc_video_max_packet(vh)), prefix[LWC_VIDEO_PREFIX_SIZE];
    LWC_RET_IF(!pkt, LWC_ERR_NOMEM);
    int r = 0;
    for (;;) {
        size_t got, len;
        r = lwc_cli_read_exact(f, prefix, sizeof(prefix), &got);
        if (r == LWC_ERR_TRUNCATED && got == 0) { r = 0; break; }
        if (r == 0) r = lwc_video_prefix_parse(vh, prefix, &len);
        if (r == 0) r = lwc_cli_read_exact(f, pkt, len, NULL);
        if (r == 0) r = lwc_video_packet_check(vh, pkt, len);
        LwcStreamInfo si;
        if (r == 0) r = lwc_stream_info(pkt, len, &si);
        if (r == 0) r = fr->n == UINT32_MAX ? LWC_ERR_TOO_BIG : frames_push(fr, (uint32_t)len, si.quality);
        if (r < 0) break;
    }
    lwc_free(pkt);
    return r;
}

static void video_print(const char *path, const LwcVideoHeader *vh, const VideoFrames *fr, int json)
{
    uint64_t total = LWC_VIDEO_HEADER_SIZE;
    for (uint32_t i = 0; i < fr->n; i++) total += LWC_VIDEO_PREFIX_SIZE + (uint64_t)fr->bytes[i];
    double px = (double)vh->width * vh->height, fps = (double)vh->fps_num / vh->fps_den;
    double bpp = fr->n ? 8.0 * total / (px * fr->n) : 0, kbps = fr->n ? 8.0 * total * fps / fr->n / 1000 : 0;
    const char *src = vh->source_format == LWC_VIDEO_SRC_RGB ? "rgb" : lwc_y4m_chroma_name(vh->source_format);
    if (json) {
        printf("{\"file\": \"%s\", \"type\": \"lwcv\", \"version\": %d, \"width\": %d, \"height\": %d, "
               "\"fps_num\": %u, \"fps_den\": %u, \"source\": \"%s\", \"model_id\": \"%016" PRIx64 "\", "
               "\"frame_count\": %u, \"frames\": %u, \"bytes\": %llu, \"bpp\": %.6f, \"kbps\": %.3f, \"frame_sizes\": [",
               path, vh->version, vh->width, vh->height, vh->fps_num, vh->fps_den, src, vh->model_id,
               vh->frame_count, fr->n, (unsigned long long)total, bpp, kbps);
        for (uint32_t i = 0; i < fr->n; i++)
            printf("%s{\"bytes\": %u, \"quality\": %.2f}", i ? ", " : "", fr->bytes[i], fr->q100[i] / 100.0);
        printf("]}\n");
        return;
    }
    printf("%s: lwc video v%d\n  frames: %dx%d at %u/%u fps, source %s (coded as %s)\n"
           "  model id: %016" PRIx64 "\n  frame count: %u%s\n", path, vh->version, vh->width, vh->height,
           vh->fps_num, vh->fps_den, src, vh->source_format == LWC_VIDEO_SRC_GRAY ? "gray" : "RGB",
           vh->model_id, fr->n, vh->frame_count ? "" : " (header: unknown, written to a pipe)");
    for (uint32_t i = 0; i < fr->n; i++)
        printf("  frame %u: %u bytes, %.4f bpp, q %.2f\n", i, fr->bytes[i], 8.0 * fr->bytes[i] / px, fr->q100[i] / 100.0);
    printf("  size: %llu bytes, %.4f bpp, %.1f kbit/s\n", (unsigned long long)total, bpp, kbps);
}

static int video_info(const char *path, LwcCliInput *in, int json)
{
    uint8_t hdr[LWC_VIDEO_HEADER_SIZE];
    LwcVideoHeader vh;
    VideoFrames fr = { 0 };
    memcpy(hdr, in->head, 4);
    int r = lwc_cli_read_exact(in->f, hdr + 4, sizeof(hdr) - 4, NULL);
    if (r == 0) r = lwc_video_header_parse(hdr, sizeof(hdr), 0, &vh);
    if (r == 0) r = video_scan(in->f, &vh, &fr);
    if (r == 0 && vh.frame_count && fr.n != vh.frame_count) {
        lwc_cli_error("info", "'%s': the header announces %u frames, the stream holds %u", path, vh.frame_count, fr.n);
        r = LWC_ERR_CORRUPT;
    } else if (r == 0)
        video_print(path, &vh, &fr, json);
    else if (fr.n)
        lwc_cli_error("info", "'%s': frame %u: %s", path, fr.n, lwc_strerror(r));
    else
        lwc_cli_error("info", "'%s': %s", path, lwc_strerror(r));
    lwc_free(fr.bytes);
    lwc_free(fr.q100);
    return r < 0;
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
            printf("usage: lwc info FILE.lwc|FILE.lwcv [--json]\n       lwc info --model [FILE.lwcm]   (default: the shipped model)\n");
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
    LwcCliInput in;
    if (lwc_cli_input_open(argv[optind], 4, &in) == 0 && lwc_video_probe(in.head, in.n)) {
        int vr = video_info(argv[optind], &in, json);
        lwc_cli_input_close(&in);
        return vr;
    }
    uint8_t *buf;
    size_t len;
    int r = in.f ? lwc_cli_input_read_rest(&in, (size_t)1 << 30, &buf, &len)
                                               : lwc_cli_read_all(argv[optind], (size_t)1 << 30, &buf, &len);
    lwc_cli_input_close(&in);
    if (r < 0) return lwc_cli_error("info", "cannot read '%s': %s", argv[optind], lwc_strerror(r));
    int ret = stream_info(argv[optind], buf, len, json);
    lwc_free_buffer(buf);
    return ret;
}
