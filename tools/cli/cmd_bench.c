/* lwc bench: encode and decode images R times through the library API and
 * report median per-stage times (from LwcStats), MP/s, the model's
 * multiply-adds per pixel, the kernels in use and the peak resident memory. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "imageio/imageio.h"
#include "codec/model.h"
#include "tools/cli/cli.h"
#include "transforms/gemm.h"


#define MAX_REPEAT 1000
#define DEFAULT_INPUT "docs/sample.png"

typedef struct BenchOpts {
    char **files;
    int nfiles;
    const char *model;
    double quality;
    int threads, repeat, json, ref, int_ref;
} BenchOpts;

/* Stage times of one run, seconds. Encoder stages: wavelet (pixels -> planes
 * -> wavelet packet), analysis (g_a + gains), hyper (h_a + rounding of z),
 * entropy (z coding, integer hyper synthesis, entropy model + rANS of y).
 * Decoder: hyper (z decoding + integer hyper synthesis), entropy (entropy
 * model + rANS of y), synthesis (g_s + inverse wavelet + pixels). */
enum { E_WAVELET, E_ANALYSIS, E_HYPER, E_ENTROPY, E_OTHER, E_TOTAL, E_N };
enum { D_HYPER, D_ENTROPY, D_SYNTHESIS, D_OTHER, D_TOTAL, D_N };
enum { IO_READ, IO_WRITE, IO_N };
static const char *k_enc_names[E_N] = { "wavelet", "analysis", "hyper", "entropy", "other", "total" };
static const char *k_dec_names[D_N] = { "hyper", "entropy", "synthesis", "other", "total" };
static const char *k_io_names[IO_N] = { "read", "write_png" };

typedef struct FileResult {
    const char *path;
    int width, height;
    size_t bytes;
    double enc[E_N], dec[D_N], io[IO_N]; /* medians; io[IO_WRITE] < 0: not measured */
} FileResult;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lwc bench [FILES...] [options]\n"
               "  FILES              PNG, JPEG, PPM/PGM images; default %s\n"
               "  -q, --quality Q    0 (smallest) .. 100 (best); default 50\n"
               "  --threads N        worker threads, 1..64; default 1\n"
               "  --repeat R         encodes and decodes per file, 1..%d; default 5 (medians reported)\n"
               "  --model FILE       model (default: the shipped models/lwc-default.lwcm)\n"
               "  --reference        plain C float kernels instead of OpenBLAS\n"
               "  --int-reference    C reference kernels for the integer entropy model (no SIMD)\n"
               "  --json             one JSON object on stdout\n", DEFAULT_INPUT, MAX_REPEAT);
}

static int parse(int argc, char **argv, BenchOpts *o)
{
    static const struct option lo[] = {
        { "quality", 1, 0, 'q' }, { "threads", 1, 0, 't' }, { "repeat", 1, 0, 'R' }, { "model", 1, 0, 'm' },
        { "reference", 0, 0, 'r' }, { "int-reference", 0, 0, 'I' }, { "json", 0, 0, 'j' },
        { "help", 0, 0, 'h' }, { 0, 0, 0, 0 } };
    memset(o, 0, sizeof(*o));
    o->quality = 50; o->threads = 1; o->repeat = 5;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":q:h", lo, NULL)) != -1) {
        switch (c) {
        case 'q': if (lwc_cli_parse_double(optarg, 0, 100, &o->quality)) return lwc_cli_error("bench", "bad -q value '%s' (expected 0..100)", optarg) + 1; break;
        case 't': if (lwc_cli_parse_int(optarg, 1, 64, &o->threads)) return lwc_cli_error("bench", "bad --threads value '%s' (expected 1..64)", optarg) + 1; break;
        case 'R': if (lwc_cli_parse_int(optarg, 1, MAX_REPEAT, &o->repeat)) return lwc_cli_error("bench", "bad --repeat value '%s' (expected 1..%d)", optarg, MAX_REPEAT) + 1; break;
        case 'm': o->model = optarg; break;
        case 'r': o->ref = 1; break;
        case 'I': o->int_ref = 1; break;
        case 'j': o->json = 1; break;
        case 'h': usage(stdout); return -1;
        case ':': return lwc_cli_error("bench", "option '%s' needs a value", argv[optind - 1]) + 1;
        default: return lwc_cli_error("bench", "unknown option '%s' (try --help)", argv[optind - 1]) + 1;
        }
    }
    o->files = argv + optind;
    o->nfiles = argc - optind;
    return 0;
}

