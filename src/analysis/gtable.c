/*
 * gtable.c - see gtable.h for the invariants (zeroed records until
 * release, LIFO reuse of slots, small ids by index, others through a memo
 * in front of the map).
 */
#include "gtable.h"

#include <stdlib.h>
#include <string.h>

#include "must.h"

void gtable_init(struct gtable *t, size_t rec_size)
{
    memset(t, 0, sizeof *t);
    t->size = rec_size;
}

void gtable_free(struct gtable *t)
{
    free(t->recs);
    free(t->ids);
    free(t->free_next);
    free(t->dense);
    u64map_free(&t->by_id);
    memset(t, 0, sizeof *t);
}

/* The slot of id: 1 and *slot, or 0. */
static int slot_of(struct gtable *t, uint64_t id, uint32_t *slot)
{
    if (id < t->ndense) {
        *slot = t->dense[id] - 1;
        return t->dense[id] != 0;
    }
    return an_map_get(&t->by_id, id, slot);
}

void *gtable_add(struct gtable *t, uint64_t id)
{
    uint32_t slot;
    if (t->free_head) {
        slot = t->free_head - 1;
        t->free_head = t->free_next[slot];
    } else {
        if (t->n == t->cap) {
            t->cap = t->cap ? t->cap * 2 : 64;
            t->recs = an_realloc(t->recs, t->cap * t->size);
            t->ids = an_realloc(t->ids, t->cap * sizeof *t->ids);
            t->free_next = an_realloc(t->free_next, t->cap * sizeof *t->free_next);
        }
        slot = t->n++;
    }
    unsigned char *rec = t->recs + (size_t)slot * t->size;
    memset(rec, 0, t->size);
    t->ids[slot] = id;
    if (id < GTABLE_DENSE_MAX) {
        if (id >= t->ndense) {
            uint32_t n = t->ndense ? t->ndense : 64;
            while (n <= id)
                n *= 2;
            t->dense = an_realloc(t->dense, n * sizeof *t->dense);
            memset(t->dense + t->ndense, 0, (n - t->ndense) * sizeof *t->dense);
            t->ndense = n;
        }
        t->dense[id] = slot + 1;
    } else {
        an_map_put(&t->by_id, id, slot);
    }
    return rec;
}

void gtable_release(struct gtable *t, uint64_t id)
{
    uint32_t slot;
    if (!slot_of(t, id, &slot))
        return;
    if (id < t->ndense) {
        t->dense[id] = 0;
    } else {
        u64map_del(&t->by_id, id, NULL);
        u64memo_forget(&t->memo, id);
    }
    t->free_next[slot] = t->free_head;
    t->free_head = slot + 1;
}

/* A slot is live when its id leads to it: a free slot's id may since have
 * gone to another slot. */
void *gtable_next(struct gtable *t, uint32_t *pos)
{
    for (; *pos < t->n; (*pos)++) {
        uint32_t slot;
        if (slot_of(t, t->ids[*pos], &slot) && slot == *pos)
            return t->recs + (size_t)(*pos)++ * t->size;
    }
    return NULL;
}
