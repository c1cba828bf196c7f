/* Fuzz the Y4M reader (lwc_y4m_read_header, lwc_y4m_read_frame) from a
 * memory stream, the BT.601 conversions of every frame read, and the writer.
 *
 * Every frame read is converted to an image and back (lwc_y4m_to_image,
 * lwc_y4m_from_image): mono frames must come back unchanged, and 4:4:4
 * frames that went through RGB once must be stable within one code value on
 * a second trip. The header and the frames read are then written with the Y4M writer
 * into memory and read again: the same header fields (the writer drops X
 * tags, writes Ip and leaves out an incomplete A tag) and the same frames
 * must come back, then a clean end. Caps: frames above 64 KiB (larger than
 * any input) are not read, at most 64 frames per input, inputs above 64 KiB
 * are ignored. */
#include <string.h>

#include "imageio/imageio.h"
#include "fuzz.h"

#define MAX_INPUT (64 << 10)
#define MAX_FRAME (64 << 10)
#define MAX_FRAMES 64

static void check_convert(const LwcY4mInfo *info, const uint8_t *frame, size_t fs)
{
    LwcImage img;
    FUZZ_CHECK(lwc_image_alloc(&img, info->width, info->height, lwc_y4m_image_channels(info), 8) == 0);
    uint8_t *b = malloc(fs), *c = malloc(fs);
    FUZZ_CHECK(b && c);
    FUZZ_CHECK(lwc_y4m_to_image(info, frame, &img) == 0);
    FUZZ_CHECK(lwc_y4m_from_image(info, &img, b) == 0);
    if (info->chroma == LWC_VIDEO_SRC_GRAY) FUZZ_CHECK(!memcmp(frame, b, fs));
    FUZZ_CHECK(lwc_y4m_to_image(info, b, &img) == 0);
    FUZZ_CHECK(lwc_y4m_from_image(info, &img, c) == 0);
    /* Subsampled chroma is averaged over pixels whose RGB may have been
     * clamped, so only full-resolution chroma is stable. */
    if (info->chroma == LWC_VIDEO_SRC_YUV444)
        for (size_t i = 0; i < fs; i++) FUZZ_CHECK(abs(b[i] - c[i]) <= 1);
    free(b);
    free(c);
    lwc_image_free(&img);
}

/* Write the header and frames, read them back, compare. */
static void check_rewrite(const LwcY4mInfo *info, const uint8_t *frames, int n, size_t fs)
{
    char *mem = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(lwc_y4m_write_header(f, info, err, sizeof(err)) == 0);
    for (int i = 0; i < n; i++) FUZZ_CHECK(lwc_y4m_write_frame(f, info, frames + i * fs, err, sizeof(err)) == 0);
    FUZZ_CHECK(fclose(f) == 0);
    f = fmemopen(mem, len, "rb");
    FUZZ_CHECK(f != NULL);
    LwcY4mInfo back;
    FUZZ_CHECK(lwc_y4m_read_header(f, 0, &back, err, sizeof(err)) == 0);
    FUZZ_CHECK(back.width == info->width && back.height == info->height && back.chroma == info->chroma);
    FUZZ_CHECK(back.fps_num == info->fps_num && back.fps_den == info->fps_den && back.interlace == 'p');
    int par = info->par_num && info->par_den;
    FUZZ_CHECK(back.par_num == (par ? info->par_num : 0) && back.par_den == (par ? info->par_den : 0));
    uint8_t *frame = malloc(fs);
    FUZZ_CHECK(frame != NULL);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(lwc_y4m_read_frame(f, &back, frame, err, sizeof(err)) == 1);
        FUZZ_CHECK(!memcmp(frame, frames + i * fs, fs));
    }
    FUZZ_CHECK(lwc_y4m_read_frame(f, &back, frame, err, sizeof(err)) == 0);
    fclose(f);
    free(frame);
    free(mem);
}

static void read_stream(FILE *f)
{
    LwcY4mInfo info;
    char err[256] = "";
    int r = lwc_y4m_read_header(f, 0, &info, err, sizeof(err));
    FUZZ_CHECK(r <= 0 && r >= LWC_ERR_UNSUPPORTED && memchr(err, 0, sizeof(err)));
    if (r < 0) {
        FUZZ_CHECK(err[0] && !strchr(err, '\n'));
        return;
    }
    FUZZ_CHECK(info.width >= 1 && info.height >= 1 && info.fps_num && info.fps_den);
    FUZZ_CHECK(lwc_y4m_chroma_name(info.chroma) != NULL);
    size_t fs = lwc_y4m_frame_size(&info);
    if (fs > MAX_FRAME) return;
    uint8_t *frames = malloc(fs * MAX_FRAMES);
    FUZZ_CHECK(frames != NULL);
    int n = 0;
    while (n < MAX_FRAMES) {
        err[0] = 0;
        r = lwc_y4m_read_frame(f, &info, frames + n * fs, err, sizeof(err));
        FUZZ_CHECK(r <= 1 && r >= LWC_ERR_UNSUPPORTED);
        if (r < 0) FUZZ_CHECK(err[0] && !strchr(err, '\n'));
        if (r <= 0) break;
        check_convert(&info, frames + n * fs, fs);
        n++;
    }
    check_rewrite(&info, frames, n, fs);
    free(frames);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT || size == 0) return 0;
    /* A private copy: fmemopen wants a writable buffer. */
    uint8_t *b = malloc(size);
    if (!b) return 0;
    memcpy(b, data, size);
    FILE *f = fmemopen(b, size, "rb");
    FUZZ_CHECK(f != NULL);
    read_stream(f);
    fclose(f);
    free(b);
    return 0;
}
