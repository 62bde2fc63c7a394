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

/* d[0..n) = s[0..n) for k <= n <= 2k (k <= 32), in two moves of k bytes
 * that overlap in the middle (a constant k: each move is a load and a
 * store). */
static inline void outbuf_move2(char *d, const char *s, size_t n, size_t k)
{
    char a[32], b[32];
    memcpy(a, s, k);
    memcpy(b, s + n - k, k);
    memcpy(d, a, k);
    memcpy(d + n - k, b, k);
}

/* d[0..n) = s[0..n) for n <= 32: in moves of a fixed size. */
static inline __attribute__((always_inline)) void outbuf_copy_short(char *d, const char *s,
                                                                   size_t n)
{
    if (n >= 16)
        outbuf_move2(d, s, n, 16);
    else if (n >= 8)
        outbuf_move2(d, s, n, 8);
    else if (n >= 4)
        outbuf_move2(d, s, n, 4);
    else
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
}

/* d[0..n) = s[0..n) for n <= 64: two moves of 32 bytes that overlap in
 * the middle from 32 on, else outbuf_copy_short (a csv row's head, made at
 * its slice's begin, is mostly 32 to 64 bytes). */
static inline __attribute__((always_inline)) void outbuf_copy64(char *d, const char *s,
                                                               size_t n)
{
    if (n >= 32)
        outbuf_move2(d, s, n, 32);
    else
        outbuf_copy_short(d, s, n);
}

/* outbuf_bytes of a string of 32 bytes or less, inline: in moves of a
 * fixed size (reading s[0..n) only), not a memcpy call, which cost more
 * than copying the event names and fields of a few bytes that the text
 * outputs copy at every event. */
static inline __attribute__((always_inline)) void outbuf_short(struct outbuf *o, const char *s,
                                                              size_t n)
{
    if (n > 32 || o->len + 32 > sizeof o->buf) {
        outbuf_bytes(o, s, n);
        return;
    }
    outbuf_copy_short(o->buf + o->len, s, n);
    o->len += n;
}

static inline void outbuf_c(struct outbuf *o, char c)
{
    if (o->len == sizeof o->buf)
        outbuf_flush(o);
    o->buf[o->len++] = c;
}

/* Number of decimal digits of v (1..20): log10 from the bit length
 * (1233/4096 ~ log10(2)), corrected by one comparison (v | 1: 0 has one
 * digit, and no other count changes). */
static inline unsigned outbuf_digits(uint64_t v)
{
    static const uint64_t pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
        10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
    unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
    return t + 1 - ((v | 1) < pow10[t]);
}

/* "00" to "99": two digits a load. */
static const char outbuf_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                      "25262728293031323334353637383940414243444546474849"
                                      "50515253545556575859606162636465666768697071727374"
                                      "75767778798081828384858687888990919293949596979899";

/* v in decimal at d, which has room for 20 bytes; returns the end.
 * Without printf (which dominated the exports' time), written in place,
 * last digits first: not formatted into a scratch array and copied (that
 * copy, reading bytes just stored one by one, stalled on store forwarding
 * in every number).  Four digits per division by 10000, written as two
 * pairs from a table: the divisions are the cost.  For a writer that
 * made the room of a whole row at once (csv's rows). */
static inline char *outbuf_put_u64(char *d, uint64_t v)
{
    const char *pairs = outbuf_pairs;
    char *end = d + outbuf_digits(v), *p = end;
    for (; v >= 10000; v /= 10000) {
        uint32_t c = (uint32_t)(v % 10000);
        p -= 4;
        memcpy(p, pairs + 2 * (c / 100), 2);
        memcpy(p + 2, pairs + 2 * (c % 100), 2);
    }
    uint32_t c = (uint32_t)v; /* below 10000: 32-bit arithmetic */
    if (c >= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (c % 100), 2);
        c /= 100;
    }
    if (c >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * c, 2);
    } else {
        *--p = (char)('0' + c);
    }
    return end;
}

/* outbuf_put_u64 of a signed v (room for 20 bytes: a sign and 19 digits). */
static inline char *outbuf_put_i64(char *d, int64_t v)
{
    if (v < 0) {
        *d++ = '-';
        return outbuf_put_u64(d, (uint64_t)0 - (uint64_t)v);
    }
    return outbuf_put_u64(d, (uint64_t)v);
}

/*
 * The decimal text of a number, kept from one number to the next, for
 * numbers that come close to the one before (chrome's times and flow
 * ids, csv's times: in order, mostly a few hundred nanoseconds apart):
 * the same number again keeps its text, one whose digits above the last
 * four are the same rewrites only those four, any other is written anew.
 * s has OUTBUF_NUM_MOVE bytes, so that a writer may copy the text in one
 * move of that fixed size whatever its length.  A zeroed struct holds no
 * number (len 0).
 */
#define OUTBUF_NUM_MOVE 24 /* a uint64_t has 20 digits at most */
struct outbuf_num {
    uint64_t v;
    uint64_t hi; /* v / 10000 (kept: compared at every set) */
    size_t len;  /* of the text of v in s; 0: none yet */
    char s[OUTBUF_NUM_MOVE];
};

/* outbuf_num_set's seldom case: v written anew. */
static __attribute__((noinline)) void outbuf_num_new(struct outbuf_num *m, uint64_t v)
{
    m->len = (size_t)(outbuf_put_u64(m->s, v) - m->s);
    m->v = v;
    m->hi = v / 10000;
}

/* Makes m hold the text of v. */
static inline void outbuf_num_set(struct outbuf_num *m, uint64_t v)
{
    if (v == m->v && m->len)
        return;
    uint64_t hi = v / 10000;
    if (hi && hi == m->hi) { /* m->v >= 10000: its last four are digits */
        uint32_t c = (uint32_t)(v - hi * 10000);
        char *low = m->s + m->len - 4;
        memcpy(low, outbuf_pairs + 2 * (c / 100), 2);
        memcpy(low + 2, outbuf_pairs + 2 * (c % 100), 2);
        m->v = v;
    } else {
        outbuf_num_new(m, v);
    }
}

/*
 * Writes the text of v at d (room for OUTBUF_NUM_MOVE bytes) from what m
 * keeps; returns its end.  Same text as outbuf_num_set(m, v) and a copy of
 * m->s, but a v whose digits above the last four are m's writes those four
 * at d, not into m->s: a wide load of m->s just after narrow stores into
 * it cannot take its bytes from the store buffer and waits until they
 * are written to the cache (a third of csv's slice begins went there).
 * m->s stays the text of m->v (its last four digits may differ from v's),
 * so the two ways of using m mix.
 */
static inline char *outbuf_num_put(struct outbuf_num *m, char *d, uint64_t v)
{
    uint64_t hi = v / 10000;
    if (!hi || hi != m->hi) /* a zeroed m: m->hi is 0 */
        outbuf_num_new(m, v);
    memcpy(d, m->s, OUTBUF_NUM_MOVE);
    char *end = d + m->len;
    if (hi) {
        uint32_t c = (uint32_t)(v - hi * 10000);
        memcpy(end - 4, outbuf_pairs + 2 * (c / 100), 2);
        memcpy(end - 2, outbuf_pairs + 2 * (c % 100), 2);
    }
    return end;
}

/* v in decimal (outbuf_put_u64). */
static inline void outbuf_u64(struct outbuf *o, uint64_t v)
{
    if (o->len + 20 > sizeof o->buf)
        outbuf_flush(o);
    o->len = (size_t)(outbuf_put_u64(o->buf + o->len, v) - o->buf);
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
