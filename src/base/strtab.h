/*
 * strtab.h - the project's one string interner (outside the runtime):
 * string content -> dense id (0, 1, 2, ... in order of first sight).
 *
 * Invariants: the table keeps its own NUL-terminated copy of every string
 * (callers may free or reuse what they passed in), and s[id] never moves
 * once interned, so pointers taken from it stay valid until strtab_free;
 * s[id] has len[id] bytes before the NUL (content may itself hold NULs:
 * lengths, not terminators, are compared); equal content always yields the
 * same id - lookups go through an open-addressing index of hash_bytes over
 * the full content, compared byte for byte, so a hash collision costs one
 * more probe, never a wrong id or a linear search; the index is kept at
 * most half full and grows by doubling.  A zeroed struct is an empty
 * table.  Allocation failure is returned (-1), leaving the table as it
 * was.
 */
#ifndef CTRACE_BASE_STRTAB_H
#define CTRACE_BASE_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct strtab {
    char **s;        /* id -> NUL-terminated copy */
    size_t *len;     /* id -> length in bytes */
    uint32_t n, cap; /* ids in use, room in s and len */
    uint32_t *slots; /* index: hash -> id + 1, 0 = empty */
    size_t nslots;   /* 0 or a power of two */
};

/* The id of p[0..len), added if new; -1 when out of memory. */
int64_t strtab_intern(struct strtab *t, const char *p, size_t len);
/* The id of p[0..len) if interned, else -1. */
int64_t strtab_find(const struct strtab *t, const char *p, size_t len);
void strtab_free(struct strtab *t);

#endif
