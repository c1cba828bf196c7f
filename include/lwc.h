/* liblwc: a learned image codec (wavelet packet + shallow autoencoder +
 * multi-reference entropy model + rANS). This is the only installed header.
 *
 * Usage:
 *   LwcSettings s; lwc_default_settings(&s);
 *   LwcModel *m; lwc_model_load_file(&m, "model.lwcm");
 *   LwcContext *c; lwc_open(&c, m, &s);
 *   lwc_encode(c, &img, &params, &buf, &size, NULL, NULL);
 *   lwc_decode(c, buf, size, &out);
 *   lwc_free_buffer(buf); lwc_image_free(&out);
 *   lwc_close(&c); lwc_model_free(&m);
 *
 * Every function returns 0 (LWC_OK) or a negative LWC_ERR_* code; turn a code
 * into text with lwc_strerror(). Contexts are not thread-safe: use one per
 * thread. Models are read-only after loading and may be shared by contexts. */
#ifndef LWC_H
#define LWC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the public API: liblwc is built with -fvisibility=hidden, so only
 * these functions are exported from the shared library (tests/cli_symbols.sh
 * checks that the exported set is exactly the LWC_API declarations). */
#if defined(__GNUC__) || defined(__clang__)
#define LWC_API __attribute__((visibility("default")))
#else
#define LWC_API
#endif

#define LWC_VERSION_MAJOR 0
#define LWC_VERSION_MINOR 1
#define LWC_VERSION_PATCH 0

enum {
    LWC_OK = 0,
    LWC_ERR_NOMEM = -1,       /* an allocation failed */
    LWC_ERR_INVAL = -2,       /* invalid argument or option value */
    LWC_ERR_TRUNCATED = -3,   /* input ends before a section it announces */
    LWC_ERR_CORRUPT = -4,     /* inconsistent data (bad length, bad symbol) */
    LWC_ERR_CRC = -5,         /* a section checksum does not match */
    LWC_ERR_MAGIC = -6,       /* not an lwc stream / model file */
    LWC_ERR_VERSION = -7,     /* format version not supported */
    LWC_ERR_MODEL = -8,       /* stream was made with another model */
    LWC_ERR_TOO_BIG = -9,     /* dimensions or sizes above the configured caps */
    LWC_ERR_IO = -10,         /* file could not be read or written */
    LWC_ERR_UNSUPPORTED = -11 /* valid input this build or model cannot handle */
};

/* Static text for an error code; never NULL. */
LWC_API const char *lwc_strerror(int err);
/* "major.minor.patch" */
LWC_API const char *lwc_version(void);

/* An image in memory: interleaved channels, rows `stride` bytes apart.
 * channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. bit_depth: 8 or 16 (16-bit
 * samples are native-endian uint16_t). */
typedef struct LwcImage {
    int width, height;
    int channels;
    int bit_depth;
    size_t stride;
    uint8_t *data;
} LwcImage;

/* Allocate data for an image of the given shape (stride = width*channels*bytes).
 * On failure the image is left zeroed. */
LWC_API int lwc_image_alloc(LwcImage *img, int width, int height, int channels, int bit_depth);
/* Free image data allocated by liblwc and zero the struct. NULL-safe. */
LWC_API void lwc_image_free(LwcImage *img);

typedef struct LwcModel LwcModel;

/* Load a .lwcm model from memory or a file. On success *out owns a new model
 * (free with lwc_model_free); on failure *out is NULL. LWC_ERR_MODEL: a
 * well-formed model this library refuses to run (an integer synthesis whose
 * 32-bit sums could overflow). */
LWC_API int lwc_model_load(LwcModel **out, const uint8_t *buf, size_t size);
LWC_API int lwc_model_load_file(LwcModel **out, const char *path);
/* Free a model and set *m to NULL. NULL-safe. */
LWC_API void lwc_model_free(LwcModel **m);
/* 64-bit content hash of the model file: the model id written into streams. */
LWC_API uint64_t lwc_model_id(const LwcModel *m);

typedef struct LwcSettings {
    int threads;            /* worker threads of this context (float layers, entropy
                             * parameters), 1..64; default 1. Output is identical
                             * for every value. */
    uint64_t max_pixels;    /* refuse images above this many pixels; default 1<<28 */
    int reference_kernels;  /* 1: plain C float kernels instead of OpenBLAS; default 0 */
    uint8_t reserved[32];   /* must be zero */
} LwcSettings;

