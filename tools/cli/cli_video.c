#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "tools/cli/cli_video.h"

int lwc_cli_input_open(const char *path, size_t peek, LwcCliInput *in)
{
    memset(in, 0, sizeof(*in));
    LWC_RET_IF(peek > sizeof(in->head), LWC_ERR_INVAL);
    in->f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    LWC_RET_IF(!in->f, LWC_ERR_IO);
    in->n = fread(in->head, 1, peek, in->f);
    if (in->n < peek && ferror(in->f)) {
        lwc_cli_input_close(in);
        return LWC_ERR_IO;
    }
    return LWC_OK;
}

int lwc_cli_read_exact(FILE *f, uint8_t *buf, size_t n, size_t *got)
{
    size_t k = fread(buf, 1, n, f);
    if (got) *got = k;
    if (k == n) return LWC_OK;
    return ferror(f) ? LWC_ERR_IO : LWC_ERR_TRUNCATED;
}

int lwc_cli_input_read_rest(LwcCliInput *in, size_t cap, uint8_t **buf, size_t *size)
{
    size_t len = in->n, alloc = 1 << 16;
    uint8_t *b = lwc_malloc(alloc);
    LWC_RET_IF(!b, LWC_ERR_NOMEM);
    memcpy(b, in->head, in->n);
    for (;;) {
        if (len == alloc) {
            if (alloc >= cap) { lwc_free(b); return LWC_ERR_TOO_BIG; }
            uint8_t *nb = lwc_malloc(alloc * 2);
            if (!nb) { lwc_free(b); return LWC_ERR_NOMEM; }
            memcpy(nb, b, len);
            lwc_free(b);
            b = nb;
            alloc *= 2;
        }
        size_t k = fread(b + len, 1, alloc - len, in->f);
        len += k;
        if (k == 0) break;
    }
    if (ferror(in->f)) { lwc_free(b); return LWC_ERR_IO; }
    *buf = b;
    *size = len;
    return LWC_OK;
}

void lwc_cli_input_close(LwcCliInput *in)
{
    if (in && in->f && in->f != stdin) fclose(in->f);
    if (in) memset(in, 0, sizeof(*in));
}

int lwc_cli_output_open(const char *path, int allow_tty, LwcCliOutput *o)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    if (!strcmp(path, "-")) {
        LWC_RET_IF(!allow_tty && isatty(STDOUT_FILENO), LWC_ERR_INVAL);
        o->f = stdout;
        return LWC_OK;
    }
    size_t n = strlen(path) + 16;
    o->tmp = lwc_malloc(n);
    LWC_RET_IF(!o->tmp, LWC_ERR_NOMEM);
    snprintf(o->tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd >= 0 && !(o->f = fdopen(fd, "wb"))) close(fd);
    if (!o->f) {
        if (fd >= 0) remove(o->tmp);
        lwc_free(o->tmp);
        o->tmp = NULL;
        return LWC_ERR_IO;
    }
    return LWC_OK;
}

int lwc_cli_output_seekable(const LwcCliOutput *o)
{
    return o->f && o->tmp;
}

int lwc_cli_output_commit(LwcCliOutput *o)
{
    if (!o->tmp) {
        int ok = o->f && !fflush(o->f) && !ferror(o->f);
        o->f = NULL;
        return ok ? LWC_OK : LWC_ERR_IO;
    }
    int ok = !ferror(o->f);
    ok = !fclose(o->f) && ok;
    o->f = NULL;
    if (ok) ok = !rename(o->tmp, o->path);
    if (ok) chmod(o->path, 0644);
    else remove(o->tmp);
    lwc_free(o->tmp);
    o->tmp = NULL;
    return ok ? LWC_OK : LWC_ERR_IO;
}

void lwc_cli_output_abort(LwcCliOutput *o)
{
    if (!o) return;
    if (o->tmp) {
        if (o->f) fclose(o->f);
        remove(o->tmp);
        lwc_free(o->tmp);
    } else if (o->f) {
        fflush(o->f);
    }
    o->f = NULL;
    o->tmp = NULL;
}
