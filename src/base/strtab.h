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
#include <string.h>

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

/*
 * A memo in front of a table, for callers that see the same strings again
 * and again at the same addresses (the reader hands out one pointer per
 * string of a generation): the address picks a slot, which remembers the
 * id last found for that address.  A hit costs no hashing of the content;
 * the content is still compared (length, then bytes), so an address that
 * now holds other bytes (a later generation, a scratch buffer) is a miss,
 * never a wrong id.  A zeroed struct is an empty memo; it refers to ids of
 * one table only.  (For strings that hold still for their generation, such
 * as a transition's reason, addrmemo.h's struct addrmemo_gen compares
 * nothing.)
 */
#define STRTAB_MEMO_SLOTS 256
struct strtab_memo {
    const char *ptr[STRTAB_MEMO_SLOTS];
    uint32_t id[STRTAB_MEMO_SLOTS];
};

static inline size_t strtab_memo_slot(const char *p)
{
    uintptr_t a = (uintptr_t)p;
    return (size_t)((a ^ (a >> 8) ^ (a >> 16)) & (STRTAB_MEMO_SLOTS - 1));
}

/* The id of p[0..len) if the memo knows it, else -1. */
static inline int64_t strtab_memo_get(const struct strtab *t, const struct strtab_memo *m,
                                      const char *p, size_t len)
{
    size_t i = strtab_memo_slot(p);
    if (m->ptr[i] != p)
        return -1;
    uint32_t id = m->id[i];
    if (id >= t->n || t->len[id] != len || (len && memcmp(t->s[id], p, len) != 0))
        return -1;
    return id;
}

/* Remembers that p's content has id (an id of t). */
static inline void strtab_memo_put(struct strtab_memo *m, const char *p, uint32_t id)
{
    size_t i = strtab_memo_slot(p);
    m->ptr[i] = p;
    m->id[i] = id;
}

#endif