LWC_API void lwc_default_settings(LwcSettings *s);

typedef struct LwcContext LwcContext;

/* Open a context bound to `model` (which must outlive the context). */
LWC_API int lwc_open(LwcContext **out, const LwcModel *model, const LwcSettings *s);
/* Close a context and set *c to NULL. NULL-safe. */
LWC_API void lwc_close(LwcContext **c);

/* Progress of a long encode (efforts above the default), reported from the
 * calling thread: stage name, step of steps, and the current estimate of
 * the rate (bits per pixel of the part searched so far) and PSNR (dB). */
typedef struct LwcProgress {
    const char *stage;
    int step, steps;
    double bpp, psnr;
} LwcProgress;
typedef void (*LwcProgressFn)(void *opaque, const LwcProgress *p);

/* Encoder effort: 1 fastest .. 9 smallest. 1: each latent rounded to its
 * nearest step; 2 (the default): the rate-distortion choice of each step;
 * 3..9: the latents are also searched through the decoder's own networks
 * for the image's rate + distortion, more steps at each level (seconds to
 * minutes per megapixel). Every effort's stream decodes with any decoder. */
#define LWC_EFFORT_MIN 1
#define LWC_EFFORT_DEFAULT 2
#define LWC_EFFORT_MAX 9

typedef struct LwcEncodeParams {
    double quality;         /* 0 (smallest) .. 100 (best); default 50 */
    int plain_rounding;     /* 1: each latent rounded to its nearest step; 0 (default): the
                               cheaper in rate + distortion of the two steps around it */
    int effort;             /* LWC_EFFORT_MIN..MAX; 0 means LWC_EFFORT_DEFAULT */
    LwcProgressFn progress; /* optional, called during long encodes */
    void *progress_opaque;
    uint8_t reserved[24 - 2 * sizeof(void *)]; /* must be zero; the struct stays 40 bytes */
} LwcEncodeParams;

LWC_API void lwc_default_encode_params(LwcEncodeParams *p);

/* Per-stage timing and sizes of the last encode/decode (seconds, bytes). */
typedef struct LwcStats {
    double t_wavelet, t_analysis, t_hyper, t_entropy, t_synthesis, t_total;
    size_t bytes_header, bytes_z, bytes_y, bytes_alpha, bytes_total;
} LwcStats;

/* Encode `img` (8/16-bit, 1..4 channels). On success *out is a buffer owned
 * by the caller (free with lwc_free_buffer). If `recon` is non-NULL it
 * receives the exact image a decoder will produce (caller frees with
 * lwc_image_free). `stats` may be NULL. */
LWC_API int lwc_encode(LwcContext *c, const LwcImage *img, const LwcEncodeParams *p,
               uint8_t **out, size_t *out_size, LwcImage *recon, LwcStats *stats);

/* Decode a stream. On success `out` holds a new image (free with
 * lwc_image_free); on failure it is zeroed. */
LWC_API int lwc_decode(LwcContext *c, const uint8_t *buf, size_t size, LwcImage *out,
               LwcStats *stats);

/* Header fields of a stream, read without decoding it. */
typedef struct LwcStreamInfo {
    int version;
    int width, height, channels, bit_depth;
    double quality;
    uint64_t model_id;
    int num_sections;
    struct { uint32_t tag; uint32_t size; } sections[8];
    size_t total_size;
} LwcStreamInfo;

LWC_API int lwc_stream_info(const uint8_t *buf, size_t size, LwcStreamInfo *info);

LWC_API void lwc_free_buffer(void *buf);

/* ---- .lwcv: a video as a sequence of lwc images (docs/bitstream.md, ".lwcv").
 *
 * A 48-byte sequence header, then per frame a 4-byte little-endian length and
 * that many bytes of an ordinary lwc image stream. These functions only
 * (de)serialise and check; callers do the I/O:
 *   writer: lwc_video_header_write, then per frame lwc_encode +
 *           lwc_video_packet_prefix_write; rewrite the header with the frame
 *           count at the end when the output is seekable (0 = unknown).
 *   reader: lwc_video_header_parse, then per frame lwc_video_packet_prefix_parse
 *           (length checked against lwc_video_max_packet before any
 *           allocation), read the packet, lwc_video_packet_check, lwc_decode.
 *   or, with the whole file in memory: lwc_video_next_packet. */
#define LWC_VIDEO_HEADER_SIZE 48
#define LWC_VIDEO_PREFIX_SIZE 4

