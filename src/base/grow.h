/*
 * grow.h - growing arrays, for the reader and the exporters alike.  GROW(arr, n, cap) makes room for
 * element n of arr (capacity cap, doubled as needed) and evaluates to 0, or
 * to -1 when memory runs out or the size would overflow; arr and cap are
 * then unchanged, so the caller reports ENOMEM with its state intact.
 * RESERVE(arr, need, cap) makes room for need elements in all (byte
 * buffers: arenas of names and strings), with the same result.
 */
#ifndef CTRACE_BASE_GROW_H
#define CTRACE_BASE_GROW_H

#include <stdint.h>
#include <stdlib.h>

static inline int grow_array(void **arr, size_t *cap, size_t elem, size_t need)
{
    size_t ncap = *cap ? *cap : 32;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap == *cap)
        ncap *= 2;
    if (elem && ncap > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

#define GROW(arr, n, cap) \
    ((n) < (cap) ? 0 : grow_array((void **)&(arr), &(cap), sizeof *(arr), (n) + 1))
#define RESERVE(arr, need, cap) \
    ((need) <= (cap) ? 0 : grow_array((void **)&(arr), &(cap), sizeof *(arr), (need)))

#endif /* CTRACE_BASE_GROW_H */
