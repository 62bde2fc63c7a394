/*
 * regions.c - per-goroutine stacks of open regions (see regions.h for the
 * matching rules).  Invariants: a goroutine has an entry in by_g from its
 * first region until it ends (regions_goroutine_end), so memory follows
 * live goroutines that use regions, not goroutines seen; an entry keeps
 * the name buffers of its deepest stack for reuse (a region costs no
 * allocation once its goroutine has been that deep with names that long).
 */
#include "regions.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "must.h"

struct open_region {
    char *name;      /* a copy: the reader's strings die with their generation */
    size_t len, cap; /* cap: room in name (kept when the region closes) */
    int64_t begin;
    uint32_t cookie;
};

struct gregions {
    struct open_region *open; /* [0, n) open; [n, cap) buffers kept */
    uint32_t n, cap;
    uint32_t free_next;
};

struct regions {
    struct gregions *gs;
    uint32_t ngs, cap_gs, free_head;
    struct u64map by_g;
    struct u64memo by_g_memo; /* in front of by_g */
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
        for (uint32_t j = 0; j < rt->gs[i].cap; j++)
            free(rt->gs[i].open[j].name);
        free(rt->gs[i].open);
    }
    free(rt->gs);
    u64map_free(&rt->by_g);
    free(rt);
}

/* The entry of goroutine g, or NULL. */
static struct gregions *find(struct regions *rt, uint64_t g)
{
    uint64_t v;
    return u64memo_get(&rt->by_g_memo, &rt->by_g, g, &v) ? &rt->gs[v] : NULL;
}

int regions_begin(struct regions *rt, uint64_t g, const char *name, size_t len, int64_t time,
                  uint32_t cookie)
{
    struct gregions *gr = find(rt, g);
    if (!gr) {
        uint32_t v;
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
        gr = &rt->gs[v];
    }
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

int regions_end(struct regions *rt, uint64_t g, const char *name, size_t len, int64_t *begin,
                uint32_t *cookie)
{
    struct gregions *gr = find(rt, g);
    if (!gr)
        return 0;
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

void regions_goroutine_end(struct regions *rt, uint64_t g)
{
    uint32_t v;
    if (!an_map_get(&rt->by_g, g, &v))
        return;
    struct gregions *gr = &rt->gs[v];
    for (uint32_t j = 0; j < gr->cap; j++)
        free(gr->open[j].name);
    free(gr->open);
    memset(gr, 0, sizeof *gr);
    u64map_del(&rt->by_g, g, NULL);
    u64memo_forget(&rt->by_g_memo, g);
    gr->free_next = rt->free_head;
    rt->free_head = v + 1;
}
