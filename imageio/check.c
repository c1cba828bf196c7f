/* The checks every format module runs before it allocates (dimensions,
 * memory, enough data for the header's claims) and the one-line error
 * writer they share. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "imageio.h"

int lwc_io_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

int lwc_io_check_dims(uint64_t w, uint64_t h, const char *what, char *err, size_t errlen)
{
    if (w == 0 || h == 0)
        return lwc_io_fail(err, errlen, LWC_ERR_CORRUPT, "%s image has zero size (%llux%llu)",
                           what, (unsigned long long)w, (unsigned long long)h);
    if (w > LWC_IO_MAX_SIDE || h > LWC_IO_MAX_SIDE || w * h > LWC_IO_MAX_PIXELS)
        return lwc_io_fail(err, errlen, LWC_ERR_TOO_BIG,
                           "%s image too big (%llux%llu; limits %d per side, %llu pixels)", what,
                           (unsigned long long)w, (unsigned long long)h, LWC_IO_MAX_SIDE,
                           (unsigned long long)LWC_IO_MAX_PIXELS);
    return 0;
}

int lwc_io_check_memory(uint64_t bytes, uint64_t w, uint64_t h, const char *what, char *err,
                        size_t errlen)
{
    uint64_t cap = lwc_alloc_get_cap();
    if (bytes <= cap) return 0;
    return lwc_io_fail(err, errlen, LWC_ERR_TOO_BIG,
                       "%s image %llux%llu needs %llu MiB, above the %llu MiB memory cap", what,
                       (unsigned long long)w, (unsigned long long)h,
                       (unsigned long long)((bytes + (1 << 20) - 1) >> 20), (unsigned long long)(cap >> 20));
}

int lwc_io_check_data(uint64_t min_bytes, size_t size, uint64_t w, uint64_t h, const char *what,
                      char *err, size_t errlen)
{
    if (size >= min_bytes) return 0;
    return lwc_io_fail(err, errlen, LWC_ERR_TRUNCATED,
                       "truncated %s file: %zu bytes cannot hold a %llux%llu image", what, size,
                       (unsigned long long)w, (unsigned long long)h);
}

int lwc_io_check_image(const LwcImage *img, char *err, size_t errlen)
{
    if (!img || !img->data)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "no image data");
    if (img->channels < 1 || img->channels > 4)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "bad channel count %d", img->channels);
    if (img->bit_depth != 8 && img->bit_depth != 16)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "bad bit depth %d", img->bit_depth);
    if (img->width < 1 || img->height < 1)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "bad image size %dx%d", img->width,
                           img->height);
    size_t row = (size_t)img->width * (size_t)img->channels * (size_t)(img->bit_depth / 8);
    if (img->stride < row)
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "stride %zu below row size %zu",
                           img->stride, row);
    if (img->bit_depth == 16 && (img->stride % 2 || (uintptr_t)img->data % 2))
        return lwc_io_fail(err, errlen, LWC_ERR_INVAL, "16-bit image rows are not 2-byte aligned");
    return 0;
}

int lwc_io_host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}
