/*
 * gtable.h - the analyses' table of live goroutines: goroutine id -> a
 * record of the caller's own type (stat's accounting, pprof's), so that
 * one lookup per event finds everything kept about the goroutine.  The
 * per-goroutine parts of the shared computations (struct goprof_g,
 * struct regions_g) live inside those records: they have no table of
 * their own to search again.
 *
 * Invariants: records are zeroed when made and stay until gtable_release
 * (the goroutine's end), so memory follows live goroutines, not
 * goroutines seen; a released record's slot is reused, the most recently
 * released first (a LIFO free list), and a new slot otherwise takes the
 * next index - so slot numbers, and gtable_next's order (by slot), are a
 * function of the sequence of adds and releases only.
 *
 * Lookups: goroutine ids are small and dense (Go numbers goroutines 1, 2,
 * 3 ...; libctrace its threads likewise), so an id below GTABLE_DENSE_MAX
 * finds its slot by index in `dense` (grown to the largest such id added:
 * at most 256 KB), a load and a test.  Larger ids go through the map, a
 * u64memo (u64map.h) in front of it: a memo hit costs no hashing and no
 * probe.  An id is in `dense` or in the map, never both.
 *
 * A record's address is valid until the next gtable_add (the array may
 * move); keep slots, not pointers, across that.  The id CTRACE_NO_ID is
 * never stored (an_map_put's rule, must.h): a record made for it is never
 * found nor iterated; callers don't make one.
 */
#ifndef CTRACE_ANALYSIS_GTABLE_H
#define CTRACE_ANALYSIS_GTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"

#define GTABLE_DENSE_MAX (1u << 16)

struct gtable {
    unsigned char *recs; /* cap records of `size` bytes */
    size_t size;
    uint64_t *ids;       /* slot -> goroutine id (live slots)      */
    uint32_t *free_next; /* slot -> next free slot + 1 (free slots) */
    uint32_t n, cap, free_head; /* slots used; room; free list (slot + 1) */
    uint32_t *dense;     /* id -> slot + 1, 0 = none, for id < ndense */
    uint32_t ndense;
    struct u64map by_id; /* id -> slot, ids of GTABLE_DENSE_MAX and more */
    struct u64memo memo; /* in front of by_id */
};

/* An empty table of records of rec_size bytes. */
void gtable_init(struct gtable *t, size_t rec_size);
void gtable_free(struct gtable *t);

/* The record of goroutine id, or NULL. */
static inline void *gtable_find(struct gtable *t, uint64_t id)
{
    if (id < t->ndense) {
        uint32_t s = t->dense[id];
        return s ? t->recs + (size_t)(s - 1) * t->size : NULL;
    }
    uint64_t slot;
    return u64memo_get(&t->memo, &t->by_id, id, &slot) ? t->recs + slot * t->size : NULL;
}

/* Makes goroutine id's record (zeroed); id must not have one. */
void *gtable_add(struct gtable *t, uint64_t id);

/* The record of goroutine id, made (zeroed) if it had none. */
static inline void *gtable_get(struct gtable *t, uint64_t id)
{
    void *rec = gtable_find(t, id);
    return rec ? rec : gtable_add(t, id);
}

/* Forgets goroutine id's record (if any); its slot is reused. */
void gtable_release(struct gtable *t, uint64_t id);

/* Iteration over the live records in slot order:
 * for (uint32_t i = 0; (rec = gtable_next(t, &i));) ...; the table must
 * not change during it. */
void *gtable_next(struct gtable *t, uint32_t *pos);

#endif
