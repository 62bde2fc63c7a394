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
 * one table only.
 */
#define STRTAB_MEMO_SLOTS 256
struct strtab_memo {
    const char *ptr[STRTAB_MEMO_SLOTS];
    uint32_t id[STRTAB_MEMO_SLOTS];
    uint64_t gen; /* strtab_memo_*_gen: the generation of the entries */
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

/*
 * The memo for strings whose address the reader keeps for their whole
 * generation: a transition's reason and a region's name point into the
 * generation's string table (or static text), which holds still until the
 * call after the generation's sync event (ctrace_reader.h, "Lifetimes";
 * src/reader: gen_string, and reading ahead leaves them in place).  Within
 * one generation an address then always holds the same bytes, so a hit
 * compares neither them nor their hash, only the length.  The entries
 * belong to one generation, the memo's `gen`: a lookup for another is a
 * miss, and a put for another forgets them all (the next generation may
 * put other strings at the same addresses).  Every string of an event
 * holds still so (the reader keeps the names it makes -- a stop-the-world
 * range's, a task end's -- for the generation too, deliver.c), but the
 * callers use it only for reasons and region names.  One memo is used
 * either this way or the content-checked way above, not both.  (The
 * exporters' src/export/addrmemo.h is the same idea with two ways a set
 * and a caller's value; one of the two should serve both.)
 */
static inline int64_t strtab_memo_get_gen(const struct strtab *t, const struct strtab_memo *m,
                                          uint64_t gen, const char *p, size_t len)
{
    size_t i = strtab_memo_slot(p);
    if (m->ptr[i] != p || m->gen != gen)
        return -1;
    uint32_t id = m->id[i];
    if (id >= t->n || t->len[id] != len)
        return -1;
    return id;
}

static inline void strtab_memo_put_gen(struct strtab_memo *m, uint64_t gen, const char *p,
                                       uint32_t id)
{
    if (m->gen != gen) {
        memset(m->ptr, 0, sizeof m->ptr);
        m->gen = gen;
    }
    strtab_memo_put(m, p, id);
}

#endif
