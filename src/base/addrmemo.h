/*
 * addrmemo.h - what a caller made of a string (an interned id, its quoted
 * text, its class), found again by the string's address.  The reader
 * keeps every string of a generation at one address until the call after
 * the generation's sync event (ctrace_reader.h, "Lifetimes"), and the
 * exporters' timeline passes its sinks strings that hold still as long
 * (src/export/sink.h): within that span an address and a length name one
 * string, so a hit hashes and compares no bytes.  The exporters' sinks,
 * stat and pprof see the same few names and reasons event after event.
 *
 * Invariants: a set of two ways per address (Fibonacci hashing of it), the
 * newest first, so that the few strings of a trace's hot events do not
 * evict each other (they did in one-way slots: 12% misses in the
 * exporters); a miss is only a miss (the caller makes the value again and
 * puts it); the key is the address and the length (NULL is never a key:
 * it marks an empty way); the value is the caller's.  A zeroed struct is
 * an empty memo.  Its entries must be forgotten when their strings may
 * move: addrmemo_clear at each generation() of the inputs whose strings
 * it holds (a sink), or through struct addrmemo_gen, which forgets them
 * when the event's generation number changes (a reader's consumer).
 */
#ifndef CTRACE_BASE_ADDRMEMO_H
#define CTRACE_BASE_ADDRMEMO_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ADDRMEMO_BITS 6 /* 64 sets */

struct addrmemo_way {
    const char *ptr;
    size_t len;
    uint64_t val;
};

struct addrmemo {
    struct addrmemo_way set[1 << ADDRMEMO_BITS][2];
};

static inline size_t addrmemo_set(const char *s)
{
    return (size_t)(((uintptr_t)s * 0x9e3779b97f4a7c15ULL) >> (64 - ADDRMEMO_BITS));
}

/* 1 and *val if s[0..len) has a value, else 0. */
static inline int addrmemo_get(const struct addrmemo *m, const char *s, size_t len, uint64_t *val)
{
    const struct addrmemo_way *w = m->set[addrmemo_set(s)];
    if (w[0].ptr == s && w[0].len == len && s) {
        *val = w[0].val;
        return 1;
    }
    if (w[1].ptr == s && w[1].len == len && s) {
        *val = w[1].val;
        return 1;
    }
    return 0;
}

/* s[0..len) (s not NULL) has value val: the newest of its set. */
static inline void addrmemo_put(struct addrmemo *m, const char *s, size_t len, uint64_t val)
{
    struct addrmemo_way *w = m->set[addrmemo_set(s)];
    w[1] = w[0];
    w[0] = (struct addrmemo_way){s, len, val};
}

static inline void addrmemo_clear(struct addrmemo *m)
{
    memset(m, 0, sizeof *m);
}

/*
 * The same memo for a reader's consumer, which knows the generation of an
 * event by its number (ctrace_event.generation) rather than by a call at
 * its start: the entries are those of generation `gen`; a lookup for
 * another misses, a put for another forgets them all first (the next
 * generation may put other strings at the same addresses).  A zeroed
 * struct is empty.
 */
struct addrmemo_gen {
    struct addrmemo m;
    uint64_t gen;
};

/* 1 and *val if s[0..len) has a value in generation gen, else 0. */
static inline int addrmemo_gen_get(const struct addrmemo_gen *g, uint64_t gen, const char *s,
                                   size_t len, uint64_t *val)
{
    return g->gen == gen && addrmemo_get(&g->m, s, len, val);
}

/* s[0..len) (s not NULL), a string of generation gen, has value val. */
static inline void addrmemo_gen_put(struct addrmemo_gen *g, uint64_t gen, const char *s, size_t len,
                                    uint64_t val)
{
    if (g->gen != gen) {
        addrmemo_clear(&g->m);
        g->gen = gen;
    }
    addrmemo_put(&g->m, s, len, val);
}

/*
 * Text made of a string (its quoted form in CSV or JSON), kept for the
 * generation in an arena and found by the string's address: the memo's
 * value is the text's offset in the arena << 16 | its length (so texts of
 * ADDRTEXT_MAX bytes at most are kept).  A zeroed struct is empty;
 * addrtext_clear at each generation(), addrtext_free at the end.
 */
#define ADDRTEXT_MAX 0xffff

struct addrtext {
    struct addrmemo memo;
    char *arena;
    size_t len, cap;
};

/* The text of s[0..len) (its length in *n), or NULL if none is kept;
 * valid until the next addrtext_put or addrtext_clear. */
static inline const char *addrtext_get(const struct addrtext *t, const char *s, size_t len,
                                       size_t *n)
{
    uint64_t v;
    if (!addrmemo_get(&t->memo, s, len, &v))
        return NULL;
    *n = v & ADDRTEXT_MAX;
    return t->arena + (v >> 16);
}

/* Keeps text[0..n) as the text of s[0..len) (s not NULL); returns the kept
 * copy, or NULL (nothing kept) when n > ADDRTEXT_MAX or out of memory. */
static inline const char *addrtext_put(struct addrtext *t, const char *s, size_t len,
                                       const char *text, size_t n)
{
    if (n > ADDRTEXT_MAX)
        return NULL;
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n)
            cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a)
            return NULL;
        t->arena = a;
        t->cap = cap;
    }
    memcpy(t->arena + t->len, text, n);
    addrmemo_put(&t->memo, s, len, (uint64_t)t->len << 16 | n);
    t->len += n;
    return t->arena + t->len - n;
}

static inline void addrtext_clear(struct addrtext *t)
{
    addrmemo_clear(&t->memo);
    t->len = 0;
}

static inline void addrtext_free(struct addrtext *t)
{
    free(t->arena);
    memset(t, 0, sizeof *t);
}

#endif
