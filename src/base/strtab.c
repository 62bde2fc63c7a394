/*
 * strtab.c - see strtab.h for the invariants (own copies that never move,
 * content-compared index at most half full).
 */
#include "strtab.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

/* The slot holding p's id, or the empty slot where it would go. */
static size_t slot_for(const struct strtab *t, const char *p, size_t len, uint64_t h)
{
    size_t mask = t->nslots - 1;
    size_t i = (size_t)h & mask;
    for (; t->slots[i]; i = (i + 1) & mask) {
        uint32_t id = t->slots[i] - 1;
        if (t->len[id] == len && (len == 0 || memcmp(t->s[id], p, len) == 0))
            break;
    }
    return i;
}

int64_t strtab_find(const struct strtab *t, const char *p, size_t len)
{
    if (!t->nslots)
        return -1;
    size_t i = slot_for(t, p, len, hash_bytes(p, len, 0));
    return t->slots[i] ? (int64_t)t->slots[i] - 1 : -1;
}

static int grow_index(struct strtab *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t id = 0; id < t->n; id++) {
        size_t i = (size_t)hash_bytes(t->s[id], t->len[id], 0) & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = id + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}

int64_t strtab_intern(struct strtab *t, const char *p, size_t len)
{
    /* Room for one more id at most half full, before probing: the slot
     * found below stays valid. */
    if (((size_t)t->n + 1) * 2 > t->nslots && grow_index(t) < 0)
        return -1;
    uint64_t h = hash_bytes(p, len, 0);
    size_t i = slot_for(t, p, len, h);
    if (t->slots[i])
        return (int64_t)t->slots[i] - 1;
    if (t->n == UINT32_MAX - 1)
        return -1;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? (t->cap > UINT32_MAX / 2 ? UINT32_MAX - 1 : t->cap * 2) : 64;
        char **s = realloc(t->s, (size_t)cap * sizeof *s);
        if (!s)
            return -1;
        t->s = s;
        size_t *l = realloc(t->len, (size_t)cap * sizeof *l);
        if (!l)
            return -1;
        t->len = l;
        t->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, p, len);
    copy[len] = 0;
    uint32_t id = t->n++;
    t->s[id] = copy;
    t->len[id] = len;
    t->slots[i] = id + 1;
    return id;
}

void strtab_free(struct strtab *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    free(t->len);
    free(t->slots);
    memset(t, 0, sizeof *t);
}