/* docs/sample.png from the working directory, else from the source tree the
 * executable was built in (build/../docs). */
static const char *default_input(char *buf, size_t len)
{
    if (!access(DEFAULT_INPUT, R_OK)) return DEFAULT_INPUT;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(buf, len, "%s/../%s", exe, DEFAULT_INPUT);
        if (!access(buf, R_OK)) return buf;
    }
    return DEFAULT_INPUT; /* the read reports the error */
}


/* Write the decoded image as PNG to a temporary file (timed), then remove it. */
static double time_png_write(const LwcImage *img)
{
    const char *dir = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/lwc-bench-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    char err[256];
    double t0 = now();
    int r = lwc_image_write_file(path, img, LWC_FMT_PNG, 90, err, sizeof(err));
    double t = now() - t0;
    unlink(path);
    return r < 0 ? -1 : t;
}

static void enc_stages(const LwcStats *st, double *v)
{
    v[E_WAVELET] = st->t_wavelet; v[E_ANALYSIS] = st->t_analysis; v[E_HYPER] = st->t_hyper;
    v[E_ENTROPY] = st->t_entropy; v[E_TOTAL] = st->t_total;
    v[E_OTHER] = st->t_total - st->t_wavelet - st->t_analysis - st->t_hyper - st->t_entropy;
}

static void dec_stages(const LwcStats *st, double *v)
{
    v[D_HYPER] = st->t_hyper; v[D_ENTROPY] = st->t_entropy; v[D_SYNTHESIS] = st->t_synthesis;
    v[D_TOTAL] = st->t_total;
    v[D_OTHER] = st->t_total - st->t_hyper - st->t_entropy - st->t_synthesis;
}

/* samples: [stage][repeat]. */
static int bench_file(const BenchOpts *o, LwcContext *ctx, const char *path, FileResult *fr, double *samples)
{
    int R = o->repeat;
    double *se = samples, *sd = se + E_N * R, *si = sd + D_N * R;
    LwcImage img = { 0 };
    char err[256];
    for (int i = 0; i < R; i++) {
        lwc_image_free(&img);
        double t0 = now();
        int r = lwc_image_read_file(path, &img, err, sizeof(err));
        si[IO_READ * R + i] = now() - t0;
        if (r < 0) return lwc_cli_error("bench", "cannot read '%s': %s", path, err);
    }
    LwcEncodeParams p;
    lwc_default_encode_params(&p);
    p.quality = o->quality;
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = 0;
    for (int i = 0; i < R && r >= 0; i++) {
        lwc_free_buffer(buf);
        LwcStats st;
        double v[E_N];
        r = lwc_encode(ctx, &img, &p, &buf, &len, NULL, &st);
        enc_stages(&st, v);
        for (int s = 0; s < E_N; s++) se[s * R + i] = v[s];
    }
    if (r < 0) {
        lwc_image_free(&img);
        return lwc_cli_error("bench", "encoding '%s' failed: %s", path, lwc_strerror(r));
    }
    int wok = 1;
    for (int i = 0; i < R && r >= 0; i++) {
        LwcImage out;
        LwcStats st;
        double v[D_N];
        r = lwc_decode(ctx, buf, len, &out, &st);
        if (r < 0) break;
        dec_stages(&st, v);
        for (int s = 0; s < D_N; s++) sd[s * R + i] = v[s];
        si[IO_WRITE * R + i] = time_png_write(&out);
        wok = wok && si[IO_WRITE * R + i] >= 0;
        lwc_image_free(&out);
    }
    fr->path = path; fr->width = img.width; fr->height = img.height; fr->bytes = len;
    lwc_free_buffer(buf);
    lwc_image_free(&img);
    if (r < 0) return lwc_cli_error("bench", "decoding '%s' failed: %s", path, lwc_strerror(r));
    for (int s = 0; s < E_N; s++) fr->enc[s] = median(se + s * R, R);
    for (int s = 0; s < D_N; s++) fr->dec[s] = median(sd + s * R, R);
    for (int s = 0; s < IO_N; s++) fr->io[s] = median(si + s * R, R);
    if (!wok) fr->io[IO_WRITE] = -1;
    return 0;
}

