/*
 * idmap.c - see idmap.h for the invariants.
 */
#include "idmap.h"

#include <stdlib.h>

static size_t home(const struct idmap *m, uint64_t key)
{
    return (size_t)idmap_mix(key) & m->mask;
}

void *idmap_get(const struct idmap *m, uint64_t key)
{
    if (!m->slots)
        return NULL;
    for (size_t i = home(m, key);; i = (i + 1) & m->mask) {
        if (!m->slots[i].val)
            return NULL;
        if (m->slots[i].key == key)
            return m->slots[i].val;
    }
}

static int grow(struct idmap *m)
{
    size_t cap = m->slots ? (m->mask + 1) * 2 : 64;
    struct idmap_slot *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    struct idmap old = *m;
    m->slots = ns;
    m->mask = cap - 1;
    for (size_t i = 0; old.slots && i <= old.mask; i++) {
        if (!old.slots[i].val)
            continue;
        size_t j = home(m, old.slots[i].key);
        while (ns[j].val)
            j = (j + 1) & m->mask;
        ns[j] = old.slots[i];
    }
    free(old.slots);
    return 0;
}

int idmap_put(struct idmap *m, uint64_t key, void *val)
{
    if ((!m->slots || (m->count + 1) * 2 > m->mask + 1) && grow(m) < 0)
        return -1;
    size_t i = home(m, key);
    while (m->slots[i].val && m->slots[i].key != key)
        i = (i + 1) & m->mask;
    if (!m->slots[i].val)
        m->count++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    return 0;
}

void *idmap_del(struct idmap *m, uint64_t key)
{
    if (!m->slots)
        return NULL;
    size_t i = home(m, key);
    while (m->slots[i].val && m->slots[i].key != key)
        i = (i + 1) & m->mask;
    void *val = m->slots[i].val;
    if (!val)
        return NULL;
    m->count--;
    /* Backward shift: move later members of the run into the hole when
     * the hole lies between their home and their slot. */
    size_t hole = i;
    for (size_t j = (i + 1) & m->mask; m->slots[j].val; j = (j + 1) & m->mask) {
        size_t h = home(m, m->slots[j].key);
        if (((j - h) & m->mask) >= ((j - hole) & m->mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].val = NULL;
    return val;
}

void idmap_free(struct idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->mask = m->count = 0;
}

int idmap_next(const struct idmap *m, size_t *pos, uint64_t *key, void **val)
{
    for (; m->slots && *pos <= m->mask; (*pos)++) {
        if (m->slots[*pos].val) {
            *key = m->slots[*pos].key;
            *val = m->slots[*pos].val;
            (*pos)++;
            return 1;
        }
    }
    return 0;
}
