/*
 * u64map.c - see u64map.h for the invariants (linear probing, at most half
 * full, backward-shift deletion, clear keeps storage).
 */
#include "u64map.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct u64map *m, uint64_t key)
{
    return (size_t)hash_mix64(key) & (m->cap - 1);
}

/* Puts key, known absent, into a table with room: no growth, no failure. */
static void place(struct u64map *m, uint64_t key, uint64_t val)
{
    size_t i = slot_of(m, key);
    while (m->used[i])
        i = (i + 1) & (m->cap - 1);
    m->used[i] = 1;
    m->keys[i] = key;
    m->vals[i] = val;
    m->len++;
}

static int grow(struct u64map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct u64map n = {0};
    n.keys = malloc(ncap * sizeof *n.keys);
    n.vals = malloc(ncap * sizeof *n.vals);
    n.used = calloc(ncap, 1);
    if (!n.keys || !n.vals || !n.used) {
        free(n.keys);
        free(n.vals);
        free(n.used);
        return -1;
    }
    n.cap = ncap;
    /* In slot order: the new layout depends on the keys and capacity only. */
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            place(&n, m->keys[i], m->vals[i]);
    u64map_free(m);
    *m = n;
    return 0;
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
    if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    size_t i = slot_of(m, key);
    while (m->used[i]) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->used[i] = 1;
    m->keys[i] = key;
    m->vals[i] = val;
    m->len++;
    return 0;
}

int u64map_del(struct u64map *m, uint64_t key, uint64_t *old)
{
    if (m->len == 0)
        return 0;
    size_t mask = m->cap - 1, i = slot_of(m, key);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i])
        return 0;
    if (old)
        *old = m->vals[i];
    /* Backward shift: a later member of the run moves into the hole unless
     * its home slot lies cyclically in (hole, j] (then moving it would put
     * it before its home, where lookups never look). */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m, m->keys[j]);
        int between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->used[hole] = 0;
    m->len--;
    return 1;
}

void u64map_clear(struct u64map *m)
{
    if (m->len)
        memset(m->used, 0, m->cap);
    m->len = 0;
}

void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

int u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, uint64_t *val)
{
    for (; *pos < m->cap; (*pos)++) {
        if (m->used[*pos]) {
            if (key)
                *key = m->keys[*pos];
            if (val)
                *val = m->vals[*pos];
            (*pos)++;
            return 1;
        }
    }
    return 0;
}
