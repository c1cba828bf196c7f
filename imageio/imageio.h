/* Image file I/O for the CLI and tools (never part of liblwc itself): PNG,
 * JPEG and binary PPM/PGM, read into and written from LwcImage.
 *
 * Reading: the format comes from the magic bytes, never from the extension.
 *   PNG   8/16-bit gray, gray+alpha, RGB, RGBA; palette -> RGB(A), 1/2/4-bit
 *         gray -> 8-bit, tRNS -> alpha channel, interlaced files.
 *   JPEG  8-bit gray (1 channel) or colour (3 channels, RGB); CMYK/YCCK are
 *         refused (LWC_ERR_UNSUPPORTED). Stricter than libjpeg: a stream it
 *         would pad (truncated) or resync (damaged scan data) is an error,
 *         and so is a progressive file with more than 500 scans.
 *   PNM   P5 (gray) and P6 (RGB), maxval 1..65535. maxval <= 255 gives 8-bit,
 *         above gives 16-bit; a maxval other than 255/65535 is rescaled to
 *         the full range of that depth (v * 255 / maxval, rounded).
 * Writing: PNG (8/16-bit, 1..4 channels), PPM/PGM (1 or 3 channels), JPEG
 *   (8-bit, 1 or 3 channels, quality 1..100, 4:2:0 libjpeg defaults).
 *   16-bit images need 2-byte aligned data and an even stride.
 *
 * Limits: width and height must be 1..LWC_IO_MAX_SIDE and the pixel count at
 * most LWC_IO_MAX_PIXELS; this is checked from the header, before any pixel
 * memory is allocated (LWC_ERR_TOO_BIG). Input files are read whole into
 * memory, at most LWC_IO_MAX_FILE bytes.
 *
 * Memory: before decoding, PNG and JPEG readers check from the header that
 *   - every PNG chunk up to IEND lies inside the input (libpng would
 *     allocate a chunk's announced length first; else LWC_ERR_TRUNCATED).
 *   - the file is big enough for the image it announces (else
 *     LWC_ERR_TRUNCATED): a PNG's raw rows at most 1040 bytes per file byte
 *     (deflate cannot do better than 1032:1); a JPEG at most 8 blocks per
 *     file byte for a single-scan Huffman file (each block costs >= 1 bit)
 *     and 64 for progressive, multi-scan or arithmetic-coded files (no hard
 *     bound exists there: extremely flat arithmetic-coded images can be
 *     refused); plus 1 MiB of raw rows / 16384 blocks of slack for small
 *     images. So a small file cannot make the reader allocate much.
 *   - the decoded pixels, plus libjpeg's coefficient buffer for progressive
 *     and multi-scan JPEG, fit the allocation cap (lwc_alloc_set_cap,
 *     default 4 GiB; else LWC_ERR_TOO_BIG). libjpeg's memory manager
 *     (max_memory_to_use) gets what is left of the cap; libpng's ancillary
 *     chunks are limited to 8 MB each and 1000 in all.
 *
 * Errors: every function returns 0 or a negative LWC_ERR_* code and, when
 * `err` is non-NULL, leaves a one-line message (no trailing newline) in it.
 * Read messages do not name the input file (callers prefix it). Truncated
 * input gives LWC_ERR_TRUNCATED, malformed input LWC_ERR_CORRUPT.
 * Nothing is ever printed: libpng/libjpeg messages are captured, not shown.
 *
 * Ownership: on success the image passed to a reader owns new pixel memory
 * (free with lwc_image_free); on failure it is zeroed. Writers never take
 * ownership of the image. */
#ifndef LWC_IMAGEIO_H
#define LWC_IMAGEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lwc.h"

#define LWC_IO_MAX_SIDE (1 << 20)
#define LWC_IO_MAX_PIXELS ((uint64_t)1 << 28)
#define LWC_IO_MAX_FILE ((size_t)1 << 30)

/* File formats. LWC_FMT_AUTO is only meaningful for writing. */
enum { LWC_FMT_AUTO = 0, LWC_FMT_PNG = 1, LWC_FMT_PPM = 2, LWC_FMT_JPEG = 3 };

/* Read an image from a file ("-" reads stdin to its end). */
int lwc_image_read_file(const char *path, LwcImage *img, char *err, size_t errlen);
/* Read an image from memory (the buffer is not retained). */
int lwc_image_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err,
                       size_t errlen);

/* Write an image. format: an LWC_FMT_* value; LWC_FMT_AUTO picks it from the
 * extension of path (PNG for "-", which writes stdout). jpeg_quality (1..100)
 * is used only for JPEG. A file is written to a temporary file in the same
 * directory and renamed over `path` once complete, so a failure leaves any
 * previous file untouched and no partial file behind; the new file gets
 * mode 0666 & ~umask, as fopen would give it. */
int lwc_image_write_file(const char *path, const LwcImage *img, int format,
                         int jpeg_quality, char *err, size_t errlen);

/* LWC_FMT_PNG / PPM / JPEG from the extension (case-insensitive: .png; .ppm,
 * .pgm, .pnm; .jpg, .jpeg), LWC_FMT_PNG for "-", else LWC_ERR_UNSUPPORTED. */
int lwc_format_from_path(const char *path);
/* The format whose magic bytes start buf, or LWC_ERR_UNSUPPORTED. */
int lwc_format_detect(const uint8_t *buf, size_t size);

/* ---- Below: shared by the format modules in codec/io/, not for callers. */

/* Per-format codecs. Readers expect the format's magic at buf[0]. Writers
 * write to an open stream and leave flushing/closing to the caller. */
int lwc_png_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err,
                     size_t errlen);
