/* Bitstream container (docs/bitstream.md): a fixed 32-byte header, a
 * section table, then the section payloads. Every length is checked and
 * every section carries a CRC-32C that is verified before use. Versions 1
 * and 2 share the container; they differ in the YLAT payload (ystripes.h). */
#ifndef LWC_BITSTREAM_H
#define LWC_BITSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "lwc.h"

#define LWC_STREAM_MAGIC "\x89LWC" /* the first 4 bytes of a stream */

#define LWC_STREAM_VERSION 2     /* the version the encoder writes */
#define LWC_STREAM_VERSION_MIN 1 /* the oldest one the decoder reads */
#define LWC_HEADER_SIZE 32
#define LWC_MAX_SECTIONS 8
#define LWC_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define LWC_SEC_Z LWC_TAG('Z', 'L', 'A', 'T')
#define LWC_SEC_Y LWC_TAG('Y', 'L', 'A', 'T')
#define LWC_SEC_ALPHA LWC_TAG('A', 'L', 'F', 'A')

typedef struct LwcHeader {
    int width, height, channels, bit_depth;
    uint16_t quality_x100;
    uint64_t model_id;
    int version; /* set by the parser; the writer writes LWC_STREAM_VERSION */
} LwcHeader;

typedef struct LwcSection {
    uint32_t tag;
    const uint8_t *data;
    uint32_t size;
} LwcSection;

uint32_t lwc_crc32c(uint32_t crc, const uint8_t *p, size_t n);

/* Serialise header + sections into a new buffer (lwc_malloc'd). */
int lwc_stream_write(const LwcHeader *h, const LwcSection *secs, int nsec, uint8_t **out,
                     size_t *size);
/* Parse and verify (magic, version, header CRC, section lengths and CRCs,
 * dimension caps). Sections point into buf. */
int lwc_stream_parse(const uint8_t *buf, size_t size, uint64_t max_pixels, LwcHeader *h,
                     LwcSection *secs, int *nsec);

#endif
