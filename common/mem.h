/* Little-endian reads and writes of unaligned bytes: every multi-byte field
 * of the stream, model and checkpoint formats goes through these, so the
 * formats do not depend on the host's byte order. */
#ifndef LWC_MEM_H
#define LWC_MEM_H

#include <stdint.h>

static inline uint32_t lwc_rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t lwc_rd32(const uint8_t *p) { return lwc_rd16(p) | lwc_rd16(p + 2) << 16; }
static inline uint64_t lwc_rd64(const uint8_t *p) { return lwc_rd32(p) | (uint64_t)lwc_rd32(p + 4) << 32; }

static inline void lwc_wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void lwc_wr32(uint8_t *p, uint32_t v)
{
    lwc_wr16(p, v);
    lwc_wr16(p + 2, v >> 16);
}

static inline void lwc_wr64(uint8_t *p, uint64_t v)
{
    lwc_wr32(p, (uint32_t)v);
    lwc_wr32(p + 4, (uint32_t)(v >> 32));
}

#endif
