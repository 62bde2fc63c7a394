/*
 * idmap.h - a hash map from 64-bit ids to non-NULL pointers, for the
 * exporter's per-goroutine, per-task and per-track state.
 *
 * Invariants: open addressing with linear probing; a slot is empty iff its
 * value is NULL (so values are never NULL); deletion shifts the following
 * run back (no tombstones), so the table never fills with dead slots and
 * memory follows the number of live entries (it grows at 1/2 load, and
 * shrinks never: a high-water mark).
 */
#ifndef CTRACE_EXPORT_IDMAP_H
#define CTRACE_EXPORT_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
    uint64_t key;
    void *val;
};

struct idmap {
    struct idmap_slot *slots;
    size_t mask; /* capacity - 1 (capacity a power of two), 0 when empty */
    size_t count;
};

void *idmap_get(const struct idmap *m, uint64_t key);
/* Inserts or replaces; returns 0, or -1 when out of memory. */
int idmap_put(struct idmap *m, uint64_t key, void *val);
/* Removes key; returns its value or NULL. */
void *idmap_del(struct idmap *m, uint64_t key);
void idmap_free(struct idmap *m);
/* Iteration: for (size_t i = 0; idmap_next(m, &i, &k, &v); ) ... ;
 * the map must not change during it. */
int idmap_next(const struct idmap *m, size_t *pos, uint64_t *key, void **val);

/* A 64-bit mix (splitmix64's finaliser): hashes and combines ids. */
static inline uint64_t idmap_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
