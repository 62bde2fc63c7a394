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

static void put_varint(struct pbuf *b, uint64_t v)
{
    if (pbuf_reserve(b, 10))
        pbuf_put_varint_reserved(b, v);
}

void pbuf_fixed64(struct pbuf *b, uint32_t field, uint64_t v)
{
    put_varint(b, (uint64_t)field << 3 | 1);
    if (!pbuf_reserve(b, 8))
        return;
    for (int i = 0; i < 8; i++)
        b->buf[b->len++] = (uint8_t)(v >> (8 * i));
}

void pbuf_bytes(struct pbuf *b, uint32_t field, const void *p, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    if (n && pbuf_reserve(b, n)) {
        memcpy(b->buf + b->len, p, n);
        b->len += n;
    }
}

void pbuf_str(struct pbuf *b, uint32_t field, const char *s)
{
    pbuf_bytes(b, field, s, strlen(s));
}

void pbuf_open(struct pbuf *b, uint32_t field)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    if (b->depth >= PBUF_MAX_DEPTH) {
        b->failed = 1; /* a programming error, reported as a failure */
        return;
    }
    b->open[b->depth++] = b->len;
}

void pbuf_close(struct pbuf *b)
{
    if (b->failed || b->depth == 0)
        return;
    size_t start = b->open[--b->depth];
    size_t body = b->len - start;
    size_t n = pbuf_varint_size(body);
    if (!pbuf_reserve(b, n))
        return;
    memmove(b->buf + start + n, b->buf + start, body);
    pbuf_varint_put(b->buf + start, body);
    b->len += n;
}
