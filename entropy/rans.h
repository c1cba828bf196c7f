/* rANS entropy coder (after ryg_rans rans64.h): 64-bit state, 32-bit
 * renormalisation words, 16-bit probabilities (frequencies sum to 1<<16).
 *
 * Surprises, and how this API hides them:
 *  - rANS is LIFO: the decoder returns symbols in the reverse of the order
 *    the encoder coded them. So LwcRansEnc only *queues* symbols, in the
 *    order the decoder will read them; lwc_rans_enc_finish codes the queue
 *    from last to first, writing the stream from its end backwards, so the
 *    decoder reads bytes and symbols forwards. Callers think "FIFO".
 *  - The decoder needs (start, freq) of the symbol it is decoding before it
 *    can advance: peek() gives a slot in [0, 1<<16), the caller maps the slot
 *    to a symbol (e.g. lwc_cdf_lookup), then calls advance(start, freq).
 *  - There is no interleaving inside one stream. Several independent streams
 *    (e.g. one per slice or per thread) are simply several LwcRansEnc /
 *    LwcRansDec objects; each stream is self-contained and they may be
 *    used at the same time in any mix.
 *
 * Stream format (normative; it is part of the lwc bitstream):
 *  - Constants: L = 1<<31 (lower bound of the normalised state), PREC = 16.
 *    A coder state x always lies in [L, 1<<63).
 *  - Bytes 0..7: the encoder's final state x, as a little-endian uint64.
 *  - Then zero or more 32-bit renormalisation words, each little-endian, in
 *    the order the decoder consumes them. Total size is 8 + 4*k bytes.
 *  - Decoding a symbol (start, freq) from state x:
 *        x = freq * (x >> 16) + (x & 0xffff) - start;
 *        if (x < L) x = (x << 32) | next_word;
 *    (the encoder performs the exact inverse, in reverse order, starting
 *    from x = L).
 *  - Bypass bits: put_bits(v, nbits) is the symbol start = v << (16-nbits),
 *    freq = 1 << (16-nbits): the slot's top nbits bits are v.
 *  - Integrity check: after the last symbol the decoder state must equal L
 *    (the encoder's initial state) and every byte must have been consumed;
 *    lwc_rans_dec_finish reports LWC_ERR_CORRUPT otherwise. This catches
 *    most damage but is no checksum: e.g. a flip that moves one slot to the
 *    same offset inside another symbol of equal frequency changes one value
 *    and goes unseen. Sections carry a CRC for that. An empty queue
 *    gives the 8-byte stream 00 00 00 80 00 00 00 00. */
#ifndef LWC_RANS_H
#define LWC_RANS_H

#include <stddef.h>
#include <stdint.h>

#define LWC_RANS_PREC 16
#define LWC_RANS_TOTAL (1u << LWC_RANS_PREC)
#define LWC_RANS_L (1ull << 31)

/* Encoder: a queue of (start, freq) pairs. All fields are private. Init
 * allocates nothing; the queue grows geometrically on put. On an allocation
 * failure or an invalid argument the encoder enters a sticky error state:
 * later puts do nothing and return the error, finish reports it. */
typedef struct LwcRansEnc {
    uint32_t *q;    /* queued symbols: start | (freq - 1) << 16 */
    size_t count;   /* queued entries */
    size_t cap;     /* allocated entries */
    int err;        /* sticky LWC_ERR_*, or 0 */
} LwcRansEnc;

void lwc_rans_enc_init(LwcRansEnc *e);
/* Release the queue. The encoder may be re-initialised afterwards. */
void lwc_rans_enc_free(LwcRansEnc *e);
/* Empty the queue and clear the error state, keeping the allocation. */
void lwc_rans_enc_reset(LwcRansEnc *e);
/* Make room for n more symbols (optional; puts grow the queue anyway). */
int lwc_rans_enc_reserve(LwcRansEnc *e, size_t n);
/* Queue one symbol: 1 <= freq, start + freq <= 1<<16. Returns 0, or the
 * sticky error (LWC_ERR_INVAL for bad arguments, LWC_ERR_NOMEM). */
int lwc_rans_enc_put(LwcRansEnc *e, uint32_t start, uint32_t freq);
/* Queue nbits raw bits (1 <= nbits <= 16, value < 1<<nbits). */
int lwc_rans_enc_put_bits(LwcRansEnc *e, uint32_t value, int nbits);
/* Number of symbols queued so far (bypass groups count one each). */
size_t lwc_rans_enc_count(const LwcRansEnc *e);
/* Code the queue. On success *out is a new buffer of *size bytes owned by
 * the caller (free with lwc_free). On failure *out = NULL, *size = 0 and the
 * sticky or allocation error is returned. Either way the encoder is left
 * empty and error-free (as after reset), ready for the next stream. */
int lwc_rans_enc_finish(LwcRansEnc *e, uint8_t **out, size_t *size);

/* Decoder over a caller-owned buffer (not copied; must outlive decoding).
 * Reading past the end never touches memory beyond `end`: it sets
 * err = LWC_ERR_TRUNCATED and feeds zero words, so callers may decode a
 * whole section and check the error once, with lwc_rans_dec_finish. */
typedef struct LwcRansDec {
    const uint8_t *p, *end;
    uint64_t state;
    int err;
} LwcRansDec;

/* Returns 0; LWC_ERR_TRUNCATED if size < 8; LWC_ERR_CORRUPT if the initial
 * state is outside [L, 1<<63). On error d is still safe to use (and keeps
 * the error in d->err). */
int lwc_rans_dec_init(LwcRansDec *d, const uint8_t *buf, size_t size);
/* The next renormalisation word, or 0 (and a sticky TRUNCATED) past the
 * end; for the inline advance below. */
uint32_t lwc_rans_dec_word(LwcRansDec *d);
/* The current slot, in [0, 1<<16). */
static inline uint32_t lwc_rans_dec_peek(const LwcRansDec *d)
{
    return (uint32_t)(d->state & (LWC_RANS_TOTAL - 1));
}
/* Consume the symbol (start, freq) that contains the peeked slot. Inline:
 * it runs once per coded symbol. */
static inline void lwc_rans_dec_advance(LwcRansDec *d, uint32_t start, uint32_t freq)
{
    uint64_t x = d->state;
    x = freq * (x >> LWC_RANS_PREC) + (x & (LWC_RANS_TOTAL - 1)) - start;
    if (x < LWC_RANS_L) x = x << 32 | lwc_rans_dec_word(d);
    d->state = x;
}
/* Read nbits (1..16) raw bits written by lwc_rans_enc_put_bits. */
uint32_t lwc_rans_dec_get_bits(LwcRansDec *d, int nbits);
/* After the last symbol: d->err if set, else LWC_ERR_CORRUPT unless the
 * state is back to L and the whole buffer was consumed, else 0. */
int lwc_rans_dec_finish(const LwcRansDec *d);

#endif
