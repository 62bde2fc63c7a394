/*
 * regions.c - a goroutine's stack of open regions (see regions.h for the
 * matching rules).  Invariant: open[0, n) are the open regions, innermost
 * last; the array is kept (at most REGIONS_MAX_DEPTH entries) until
 * regions_goroutine_end frees it.
 */
#include "regions.h"

#include <stdlib.h>
#include <string.h>

#include "must.h"

struct open_region {
    uint32_t name; /* the caller's id of the name */
    uint32_t cookie;
    int64_t begin;
};

int regions_begin(struct regions_g *gr, uint32_t name, int64_t time, uint32_t cookie)
{
    if (gr->n >= REGIONS_MAX_DEPTH)
        return 0;
    if (gr->n == gr->cap) {
        gr->cap = gr->cap ? gr->cap * 2 : 4;
        gr->open = an_realloc(gr->open, gr->cap * sizeof *gr->open);
    }
    gr->open[gr->n++] = (struct open_region){name, cookie, time};
    return 1;
}

int regions_end(struct regions_g *gr, uint32_t name, int64_t *begin, uint32_t *cookie)
{
    for (uint32_t i = gr->n; i > 0; i--) {
        const struct open_region *o = &gr->open[i - 1];
        if (o->name != name)
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
    free(gr->open);
    memset(gr, 0, sizeof *gr);
}
