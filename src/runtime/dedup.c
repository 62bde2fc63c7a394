/*
 * dedup.c - see dedup.h.  Open addressing with linear probing; a slot goes
 * from NULL to a node exactly once per generation.
 */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>

int ct_dedup_init(struct ct_dedup *m, uint32_t nslots)
{
    memset(m, 0, sizeof *m);
    m->slots = calloc(nslots, sizeof *m->slots);
    if (!m->slots)
        return -1;
    m->mask = nslots - 1;
    m->max_count = nslots / 4 * 3;
    m->reserve_count = nslots / 16 * 15;
    atomic_store(&m->next_id, 1);
    return 0;
}

void ct_dedup_reset(struct ct_dedup *m)
{
    if (!m->slots)
        return;
    for (uint32_t i = 0; i <= m->mask; i++) {
        struct ct_dedup_node *n = atomic_load_explicit(&m->slots[i], memory_order_relaxed);
        if (n) {
            free(n);
            atomic_store_explicit(&m->slots[i], NULL, memory_order_relaxed);
        }
    }
    atomic_store(&m->count, 0);
    atomic_store(&m->next_id, 1);
    atomic_store(&m->bytes, 0);
}

void ct_dedup_destroy(struct ct_dedup *m)
{
    ct_dedup_reset(m);
    free(m->slots);
    m->slots = NULL;
}

static uint64_t put_limited(struct ct_dedup *m, const void *data, uint32_t len, uint64_t hash,
                            struct ct_dedup_node **out, uint32_t limit)
{
    struct ct_dedup_node *fresh = NULL;
    uint32_t i = (uint32_t)hash & m->mask;
    for (uint32_t probes = 0; probes <= m->mask; probes++, i = (i + 1) & m->mask) {
        struct ct_dedup_node *n = atomic_load_explicit(&m->slots[i], memory_order_acquire);
        if (!n) {
            if (atomic_load_explicit(&m->count, memory_order_relaxed) >= limit)
                break;
            if (!fresh) {
                fresh = malloc(sizeof *fresh + len);
                if (!fresh)
                    break;
                fresh->hash = hash;
                fresh->len = len;
                memcpy(fresh->data, data, len);
                fresh->id = 0;
            }
            struct ct_dedup_node *expect = NULL;
            /* The id is taken before publishing so readers never see id 0. */
            if (!fresh->id)
                fresh->id = atomic_fetch_add_explicit(&m->next_id, 1, memory_order_relaxed);
            if (atomic_compare_exchange_strong_explicit(&m->slots[i], &expect, fresh,
                                                        memory_order_release,
                                                        memory_order_acquire)) {
                atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
                atomic_fetch_add_explicit(&m->bytes, len, memory_order_relaxed);
                if (out)
                    *out = fresh;
                return fresh->id;
            }
            n = expect; /* someone else filled the slot: compare with it */
        }
        if (n->hash == hash && n->len == len && memcmp(n->data, data, len) == 0) {
            if (fresh) {
                /* Our id is burnt: ids stay unique, a gap is harmless. */
                free(fresh);
            }
            if (out)
                *out = n;
            return n->id;
        }
    }
    free(fresh);
    atomic_fetch_add_explicit(&m->full_misses, 1, memory_order_relaxed);
    if (out)
        *out = NULL;
    return 0;
}

uint64_t ct_dedup_put(struct ct_dedup *m, const void *data, uint32_t len, uint64_t hash,
                      struct ct_dedup_node **out)
{
    return put_limited(m, data, len, hash, out, m->max_count);
}

uint64_t ct_dedup_put_reserved(struct ct_dedup *m, const void *data, uint32_t len, uint64_t hash)
{
    return put_limited(m, data, len, hash, NULL, m->reserve_count);
}

void ct_dedup_each(struct ct_dedup *m, void (*fn)(void *arg, const struct ct_dedup_node *n),
                   void *arg)
{
    for (uint32_t i = 0; i <= m->mask; i++) {
        struct ct_dedup_node *n = atomic_load_explicit(&m->slots[i], memory_order_acquire);
        if (n)
            fn(arg, n);
    }
}
