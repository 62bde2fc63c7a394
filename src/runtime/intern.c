/*
 * intern.c - string and stack ids for events, through small per-thread
 * caches in front of the generation's dedup maps (dedup.h).
 *
 * A cache entry is (gen, key, node).  It is trusted only for the same
 * generation and only after comparing the content with the node, so a
 * caller reusing a buffer for another string, or a new generation that
 * freed the nodes, can never produce a wrong id: a stale entry is never
 * dereferenced because its gen no longer matches.  The three caches:
 *  - pcache, strings by the caller's pointer (NUL-free strings only): a hit
 *    costs a compare of the bytes, no hash (names and messages are mostly literals passed again
 *    and again; a printf-style buffer reused with new contents misses on
 *    the compare and is hashed and looked up like any new string);
 *  - scache, strings by content hash (the fallback);
 *  - kcache, stacks by their innermost PC (the annotation's call site;
 *    for a stack topped by a named call, CT_CALL_PC, the PC below it):
 *    a hit costs one compare of the fresh walk with the cached node's PCs,
 *    no hash.  Two stacks through the same call site share a slot and
 *    evict each other (correct, only slower).
 * Content compares are inline word compares, not memcmp through the PLT.
 */
#include <string.h>

#include "event.h"
#include "trace.h"
#include "unwind.h"

/* a[0..n) == b[0..n), with whole-word loads (overlapping for tails). */
static inline int bytes_equal(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    if (n >= 8) {
        uint64_t u, v;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            __builtin_memcpy(&u, x + i, 8);
            __builtin_memcpy(&v, y + i, 8);
            if (u != v)
                return 0;
        }
        __builtin_memcpy(&u, x + n - 8, 8);
        __builtin_memcpy(&v, y + n - 8, 8);
        return u == v;
    }
    if (n >= 4) {
        uint32_t u0, v0, u1, v1;
        __builtin_memcpy(&u0, x, 4);
        __builtin_memcpy(&v0, y, 4);
        __builtin_memcpy(&u1, x + n - 4, 4);
        __builtin_memcpy(&v1, y + n - 4, 4);
        return ((u0 ^ v0) | (u1 ^ v1)) == 0;
    }
    if (n == 0)
        return 1;
    /* 1..3 bytes: positions 0, n/2 and n-1 cover them all. */
    return x[0] == y[0] && x[n >> 1] == y[n >> 1] && x[n - 1] == y[n - 1];
}

/* The slot of a string pointer: a multiplicative hash of every address bit,
 * since literals lie packed a few bytes apart (a log's category and
 * message often share one 8-byte word: slot = address / 8 made them evict
 * each other on every call). */