/* The layout the frames had before coding; a decoder writes them back in it.
 * GRAY frames are coded as 1-channel images, all others as RGB (Y'CbCr is
 * converted with BT.601 limited-range matrices; see docs/bitstream.md). */
enum {
    LWC_VIDEO_SRC_RGB = 0,          /* RGB frames (the FFmpeg filter) */
    LWC_VIDEO_SRC_GRAY = 1,         /* 8-bit luma only (Y4M Cmono) */
    LWC_VIDEO_SRC_YUV420JPEG = 2,   /* Y4M C420jpeg (also written for a Y4M without C tag) */
    LWC_VIDEO_SRC_YUV420MPEG2 = 3,  /* Y4M C420mpeg2 */
    LWC_VIDEO_SRC_YUV420PALDV = 4,  /* Y4M C420paldv */
    LWC_VIDEO_SRC_YUV420 = 5,       /* Y4M C420 */
    LWC_VIDEO_SRC_YUV422 = 6,       /* Y4M C422 */
    LWC_VIDEO_SRC_YUV444 = 7,       /* Y4M C444 */
    LWC_VIDEO_SRC_COUNT = 8
};

typedef struct LwcVideoHeader {
    int version;              /* set by the parser (1); the writer always writes 1 */
    int width, height;        /* every frame's size, 1 .. 2^20 each */
    uint32_t fps_num, fps_den; /* frame rate num/den, both >= 1 */
    uint64_t model_id;        /* lwc_model_id() of the model of every frame */
    uint32_t frame_count;     /* number of frames; 0 = unknown (written to a pipe) */
    int source_format;        /* LWC_VIDEO_SRC_* */
} LwcVideoHeader;

/* Serialise h into out. LWC_ERR_INVAL when a field is out of range. */
LWC_API int lwc_video_header_write(const LwcVideoHeader *h, uint8_t out[LWC_VIDEO_HEADER_SIZE]);
/* Parse and check a sequence header: magic (LWC_ERR_MAGIC), version, CRC,
 * reserved bytes, field ranges, width*height against max_pixels (0: the
 * default cap 2^28). size < LWC_VIDEO_HEADER_SIZE gives LWC_ERR_TRUNCATED. */
LWC_API int lwc_video_header_parse(const uint8_t *buf, size_t size, uint64_t max_pixels,
                           LwcVideoHeader *h);
/* 1 when buf starts with the .lwcv magic (at least 4 bytes), else 0. */
LWC_API int lwc_video_probe(const uint8_t *buf, size_t size);
/* The largest packet a stream with this header may carry: 65536 + 32 bytes
 * per pixel of the frame padded to multiples of 32, at most 2^30. */
LWC_API size_t lwc_video_max_packet(const LwcVideoHeader *h);
/* Encode the length prefix of a packet of `size` bytes; LWC_ERR_TOO_BIG
 * above lwc_video_max_packet, LWC_ERR_INVAL below the 32-byte image header. */
LWC_API int lwc_video_prefix_write(const LwcVideoHeader *h, size_t size, uint8_t out[LWC_VIDEO_PREFIX_SIZE]);
/* Decode a length prefix and check it: LWC_ERR_CORRUPT when below 32 bytes
 * or above lwc_video_max_packet. */
LWC_API int lwc_video_prefix_parse(const LwcVideoHeader *h, const uint8_t in[LWC_VIDEO_PREFIX_SIZE],
                           size_t *size);
/* Check that a packet is a complete lwc image of this sequence (all image
 * CRCs, size, 8-bit, 1 channel for GRAY else 3, model id): LWC_ERR_CORRUPT
 * for a frame that does not belong, LWC_ERR_MODEL for another model, or the
 * image parser's error. */
LWC_API int lwc_video_packet_check(const LwcVideoHeader *h, const uint8_t *pkt, size_t size);
/* Walk a whole .lwcv in memory: *pos starts at LWC_VIDEO_HEADER_SIZE.
 * Returns 1 with *pkt, *pkt_size pointing into buf and *pos advanced, 0 at the
 * end, or an error (LWC_ERR_TRUNCATED for a cut packet or prefix). Packets
 * are not checked beyond their length: call lwc_video_packet_check. */
LWC_API int lwc_video_next_packet(const LwcVideoHeader *h, const uint8_t *buf, size_t size, size_t *pos,
                          const uint8_t **pkt, size_t *pkt_size);

#ifdef __cplusplus
}
#endif
#endif
