/*
 * pbuf.h - a minimal protobuf encoder into a growable byte buffer.
 *
 * Invariants:
 *  - buf[0..len) is always a valid encoding of the fields written so far,
 *    except inside an open nested message (pbuf_open .. pbuf_close).
 *  - A nested message is written body first: pbuf_open writes the tag and
 *    remembers where the body starts; pbuf_close measures the body, then
 *    moves it right by the size of the length varint and writes the length
 *    in front.  So lengths are minimal varints (no padding) and nothing is
 *    encoded twice; the memmove costs one copy of the body per nesting level.
 *  - Allocation failure is sticky: once `failed` is set every call is a
 *    no-op, and the caller checks `failed` once per packet.
 */
#ifndef CTRACE_EXPORT_PBUF_H
#define CTRACE_EXPORT_PBUF_H

#include <stddef.h>
#include <stdint.h>

#define PBUF_MAX_DEPTH 8

struct pbuf {
    uint8_t *buf;
    size_t len, cap;
    size_t open[PBUF_MAX_DEPTH]; /* body start of each open message */
    int depth;
    int failed;
};

void pbuf_free(struct pbuf *b);
/* Empties the buffer (keeps its memory). */
static inline void pbuf_reset(struct pbuf *b) { b->len = 0; b->depth = 0; }

/* Slow path of pbuf_reserve: grows the buffer; 0 (and failed) when out of
 * memory. */
int pbuf_grow(struct pbuf *b, size_t n);

/* Makes room for n more bytes; inline because every field goes through it. */
static inline int pbuf_reserve(struct pbuf *b, size_t n)
{
    return b->len + n <= b->cap ? 1 : pbuf_grow(b, n);
}

/* Appends a varint (room for 10 bytes must be reserved). */
static inline void pbuf_put_varint_reserved(struct pbuf *b, uint64_t v)
{
    uint8_t *p = b->buf + b->len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->buf);
}

static inline void pbuf_uint(struct pbuf *b, uint32_t field, uint64_t v) /* wire type 0 */
{
    if (pbuf_reserve(b, 20)) {
        pbuf_put_varint_reserved(b, (uint64_t)field << 3 | 0);
        pbuf_put_varint_reserved(b, v);
    }
}
static inline void pbuf_int(struct pbuf *b, uint32_t field, int64_t v)
{
    pbuf_uint(b, field, (uint64_t)v); /* int32/int64: two's complement */
}
void pbuf_fixed64(struct pbuf *b, uint32_t field, uint64_t v);   /* wire type 1 */
void pbuf_bytes(struct pbuf *b, uint32_t field, const void *p, size_t n); /* type 2 */
void pbuf_str(struct pbuf *b, uint32_t field, const char *s);
void pbuf_open(struct pbuf *b, uint32_t field);
void pbuf_close(struct pbuf *b);
/* Number of bytes of the varint encoding of v (1..10): 7 bits a byte. */
static inline size_t pbuf_varint_size(uint64_t v)
{
    return (size_t)(64 - __builtin_clzll(v | 1) + 6) / 7;
}

/* Encodes v at p (room for 10 bytes); returns the bytes written.  Inline:
 * the exporters write several varints per event, most of one byte. */
static inline size_t pbuf_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

#endif
