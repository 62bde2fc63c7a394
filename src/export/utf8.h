/*
 * utf8.h - how long the valid UTF-8 sequence at p is, for the text outputs
 * (JSON, CSV) that must be valid UTF-8 while trace strings are bytes.
 *
 * Invariant: a sequence is valid only if it is the shortest encoding of a
 * scalar value (no overlongs, no surrogates, nothing above U+10FFFF), so
 * what the callers copy through is valid UTF-8 and everything else is
 * replaced by them (with U+FFFD).
 */
#ifndef CTRACE_EXPORT_UTF8_H
#define CTRACE_EXPORT_UTF8_H

#include <stddef.h>

/* The length (2..4) of the valid multi-byte sequence at p (p < end,
 * *p >= 0x80), or 0 if it is not one. */
static inline int utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = *p;
    int k = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    int ok = k && end - p >= k;
    for (int i = 1; ok && i < k; i++)
        ok = (p[i] & 0xc0) == 0x80;
    if (ok && k == 3) /* no overlongs, no surrogates */
        ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
    if (ok && k == 4) /* no overlongs, nothing above U+10FFFF */
        ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
    return ok ? k : 0;
}

#endif
