/*
 * intern.c - string and stack ids for events, through small per-thread
 * caches in front of the generation's dedup maps (dedup.h).
 *
 * A cache entry is (gen, hash, node).  It is trusted only for the same
 * generation and only after comparing the content with the node, so a
 * caller reusing a buffer for another string, or a new generation that
 * freed the nodes, can never produce a wrong id: a stale entry is never
 * dereferenced because its gen no longer matches.
 */
#include <string.h>

#include "event.h"
#include "trace.h"
#include "unwind.h"

uint64_t ct_string_id_len(struct ct_thread *t, uint64_t gen, const char *s, size_t len)
{
    if (!s)
        return 0;
    if (len > GT_MAX_STRING_SIZE)
        len = GT_MAX_STRING_SIZE;
    uint64_t h = ct_hash_bytes(s, len);
    struct ct_cache_ent *c = &t->scache[h % CT_CACHE_SLOTS];
    if (c->gen == gen && c->hash == h && c->node->len == len && memcmp(c->node->data, s, len) == 0)
        return c->node->id;
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
    return id;
}

/* Names are mostly string literals passed again and again: look them up by
 * address first (the content is still compared, so a reused buffer cannot
 * yield a stale id), and hash only on a miss. */
uint64_t ct_string_id(struct ct_thread *t, uint64_t gen, const char *s)
{
    if (!s)
        return 0;
    struct ct_cache_ent *c = &t->pcache[((uintptr_t)s >> 3) % CT_CACHE_SLOTS];
    if (c->gen == gen && c->hash == (uintptr_t)s) {
        const struct ct_dedup_node *n = c->node;
        size_t len = n->len, i = 0;
        while (i < len && s[i] == (char)n->data[i])
            i++;
        if (i == len && s[len] == 0)
            return n->id;
    }
    size_t len = strlen(s);
    uint64_t id = ct_string_id_len(t, gen, s, len);
    if (id && len < GT_MAX_STRING_SIZE) {
        /* ct_string_id_len left the node in its hash cache. */
        uint64_t h = ct_hash_bytes(s, len);
        struct ct_cache_ent *hc = &t->scache[h % CT_CACHE_SLOTS];
        if (hc->gen == gen && hc->hash == h && hc->node->id == id) {
            c->gen = gen;
            c->hash = (uintptr_t)s;
            c->node = hc->node;
        }
    }
    return id;
}

uint64_t ct_stack_id(struct ct_thread *t, uint64_t gen, const uintptr_t *pcs, int n)
{
    if (n <= 0)
        return 0;
    size_t len = (size_t)n * sizeof *pcs;
    /* Even hash: every PC is a return address (see trace.c). */
    uint64_t h = ct_hash_bytes(pcs, len) & ~1ull;
    struct ct_cache_ent *c = &t->kcache[(h >> 1) % CT_CACHE_SLOTS];
    if (c->gen == gen && c->hash == h && c->node->len == len && memcmp(c->node->data, pcs, len) == 0)
        return c->node->id;
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

uint64_t ct_capture_stack(struct ct_thread *t, uint64_t gen, const void *frame, int skip)
{
    uintptr_t pcs[CT_STACK_DEPTH];
    int n = 0;
    switch (ct_rt.stack_mode) {
    case CTRACE_STACKS_FP:
        n = ct_unwind_fp_from(&t->bounds, frame, pcs, CT_STACK_DEPTH, skip);
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
        for (; i < k; i++)
            pcs[n++] = all[i];
        break;
    }
    default:
        return 0;
    }
    return ct_stack_id(t, gen, pcs, n);
}
