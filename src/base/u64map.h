/*
 * u64map.h - the project's one growing hash map (outside the runtime):
 * uint64 keys to uint64 values (pointers stored as uintptr_t).
 *
 * Invariants: open addressing with linear probing over a power-of-two
 * table (64 slots at first) kept at most half full, so every probe run
 * ends at an empty slot; any key is valid (a separate byte marks used
 * slots); deletion shifts the later members of the run back (no
 * tombstones), so endless put/delete cycles (goroutines born and ending)
 * keep the table the size of its high-water mark of live entries.  A
 * zeroed struct is an empty map; clearing keeps the storage (a reader
 * reuses its maps generation after generation).  Allocation failure is
 * returned (-1) and leaves the map as it was: the reader library must not
 * exit; command-line callers that want exit-on-OOM wrap put.  The slot of
 * a key depends on the key and the capacity only (hash_mix64), so
 * iteration order is the same on every run.
 */
#ifndef CTRACE_BASE_U64MAP_H
#define CTRACE_BASE_U64MAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hash.h"

struct u64map {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    size_t cap; /* 0 or a power of two */
    size_t len; /* live entries */
};

/* A pointer to key's value, or NULL if absent; valid until the next put
 * or del.  Inline: the reader looks up a map several times per event. */
static inline uint64_t *u64map_get(const struct u64map *m, uint64_t key)
{
    if (m->len == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash_mix64(key) & mask;; i = (i + 1) & mask) {
        if (!m->used[i])
            return NULL;
        if (m->keys[i] == key)
            return &m->vals[i];
    }
}
/* Inserts or replaces; 0, or -1 when out of memory (map unchanged). */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* Removes key: 1 and its value in *old (if old), or 0 if absent. */
int u64map_del(struct u64map *m, uint64_t key, uint64_t *old);
/* Removes every key, keeping the storage. */
void u64map_clear(struct u64map *m);
void u64map_free(struct u64map *m);
/* Iteration: for (size_t i = 0; u64map_next(m, &i, &k, &v);) ...; the map
 * must not change during it.  k or v may be NULL. */
int u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val);

/* Pointer values (never NULL when stored, so NULL means absent). */
static inline void *u64map_get_ptr(const struct u64map *m, uint64_t key)
{
    const uint64_t *v = u64map_get(m, key);
    return v ? (void *)(uintptr_t)*v : NULL;
}
static inline int u64map_put_ptr(struct u64map *m, uint64_t key, void *p)
{
    return u64map_put(m, key, (uint64_t)(uintptr_t)p);
}
/* Removes key; returns its value, or NULL if absent. */
static inline void *u64map_take_ptr(struct u64map *m, uint64_t key)
{
    uint64_t v;
    return u64map_del(m, key, &v) ? (void *)(uintptr_t)v : NULL;
}
static inline int u64map_next_ptr(const struct u64map *m, size_t *pos, uint64_t *key, void **p)
{
    uint64_t v;
    if (!u64map_next(m, pos, key, &v))
        return 0;
    *p = (void *)(uintptr_t)v;
    return 1;
}

/*
 * A memo in front of a map, for lookups that come back to a few hot keys
 * (the goroutines of a trace, event after event): a direct-mapped table of
 * the values last found, indexed by the key's low bits, so a hit costs a
 * mask, a compare and a load -- no hashing, no probe.  The keys it serves
 * are dense or end in dense bits (goroutine, stack and string ids, track
 * uuids, (reason << 32 | stack)), which spread over the slots as they are.
 * A slot's tag is its key's other bits with the low bit set (u64memo_tag),
 * so 0 is no key's tag: a zeroed struct is an empty memo, and a hit needs
 * no test but the tag's.  Tags and values are two arrays of 8-byte
 * members, indexed without a multiply.  The caller keeps it true: after
 * u64map_del of a key, or a u64map_put that gives a memoised key another
 * value, it calls u64memo_forget(key).
 */
#define U64MEMO_SLOTS 256
struct u64memo {
    uint64_t tag[U64MEMO_SLOTS]; /* u64memo_tag of the slot's key, 0: none */
    uint64_t val[U64MEMO_SLOTS];
};

/* The slot of a key is its low bits; the tag, the rest of it, marked. */
static inline size_t u64memo_slot(uint64_t key)
{
    return (size_t)key & (U64MEMO_SLOTS - 1);
}
static inline uint64_t u64memo_tag(uint64_t key)
{
    return (key & ~(uint64_t)(U64MEMO_SLOTS - 1)) | 1;
}

/* The memo's miss: the map, and the slot keeps what it found. */
static inline int u64memo_fill(struct u64memo *c, const struct u64map *m, uint64_t key, uint64_t *val)
{
    const uint64_t *v = u64map_get(m, key);
    if (!v)
        return 0;
    size_t i = u64memo_slot(key);
    c->tag[i] = u64memo_tag(key);
    c->val[i] = *v;
    *val = *v;
    return 1;
}

/* 1 and *val if key is in m (through the memo), 0 otherwise. */
static inline int u64memo_get(struct u64memo *c, const struct u64map *m, uint64_t key,
                              uint64_t *val)
{
    size_t i = u64memo_slot(key);
    if (c->tag[i] == u64memo_tag(key)) {
        *val = c->val[i];
        return 1;
    }
    return u64memo_fill(c, m, key, val);
}

/* The pointer value of key in m (u64map_put_ptr), NULL if absent. */
static inline void *u64memo_get_ptr(struct u64memo *c, const struct u64map *m, uint64_t key)
{
    uint64_t v;
    return u64memo_get(c, m, key, &v) ? (void *)(uintptr_t)v : NULL;
}

/* Forgets key (after u64map_del, or a new value for it). */
static inline void u64memo_forget(struct u64memo *c, uint64_t key)
{
    size_t i = u64memo_slot(key);
    if (c->tag[i] == u64memo_tag(key))
        c->tag[i] = 0;
}

/* Forgets every key (after u64map_clear or u64map_free of the map). */
static inline void u64memo_clear(struct u64memo *c)
{
    memset(c, 0, sizeof *c);
}

#endif
