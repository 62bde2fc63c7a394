/*
 * must.c - see must.h: allocation failure exits the tool (status 2).
 */
#include "must.h"

#include <stdio.h>
#include <stdlib.h>

void an_out_of_memory(void)
{
    fputs("ctrace: out of memory\n", stderr);
    exit(2);
}

void *an_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        an_out_of_memory();
    return p;
}

void *an_realloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p)
        an_out_of_memory();
    return p;
}

void an_map_put(struct u64map *m, uint64_t k, uint32_t v)
{
    if (k == UINT64_MAX)
        return;
    if (u64map_put(m, k, v) < 0)
        an_out_of_memory();
}