int lwc_png_write(FILE *f, const LwcImage *img, char *err, size_t errlen);
int lwc_jpeg_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err,
                      size_t errlen);
int lwc_jpeg_write(FILE *f, const LwcImage *img, int quality, char *err, size_t errlen);
int lwc_pnm_read_mem(const uint8_t *buf, size_t size, LwcImage *img, char *err,
                     size_t errlen);
int lwc_pnm_write(FILE *f, const LwcImage *img, char *err, size_t errlen);

/* Store a printf-style message in err (if non-NULL) and return code. */
int lwc_io_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 0 if 1 <= w,h <= LWC_IO_MAX_SIDE and w*h <= LWC_IO_MAX_PIXELS; else
 * LWC_ERR_CORRUPT (a zero side) or LWC_ERR_TOO_BIG, with a message naming
 * the format `what`. */
int lwc_io_check_dims(uint64_t w, uint64_t h, const char *what, char *err, size_t errlen);
/* 0 if a reader needing `bytes` of memory for a w x h image fits the
 * allocation cap (lwc_alloc_get_cap), else LWC_ERR_TOO_BIG with a message. */
int lwc_io_check_memory(uint64_t bytes, uint64_t w, uint64_t h, const char *what, char *err,
                        size_t errlen);
/* 0 if an input of `size` bytes reaches min_bytes, the least that can hold
 * a w x h image of format `what`; else LWC_ERR_TRUNCATED with a message. */
int lwc_io_check_data(uint64_t min_bytes, size_t size, uint64_t w, uint64_t h, const char *what,
                      char *err, size_t errlen);
/* LWC_ERR_INVAL unless img is a well-formed image (shape, depth, stride, data). */
int lwc_io_check_image(const LwcImage *img, char *err, size_t errlen);
/* 1 on a little-endian host: PNG and PNM store 16-bit samples big-endian. */
int lwc_io_host_is_le(void);


/* ---- Y4M (YUV4MPEG2) video, 8-bit only: C420jpeg, C420mpeg2, C420paldv,
 * C420, C422, C444 and Cmono (no C tag means 420jpeg). Frames are read and
 * written one at a time from/to a stream, so pipes work; a frame buffer holds
 * the planes Y, Cb, Cr back to back as in the file (Y only for mono).
 *
 * Colour (docs/bitstream.md, ".lwcv"): Y'CbCr <-> RGB with the BT.601
 * limited-range matrices (Y 16..235, Cb/Cr 16..240), 16-bit fixed point,
 * rounded and clamped. Subsampled chroma is replicated to full resolution on
 * reading and averaged over each 2x2 (4:2:0) or 2x1 (4:2:2) block on
 * writing, so that chroma -> RGB -> chroma keeps the chroma planes within
 * rounding. Mono frames are gray images holding the Y plane unchanged.
 * All chroma siting variants convert alike; the tag is only carried through. */
typedef struct LwcY4mInfo {
    int width, height;          /* 1 .. LWC_IO_MAX_SIDE, pixels <= LWC_IO_MAX_PIXELS */
    uint32_t fps_num, fps_den;  /* F tag; 25:1 when absent or 0:0 */
    int chroma;                 /* LWC_VIDEO_SRC_* other than RGB */
    char interlace;             /* I tag character ('p' when absent); written back as 'p' */
    uint32_t par_num, par_den;  /* A tag; 0:0 = unknown (then not written) */
} LwcY4mInfo;

/* Read the stream header line. skip_magic: the caller already consumed the
 * 9 bytes "YUV4MPEG2". LWC_ERR_MAGIC if it is not a Y4M stream,
 * LWC_ERR_UNSUPPORTED for other colour spaces (10-bit, alpha), LWC_ERR_CORRUPT
 * for malformed or missing fields, LWC_ERR_TRUNCATED at end of input. */
int lwc_y4m_read_header(FILE *f, int skip_magic, LwcY4mInfo *info, char *err, size_t errlen);
/* Bytes of one frame's planes. */
size_t lwc_y4m_frame_size(const LwcY4mInfo *info);
/* Chroma plane size (0x0 for mono). */
void lwc_y4m_chroma_size(const LwcY4mInfo *info, int *cw, int *ch);
/* Read the next frame into frame (lwc_y4m_frame_size bytes). Returns 1 for a
 * frame, 0 at a clean end of input, LWC_ERR_TRUNCATED for a cut frame,
 * LWC_ERR_CORRUPT for a bad FRAME line. */
int lwc_y4m_read_frame(FILE *f, const LwcY4mInfo *info, uint8_t *frame, char *err, size_t errlen);
int lwc_y4m_write_header(FILE *f, const LwcY4mInfo *info, char *err, size_t errlen);
int lwc_y4m_write_frame(FILE *f, const LwcY4mInfo *info, const uint8_t *frame, char *err,
                        size_t errlen);
/* Y4M colour-space tag ("420jpeg", "444", "mono", ...) of an LWC_VIDEO_SRC_*
 * value (RGB and unknown values give NULL). */
const char *lwc_y4m_chroma_name(int chroma);
/* Channels of the image a frame converts to: 1 for mono, else 3. */
int lwc_y4m_image_channels(const LwcY4mInfo *info);
/* Convert a frame into img, which must already have the frame's size,
 * lwc_y4m_image_channels channels and 8 bits (else LWC_ERR_INVAL). */
int lwc_y4m_to_image(const LwcY4mInfo *info, const uint8_t *frame, LwcImage *img);
/* Convert img (same shape rules) into a frame buffer. */
int lwc_y4m_from_image(const LwcY4mInfo *info, const LwcImage *img, uint8_t *frame);

#endif
