#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "tools/cli/cli.h"

#ifndef LWC_MODEL_DIR
#define LWC_MODEL_DIR "/usr/local/share/lwc"
#endif
#define DEFAULT_MODEL "lwc-default.lwcm"

int lwc_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lwc %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int lwc_cli_read_all(const char *path, size_t cap, uint8_t **buf, size_t *size)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    LWC_RET_IF(!f, LWC_ERR_IO);
    size_t len = 0, alloc = 1 << 16;
    uint8_t *b = lwc_malloc(alloc);
    int r = b ? LWC_OK : LWC_ERR_NOMEM;
    while (r == LWC_OK) {
        if (len == alloc) {
            if (alloc >= cap) { r = LWC_ERR_TOO_BIG; break; }
            uint8_t *nb = lwc_malloc(alloc * 2);
            if (!nb) { r = LWC_ERR_NOMEM; break; }
            memcpy(nb, b, len);
            lwc_free(b);
            b = nb;
            alloc *= 2;
        }
        size_t n = fread(b + len, 1, alloc - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) r = LWC_ERR_IO;
            break;
        }
    }
    if (f != stdin) fclose(f);
    if (r < 0) { lwc_free(b); return r; }
    *buf = b;
    *size = len;
    return LWC_OK;
}

int lwc_cli_write_atomic(const char *path, const uint8_t *buf, size_t size, int allow_tty)
{
    if (!strcmp(path, "-")) {
        LWC_RET_IF(!allow_tty && isatty(STDOUT_FILENO), LWC_ERR_INVAL);
        LWC_RET_IF(fwrite(buf, 1, size, stdout) != size || fflush(stdout), LWC_ERR_IO);
        return LWC_OK;
    }
    size_t n = strlen(path) + 16;
    char *tmp = lwc_malloc(n);
    LWC_RET_IF(!tmp, LWC_ERR_NOMEM);
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) { lwc_free(tmp); return LWC_ERR_IO; }
    FILE *f = fdopen(fd, "wb");
    int ok = f && fwrite(buf, 1, size, f) == size;
    if (f) ok = !fclose(f) && ok; else close(fd);
    if (ok) ok = !rename(tmp, path);
    if (!ok) remove(tmp);
    else chmod(path, 0644);
    lwc_free(tmp);
    return ok ? LWC_OK : LWC_ERR_IO;
}

int lwc_cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!strcmp(a, "-") || !strcmp(b, "-")) return 0;
    if (stat(a, &sa) || stat(b, &sb)) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int lwc_cli_exe_dir(char *dir, size_t size)
{
    ssize_t n = size > 1 ? readlink("/proc/self/exe", dir, size - 1) : -1;
    if (n <= 0) return -1;
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (!slash) return -1;
    slash[slash == dir] = 0; /* "/lwc" -> "/" */
    return 0;
}

static int try_load(LwcModel **m, const char *path)
{
    return access(path, R_OK) ? LWC_ERR_IO : lwc_model_load_file(m, path);
}

LwcModel *lwc_cli_load_model(const char *cmd, const char *path)
{
    LwcModel *m = NULL;
    const char *env = getenv("LWC_MODEL");
    const char *p = path ? path : (env && *env) ? env : NULL;
    if (p) {
        int r = lwc_model_load_file(&m, p);
        if (r == LWC_ERR_MODEL)
            lwc_cli_error(cmd, "cannot load model '%s': its integer synthesis could overflow 32-bit sums; refused", p);
        else if (r < 0)
            lwc_cli_error(cmd, "cannot load model '%s': %s", p, lwc_strerror(r));
        return m;
    }
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    if (lwc_cli_exe_dir(exe, sizeof(exe)) == 0) {
        snprintf(cand, sizeof(cand), "%s/../models/%s", exe, DEFAULT_MODEL);
        if (try_load(&m, cand) == LWC_OK) return m;
        snprintf(cand, sizeof(cand), "%s/../share/lwc/%s", exe, DEFAULT_MODEL);
        if (try_load(&m, cand) == LWC_OK) return m;
    }
    snprintf(cand, sizeof(cand), "%s/%s", LWC_MODEL_DIR, DEFAULT_MODEL);
    if (try_load(&m, cand) == LWC_OK) return m;
    lwc_cli_error(cmd, "no trained model is installed (looked for models/%s next to the "
                       "executable and in %s); pass --model PATH or set LWC_MODEL", DEFAULT_MODEL, LWC_MODEL_DIR);
    return NULL;
}

int lwc_cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

int lwc_cli_parse_int(const char *s, int lo, int hi, int *out)
{
    double v;
    if (lwc_cli_parse_double(s, lo, hi, &v) || v != (int)v) return -1;
    *out = (int)v;
    return 0;
}

int lwc_cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}
