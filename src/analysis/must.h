/*
 * must.h - allocation that must succeed, for the analyses and the tool's
 * commands: each function here either does its job or prints "ctrace: out
 * of memory" and exits with status 2 (they are command-line tools, not
 * library code: src/base itself returns -1 and lets its caller decide).
 *
 * Invariants: nothing returns NULL or fails silently; an_map_* are
 * src/base's u64map with 32-bit values (indices into the caller's arrays)
 * and exit-on-OOM put; an_map_put never stores the key UINT64_MAX
 * (CTRACE_NO_ID: "no goroutine/task" is never an entry - the behaviour of
 * the map the analyses used before src/base).
 */
#ifndef CTRACE_ANALYSIS_MUST_H
#define CTRACE_ANALYSIS_MUST_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

/* Prints "ctrace: out of memory" and exits with status 2. */
void an_out_of_memory(void);
void *an_calloc(size_t n, size_t size);
void *an_realloc(void *p, size_t size);

/* 1 and *v (if v) when k is present, 0 otherwise. */
static inline int an_map_get(const struct u64map *m, uint64_t k, uint32_t *v)
{
    const uint64_t *p = u64map_get(m, k);
    if (!p)
        return 0;
    if (v)
        *v = (uint32_t)*p;
    return 1;
}
/* Inserts or replaces (ignores k == UINT64_MAX); exits when out of memory. */
void an_map_put(struct u64map *m, uint64_t k, uint32_t v);

#endif
