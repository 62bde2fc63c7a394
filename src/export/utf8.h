/*
 * utf8.h - what of a trace string the text outputs (JSON, CSV) copy as it
 * is: how long the valid UTF-8 sequence at p is (they must be valid UTF-8
 * while trace strings are bytes), and how long a run of plain ASCII is,
 * found a word at a time (most strings are nothing else).
 *
 * Invariant: a sequence is valid only if it is the shortest encoding of a
 * scalar value (no overlongs, no surrogates, nothing above U+10FFFF), so
 * what the callers copy through is valid UTF-8 and everything else is
 * replaced by them (with U+FFFD).
 */
#ifndef CTRACE_EXPORT_UTF8_H
#define CTRACE_EXPORT_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Whether the 8 bytes at p are plain ASCII: 0x20 to 0x7f but '"' and
 * '\\', which JSON and CSV both copy as they are (a caller that finds a
 * word not plain goes on byte by byte with its own rule, to which some of
 * its bytes may be plain too).  The word is tested at once: a byte's high
 * bit is set in w (>= 0x80), in w - 0x20.. (< 0x20) or in the zero-byte
 * tests of w xor '"'.. and w xor '\\'.. (a borrow flags bytes above a
 * flagged one too, in a word not plain anyway). */
static inline int plain_ascii8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w, q, b;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    return !((w | (w - ones * 0x20) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs);
}

/* The quoting loop of the text outputs, a word of 8 bytes at a time: if
 * the word at *p (within end) is plain ASCII, copies it to *d, moves both
 * on and returns NULL; otherwise returns the end of that word (or of the
 * string), which the caller's own rule then takes a byte or a UTF-8
 * sequence at a time (a sequence may end past it). */
static inline const unsigned char *copy_plain8(char **d, const unsigned char **p,
                                               const unsigned char *end)
{
    if (end - *p >= 8 && plain_ascii8(*p)) {
        memcpy(*d, *p, 8);
        *d += 8;
        *p += 8;
        return NULL;
    }
    return end - *p > 8 ? *p + 8 : end;
}

#endif
