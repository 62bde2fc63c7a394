/*
 * outbuf.h - the output buffer of the text and binary sinks (chrome.c,
 * csv.c, go119.c): bytes gathered in 64 KiB and written with one fwrite,
 * because stdio's per-call locking and bookkeeping cost more than the
 * formatting of an event.
 *
 * Invariants: bytes are written in the order they are appended; a write
 * error sets `failed` (sticky) and later bytes are dropped, never
 * reported twice; nothing is written before outbuf_flush() or a full buffer.
 */
#ifndef CTRACE_EXPORT_OUTBUF_H
#define CTRACE_EXPORT_OUTBUF_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct outbuf {
    FILE *f;
    int failed;
    size_t len;
    char buf[1 << 16];
};

static inline void outbuf_flush(struct outbuf *o)
{
    if (o->len && !o->failed && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->failed = 1;
    o->len = 0;
}

static inline void outbuf_bytes(struct outbuf *o, const void *p, size_t n)
{
    if (o->len + n > sizeof o->buf) {
        outbuf_flush(o);
        if (n > sizeof o->buf) {
            if (!o->failed && fwrite(p, 1, n, o->f) != n)
                o->failed = 1;
            return;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static inline void outbuf_c(struct outbuf *o, char c)
{
    if (o->len == sizeof o->buf)
        outbuf_flush(o);
    o->buf[o->len++] = c;
}

/* v in decimal, without printf (which dominated the exports' time). */
static inline void outbuf_u64(struct outbuf *o, uint64_t v)
{
    char b[24];
    int i = sizeof b;
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    outbuf_bytes(o, b + i, sizeof b - (size_t)i);
}

static inline void outbuf_i64(struct outbuf *o, int64_t v)
{
    if (v < 0) {
        outbuf_c(o, '-');
        outbuf_u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        outbuf_u64(o, (uint64_t)v);
    }
}

#endif
