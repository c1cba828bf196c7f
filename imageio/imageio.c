/* Format detection, dispatch to the format modules, whole-file reading and
 * the atomic (temp file + rename) write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "imageio.h"

int lwc_format_detect(const uint8_t *buf, size_t size)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 8 && !memcmp(buf, png_sig, 8)) return LWC_FMT_PNG;
    if (size >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff) return LWC_FMT_JPEG;
    if (size >= 2 && buf[0] == 'P' && (buf[1] == '5' || buf[1] == '6')) return LWC_FMT_PPM;
    return LWC_ERR_UNSUPPORTED;
}

int lwc_format_from_path(const char *path)
{
    if (!path) return LWC_ERR_UNSUPPORTED;
    if (!strcmp(path, "-")) return LWC_FMT_PNG;
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return LWC_ERR_UNSUPPORTED;
    dot++;
    if (!strcasecmp(dot, "png")) return LWC_FMT_PNG;
    if (!strcasecmp(dot, "ppm") || !strcasecmp(dot, "pgm") || !strcasecmp(dot, "pnm"))
        return LWC_FMT_PPM;
    if (!strcasecmp(dot, "jpg") || !strcasecmp(dot, "jpeg")) return LWC_FMT_JPEG;
    return LWC_ERR_UNSUPPORTED;
}

/* 1 when buf (too short for any magic) is the start of a known one: such
 * input is a truncated file rather than an unknown format. */
static int is_magic_prefix(const uint8_t *buf, size_t size)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t jpeg_sig[3] = {0xff, 0xd8, 0xff};
    return (size < 8 && !memcmp(buf, png_sig, size)) || (size < 3 && !memcmp(buf, jpeg_sig, size)) ||
           (size == 1 && buf[0] == 'P');
}

int lwc_image_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err, size_t errlen)
{
    if (!img) return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "no output image");
    memset(img, 0, sizeof(*img));
    if (!buf || size == 0) return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED, "empty input");
    switch (lwc_format_detect(buf, size)) {
    case LWC_FMT_PNG: return lwc_png_read_mem(buf, size, img, err, errlen);
    case LWC_FMT_JPEG: return lwc_jpeg_read_mem(buf, size, img, err, errlen);
    case LWC_FMT_PPM: return lwc_pnm_read_mem(buf, size, img, err, errlen);
    default:
        if (is_magic_prefix(buf, size))
            return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED, "truncated image file");
        return lwc_io_fail(err, errlen, LWC_ERR_UNSUPPORTED,
                           "unrecognised image format (expected PNG, JPEG, PPM or PGM)");
    }
}

/* Read a whole stream into a new buffer. The buffer starts at the file size
 * when known (regular files) and otherwise doubles, up to LWC_IO_MAX_FILE. */
static int read_stream(FILE *f, uint8_t **out, size_t *out_size, char *err, size_t errlen)
{
    struct stat st;
    size_t cap = 1 << 16, len = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size < LWC_IO_MAX_FILE)
        cap = (size_t)st.st_size + 1; /* +1 so reaching EOF needs no regrowth */
    uint8_t *buf = lwc_malloc(cap);
    if (!buf) return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    for (;;) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) break;
        if (cap >= LWC_IO_MAX_FILE) {
            lwc_free(buf);
            return lwc_io_fail(err, errlen, LWC_ERR_TOO_BIG, "input larger than %zu bytes",
                               LWC_IO_MAX_FILE);
        }
        size_t ncap = LWC_MIN(cap * 2, LWC_IO_MAX_FILE);
        uint8_t *nbuf = lwc_malloc(ncap);
        if (!nbuf) {
            lwc_free(buf);
            return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
        }
        memcpy(nbuf, buf, len);
        lwc_free(buf);
        buf = nbuf;
        cap = ncap;
    }
    if (ferror(f)) {
        lwc_free(buf);
        return lwc_io_fail(err, errlen, LWC_ERR_IO, "read error: %s", strerror(errno));
    }
    *out = buf;
    *out_size = len;
    return 0;
}

int lwc_image_read_file(const char *path, LwcImage *img, char *err, size_t errlen)
{
    if (!img || !path) return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "no path or image");
    memset(img, 0, sizeof(*img));
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    /* The message leaves the path out: callers prefix it to every error. */
    if (!f) return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot open: %s", strerror(errno));
    uint8_t *buf = NULL;
    size_t size = 0;
    int r = read_stream(f, &buf, &size, err, errlen);
    if (!is_stdin) fclose(f);
    if (r < 0) return r;
    r = lwc_image_read_mem(buf, size, img, err, errlen);
    lwc_free(buf);
    return r;
}

static int write_format(FILE *f, const LwcImage *img, int format, int q, char *err, size_t errlen)
{
    switch (format) {
    case LWC_FMT_PNG: return lwc_png_write(f, img, err, errlen);
    case LWC_FMT_PPM: return lwc_pnm_write(f, img, err, errlen);
    case LWC_FMT_JPEG: return lwc_jpeg_write(f, img, q, err, errlen);
    default: return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "unknown output format %d", format);
    }
}

/* mkstemp creates files 0600; give the result the mode a plain fopen would. */
static void set_default_mode(int fd)
{
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
}

/* Flush and close a finished temp file; fsync so the rename never exposes a
 * file whose data is not on disk yet. */
static int finish_temp(FILE *f, const char *tmp, char *err, size_t errlen)
{
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) return lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot write %s: %s", tmp, strerror(e));
    return 0;
}

static int write_atomic(const char *path, const LwcImage *img, int format, int q, char *err,
                        size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = lwc_malloc(plen + 16);
    if (!tmp) return lwc_io_fail(err, errlen, LWC_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int r = lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        lwc_free(tmp);
        return r;
    }
    set_default_mode(fd);
    int r = write_format(f, img, format, q, err, errlen);
    if (r < 0) fclose(f);
    else r = finish_temp(f, tmp, err, errlen);
    if (r == 0 && rename(tmp, path) != 0)
        r = lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot rename %s to %s: %s", tmp, path,
                        strerror(errno));
    if (r < 0) unlink(tmp);
    lwc_free(tmp);
    return r;
}

int lwc_image_write_file(const char *path, const LwcImage *img, int format, int jpeg_quality,
                         char *err, size_t errlen)
{
    if (!path) return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "no output path");
    LWC_FWD(lwc_io_check_image(img, err, errlen));
    if (format == LWC_FMT_AUTO) {
        format = lwc_format_from_path(path);
        if (format < 0)
            return lwc_io_fail(err, errlen, LWC_ERR_INVAL,
                               "cannot tell the format of %s from its extension "
                               "(use .png, .ppm, .pgm or .jpg)", path);
    }
    if (strcmp(path, "-")) return write_atomic(path, img, format, jpeg_quality, err, errlen);
    int r = write_format(stdout, img, format, jpeg_quality, err, errlen);
    if (r == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        r = lwc_io_fail(err, errlen, LWC_ERR_IO, "cannot write to stdout: %s", strerror(errno));
    return r;
}
