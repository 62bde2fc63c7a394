/*
 * regions.c - per-goroutine stacks of open regions (see regions.h for the
 * matching rules).  Invariant: a goroutine has an entry in by_g only while
 * it has open regions, so memory follows open regions, not goroutines seen.
 */
#include "regions.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "must.h"

struct open_region {
    char *name;
    size_t len;
    int64_t begin;
    uint32_t cookie;
};

struct gregions {
    struct open_region *open;
    uint32_t n, cap;
    uint32_t free_next;
};

struct regions {
    struct gregions *gs;
    uint32_t ngs, cap_gs, free_head;
    struct u64map by_g;
};

struct regions *regions_new(void)
{
    struct regions *rt = an_calloc(1, sizeof *rt);
    return rt;
}

void regions_free(struct regions *rt)
{
    if (!rt)
        return;
    for (uint32_t i = 0; i < rt->ngs; i++) {
        for (uint32_t j = 0; j < rt->gs[i].n; j++)
            free(rt->gs[i].open[j].name);
        free(rt->gs[i].open);
    }
    free(rt->gs);
    u64map_free(&rt->by_g);
    free(rt);
}

static void release(struct regions *rt, uint64_t g, uint32_t v)
{
    u64map_del(&rt->by_g, g, NULL);
    rt->gs[v].free_next = rt->free_head;
    rt->free_head = v + 1;
}

int regions_begin(struct regions *rt, uint64_t g, const char *name, size_t len, int64_t time,
                  uint32_t cookie)
{
    uint32_t v;
    if (!an_map_get(&rt->by_g, g, &v)) {
        if (rt->free_head) {
            v = rt->free_head - 1;
            rt->free_head = rt->gs[v].free_next;
        } else {
            if (rt->ngs == rt->cap_gs) {
                rt->cap_gs = rt->cap_gs ? rt->cap_gs * 2 : 16;
                rt->gs = an_realloc(rt->gs, rt->cap_gs * sizeof *rt->gs);
            }
            v = rt->ngs++;
            memset(&rt->gs[v], 0, sizeof rt->gs[v]);
        }
        an_map_put(&rt->by_g, g, v);
    }
    struct gregions *gr = &rt->gs[v];
    if (gr->n >= REGIONS_MAX_DEPTH)
        return 0;
    if (gr->n == gr->cap) {
        gr->cap = gr->cap ? gr->cap * 2 : 4;
        gr->open = an_realloc(gr->open, gr->cap * sizeof *gr->open);
    }
    char *copy = an_calloc(len + 1, 1);
    memcpy(copy, name ? name : "", len);
    gr->open[gr->n++] = (struct open_region){copy, len, time, cookie};
    return 1;
}

int regions_end(struct regions *rt, uint64_t g, const char *name, size_t len, int64_t *begin,
                uint32_t *cookie)
{
    uint32_t v;
    if (!an_map_get(&rt->by_g, g, &v))
        return 0;
    struct gregions *gr = &rt->gs[v];
    for (uint32_t i = gr->n; i > 0; i--) {
        struct open_region *o = &gr->open[i - 1];
        if (o->len != len || memcmp(o->name, name ? name : "", len) != 0)
            continue;
        *begin = o->begin;
        *cookie = o->cookie;
        for (uint32_t j = i - 1; j < gr->n; j++)
            free(gr->open[j].name);
        gr->n = i - 1;
        if (gr->n == 0)
            release(rt, g, v);
        return 1;
    }
    return 0;
}

void regions_goroutine_end(struct regions *rt, uint64_t g)
{
    uint32_t v;
    if (!an_map_get(&rt->by_g, g, &v))
        return;
    struct gregions *gr = &rt->gs[v];
    for (uint32_t j = 0; j < gr->n; j++)
        free(gr->open[j].name);
    gr->n = 0;
    release(rt, g, v);
}
