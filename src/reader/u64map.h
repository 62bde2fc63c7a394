/*
 * u64map.h - open-addressing hash map from uint64 keys to uint64 values.
 *
 * Invariants: linear probing, capacity a power of two, load <= 1/2, and
 * deletion by backward shift (no tombstones), so lookups stay short however
 * many goroutines come and go.  Clearing keeps the storage: the reader reuses
 * its maps from one generation to the next without allocating.
 */
#ifndef CTRACE_READER_U64MAP_H
#define CTRACE_READER_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    size_t cap;   /* 0 or a power of two */
    size_t len;
};

/* Returns a pointer to the value of key, or NULL if absent.  The pointer is
 * valid until the next put or del. */
uint64_t *u64map_get(const struct u64map *m, uint64_t key);
/* Inserts or replaces; returns 0 or -1 on allocation failure. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* Removes key if present. */
void u64map_del(struct u64map *m, uint64_t key);
/* Removes every key, keeping the storage. */
void u64map_clear(struct u64map *m);
void u64map_free(struct u64map *m);

#endif