static double peak_rss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1 : (double)ru.ru_maxrss; /* KiB on Linux */
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

static void json_stages(const char *key, const char *const *names, const double *v, int n, double mp)
{
    printf("\"%s\": {", key);
    for (int s = 0; s < n; s++) printf("\"%s\": %.6f, ", names[s], v[s]);
    printf("\"mp_per_s\": %.4f}", mp / v[n - 1]);
}

typedef struct Totals { double mp, enc, dec, read, write, rss; size_t bytes; } Totals; /* write < 0: not measured */

static void print_json(const BenchOpts *o, const LwcModel *m, const char *model_path, const LwcMacs *k,
                       const FileResult *fr, int n, const Totals *t)
{
    const LwcArch *a = &m->a;
    printf("{\"model\": ");
    json_str(model_path);
    printf(", \"model_id\": \"%016" PRIx64 "\", \"arch\": {\"M\": %d, \"Nz\": %d, \"N\": %d, \"Ch\": %d, \"S\": %d, "
           "\"Cc\": %d, \"P\": %d, \"D\": %d, \"B\": %d, \"L\": %d},\n", m->id, a->M, a->Nz, a->N, a->Ch, a->S, a->Cc,
           a->P, a->D, a->B, a->L);
    printf(" \"macs_per_pixel\": {\"decoder\": %.0f, \"encoder\": %.0f, \"synthesis\": %.0f, \"entropy\": %.0f, "
           "\"hyper\": %.0f, \"analysis\": %.0f},\n", k->syn + k->ent + k->hyp, k->enc + k->ent + k->hyp, k->syn,
           k->ent, k->hyp, k->enc);
    printf(" \"kernels\": {\"float\": \"%s\", \"int\": \"%s\"}, \"threads\": %d, \"quality\": %.2f, \"repeat\": %d,\n",
           lwc_gemm_kernel_name(), lwc_intconv_kernel_name(), o->threads, o->quality, o->repeat);
    printf(" \"files\": [");
    for (int i = 0; i < n; i++) {
        double mp = (double)fr[i].width * fr[i].height / 1e6;
        printf("%s\n  {\"file\": ", i ? "," : "");
        json_str(fr[i].path);
        printf(", \"width\": %d, \"height\": %d, \"bytes\": %zu, \"bpp\": %.6f,\n   ", fr[i].width, fr[i].height,
               fr[i].bytes, 8.0 * fr[i].bytes / (mp * 1e6));
        json_stages("encode", k_enc_names, fr[i].enc, E_N, mp);
        printf(",\n   ");
        json_stages("decode", k_dec_names, fr[i].dec, D_N, mp);
        printf(",\n   \"io\": {\"%s\": %.6f, \"%s\": ", k_io_names[IO_READ], fr[i].io[IO_READ], k_io_names[IO_WRITE]);
        if (fr[i].io[IO_WRITE] < 0) printf("null}}");
        else printf("%.6f}}", fr[i].io[IO_WRITE]);
    }
    printf("],\n \"total\": {\"megapixels\": %.6f, \"bytes\": %zu, \"encode_s\": %.6f, \"decode_s\": %.6f, "
           "\"encode_mp_per_s\": %.4f, \"decode_mp_per_s\": %.4f, \"read_s\": %.6f, \"write_png_s\": ", t->mp,
           t->bytes, t->enc, t->dec, t->mp / t->enc, t->mp / t->dec, t->read);
    if (t->write < 0) printf("null");
    else printf("%.6f", t->write);
    printf("},\n \"peak_rss_kib\": %.0f}\n", t->rss);
}

static void print_stages(const char *what, const char *const *names, const double *v, int n, double mp)
{
    printf("  %-7s %8.1f ms %7.2f MP/s  ", what, v[n - 1] * 1e3, mp / v[n - 1]);
    for (int s = 0; s < n - 1; s++) printf(" %s %.1f", names[s], v[s] * 1e3);
    printf(" ms\n");
}

