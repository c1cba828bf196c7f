/* Video through FFmpeg's libraries (libavformat, libavcodec, libswscale) for
 * the lwc CLI: any video or image sequence FFmpeg can decode in, and
 * FFV1/MKV, FFV1/NUT, PNG/MP4 or an image pattern out. liblwc never links
 * these libraries, and neither does the `lwc` executable: cli_libav.c is
 * built as a plugin, lwc-libav.so, which links them, and cli_libav_load.c
 * gives the CLI the functions below by loading that plugin the first time
 * one of them needs FFmpeg (a PNG, JPEG or PNM in or out never does).
 *
 * Reading: frames come out in presentation order as 8-bit RGB images (gray
 * images for gray sources). Y'CbCr is converted with the matrix and range the
 * stream declares; an unspecified matrix is BT.601 below 1280x577 and BT.709
 * from there (FFmpeg's own SD/HD rule), an unspecified range is limited.
 * Errors are one line without the file name (callers prefix it); those about
 * a frame start with "frame N: ". FFmpeg's own log is captured, not shown:
 * its last error line explains a failure. */
#ifndef LWC_CLI_LIBAV_H
#define LWC_CLI_LIBAV_H

#include <stddef.h>
#include <stdint.h>

#include "lwc.h"

typedef struct LwcAvInfo {
    int width, height, channels;    /* channels: 3 (RGB) or 1 (gray) */
    uint32_t fps_num, fps_den;      /* average frame rate, else r_frame_rate, else 25 */
    int source_format;              /* LWC_VIDEO_SRC_*: the source's chroma layout */
    char codec[32], pix_fmt[32];    /* decoder and source pixel format names */
    const char *matrix, *range;     /* conversion used for the first frame */
} LwcAvInfo;

typedef struct LwcAvReader LwcAvReader;

/* 1 when `path` should be read through libavformat: an image2 pattern
 * ("frame%03d.png"), or an existing file that is not PNG/JPEG/PNM by name
 * and whose contents or name some FFmpeg demuxer recognises.
 * Without the plugin: 1 for a name with '%' that is no readable file (a
 * pattern: the reader then fails, naming the missing plugin), else 0 (the
 * input is read as an image, and an unknown format fails as one). */
int lwc_av_input_wanted(const char *path);
/* Open, find the best video stream, check its size against the CLI caps and
 * max_pixels before anything is allocated for it, and decode the first frame
 * (so *info is complete). threads: decoder threads. */
int lwc_av_reader_open(const char *path, uint64_t max_pixels, int threads, LwcAvReader **rd,
                       LwcAvInfo *info, char *err, size_t errlen);
/* The next frame into img (info's width, height and channels, 8-bit): 1, or
 * 0 at the end, or a negative LWC_ERR_* with err set. A frame the decoder
 * flags as damaged, a size change, or input that ends before the frame count
 * the container announces are errors. */
int lwc_av_reader_next(LwcAvReader *rd, LwcImage *img, char *err, size_t errlen);
void lwc_av_reader_close(LwcAvReader **rd);

typedef struct LwcAvWriter LwcAvWriter;

/* 1 when path holds a frame-number pattern such as "%03d" (without the
 * plugin: when it holds a '%'). */
int lwc_av_is_pattern(const char *path);
/* 1 when lwc decode should write `path` through libavformat: some FFmpeg
 * muxer claims its name (the writer then accepts or refuses it). Without
 * the plugin: 1 for any file name with a '.' (the writer fails, naming the
 * missing plugin). */
int lwc_av_output_wanted(const char *path);
/* Lossless output: FFV1 in Matroska and NUT, PNG in MP4/MOV (MP4 cannot hold
 * FFV1), or an image pattern (image2: "out_%03d.png", numbered from 1).
 * Containers are written to a temporary file renamed into place by
 * lwc_av_writer_finish; a pattern's files are removed again on failure. */
int lwc_av_writer_open(const char *path, int width, int height, int channels, uint32_t fps_num,
                       uint32_t fps_den, LwcAvWriter **w, char *err, size_t errlen);
/* Append one frame (the writer's size and channels, 8-bit). */
int lwc_av_writer_frame(LwcAvWriter *w, const LwcImage *img, char *err, size_t errlen);
/* Flush, write the trailer and move the file into place. */
int lwc_av_writer_finish(LwcAvWriter *w, char *err, size_t errlen);
/* The codec and container names, for the summary line. */
const char *lwc_av_writer_desc(const LwcAvWriter *w);
/* Free; an unfinished output is removed. NULL-safe. */
void lwc_av_writer_close(LwcAvWriter **w);

/* ---- The plugin (cli_libav.c, built as lwc-libav.so) and its loader
 * (cli_libav_load.c, in the executable). The plugin exports one symbol,
 * LWC_AV_PLUGIN_ENTRY, which returns its table of the functions above when
 * the caller's interface version is its own, else NULL (a plugin left from
 * another build). Bump LWC_AV_PLUGIN_ABI whenever this header, LwcImage or
 * the functions the plugin takes from the executable change. The plugin
 * calls lwc_io_fail, lwc_io_check_dims and lwc_format_from_path of the
 * executable, which exports exactly these (tools/cli/lwc-libav.dynlist). */
#define LWC_AV_PLUGIN_ABI 1
#define LWC_AV_PLUGIN_ENTRY "lwc_av_plugin_api"
#define LWC_AV_PLUGIN_FILE "lwc-libav.so"

typedef struct LwcAvApi {
    int (*input_wanted)(const char *path);
    int (*reader_open)(const char *path, uint64_t max_pixels, int threads, LwcAvReader **rd, LwcAvInfo *info,
                       char *err, size_t errlen);
    int (*reader_next)(LwcAvReader *rd, LwcImage *img, char *err, size_t errlen);
    void (*reader_close)(LwcAvReader **rd);
    int (*is_pattern)(const char *path);
    int (*output_wanted)(const char *path);
    int (*writer_open)(const char *path, int width, int height, int channels, uint32_t fps_num, uint32_t fps_den,
                       LwcAvWriter **w, char *err, size_t errlen);
    int (*writer_frame)(LwcAvWriter *w, const LwcImage *img, char *err, size_t errlen);
    int (*writer_finish)(LwcAvWriter *w, char *err, size_t errlen);
    const char *(*writer_desc)(const LwcAvWriter *w);
    void (*writer_close)(LwcAvWriter **w);
} LwcAvApi;

/* The plugin's entry point (LWC_AV_PLUGIN_ENTRY). */
const LwcAvApi *lwc_av_plugin_api(int abi_version);

/* Loader only: why the plugin could not be loaded (one line), or NULL when
 * it is loaded or was never needed. */
const char *lwc_av_plugin_error(void);

#endif
