/*
 * regions.c - a goroutine's stack of open regions (see regions.h for the
 * matching rules).  Invariant: a stack keeps the name buffers of its
 * deepest depth for reuse (a region costs no allocation once its
 * goroutine has been that deep with names that long), until
 * regions_goroutine_end frees them.
 */
#include "regions.h"

#include <stdlib.h>
#include <string.h>

#include "must.h"

struct open_region {
    char *name;      /* a copy: the reader's strings die with their generation */
    size_t len, cap; /* cap: room in name (kept when the region closes) */
    int64_t begin;
    uint32_t cookie;
};

int regions_begin(struct regions_g *gr, const char *name, size_t len, int64_t time,
                  uint32_t cookie)
{
    if (gr->n >= REGIONS_MAX_DEPTH)
        return 0;
    if (gr->n == gr->cap) {
        uint32_t cap = gr->cap ? gr->cap * 2 : 4;
        gr->open = an_realloc(gr->open, cap * sizeof *gr->open);
        memset(gr->open + gr->cap, 0, (cap - gr->cap) * sizeof *gr->open);
        gr->cap = cap;
    }
    struct open_region *o = &gr->open[gr->n++];
    if (o->cap < len + 1) {
        free(o->name);
        o->cap = len + 1 > 32 ? len + 1 : 32;
        o->name = an_calloc(o->cap, 1);
    }
    if (len)
        memcpy(o->name, name, len);
    o->name[len] = 0;
    o->len = len;
    o->begin = time;
    o->cookie = cookie;
    return 1;
}

int regions_end(struct regions_g *gr, const char *name, size_t len, int64_t *begin,
                uint32_t *cookie)
{
    for (uint32_t i = gr->n; i > 0; i--) {
        struct open_region *o = &gr->open[i - 1];
        if (o->len != len || memcmp(o->name, name ? name : "", len) != 0)
            continue;
        *begin = o->begin;
        *cookie = o->cookie;
        gr->n = i - 1; /* the regions opened inside close with it */
        return 1;
    }
    return 0;
}

void regions_goroutine_end(struct regions_g *gr)
{
    for (uint32_t j = 0; j < gr->cap; j++)
        free(gr->open[j].name);
    free(gr->open);
    memset(gr, 0, sizeof *gr);
}
