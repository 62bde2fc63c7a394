/*
 * gtable.c - see gtable.h for the invariants (zeroed records until
 * release, LIFO reuse of slots, a memo in front of the map).
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
    u64map_free(&t->by_id);
    memset(t, 0, sizeof *t);
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
    an_map_put(&t->by_id, id, slot);
    return rec;
}

void gtable_release(struct gtable *t, uint64_t id)
{
    uint32_t slot;
    if (!an_map_get(&t->by_id, id, &slot))
        return;
    u64map_del(&t->by_id, id, NULL);
    u64memo_forget(&t->memo, id);
    t->free_next[slot] = t->free_head;
    t->free_head = slot + 1;
}

/* A slot is live when the map sends its id to it: a free slot's id may
 * since have gone to another slot. */
void *gtable_next(struct gtable *t, uint32_t *pos)
{
    for (; *pos < t->n; (*pos)++) {
        uint32_t slot;
        if (an_map_get(&t->by_id, t->ids[*pos], &slot) && slot == *pos)
            return t->recs + (size_t)(*pos)++ * t->size;
    }
    return NULL;
}
