/*
 * hash.h - the project's one hash (outside the runtime): FNV-1a over bytes
 * and a 64-bit mix (splitmix64's finaliser), for hash tables and content
 * keys in the reader, the analyses, the exporters and the tool.
 *
 * Invariants: pure functions of their arguments (no per-process seed), so
 * a table's layout - and therefore any iteration order over it - is the
 * same on every run; hash_mix64 is a bijection on 64-bit values (distinct
 * ids never collide after mixing), and hash_bytes mixes its FNV-1a state so
 * that the low bits a table indexes by depend on every input byte.  These
 * are not cryptographic: keys built from hashes (content -> id) must still
 * compare the content, or accept that a 64-bit collision merges two keys.
 */
#ifndef CTRACE_BASE_HASH_H
#define CTRACE_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Spreads every input bit over the whole word; combines ids and hashes. */
static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Plain FNV-1a of n bytes, its offset basis xor'ed with seed (seed 0 is
 * textbook FNV-1a).  Unmixed: use it where the value itself is a key that
 * a map mixes again, hash_bytes where the low bits index a table. */
static inline uint64_t hash_fnv1a(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

/* FNV-1a then hash_mix64: a well-spread hash of n bytes. */
static inline uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    return hash_mix64(hash_fnv1a(p, n, seed));
}

#endif
