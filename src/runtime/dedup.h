/*
 * dedup.h - the per-generation, insert-only, lock-free dedup map behind the
 * string and stack tables: content in, small integer id out.
 *
 * Invariants:
 *  - Any number of threads may call ct_dedup_put concurrently.  Lookups read
 *    slots with acquire loads; an insert publishes a fully built node with
 *    one compare-and-swap on an empty slot (a read-modify-write, but only on
 *    a miss -- the hot path hits a per-thread cache first, see ct_cache_*).
 *  - Nodes are never removed while the generation is live.  ct_dedup_reset
 *    runs only when no thread can still insert into this map (the advancer
 *    has waited out every writer of the generation).
 *  - ids start at 1 (0 means "none" in Go's tables) and are dense per map.
 *  - Capacity is fixed; past max_count, put returns 0 and counts the miss.
 *    Crossing half of it asks the advancer for an early generation, which
 *    empties the map.  The slots between max_count and reserve_count are
 *    kept for the table writers at the generation's end (ct_dedup_put_
 *    reserved: function and file names, module records), so that a table
 *    the program's threads filled still names the generation's stacks.
 */
#ifndef CTRACE_RUNTIME_DEDUP_H
#define CTRACE_RUNTIME_DEDUP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ct_dedup_node {
    uint64_t hash;
    uint64_t id;
    uint64_t len;     /* 64-bit so data is 8-aligned (stacks are words) */
    uint8_t data[];
};

struct ct_dedup {
    _Atomic(struct ct_dedup_node *) *slots;
    uint32_t mask;
    uint32_t max_count;     /* inserts by traced threads stop here      */
    uint32_t reserve_count; /* and the table writers' here              */
    _Atomic uint32_t count;
    _Atomic uint64_t next_id;
    _Atomic uint64_t full_misses;
    _Atomic size_t bytes;
};

int ct_dedup_init(struct ct_dedup *m, uint32_t nslots);
void ct_dedup_reset(struct ct_dedup *m);
void ct_dedup_destroy(struct ct_dedup *m);

/* Returns the id of data (inserting it), 0 when the map is full or memory
 * runs out.  *node, if non-NULL, receives the node (valid until reset). */
uint64_t ct_dedup_put(struct ct_dedup *m, const void *data, uint32_t len, uint64_t hash,
                      struct ct_dedup_node **node);

/* The same, allowed up to reserve_count: only for the advancer writing the
 * generation's tables, when no traced thread inserts any more. */
uint64_t ct_dedup_put_reserved(struct ct_dedup *m, const void *data, uint32_t len, uint64_t hash);

/* True once the map is half full: time for an early generation. */
static inline int ct_dedup_pressure(struct ct_dedup *m)
{
    return atomic_load_explicit(&m->count, memory_order_relaxed) > m->max_count / 2;
}

/* Calls fn for every node (any order).  Only when no thread inserts. */
void ct_dedup_each(struct ct_dedup *m, void (*fn)(void *arg, const struct ct_dedup_node *n),
                   void *arg);

/* 64-bit hash of bytes (fast, not cryptographic). */
static inline uint64_t ct_hash_bytes(const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    if (n) {
        /* The tail with whole loads: overlapping the previous word when
         * there was one, else two (possibly overlapping) halves. */
        uint64_t w;
        if ((const uint8_t *)p + 8 <= s) {
            __builtin_memcpy(&w, s + n - 8, 8);
        } else if (n >= 4) {
            uint32_t a, b;
            __builtin_memcpy(&a, s, 4);
            __builtin_memcpy(&b, s + n - 4, 4);
            w = a | (uint64_t)b << 32;
        } else {
            w = (uint64_t)s[0] | (uint64_t)s[n >> 1] << 8 | (uint64_t)s[n - 1] << 16;
        }
        h = (h ^ w) * 0x94d049bb133111ebull;
        h ^= h >> 29;
    }
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

/* 64-bit hash of n words (stacks): four independent multiply lanes, so
 * the chain a 20-PC stack waits on is 5 steps long instead of 20.  Not
 * interchangeable with ct_hash_bytes (a map compares hashes first: one
 * content must always be hashed by the same function). */
static inline uint64_t ct_hash_words(const uintptr_t *w, size_t n)
{
    const uint64_t k = 0xbf58476d1ce4e5b9ull;
    uint64_t a = 0x9e3779b97f4a7c15ull ^ n, b = 0xc2b2ae3d27d4eb4full;
    uint64_t c = 0x165667b19e3779f9ull, d = 0x27d4eb2f165667c5ull;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a = (a ^ (uint64_t)w[i]) * k;
        b = (b ^ (uint64_t)w[i + 1]) * k;
        c = (c ^ (uint64_t)w[i + 2]) * k;
        d = (d ^ (uint64_t)w[i + 3]) * k;
        a ^= a >> 31;
        b ^= b >> 31;
        c ^= c >> 31;
        d ^= d >> 31;
    }
    for (; i < n; i++) {
        a = (a ^ (uint64_t)w[i]) * k;
        a ^= a >> 31;
    }
    uint64_t h = a ^ ((b << 17) | (b >> 47)) ^ ((c << 31) | (c >> 33)) ^ ((d << 47) | (d >> 17));
    h = (h ^ (h >> 29)) * 0x94d049bb133111ebull;
    return h ^ (h >> 32);
}

#endif /* CTRACE_RUNTIME_DEDUP_H */