static void print_text(const BenchOpts *o, const LwcModel *m, const char *model_path, const LwcMacs *k,
                       const FileResult *fr, int n, const Totals *t)
{
    printf("model %s (id %016" PRIx64 "): %.0f multiply-adds/pixel decoding (synthesis %.0f, entropy %.0f, "
           "hyper %.0f), %.0f encoding\n", model_path, m->id, k->syn + k->ent + k->hyp, k->syn, k->ent, k->hyp,
           k->enc + k->ent + k->hyp);
    printf("kernels: float %s, int %s; %d thread(s), q %.2f, median of %d\n", lwc_gemm_kernel_name(),
           lwc_intconv_kernel_name(), o->threads, o->quality, o->repeat);
    for (int i = 0; i < n; i++) {
        double mp = (double)fr[i].width * fr[i].height / 1e6;
        printf("%s: %dx%d, %zu bytes, %.4f bpp\n", fr[i].path, fr[i].width, fr[i].height, fr[i].bytes,
               8.0 * fr[i].bytes / (mp * 1e6));
        print_stages("encode", k_enc_names, fr[i].enc, E_N, mp);
        print_stages("decode", k_dec_names, fr[i].dec, D_N, mp);
        printf("  io       read %.1f ms", fr[i].io[IO_READ] * 1e3);
        if (fr[i].io[IO_WRITE] >= 0) printf(", write PNG %.1f ms", fr[i].io[IO_WRITE] * 1e3);
        printf("\n");
    }
    printf("total: %.3f MP, encode %.1f ms (%.2f MP/s), decode %.1f ms (%.2f MP/s); peak RSS %.1f MiB\n", t->mp,
           t->enc * 1e3, t->mp / t->enc, t->dec * 1e3, t->mp / t->dec, t->rss / 1024);
}

static int run(const BenchOpts *o, LwcContext *ctx, char **files, int n, const LwcModel *m, const char *model_path)
{
    FileResult *fr = calloc((size_t)n, sizeof(*fr));
    double *samples = malloc((size_t)(E_N + D_N + IO_N) * o->repeat * sizeof(double));
    if (!fr || !samples) {
        free(fr); free(samples);
        return lwc_cli_error("bench", "out of memory");
    }
    int ret = 0;
    Totals t = { 0 };
    for (int i = 0; i < n && !ret; i++) {
        ret = bench_file(o, ctx, files[i], &fr[i], samples);
        t.mp += (double)fr[i].width * fr[i].height / 1e6;
        t.enc += fr[i].enc[E_TOTAL];
        t.dec += fr[i].dec[D_TOTAL];
        t.read += fr[i].io[IO_READ];
        t.write = t.write < 0 || fr[i].io[IO_WRITE] < 0 ? -1 : t.write + fr[i].io[IO_WRITE];
        t.bytes += fr[i].bytes;
    }
    t.rss = peak_rss_kib();
    LwcMacs k = lwc_model_macs_of(m);
    if (!ret && o->json) print_json(o, m, model_path, &k, fr, n, &t);
    else if (!ret) print_text(o, m, model_path, &k, fr, n, &t);
    free(fr);
    free(samples);
    return ret;
}

int lwc_cmd_bench(int argc, char **argv)
{
    BenchOpts o;
    int pr = parse(argc, argv, &o);
    if (pr) return pr < 0 ? 0 : pr;
    char defbuf[PATH_MAX + 32];
    char *def[1] = { (char *)default_input(defbuf, sizeof(defbuf)) };
    char **files = o.nfiles ? o.files : def;
    int nfiles = o.nfiles ? o.nfiles : 1;
    LwcModel *m = lwc_cli_load_model("bench", o.model);
    if (!m) return 1;
    const char *mp = o.model ? o.model : getenv("LWC_MODEL") && *getenv("LWC_MODEL") ? getenv("LWC_MODEL") : "default";
    LwcSettings s;
    lwc_default_settings(&s);
    s.threads = o.threads;
    s.reference_kernels = o.ref;
    LwcContext *ctx = NULL;
    int r = lwc_open(&ctx, m, &s), ret = 1;
    if (r < 0) lwc_cli_error("bench", "%s", lwc_strerror(r));
    lwc_intconv_force_reference(o.int_ref);
    if (ctx) ret = run(&o, ctx, files, nfiles, m, mp);
    lwc_intconv_force_reference(0);
    lwc_close(&ctx);
    lwc_model_free(&m);
    return ret;
}
