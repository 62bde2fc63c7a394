/*
 * varint.h - unsigned LEB128, the integer encoding of Go's trace formats.
 * Header-only so the writer's hot path inlines it.
 */
#ifndef CTRACE_FORMAT_VARINT_H
#define CTRACE_FORMAT_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* Longest encoding of a uint64. */
#define VARINT_MAX_LEN 10

/* Writes v at p; returns the byte after it.  p needs VARINT_MAX_LEN bytes. */
static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Bytes varint_put would write for v. */
static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Reads a varint from [*pp, end).  Returns 0 and advances *pp on success,
 * -1 if the input ends first or the value overflows 64 bits. */
static inline int varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0; p < end; shift += 7) {
        uint8_t b = *p++;
        if (shift == 63 && b > 1)
            return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return 0;
        }
        if (shift == 63)
            return -1;
    }
    return -1;
}

#endif /* CTRACE_FORMAT_VARINT_H */
