/*
 * pbuf.h - a minimal protobuf encoder into a growable byte buffer.
 *
 * Two layers over one encoding:
 *  - cursor writes (pb_*): the caller reserves room once (pbuf_reserve),
 *    then encodes field after field at a local cursor, each call returning
 *    the cursor after what it wrote, and stores the cursor back
 *    (pbuf_set_end).  A hot writer (perfetto.c's event packets) goes this
 *    way: stores through b->buf + b->len make the compiler reload b->len
 *    after every byte (a uint8_t store may alias it).
 *  - buffer writes (pbuf_uint ... pbuf_close): each reserves its own room;
 *    for what is written seldom.
 *
 * Invariants:
 *  - buf[0..len) is always a valid encoding of the fields written so far,
 *    except inside an open nested message (pbuf_open .. pbuf_close).
 *  - A nested message is written body first, after its tag and one byte
 *    kept for its length: closing it writes a length under 128 (nearly
 *    all) into that byte, and moves a longer body right by the size of its
 *    length varint less one.  So lengths are minimal varints (no padding),
 *    nothing is encoded twice, and only long bodies are moved; closing
 *    needs PB_CLOSE_ROOM bytes of room beyond the body for that move.
 *  - Allocation failure is sticky: once `failed` is set every call is a
 *    no-op, and the caller checks `failed` once per packet.
 */
#ifndef CTRACE_EXPORT_PBUF_H
#define CTRACE_EXPORT_PBUF_H

#include "outbuf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Number of bytes of the varint encoding of v (1..10): 7 bits a byte. */
static inline size_t pbuf_varint_size(uint64_t v)
{
    return (size_t)(64 - __builtin_clzll(v | 1) + 6) / 7;
}

/* ---- cursor writes: p has room for what they write ------------------- */

/* Most bytes a field's tag takes (field numbers below 2^29). */
#define PB_TAG_MAX 5
/* What a field of wire type 0 or 1 takes at most: tag and value. */
#define PB_FIELD_MAX (PB_TAG_MAX + 10)
/* Room a nested message's close may need beyond its body: its length
 * varint less the byte kept for it. */
#define PB_CLOSE_ROOM 9

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

/* Re-encodes at p, which holds the varint of `old` (n bytes), that of v;
 * returns its size.  When old's varint is longer than 3 bytes and v agrees
 * with it from bit 21 up (a timestamp close to the last one), v's varint
 * has the same length and differs only in its first three bytes (bits 0-20,
 * each with its continuation bit): those are all it writes. */
static inline size_t pbuf_varint_redo(uint8_t *p, size_t n, uint64_t old, uint64_t v)
{
    if (n > 3 && ((v ^ old) >> 21) == 0) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7 | 0x80);
        p[2] = (uint8_t)(v >> 14 | 0x80);
        return n;
    }
    return pbuf_varint_put(p, v);
}

static inline uint8_t *pb_varint(uint8_t *p, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *pb_uint(uint8_t *p, uint32_t field, uint64_t v) /* wire type 0 */
{
    return pb_varint(pb_varint(p, (uint64_t)field << 3 | 0), v);
}

static inline uint8_t *pb_int(uint8_t *p, uint32_t field, int64_t v)
{
    return pb_uint(p, field, (uint64_t)v); /* int32/int64: two's complement */
}

static inline uint8_t *pb_fixed64(uint8_t *p, uint32_t field, uint64_t v) /* wire type 1 */
{
    p = pb_varint(p, (uint64_t)field << 3 | 1);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8); /* one store (the byte loop was not merged into one) */
#else
    for (int i = 0; i < 8; i++) /* little-endian, whatever the host */
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return p + 8;
}

/* Wire type 2: room for PB_FIELD_MAX + n. */
static inline uint8_t *pb_bytes(uint8_t *p, uint32_t field, const void *s, size_t n)
{
    p = pb_varint(pb_varint(p, (uint64_t)field << 3 | 2), n);
    memcpy(p, s, n);
    return p + n;
}

/* pb_bytes for the few bytes of a hot field (an arg's key, a reason): up
 * to 32 bytes copied in moves of a fixed size (outbuf_copy_short), not by
 * a memcpy call, which cost more than the copy. */
static inline __attribute__((always_inline)) uint8_t *pb_bytes_short(uint8_t *p, uint32_t field,
                                                                     const void *s, size_t n)
{
    p = pb_varint(pb_varint(p, (uint64_t)field << 3 | 2), n);
    if (n <= 32)
        outbuf_copy_short((char *)p, s, n);
    else
        memcpy(p, s, n);
    return p + n;
}

/* Opens a nested message: its tag and the byte kept for its length;
 * returns where its body starts (pb_close's `body`). */
static inline uint8_t *pb_open(uint8_t *p, uint32_t field)
{
    return pb_varint(p, (uint64_t)field << 3 | 2) + 1;
}

/* Slow path of pb_close: a body of 128 bytes or more. */
uint8_t *pb_close_long(uint8_t *body, uint8_t *end);

/* Closes the message whose body is [body, end); returns the new end. */
static inline uint8_t *pb_close(uint8_t *body, uint8_t *end)
{
    size_t n = (size_t)(end - body);
    if (n >= 0x80)
        return pb_close_long(body, end);
    body[-1] = (uint8_t)n;
    return end;
}

/* The cursor at the end of what is written; pbuf_set_end stores it back. */
static inline uint8_t *pbuf_end(struct pbuf *b) { return b->buf + b->len; }
static inline void pbuf_set_end(struct pbuf *b, uint8_t *p) { b->len = (size_t)(p - b->buf); }

/* ---- buffer writes ----------------------------------------------------- */

static inline void pbuf_uint(struct pbuf *b, uint32_t field, uint64_t v) /* wire type 0 */
{
    if (pbuf_reserve(b, PB_FIELD_MAX))
        pbuf_set_end(b, pb_uint(pbuf_end(b), field, v));
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

#endif