static inline struct ct_cache_ent *pslot(struct ct_thread *t, const char *s)
{
    _Static_assert((CT_CACHE_SLOTS & (CT_CACHE_SLOTS - 1)) == 0, "a power of two");
    uint64_t h = (uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ull;
    return &t->pcache[h >> (64 - __builtin_ctz(CT_CACHE_SLOTS))]; /* the top bits */
}

/* The content-hash path: scache, then the generation's map. */
static uint64_t string_id_hashed(struct ct_thread *t, uint64_t gen, const char *s, size_t len,
                                 struct ct_dedup_node **out)
{
    uint64_t h = ct_hash_bytes(s, len);
    struct ct_cache_ent *c = &t->scache[h % CT_CACHE_SLOTS];
    if (c->gen == gen && c->hash == h && c->node->len == len &&
        bytes_equal(c->node->data, s, len)) {
        *out = c->node;
        return c->node->id;
    }
    struct ct_dedup *m = &ct_rt.strings[gen & 1];
    struct ct_dedup_node *n;
    uint64_t id = ct_dedup_put(m, s, (uint32_t)len, h, &n);
    if (n) {
        c->gen = gen;
        c->hash = h;
        c->node = n;
    }
    if (ct_dedup_pressure(m))
        ct_request_advance();
    *out = n;
    return id;
}

uint64_t ct_string_id_len(struct ct_thread *t, uint64_t gen, const char *s, size_t len)
{
    if (!s)
        return 0;
    if (len > GT_MAX_STRING_SIZE)
        len = GT_MAX_STRING_SIZE;
    struct ct_cache_ent *pc = pslot(t, s);
    if (pc->gen == gen && pc->hash == (uintptr_t)s && pc->node->len == len &&
        bytes_equal(pc->node->data, s, len))
        return pc->node->id;
    struct ct_dedup_node *n;
    uint64_t id = string_id_hashed(t, gen, s, len, &n);
    /* Only NUL-free strings go in: ct_string_id's compare relies on it. */
    if (n && !memchr(s, 0, len)) {
        pc->gen = gen;
        pc->hash = (uintptr_t)s;
        pc->node = n;
    }
    return id;
}

/* Same cache by address.  The compare never reads past the caller's
 * terminator: pcache nodes hold no NUL, so s[i] == data[i] implies that
 * s[i] is not the terminator. */
uint64_t ct_string_id(struct ct_thread *t, uint64_t gen, const char *s)
{
    if (!s)
        return 0;
    struct ct_cache_ent *c = pslot(t, s);
    if (c->gen == gen && c->hash == (uintptr_t)s) {
        const struct ct_dedup_node *n = c->node;
        size_t len = n->len, i = 0;
        while (i < len && s[i] == (char)n->data[i])
            i++;
        if (i == len && s[len] == 0)
            return n->id;
    }
    return ct_string_id_len(t, gen, s, strlen(s));
}

static inline int pcs_equal(const uintptr_t *a, const uintptr_t *b, int n)
{
    uintptr_t d = 0;
    for (int i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

uint64_t ct_stack_id(struct ct_thread *t, uint64_t gen, const uintptr_t *pcs, int n)
{
    if (n <= 0)
        return 0;
    size_t len = (size_t)n * sizeof *pcs;
    /* Keyed by the call site; under a named call's leaf (CT_CALL_PC, the
     * same for every site of that call) by the site below it. */
    uint64_t site = ((uint64_t)pcs[0] & CT_CALL_PC_TAG) && n > 1 ? pcs[1] : pcs[0];
    uint64_t key = site * 0x9e3779b97f4a7c15ull;
    struct ct_cache_ent *c = &t->kcache[(key >> 40) % CT_CACHE_SLOTS];
    if (c->gen == gen && c->node->len == len &&
        pcs_equal((const uintptr_t *)(const void *)c->node->data, pcs, n))
        return c->node->id;
    /* Even hash: every PC is a return address (see tables.c, write_stack). */
    uint64_t h = ct_hash_words(pcs, (size_t)n) & ~1ull;
    struct ct_dedup *m = &ct_rt.stacks[gen & 1];
    struct ct_dedup_node *node;
    uint64_t id = ct_dedup_put(m, pcs, (uint32_t)len, h, &node);
    if (node) {
        c->gen = gen;
        c->hash = h;
        c->node = node;
    }
    if (ct_dedup_pressure(m))
        ct_request_advance();
    return id;
}

#define CT_STACK_DEPTH 64

uint64_t ct_stack_id_exact(uint64_t gen, const uintptr_t *pcs, int n)
{
    if (n <= 0)
        return 0;
    return ct_dedup_put(&ct_rt.stacks[gen & 1], pcs, (uint32_t)((size_t)n * sizeof *pcs),
                        ct_hash_words(pcs, (size_t)n) | 1, NULL);
}

/* Walks the caller's stack into pcs[0..max): the frames after frame's
 * caller's skip frames (see ct_capture_stack). */
static int walk_stack(const struct ct_thread *t, const void *frame, int skip, uintptr_t *pcs,
                      int max)
{
    int n = 0;
    switch (ct_rt.stack_mode) {
    case CTRACE_STACKS_FP:
        n = ct_unwind_fp_from(&t->bounds, frame, pcs, max, skip);
        break;
    case CTRACE_STACKS_AUTO:
        /* Inside the critical section: the module map it reads is freed
         * only after the next generation handshake (modmap.h).  libunwind's
         * own read/write calls met meanwhile are ignored by the hooks
         * (annotate.c, own_call). */
        n = ct_unwind_hybrid(&t->bounds, frame, pcs, CT_STACK_DEPTH, skip);
        break;
    case CTRACE_STACKS_UNWIND: {
        /* libunwind counts frames from here; find the entry point's return
         * address to know where the caller's stack begins. */
        uintptr_t all[CT_STACK_DEPTH];
        int k = ct_unwind_libunwind(all, CT_STACK_DEPTH, 0);
        uintptr_t ra = ((const uintptr_t *)frame)[1];
        int i = 0;
        while (i < k && all[i] != ra && all[i] != ra - 1)
            i++;
        i = i < k ? i + skip : 0;
        for (; i < k && n < max; i++)
            pcs[n++] = all[i];
        break;
    }
    default:
        break;
    }
    return n;
}

uint64_t ct_capture_stack_walk(struct ct_thread *t, uint64_t gen, const void *frame, int skip)
{
    uintptr_t pcs[CT_STACK_DEPTH];
    return ct_stack_id(t, gen, pcs, walk_stack(t, frame, skip, pcs, CT_STACK_DEPTH));
}

uint64_t ct_capture_stack_call(struct ct_thread *t, uint64_t gen, const void *frame, int skip,
                               const char *call)
{
    if (ct_rt.stack_mode == CTRACE_STACKS_NONE)
        return 0;
    if (!call)
        return ct_capture_stack_walk(t, gen, frame, skip);
    uintptr_t pcs[CT_STACK_DEPTH];
    pcs[0] = CT_CALL_PC(call);
    return ct_stack_id(t, gen, pcs, 1 + walk_stack(t, frame, skip, pcs + 1, CT_STACK_DEPTH - 1));
}
