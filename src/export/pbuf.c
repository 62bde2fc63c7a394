/*
 * pbuf.c - protobuf encoding (see pbuf.h for the invariants).  Field numbers
 * and wire types are the caller's; this file knows only the wire format:
 * tag = field << 3 | wire type, varints little-endian base 128.
 */
#include "pbuf.h"

#include <stdlib.h>
#include <string.h>

void pbuf_free(struct pbuf *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

int pbuf_grow(struct pbuf *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->len + n <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *nb = realloc(b->buf, cap);
    if (!nb) {
        b->failed = 1;
        return 0;
    }
    b->buf = nb;
    b->cap = cap;
    return 1;
}

uint8_t *pb_close_long(uint8_t *body, uint8_t *end)
{
    size_t n = (size_t)(end - body), extra = pbuf_varint_size(n) - 1;
    memmove(body + extra, body, n);
    pbuf_varint_put(body - 1, n);
    return end + extra;
}

void pbuf_fixed64(struct pbuf *b, uint32_t field, uint64_t v)
{
    if (pbuf_reserve(b, PB_FIELD_MAX))
        pbuf_set_end(b, pb_fixed64(pbuf_end(b), field, v));
}

void pbuf_bytes(struct pbuf *b, uint32_t field, const void *p, size_t n)
{
    if (pbuf_reserve(b, PB_FIELD_MAX + n))
        pbuf_set_end(b, pb_bytes(pbuf_end(b), field, p, n));
}

void pbuf_str(struct pbuf *b, uint32_t field, const char *s)
{
    pbuf_bytes(b, field, s, strlen(s));
}

void pbuf_open(struct pbuf *b, uint32_t field)
{
    if (b->depth >= PBUF_MAX_DEPTH) {
        b->failed = 1; /* a programming error, reported as a failure */
        return;
    }
    if (!pbuf_reserve(b, PB_TAG_MAX + 1))
        return;
    pbuf_set_end(b, pb_open(pbuf_end(b), field));
    b->open[b->depth++] = b->len;
}

void pbuf_close(struct pbuf *b)
{
    if (b->failed || b->depth == 0 || !pbuf_reserve(b, PB_CLOSE_ROOM))
        return;
    size_t start = b->open[--b->depth];
    pbuf_set_end(b, pb_close(b->buf + start, pbuf_end(b)));
}
