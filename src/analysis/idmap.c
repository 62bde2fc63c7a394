/*
 * idmap.c - see idmap.h for the invariants (linear probing, at most 3/4
 * full, backward-shift deletion, UINT64_MAX = empty).
 */
#include "idmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_KEY UINT64_MAX

void *an_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("ctrace: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

void *an_realloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fputs("ctrace: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

uint64_t an_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t an_hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return an_mix64(h);
}

static void alloc_table(struct idmap *m, size_t cap)
{
    m->cap = cap;
    m->len = 0;
    m->keys = an_calloc(cap, sizeof *m->keys);
    m->vals = an_calloc(cap, sizeof *m->vals);
    memset(m->keys, 0xff, cap * sizeof *m->keys);
}

void idmap_init(struct idmap *m) { alloc_table(m, 64); }

void idmap_free(struct idmap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->len = 0;
}

void idmap_clear(struct idmap *m)
{
    if (m->cap > 4096) { /* give back what a burst took */
        idmap_free(m);
        idmap_init(m);
        return;
    }
    memset(m->keys, 0xff, m->cap * sizeof *m->keys);
    m->len = 0;
}

int idmap_get(const struct idmap *m, uint64_t k, uint32_t *v)
{
    size_t mask = m->cap - 1;
    for (size_t i = an_mix64(k) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == EMPTY_KEY)
            return 0;
        if (m->keys[i] == k) {
            if (v)
                *v = m->vals[i];
            return 1;
        }
    }
}

static void grow(struct idmap *m)
{
    struct idmap old = *m;
    alloc_table(m, old.cap * 2);
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i] != EMPTY_KEY)
            idmap_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
}

void idmap_put(struct idmap *m, uint64_t k, uint32_t v)
{
    if (k == EMPTY_KEY)
        return;
    if ((m->len + 1) * 4 > m->cap * 3)
        grow(m);
    size_t mask = m->cap - 1;
    for (size_t i = an_mix64(k) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == EMPTY_KEY) {
            m->keys[i] = k;
            m->vals[i] = v;
            m->len++;
            return;
        }
        if (m->keys[i] == k) {
            m->vals[i] = v;
            return;
        }
    }
}

void idmap_del(struct idmap *m, uint64_t k)
{
    size_t mask = m->cap - 1, i = an_mix64(k) & mask;
    for (;; i = (i + 1) & mask) {
        if (m->keys[i] == EMPTY_KEY)
            return;
        if (m->keys[i] == k)
            break;
    }
    m->len--;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (m->keys[j] == EMPTY_KEY)
            break;
        size_t home = an_mix64(m->keys[j]) & mask;
        /* j may fill the hole i unless its home lies cyclically in (i, j]. */
        int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = EMPTY_KEY;
}
