/*
 * u64map.c - see u64map.h.  Fibonacci hashing spreads the dense small IDs
 * (goroutines, procs, strings) that traces use over the table.
 */
#include "u64map.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct u64map *m, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

uint64_t *u64map_get(const struct u64map *m, uint64_t key)
{
    if (m->len == 0)
        return NULL;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->used[i])
            return NULL;
        if (m->keys[i] == key)
            return &m->vals[i];
    }
}

static int grow(struct u64map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
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
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            u64map_put(&n, m->keys[i], m->vals[i]);
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

void u64map_del(struct u64map *m, uint64_t key)
{
    if (m->len == 0)
        return;
    size_t mask = m->cap - 1, i = slot_of(m, key);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i])
        return;
    /* Backward shift: pull later members of the probe run into the hole
     * when their home slot does not lie strictly between hole and them. */
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
