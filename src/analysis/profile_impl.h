/*
 * profile_impl.h - the inside of struct prof (profile.h), shared by the
 * builder (profile.c) and the encoder (pprof_write.c) only.
 *
 * Invariants: IDs written to profile.proto are 1-based array positions
 * (function i+1 = funcs[i], location i+1 = locs[i]); string 0 is "" as the
 * format requires; a stack's location IDs are pool[off .. off+n), innermost
 * first, as profile.proto orders them.
 */
#ifndef CTRACE_ANALYSIS_PROFILE_IMPL_H
#define CTRACE_ANALYSIS_PROFILE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "must.h"
#include "profile.h"
#include "strtab.h"

/* Open-addressing set of indices, keyed by a 64-bit hash the owner computes
 * and checked by the owner's comparison (hashes may collide). */
struct prof_htab {
    uint64_t *hash;
    uint32_t *idx1; /* index + 1; 0 = empty */
    size_t cap, len;
};

struct prof_func {
    uint32_t name, file; /* string indices */
};

struct prof_loc {
    uint64_t pc;
    uint32_t func; /* function ID (1-based) */
    int64_t line;
};

struct prof_stackent {
    uint32_t off, n;
    int64_t v[PROF_MAX_VALUES];
};

struct prof {
    size_t nvalues;
    uint32_t type_str[PROF_MAX_VALUES][2];
    uint32_t period_str[2];
    int64_t period;

    struct strtab strs;

    struct prof_func *funcs;
    uint32_t nfuncs, cap_funcs;
    struct prof_htab func_set;

    struct prof_loc *locs;
    uint32_t nlocs, cap_locs;
    struct prof_htab loc_set;

    uint32_t *pool;
    size_t npool, cap_pool;
    struct prof_stackent *stacks;
    uint32_t nstacks, cap_stacks;
    struct prof_htab stack_set;

    struct u64map cache; /* reader stack ID of cache_gen -> handle */
    struct u64memo cache_memo; /* in front of cache */
    uint64_t cache_gen;
    /* (handle << 32 | leaf location ID) -> handle of that stack under the
     * leaf (prof_stack's leaf): of every generation, as both are. */
    struct u64map leaf_cache;
};

#endif
