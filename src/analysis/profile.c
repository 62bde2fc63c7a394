/*
 * profile.c - building a pprof profile from trace stacks (see profile.h for
 * the invariants: memory per distinct stack, Go's identities, generation-
 * scoped cache of reader stack IDs).
 */
#include "profile_impl.h"
#include "satadd.h"

#include <stdlib.h>
#include <string.h>

/* ---- hash sets ---- */

static void htab_init(struct prof_htab *t)
{
    t->cap = 256;
    t->len = 0;
    t->hash = an_calloc(t->cap, sizeof *t->hash);
    t->idx1 = an_calloc(t->cap, sizeof *t->idx1);
}

static void htab_free(struct prof_htab *t)
{
    free(t->hash);
    free(t->idx1);
}

/* The first slot of hash h's chain holding an index eq accepts, or the
 * empty slot ending the chain (idx1 == 0 there). */
typedef int (*eq_fn)(const struct prof *p, uint32_t idx, const void *key);

static size_t htab_find(const struct prof *p, const struct prof_htab *t, uint64_t h, eq_fn eq,
                        const void *key)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (!t->idx1[i])
            return i;
        if (t->hash[i] == h && eq(p, t->idx1[i] - 1, key))
            return i;
    }
}

static void htab_insert(struct prof_htab *t, uint64_t h, uint32_t idx)
{
    if ((t->len + 1) * 2 > t->cap) {
        struct prof_htab old = *t;
        t->cap *= 2;
        t->hash = an_calloc(t->cap, sizeof *t->hash);
        t->idx1 = an_calloc(t->cap, sizeof *t->idx1);
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.idx1[i])
                continue;
            size_t j = old.hash[i] & (t->cap - 1);
            while (t->idx1[j])
                j = (j + 1) & (t->cap - 1);
            t->hash[j] = old.hash[i];
            t->idx1[j] = old.idx1[i];
        }
        htab_free(&old);
    }
    size_t mask = t->cap - 1, i = h & mask;
    while (t->idx1[i])
        i = (i + 1) & mask;
    t->hash[i] = h;
    t->idx1[i] = idx + 1;
    t->len++;
}

#define GROW(arr, n, cap)                                                  \
    do {                                                                   \
        if ((n) == (cap)) {                                                \
            (cap) = (cap) ? (cap) * 2 : 64;                                \
            (arr) = an_realloc((arr), (size_t)(cap) * sizeof *(arr));      \
        }                                                                  \
    } while (0)

/* ---- strings ---- */

/* The string table (src/base/strtab): ids are profile.proto's string
 * indices, so the first string interned ("", by prof_new) is 0. */
static uint32_t str_id(struct prof *p, const char *s, size_t len)
{
    int64_t id = strtab_intern(&p->strs, s ? s : "", s ? len : 0);
    if (id < 0)
        an_out_of_memory();
    return (uint32_t)id;
}

static uint32_t cstr_id(struct prof *p, const char *s) { return str_id(p, s, strlen(s)); }

/* ---- functions and locations ---- */

static int func_eq(const struct prof *p, uint32_t idx, const void *key)
{
    const struct prof_func *k = key;
    return p->funcs[idx].name == k->name && p->funcs[idx].file == k->file;
}

static uint32_t func_id(struct prof *p, uint32_t name, uint32_t file)
{
    struct prof_func k = {name, file};
    uint64_t h = hash_mix64(((uint64_t)name << 32 | file) + 0x51);
    size_t slot = htab_find(p, &p->func_set, h, func_eq, &k);
    if (p->func_set.idx1[slot])
        return p->func_set.idx1[slot]; /* ID = index + 1 */
    GROW(p->funcs, p->nfuncs, p->cap_funcs);
    p->funcs[p->nfuncs] = k;
    htab_insert(&p->func_set, h, p->nfuncs);
    return ++p->nfuncs;
}

static int loc_eq(const struct prof *p, uint32_t idx, const void *key)
{
    const struct prof_loc *k = key;
    return p->locs[idx].pc == k->pc && p->locs[idx].func == k->func && p->locs[idx].line == k->line;
}

static uint32_t loc_id(struct prof *p, uint64_t pc, uint32_t func, int64_t line)
{
    struct prof_loc k = {pc, func, line};
    uint64_t h = hash_mix64(hash_mix64(pc) ^ ((uint64_t)func << 20) ^ (uint64_t)line);
    size_t slot = htab_find(p, &p->loc_set, h, loc_eq, &k);
    if (p->loc_set.idx1[slot])
        return p->loc_set.idx1[slot];
    GROW(p->locs, p->nlocs, p->cap_locs);
    p->locs[p->nlocs] = k;
    htab_insert(&p->loc_set, h, p->nlocs);
    return ++p->nlocs;
}

/* A frame with no PC or line: synthetic names ("(unknown)", "region: x"). */
static uint32_t synthetic_loc(struct prof *p, const char *name)
{
    return loc_id(p, 0, func_id(p, cstr_id(p, name), 0), 0);
}

/* ---- stacks ---- */

struct stack_key {
    const uint32_t *locs;
    uint32_t n;
};

static int stack_eq(const struct prof *p, uint32_t idx, const void *key)
{
    const struct stack_key *k = key;
    const struct prof_stackent *e = &p->stacks[idx];
    return e->n == k->n && memcmp(p->pool + e->off, k->locs, k->n * sizeof *k->locs) == 0;
}

