/*
 * idmap.h - a map from 64-bit IDs (goroutines, tasks, reader stack IDs) to
 * 32-bit indices, for the trace analyses in src/analysis.
 *
 * Invariants: open addressing with linear probing over a power-of-two table
 * kept at most 3/4 full, so every probe chain ends at an empty slot; the key
 * UINT64_MAX marks an empty slot and is never stored (idmap_put ignores it);
 * deletion shifts later entries of the chain back (no tombstones), so a map
 * that sees endless put/delete cycles (goroutines born and ending) stays the
 * size of its live entries.  Allocation failure exits the tool (status 2):
 * the analyses are command-line tools, not library code.
 */
#ifndef CTRACE_ANALYSIS_IDMAP_H
#define CTRACE_ANALYSIS_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, len;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
void idmap_clear(struct idmap *m);
/* 1 and *v (if v) when k is present, 0 otherwise. */
int idmap_get(const struct idmap *m, uint64_t k, uint32_t *v);
void idmap_put(struct idmap *m, uint64_t k, uint32_t v);
void idmap_del(struct idmap *m, uint64_t k);

/* Memory helpers shared by the analyses: exit(2) with a message on failure. */
void *an_calloc(size_t n, size_t size);
void *an_realloc(void *p, size_t size);

/* Hashes used for interning. */
uint64_t an_mix64(uint64_t x);
uint64_t an_hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