static uint32_t stack_handle(struct prof *p, const uint32_t *locs, uint32_t n)
{
    struct stack_key k = {locs, n};
    uint64_t h = hash_bytes(locs, n * sizeof *locs, n);
    size_t slot = htab_find(p, &p->stack_set, h, stack_eq, &k);
    if (p->stack_set.idx1[slot])
        return p->stack_set.idx1[slot];
    while (p->npool + n > p->cap_pool) {
        p->cap_pool = p->cap_pool ? p->cap_pool * 2 : 1024;
        p->pool = an_realloc(p->pool, p->cap_pool * sizeof *p->pool);
    }
    memcpy(p->pool + p->npool, locs, n * sizeof *locs);
    GROW(p->stacks, p->nstacks, p->cap_stacks);
    struct prof_stackent *e = &p->stacks[p->nstacks];
    memset(e, 0, sizeof *e);
    e->off = (uint32_t)p->npool;
    e->n = n;
    p->npool += n;
    htab_insert(&p->stack_set, h, p->nstacks);
    return ++p->nstacks;
}

/* The stack `base` (a handle) under the extra innermost location leaf. */
static uint32_t stack_under(struct prof *p, uint32_t base, uint32_t leaf)
{
    uint64_t key = (uint64_t)base << 32 | leaf;
    uint32_t v;
    if (an_map_get(&p->leaf_cache, key, &v))
        return v;
    const struct prof_stackent *e = &p->stacks[base - 1];
    uint32_t locs[PROF_MAX_DEPTH + 1];
    locs[0] = leaf;
    memcpy(locs + 1, p->pool + e->off, e->n * sizeof *locs);
    v = stack_handle(p, locs, e->n + 1);
    an_map_put(&p->leaf_cache, key, v);
    return v;
}

uint32_t prof_stack(struct prof *p, ctrace_reader *r, uint64_t stack_id, uint64_t gen,
                    const char *leaf)
{
    if (leaf) {
        /* The leaf's location is made first, then the stack's own: the
         * order in which they are first seen is the order of their IDs in
         * the output. */
        uint32_t leaf_loc = synthetic_loc(p, leaf);
        return stack_under(p, prof_stack(p, r, stack_id, gen, NULL), leaf_loc);
    }
    if (gen != p->cache_gen) {
        if (p->cache.cap > 4096) /* give back what a burst took */
            u64map_free(&p->cache);
        else
            u64map_clear(&p->cache);
        u64memo_clear(&p->cache_memo);
        p->cache_gen = gen;
    }
    uint64_t hit;
    if (stack_id != CTRACE_NO_STACK && u64memo_get(&p->cache_memo, &p->cache, stack_id, &hit))
        return (uint32_t)hit;

    uint32_t locs[PROF_MAX_DEPTH];
    uint32_t n = 0;
    const struct ctrace_frame *fr = NULL;
    size_t depth = stack_id != CTRACE_NO_STACK ? ctrace_reader_stack(r, stack_id, &fr) : 0;
    if (depth == 0)
        locs[n++] = synthetic_loc(p, "(unknown)");
    for (size_t i = 0; i < depth && i < PROF_MAX_DEPTH; i++) {
        uint32_t fn = func_id(p, str_id(p, fr[i].func.ptr, fr[i].func.len),
                              str_id(p, fr[i].file.ptr, fr[i].file.len));
        locs[n++] = loc_id(p, fr[i].pc, fn, (int64_t)fr[i].line);
    }
    uint32_t v = stack_handle(p, locs, n);
    if (stack_id != CTRACE_NO_STACK)
        an_map_put(&p->cache, stack_id, v);
    return v;
}

void prof_add(struct prof *p, uint32_t stack, const int64_t *values)
{
    if (stack == 0 || stack > p->nstacks)
        return;
    struct prof_stackent *e = &p->stacks[stack - 1];
    for (size_t i = 0; i < p->nvalues; i++)
        e->v[i] = sat_add(e->v[i], values[i]);
}

void prof_totals(const struct prof *p, int64_t *out)
{
    for (size_t i = 0; i < p->nvalues; i++)
        out[i] = 0;
    for (uint32_t s = 0; s < p->nstacks; s++)
        for (size_t i = 0; i < p->nvalues; i++)
            out[i] = sat_add(out[i], p->stacks[s].v[i]);
}

struct prof *prof_new(size_t nvalues, const struct prof_value_type *types,
                      struct prof_value_type period_type, int64_t period)
{
    struct prof *p = an_calloc(1, sizeof *p);
    if (nvalues > PROF_MAX_VALUES)
        nvalues = PROF_MAX_VALUES;
    htab_init(&p->func_set);
    htab_init(&p->loc_set);
    htab_init(&p->stack_set);
    p->cache_gen = UINT64_MAX;
    cstr_id(p, ""); /* string 0 */
    p->nvalues = nvalues;
    for (size_t i = 0; i < nvalues; i++) {
        p->type_str[i][0] = cstr_id(p, types[i].type);
        p->type_str[i][1] = cstr_id(p, types[i].unit);
    }
    p->period_str[0] = cstr_id(p, period_type.type);
    p->period_str[1] = cstr_id(p, period_type.unit);
    p->period = period;
    return p;
}

void prof_free(struct prof *p)
{
    if (!p)
        return;
    strtab_free(&p->strs);
    free(p->funcs);
    free(p->locs);
    free(p->pool);
    free(p->stacks);
    htab_free(&p->func_set);
    htab_free(&p->loc_set);
    htab_free(&p->stack_set);
    u64map_free(&p->cache);
    u64map_free(&p->leaf_cache);
    free(p);
}
