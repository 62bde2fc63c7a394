/*
 * cmd_stat.c - `ctrace stat`: what a user opens `go tool trace` for, as a
 * terminal report (80 columns) or JSON.
 *
 *   ctrace stat [--json] [--top=N] [-j 1|2] FILE|-
 *
 * Sections: goroutines grouped by start function with the time they spent
 * running, blocked on synchronisation, waiting for the network, in system
 * calls, waiting to be scheduled, and otherwise waiting; the top blocking
 * (reason, stack) pairs; system calls by the innermost function of their
 * stack (count, total, max: one entry per stay in Syscall, so the totals add
 * up to the syscall column); tasks and regions by name with count and
 * latency percentiles; CPU samples' top functions.  Warnings head the
 * report when events were lost (a reader error: the trace is cut short or
 * damaged; libctrace's state resyncs after dropped events; the losses
 * libctrace recorded in the trace, ctrace_reader_losses).  Names wider
 * than their column lose their middle, keeping package and function.
 *
 * Streaming and bounded memory: events are consumed one at a time from the
 * public reader API (ctrace_reader.h).  State is kept per live goroutine,
 * per live task, and per distinct name / stack / start function - never per
 * event.  Latency percentiles come from a fixed-size log-linear histogram
 * (16 sub-buckets per power of two: at most ~3% relative error; max exact).
 * Every table has a hard cap; past it, entries fold into an "(other)" row.
 *
 * Accounting of goroutine time follows the v2 event model: the time between
 * a goroutine's state transitions is charged to the state it was in:
 *   Running -> exec;  Runnable -> sched;  Syscall -> syscall;
 *   Waiting -> net if the reason is "network", sync if the reason names a
 *   channel, select or sync primitive (as `go tool trace -pprof=sync`
 *   does), other otherwise (sleep, GC waits, ...).
 * States still open at the end of the trace are charged up to its last event.
 *
 * The JSON output also carries "pprof": the totals Go 1.23's
 * `go tool trace -pprof=sync|net|syscall|sched` would report for the same
 * trace, computed the way it does by src/analysis/goprof.c - the computation
 * `ctrace pprof` writes its profiles from, so the two agree.  Regions are
 * matched by src/analysis/regions.c, also shared with `ctrace pprof`.
 * Tests compare these with Go's own profiles.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrmemo.h"
#include "commands.h"
#include "ctrace_reader.h"
#include "goprof.h"
#include "gtable.h"
#include "gotrace.h"
#include "hash.h"
#include "losses.h"
#include "must.h"
#include "regions.h"
#include "satadd.h"
#include "strtab.h"
#include "threads.h"

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

#define MAX_STRINGS (1u << 20)      /* distinct interned strings          */
#define MAX_STACKS (1u << 16)       /* distinct interned stacks           */
#define MAX_GROUPS 4096u            /* distinct start functions           */
#define MAX_BLOCKS 16384u           /* distinct (reason, stack) pairs     */
#define MAX_SYSCALLS 4096u          /* distinct syscall functions         */
#define MAX_NAMES 4096u             /* distinct task / region names       */
#define MAX_FUNCS (1u << 16)        /* distinct functions in CPU samples  */
#define MAX_LIVE_TASKS (1u << 20)
#define STACK_KEEP 6                /* frames kept per interned stack     */
#define STACK_HASH_DEPTH 64         /* frames hashed for stack identity   */

#define OTHER_STR 0u                /* string id of "(other)"            */
#define EMPTY_STR 1u                /* string id of ""                   */
#define UNKNOWN_STR 2u              /* string id of "(unknown)"          */

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void *xrealloc(void *p, size_t sz)
{
    p = realloc(p, sz ? sz : 1);
    if (!p) {
        fprintf(stderr, "ctrace stat: out of memory\n");
        exit(2);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* String interning                                                    */
/* ------------------------------------------------------------------ */

/* src/base/strtab.h, capped: past MAX_STRINGS distinct strings, a new one
 * is counted as "(other)" (id OTHER_STR).  Ids 0-2 are the fixed names of
 * OTHER_STR, EMPTY_STR and UNKNOWN_STR. */
static uint32_t intern_bytes(struct strtab *t, const char *p, size_t len)
{
    int64_t id = strtab_find(t, p, len);
    if (id >= 0)
        return (uint32_t)id;
    if (t->n >= MAX_STRINGS)
        return OTHER_STR;
    id = strtab_intern(t, p, len);
    if (id < 0) {
        fprintf(stderr, "ctrace stat: out of memory\n");
        exit(2);
    }
    return (uint32_t)id;
}

static void strtab_init(struct strtab *t)
{
    memset(t, 0, sizeof *t);
    intern_bytes(t, "(other)", 7);
    intern_bytes(t, "", 0);
    intern_bytes(t, "(unknown)", 9);
}

/* Interning a reader's string: most events repeat strings the memo has
 * seen at the same address (task names, functions), found again without
 * hashing their content. */
static uint32_t intern_memo(struct strtab *t, struct strtab_memo *m, struct ctrace_str s)
{
    const char *p = s.ptr ? s.ptr : "";
    int64_t id = strtab_memo_get(t, m, p, s.len);
    if (id >= 0)
        return (uint32_t)id;
    uint32_t v = intern_bytes(t, p, s.len);
    if (v != OTHER_STR)
        strtab_memo_put(m, p, v);
    return v;
}

/* The same for a string the reader keeps in place for its generation (a
 * transition's reason, a region's name: addrmemo.h), which a hit does not
 * even compare: these come with nearly every event. */
static uint32_t intern_new_gen(struct strtab *t, struct addrmemo_gen *m, uint64_t gen,
                               const char *p, size_t len)
{
    uint32_t v = intern_bytes(t, p, len);
    if (v != OTHER_STR)
        addrmemo_gen_put(m, gen, p, len, v);
    return v;
}

static inline uint32_t intern_memo_gen(struct strtab *t, struct addrmemo_gen *m, uint64_t gen,
                                       struct ctrace_str s)
{
    const char *p = s.ptr ? s.ptr : "";
    uint64_t id;
    return addrmemo_gen_get(m, gen, p, s.len, &id) ? (uint32_t)id : intern_new_gen(t, m, gen, p, s.len);
}

/* ------------------------------------------------------------------ */
/* Latency histogram                                                   */
/* ------------------------------------------------------------------ */

#define HIST_SUB 16
#define HIST_BUCKETS (HIST_SUB + (64 - 4) * HIST_SUB)

struct hist {
    uint64_t n, sum, min, max;
    uint32_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 4 */
    unsigned sub = (unsigned)(v >> (e - 4)) & (HIST_SUB - 1);
    return HIST_SUB + (e - 4) * HIST_SUB + sub;
}

static void hist_add(struct hist *h, uint64_t v)
{
    if (h->n == 0 || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->n++;
    h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
    unsigned i = hist_index(v);
    if (h->b[i] < UINT32_MAX)
        h->b[i]++;
}

/* The p-quantile (0 < p <= 1): midpoint of the bucket holding that rank,
 * clamped to [min, max]. */
static uint64_t hist_quantile(const struct hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(p * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank >= h->n)
        return h->max;
    uint64_t cum = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        cum += h->b[i];
        if (cum >= rank) {
            uint64_t lo, width;
            if (i < HIST_SUB) {
                lo = i;
                width = 1;
            } else {
                unsigned e = (i - HIST_SUB) / HIST_SUB + 4, sub = (i - HIST_SUB) % HIST_SUB;
                lo = (uint64_t)(HIST_SUB + sub) << (e - 4);
                width = (uint64_t)1 << (e - 4);
            }
            uint64_t v = lo + width / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

/* ------------------------------------------------------------------ */
/* Aggregates                                                          */
/* ------------------------------------------------------------------ */

enum cat { C_EXEC, C_SYNC, C_NET, C_SYSCALL, C_SCHED, C_OTHER, C_COUNT };
static const char *const cat_json[C_COUNT] = {"exec_ns", "sync_ns", "net_ns",
                                              "syscall_ns", "sched_ns", "other_ns"};


struct stackent {
    uint64_t hash;
    uint32_t nframes;         /* frames kept (<= STACK_KEEP)          */
    uint32_t depth;           /* full depth                           */
    uint32_t func[STACK_KEEP];
    uint32_t file[STACK_KEEP];
    uint64_t line[STACK_KEEP];
};

struct group {
    uint32_t func;     /* start function string id */
    uint64_t count;    /* goroutines               */
    int64_t t[C_COUNT];
};

struct blockent {
    uint32_t reason, stack; /* stack: index+1 into stacks, 0 = none */
    uint64_t count;
    int64_t total;
};

/* System calls by the innermost function of the stack that entered them. */
struct sysent {
    uint32_t func;
    uint64_t count;
    int64_t total, max;
};

struct nament {
    uint32_t name;
    uint64_t begun, ended, unmatched_end;
    struct hist h;
};

struct funcent {
    uint32_t func;
    uint64_t flat, cum;
};

/* stat's record of a live goroutine (gtable.h), with the state of the
 * computations shared with pprof: one lookup per event finds all of it. */
struct gstate {
    int state;            /* enum ctrace_state                          */
    enum cat cat;         /* what the time in it is charged to (C_COUNT:
                             nothing), known since the transition into it */
    int64_t since;        /* time of the last transition                */
    uint32_t reason;      /* reason of the last transition into Waiting */
    int zero_wait;        /* that reason is one of libctrace's zero waits */
    uint32_t block_stack; /* stack index+1 of that transition, 0 = none */
    uint32_t sys_func;    /* innermost function of the last syscall entry */
    uint32_t group_func;  /* start function, UNKNOWN_STR until known    */
    int group_final;      /* start function from a creation stack       */
    int64_t t[C_COUNT];
    struct goprof_g prof;     /* Go's -pprof intervals (goprof.h)       */
    struct regions_g regions; /* open regions (regions.h)               */
};

struct livetask {
    uint32_t name;
    int64_t begin;
};

struct stats {
    ctrace_reader *r;
    struct strtab str;
    struct strtab_memo memo; /* in front of str (intern) */
    /* In front of str for reasons and region names (intern_memo_gen). */
    struct addrmemo_gen gen_memo;
    /* What a wait reason is, by string id (reason_info): classified once
     * per distinct reason, not per wait. */
    uint8_t *reason_info;
    uint32_t cap_reason_info;
    uint64_t last_m, last_p; /* the thread and proc of the last event */

    /* stacks */
    struct stackent *stacks;
    uint32_t nstacks, cap_stacks;
    struct u64map stack_by_hash; /* hash -> index */
    /* per-generation cache: reader stack id -> index+1 */
    struct u64map stack_cache;
    struct u64memo stack_cache_memo; /* in front of stack_cache */
    uint64_t cache_gen;

    /* goroutines */
    struct gtable gs; /* struct gstate */
    uint64_t goroutines_seen, goroutines_created, goroutines_ended;

    struct group *groups;
    uint32_t ngroups, cap_groups;
    struct u64map group_by_func;

    struct blockent *blocks;
    uint32_t nblocks, cap_blocks;
    struct u64map block_by_key;
    struct u64memo block_memo; /* in front of block_by_key (never deleted from) */

    struct nament *tasks, *regions;
    uint32_t ntasks, cap_tasks, nregions, cap_regions;
    struct u64map task_by_name, region_by_name;
    struct u64memo task_memo, region_memo; /* in front of those (never deleted from) */
    struct u64map live_tasks; /* task id -> index into livet */
    struct livetask *livet;
    uint32_t nlivet, cap_livet, livet_free;
    uint64_t tasks_dropped;

    struct funcent *funcs;
    uint32_t nfuncs, cap_funcs;
    struct u64map func_by_id;
    uint64_t samples;

    struct sysent *syscalls;
    uint32_t nsyscalls, cap_syscalls;
    struct u64map syscall_by_func;

    /* Losses the trace itself records: libctrace's goroutine state resyncs
     * after events it had to drop (docs/FORMAT.md, "Memory cap"). */
    uint64_t resyncs;

    struct u64map procs, threads;

    /* Go's -pprof totals: src/analysis, shared with `ctrace pprof` (as
     * is region matching; the per-goroutine parts are in struct gstate);
     * NULL when the output (text) does not show them. */
    struct goprof *goprof;

    uint64_t events, generations, kinds[CTRACE_EV_KIND_COUNT];
    int64_t first_time, last_time; /* of the first and the last event */
};

static uint32_t intern(struct stats *s, struct ctrace_str str)
{
    return intern_memo(&s->str, &s->memo, str);
}

/* A transition's reason or a region's name, of generation gen. */
static inline uint32_t intern_gen(struct stats *s, struct ctrace_str str, uint64_t gen)
{
    return intern_memo_gen(&s->str, &s->gen_memo, gen, str);
}

/* ---- stacks ---- */

static uint32_t stack_intern(struct stats *s, uint64_t stack_id, uint64_t gen)
{
    if (stack_id == CTRACE_NO_STACK)
        return 0;
    if (gen != s->cache_gen) {
        u64map_free(&s->stack_cache);
        u64memo_clear(&s->stack_cache_memo);
        s->cache_gen = gen;
    }
    uint64_t hit;
    if (u64memo_get(&s->stack_cache_memo, &s->stack_cache, stack_id, &hit))
        return (uint32_t)hit;
    uint32_t v;
    const struct ctrace_frame *fr = NULL;
    size_t n = ctrace_reader_stack(s->r, stack_id, &fr);
    if (n == 0) {
        an_map_put(&s->stack_cache, stack_id, 0);
        return 0;
    }
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n && i < STACK_HASH_DEPTH; i++) {
        h = hash_mix64(h ^ fr[i].pc);
        h = hash_bytes(fr[i].func.ptr, fr[i].func.len, h);
        h = hash_mix64(h ^ fr[i].line);
    }
    h = hash_mix64(h ^ n);
    if (h == UINT64_MAX) /* the key an_map_put ignores */
        h--;
    if (an_map_get(&s->stack_by_hash, h, &v)) {
        an_map_put(&s->stack_cache, stack_id, v + 1);
        return v + 1;
    }
    if (s->nstacks >= MAX_STACKS) {
        an_map_put(&s->stack_cache, stack_id, 0);
        return 0;
    }
    if (s->nstacks == s->cap_stacks) {
        s->cap_stacks = s->cap_stacks ? s->cap_stacks * 2 : 256;
        s->stacks = xrealloc(s->stacks, s->cap_stacks * sizeof *s->stacks);
    }
    struct stackent *e = &s->stacks[s->nstacks];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->depth = (uint32_t)n;
    e->nframes = n < STACK_KEEP ? (uint32_t)n : STACK_KEEP;
    for (uint32_t i = 0; i < e->nframes; i++) {
        e->func[i] = intern(s, fr[i].func);
        e->file[i] = intern(s, fr[i].file);
        e->line[i] = fr[i].line;
    }
    an_map_put(&s->stack_by_hash, h, s->nstacks);
    s->nstacks++;
    an_map_put(&s->stack_cache, stack_id, s->nstacks);
    return s->nstacks;
}

/* Thread entry plumbing of C programs, skipped when naming a goroutine
 * (a libctrace thread) by its outermost frame: libc's and ctrace's own. */
static int is_entry_frame(struct ctrace_str f)
{
    static const char *const names[] = {"_start", "__libc_start_main", "__libc_start_main_impl",
                                        "__libc_start_main_alias_2", "__libc_start_call_main",
                                        "start_thread", "clone", "clone3", "__clone",
                                        "__clone3", "__clone_internal", "thread_start"};
    if (!f.ptr || f.len == 0 || (f.len == 1 && f.ptr[0] == '?'))
        return 1;
    if (f.len > 3 && memcmp(f.ptr, "ct_", 3) == 0)
        return 1; /* libctrace-internal trampolines */
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == f.len && memcmp(names[i], f.ptr, f.len) == 0)
            return 1;
    return 0;
}

/* Function at the innermost (outer=0) or outermost (outer=1) frame; the
 * outermost skips thread-entry plumbing (so a C main thread is "main"). */
static uint32_t stack_func(struct stats *s, uint64_t stack_id, int outer)
{
    if (stack_id == CTRACE_NO_STACK)
        return UNKNOWN_STR;
    const struct ctrace_frame *fr = NULL;
    size_t n = ctrace_reader_stack(s->r, stack_id, &fr);
    if (n == 0)
        return UNKNOWN_STR;
    if (!outer)
        return intern(s, fr[0].func);
    for (size_t i = n; i > 0; i--)
        if (!is_entry_frame(fr[i - 1].func))
            return intern(s, fr[i - 1].func);
    return intern(s, fr[n - 1].func);
}

/* ---- groups ---- */

static struct group *group_get(struct stats *s, uint32_t func)
{
    uint32_t v;
    if (an_map_get(&s->group_by_func, func, &v))
        return &s->groups[v];
    if (s->ngroups >= MAX_GROUPS) {
        func = OTHER_STR;
        if (an_map_get(&s->group_by_func, func, &v))
            return &s->groups[v];
    }
    if (s->ngroups == s->cap_groups) {
        s->cap_groups = s->cap_groups ? s->cap_groups * 2 : 64;
        s->groups = xrealloc(s->groups, s->cap_groups * sizeof *s->groups);
    }
    struct group *g = &s->groups[s->ngroups];
    memset(g, 0, sizeof *g);
    g->func = func;
    an_map_put(&s->group_by_func, func, s->ngroups);
    s->ngroups++;
    return g;
}

/* ---- blocking ---- */

static void block_add(struct stats *s, uint32_t reason, uint32_t stack, int64_t d)
{
    uint64_t key = ((uint64_t)reason << 32) | stack;
    uint64_t memo;
    uint32_t v = 0;
    if (u64memo_get(&s->block_memo, &s->block_by_key, key, &memo)) {
        v = (uint32_t)memo;
    } else {
        if (s->nblocks >= MAX_BLOCKS) {
            key = ((uint64_t)OTHER_STR << 32);
            reason = OTHER_STR;
            stack = 0;
        }
        if (!an_map_get(&s->block_by_key, key, &v)) {
            if (s->nblocks == s->cap_blocks) {
                s->cap_blocks = s->cap_blocks ? s->cap_blocks * 2 : 64;
                s->blocks = xrealloc(s->blocks, s->cap_blocks * sizeof *s->blocks);
            }
            v = s->nblocks++;
            s->blocks[v] = (struct blockent){.reason = reason, .stack = stack};
            an_map_put(&s->block_by_key, key, v);
        }
    }
    s->blocks[v].count++;
    s->blocks[v].total = sat_add(s->blocks[v].total, d);
}

/* ---- system calls ---- */

static void syscall_add(struct stats *s, uint32_t func, int64_t d)
{
    uint32_t v;
    if (!an_map_get(&s->syscall_by_func, func, &v)) {
        if (s->nsyscalls >= MAX_SYSCALLS)
            func = OTHER_STR;
        if (!an_map_get(&s->syscall_by_func, func, &v)) {
            if (s->nsyscalls == s->cap_syscalls) {
                s->cap_syscalls = s->cap_syscalls ? s->cap_syscalls * 2 : 64;
                s->syscalls = xrealloc(s->syscalls, s->cap_syscalls * sizeof *s->syscalls);
            }
            v = s->nsyscalls++;
            s->syscalls[v] = (struct sysent){.func = func};
            an_map_put(&s->syscall_by_func, func, v);
        }
    }
    struct sysent *e = &s->syscalls[v];
    e->count++;
    e->total = sat_add(e->total, d);
    if (d > e->max)
        e->max = d;
}

/* ---- names (tasks, regions) ---- */

static struct nament *name_new(struct nament **arr, uint32_t *n, uint32_t *cap,
                               struct u64map *m, struct u64memo *memo, uint32_t name)
{
    uint64_t v;
    if (*n >= MAX_NAMES) {
        name = OTHER_STR;
        if (u64memo_get(memo, m, name, &v))
            return &(*arr)[v];
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *arr = xrealloc(*arr, *cap * sizeof **arr);
    }
    struct nament *e = &(*arr)[*n];
    memset(e, 0, sizeof *e);
    e->name = name;
    an_map_put(m, name, *n);
    (*n)++;
    return e;
}

/* The entry of name (a string id), made if new ("(other)" past MAX_NAMES). */
static inline struct nament *name_get(struct nament **arr, uint32_t *n, uint32_t *cap,
                                      struct u64map *m, struct u64memo *memo, uint32_t name)
{
    uint64_t v;
    if (u64memo_get(memo, m, name, &v))
        return &(*arr)[v];
    return name_new(arr, n, cap, m, memo, name);
}

/* ---- functions (CPU samples) ---- */

static struct funcent *func_get(struct stats *s, uint32_t func)
{
    uint32_t v;
    if (an_map_get(&s->func_by_id, func, &v))
        return &s->funcs[v];
    if (s->nfuncs >= MAX_FUNCS) {
        func = OTHER_STR;
        if (an_map_get(&s->func_by_id, func, &v))
            return &s->funcs[v];
    }
    if (s->nfuncs == s->cap_funcs) {
        s->cap_funcs = s->cap_funcs ? s->cap_funcs * 2 : 64;
        s->funcs = xrealloc(s->funcs, s->cap_funcs * sizeof *s->funcs);
    }
    struct funcent *f = &s->funcs[s->nfuncs];
    memset(f, 0, sizeof *f);
    f->func = func;
    an_map_put(&s->func_by_id, func, s->nfuncs);
    s->nfuncs++;
    return f;
}

/* ---- goroutines ---- */

/* Makes goroutine id's record: first seen now, its state not yet known. */
static struct gstate *g_new(struct stats *s, uint64_t id, int64_t now)
{
    struct gstate *g = gtable_add(&s->gs, id);
    g->state = CTRACE_STATE_UNDETERMINED;
    g->cat = C_COUNT;
    g->since = now;
    g->group_func = UNKNOWN_STR;
    g->sys_func = UNKNOWN_STR;
    s->goroutines_seen++;
    return g;
}

/* The record of goroutine id, made if it has none. */
static inline struct gstate *g_get(struct stats *s, uint64_t id, int64_t now)
{
    struct gstate *g = gtable_find(&s->gs, id);
    return g ? g : g_new(s, id, now);
}

/* 1 if r is the reason of one of libctrace's zero-length waits (gotrace.h):
 * bookkeeping for Go's profiles, not a wait, so not a row of "Top
 * blocking" (a program with no real wait had only those rows: a syscall's
 * end, 1 ns each).  Their time (0) still counts in the "other" column. */
static int is_zero_wait(const struct ctrace_str *r)
{
    static const char *const names[] = {GT_ZERO_WAIT_END_OF_WAIT, GT_ZERO_WAIT_END_OF_SYSCALL,
                                        GT_ZERO_WAIT_THREAD_START, GT_ZERO_WAIT_MAIN_THREAD};
    if (r->len < 8 || memcmp(r->ptr, "ctrace: ", 8) != 0)
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (r->len == strlen(names[i]) && memcmp(r->ptr, names[i], r->len) == 0)
            return 1;
    return 0;
}

/* What a wait reason is (reason_info): its category - net, sync or
 * other - and whether it is a zero wait; REASON_KNOWN once classified. */
enum { REASON_CAT = 0x0f, REASON_ZERO_WAIT = 0x10, REASON_KNOWN = 0x80 };

static unsigned reason_info(struct stats *s, uint32_t reason)
{
    if (reason >= s->cap_reason_info) {
        uint32_t cap = s->cap_reason_info ? s->cap_reason_info : 64;
        while (cap <= reason)
            cap *= 2;
        s->reason_info = xrealloc(s->reason_info, cap);
        memset(s->reason_info + s->cap_reason_info, 0, cap - s->cap_reason_info);
        s->cap_reason_info = cap;
    }
    if (!(s->reason_info[reason] & REASON_KNOWN)) {
        const char *r = s->str.s[reason];
        struct ctrace_str rs = {r, s->str.len[reason]};
        enum cat c = strcmp(r, "network") == 0 ? C_NET
                   : goprof_reason_is_sync(r)   ? C_SYNC
                                                : C_OTHER;
        s->reason_info[reason] =
            (uint8_t)(REASON_KNOWN | c | (is_zero_wait(&rs) ? REASON_ZERO_WAIT : 0));
    }
    return s->reason_info[reason];
}

/* Charges the time since the last transition to the current state. */
static inline void g_charge(struct stats *s, struct gstate *g, int64_t now)
{
    int64_t d = ns_since(g->since, now);
    g->since = now;
    if (g->cat != C_COUNT)
        g->t[g->cat] = sat_add(g->t[g->cat], d);
    if (g->state == CTRACE_STATE_WAITING) {
        if (!g->zero_wait)
            block_add(s, g->reason, g->block_stack, d);
    } else if (g->state == CTRACE_STATE_SYSCALL) {
        /* One charge per stay in Syscall: charges happen at the
         * transition out of it (or at the end of the trace), never in
         * between. */
        syscall_add(s, g->sys_func, d);
    }
}

static void g_flush(struct stats *s, struct gstate *g)
{
    struct group *gr = group_get(s, g->group_func);
    gr->count++;
    for (int c = 0; c < C_COUNT; c++)
        gr->t[c] = sat_add(gr->t[c], g->t[c]);
}

/* A goroutine older than the trace is named by the outermost frame of the
 * first stack of its own. */
static void name_by_stack(struct stats *s, struct gstate *g, uint64_t stack)
{
    if (g->group_func == UNKNOWN_STR && !g->group_final && stack != CTRACE_NO_STACK)
        g->group_func = stack_func(s, stack, 1);
}

static void on_transition(struct stats *s, const struct ctrace_event *ev)
{
    if (ev->u.transition.resource == CTRACE_RES_PROC) {
        an_map_put(&s->procs, ev->u.transition.id, 1);
        return;
    }
    if (ev->u.transition.resource != CTRACE_RES_GOROUTINE)
        return;
    uint64_t id = ev->u.transition.id;
    enum ctrace_state from = ev->u.transition.from, to = ev->u.transition.to;
    struct gstate *g = g_get(s, id, ev->time);
    if (s->goprof)
        goprof_transition(s->goprof, &g->prof, ev);

    if (from == CTRACE_STATE_NOTEXIST) {
        s->goroutines_created++;
        /* The new goroutine's start stack: its entry function first. */
        uint64_t st = ev->u.transition.stack;
        if (st != CTRACE_NO_STACK) {
            g->group_func = stack_func(s, st, 0);
            g->group_final = 1;
        }
    } else if (g->group_func == UNKNOWN_STR) {
        uint64_t st = ev->u.transition.stack;
        name_by_stack(s, g, st == CTRACE_NO_STACK && ev->g == id ? ev->stack : st);
    }

    /* A status restated (each generation restates the state of every
     * goroutine it touches: Waiting->Waiting with no reason) continues
     * the stay: its reason, stack and syscall are the ones it began with. */
    if (from == to && g->state == (int)to)
        return;
    g_charge(s, g, ev->time);
    g->state = (int)to;
    const struct ctrace_str *r = &ev->u.transition.reason;
    static const char resync[] = "ctrace: state resync after dropped events";
    if (r->len == sizeof resync - 1 && memcmp(r->ptr, resync, r->len) == 0)
        s->resyncs++;
    /* The stay begins: what its time will be charged to, and what it
     * is (a wait's reason and stack, a system call's function). */
    uint64_t st = ev->u.transition.stack;
    switch (to) {
    case CTRACE_STATE_RUNNING: g->cat = C_EXEC; break;
    case CTRACE_STATE_RUNNABLE: g->cat = C_SCHED; break;
    case CTRACE_STATE_WAITING: {
        g->reason = intern_gen(s, *r, ev->generation);
        unsigned info = reason_info(s, g->reason);
        g->cat = (enum cat)(info & REASON_CAT);
        /* "(other)" past MAX_STRINGS: the reason itself tells. */
        g->zero_wait = g->reason == OTHER_STR ? is_zero_wait(r) : !!(info & REASON_ZERO_WAIT);
        g->block_stack = stack_intern(s, st != CTRACE_NO_STACK ? st : ev->stack, ev->generation);
        break;
    }
    case CTRACE_STATE_SYSCALL:
        g->cat = C_SYSCALL;
        g->sys_func = stack_func(s, st != CTRACE_NO_STACK ? st : ev->stack, 0);
        break;
    case CTRACE_STATE_NOTEXIST:
        g->cat = C_COUNT;
        s->goroutines_ended++;
        regions_goroutine_end(&g->regions);
        g_flush(s, g);
        gtable_release(&s->gs, id);
        break;
    default: g->cat = C_COUNT; break;
    }
}

/* A goroutine of an older trace start whose first events carry stacks. */
static void name_from_event(struct stats *s, const struct ctrace_event *ev)
{
    if (ev->g == CTRACE_NO_ID || ev->stack == CTRACE_NO_STACK)
        return;
    struct gstate *g = gtable_find(&s->gs, ev->g);
    if (g)
        name_by_stack(s, g, ev->stack);
}

static void on_region(struct stats *s, const struct ctrace_event *ev, int begin)
{
    uint32_t name = intern_gen(s, ev->u.region.name, ev->generation);
    struct nament *ne = name_get(&s->regions, &s->nregions, &s->cap_regions, &s->region_by_name,
                                 &s->region_memo, name);
    if (ev->g == CTRACE_NO_ID)
        return;
    struct gstate *g = g_get(s, ev->g, ev->time);
    name_by_stack(s, g, ev->stack);
    /* Matched by the entry's name: "(other)" for every name past the
     * tables' caps. */
    if (begin) {
        ne->begun++;
        regions_begin(&g->regions, ne->name, ev->time, 0);
        return;
    }
    ne->ended++;
    int64_t t0;
    uint32_t cookie;
    if (regions_end(&g->regions, ne->name, &t0, &cookie)) {
        int64_t d = ns_since(t0, ev->time);
        hist_add(&ne->h, d > 0 ? (uint64_t)d : 0);
    } else {
        ne->unmatched_end++;
    }
}

static void on_task(struct stats *s, const struct ctrace_event *ev, int begin)
{
    uint32_t name = intern(s, ev->u.task.name);
    uint32_t v;
    if (begin) {
        struct nament *ne = name_get(&s->tasks, &s->ntasks, &s->cap_tasks, &s->task_by_name, &s->task_memo, name);
        ne->begun++;
        if (s->nlivet - 0 >= MAX_LIVE_TASKS && !s->livet_free) {
            s->tasks_dropped++;
            return;
        }
        uint32_t idx;
        if (s->livet_free) {
            idx = s->livet_free - 1;
            s->livet_free = (uint32_t)s->livet[idx].begin;
        } else {
            if (s->nlivet == s->cap_livet) {
                s->cap_livet = s->cap_livet ? s->cap_livet * 2 : 64;
                s->livet = xrealloc(s->livet, s->cap_livet * sizeof *s->livet);
            }
            idx = s->nlivet++;
        }
        s->livet[idx] = (struct livetask){ne->name, ev->time};
        an_map_put(&s->live_tasks, ev->u.task.id, idx);
        return;
    }
    if (an_map_get(&s->live_tasks, ev->u.task.id, &v)) {
        struct livetask lt = s->livet[v];
        struct nament *ne = name_get(&s->tasks, &s->ntasks, &s->cap_tasks, &s->task_by_name, &s->task_memo, lt.name);
        ne->ended++;
        int64_t d = ns_since(lt.begin, ev->time);
        hist_add(&ne->h, d > 0 ? (uint64_t)d : 0);
        u64map_del(&s->live_tasks, ev->u.task.id, NULL);
        s->livet[v].begin = s->livet_free;
        s->livet_free = v + 1;
    } else {
        struct nament *ne = name_get(&s->tasks, &s->ntasks, &s->cap_tasks, &s->task_by_name, &s->task_memo, name);
        ne->ended++;
        ne->unmatched_end++;
    }
}

static void on_sample(struct stats *s, const struct ctrace_event *ev)
{
    s->samples++;
    const struct ctrace_frame *fr = NULL;
    size_t n = ev->stack != CTRACE_NO_STACK ? ctrace_reader_stack(s->r, ev->stack, &fr) : 0;
    if (n == 0) {
        struct funcent *f = func_get(s, UNKNOWN_STR);
        f->flat++;
        f->cum++;
        return;
    }
    uint32_t seen[STACK_HASH_DEPTH];
    size_t nseen = 0;
    for (size_t i = 0; i < n && i < STACK_HASH_DEPTH; i++) {
        uint32_t fn = intern(s, fr[i].func);
        size_t j;
        for (j = 0; j < nseen; j++)
            if (seen[j] == fn)
                break;
        if (j < nseen)
            continue;
        seen[nseen++] = fn;
        struct funcent *f = func_get(s, fn);
        if (i == 0)
            f->flat++;
        f->cum++;
    }
}

static void on_event(struct stats *s, const struct ctrace_event *ev)
{
    s->events++;
    if ((unsigned)ev->kind < CTRACE_EV_KIND_COUNT)
        s->kinds[ev->kind]++;
    s->last_time = ev->time; /* the latest: times only wrap (satadd.h) */
    /* Sets of ids: most events are on the thread and proc of the last,
     * which the sets have already. */
    if (ev->m != s->last_m) {
        s->last_m = ev->m;
        if (ev->m != CTRACE_NO_ID)
            an_map_put(&s->threads, ev->m, 1);
    }
    if (ev->p != s->last_p) {
        s->last_p = ev->p;
        if (ev->p != CTRACE_NO_ID)
            an_map_put(&s->procs, ev->p, 1);
    }

    /* Most events are transitions and regions, first here; the other
     * kinds may name a goroutine by their stack (regions do it inside). */
    switch (ev->kind) {
    case CTRACE_EV_STATE_TRANSITION: on_transition(s, ev); break;
    case CTRACE_EV_REGION_BEGIN: on_region(s, ev, 1); break;
    case CTRACE_EV_REGION_END: on_region(s, ev, 0); break;
    case CTRACE_EV_STACK_SAMPLE: on_sample(s, ev); break;
    case CTRACE_EV_SYNC:
        s->generations++;
        name_from_event(s, ev);
        break;
    case CTRACE_EV_TASK_BEGIN:
        on_task(s, ev, 1);
        name_from_event(s, ev);
        break;
    case CTRACE_EV_TASK_END:
        on_task(s, ev, 0);
        name_from_event(s, ev);
        break;
    default: name_from_event(s, ev); break;
    }
}

/* Charges every live goroutine up to the end and folds it into its group. */
static void finish(struct stats *s)
{
    struct gstate *g;
    for (uint32_t i = 0; (g = gtable_next(&s->gs, &i));) {
        g_charge(s, g, s->last_time);
        g_flush(s, g);
    }
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

/* A duration in at most 7 characters: "999ns", "12.3us", "1.23ms", "45.6s". */
static const char *fmt_dur(char *buf, size_t n, int64_t ns)
{
    double v = (double)ns;
    if (ns <= 0)
        snprintf(buf, n, "0");
    else if (ns < 1000)
        snprintf(buf, n, "%" PRId64 "ns", ns);
    else if (v < 1e6)
        snprintf(buf, n, v < 1e4 ? "%.2fus" : v < 1e5 ? "%.1fus" : "%.0fus", v / 1e3);
    else if (v < 1e9)
        snprintf(buf, n, v < 1e7 ? "%.2fms" : v < 1e8 ? "%.1fms" : "%.0fms", v / 1e6);
    else if (v < 1e12)
        snprintf(buf, n, v < 1e10 ? "%.2fs" : v < 1e11 ? "%.1fs" : "%.0fs", v / 1e9);
    else
        snprintf(buf, n, "%.0fs", v / 1e9);
    return buf;
}

/* A count in at most 4 characters: 9999, 123k, 45M. */
static const char *fmt_count(char *buf, size_t n, uint64_t v)
{
    if (v < 10000)
        snprintf(buf, n, "%" PRIu64, v);
    else if (v < 1000000)
        snprintf(buf, n, "%" PRIu64 "k", v / 1000);
    else if (v < 1000000000)
        snprintf(buf, n, "%" PRIu64 "M", v / 1000000);
    else
        snprintf(buf, n, "%" PRIu64 "G", v / 1000000000);
    return buf;
}

/* Fits a name into width columns by cutting out its middle, so both the
 * start (package path, directory) and the end (function, file:line) stay
 * readable: "pkg/very/long...(*T).Method".  When the name has a package
 * path, its last element and everything after stay whole if they fit. */
static const char *fit(char *buf, size_t n, const char *s, size_t width)
{
    size_t len = strlen(s);
    if (len <= width || width < 8 || width + 1 > n) {
        snprintf(buf, n, "%.*s", (int)(width >= 8 && width + 1 <= n ? len : width), s);
        return buf;
    }
    size_t tail = (width - 3) * 2 / 3; /* the end tells functions apart */
    const char *paren = strchr(s, '(');
    const char *slash = NULL;
    for (const char *p = s; *p && (!paren || p < paren); p++)
        if (*p == '/')
            slash = p;
    if (slash) {
        size_t last = len - (size_t)(slash + 1 - s);
        if (last + 3 + 3 <= width)
            tail = last; /* "pkg/v...ery/long/pkg.Func" keeps "pkg.Func" */
    }
    size_t head = width - 3 - tail;
    snprintf(buf, n, "%.*s...%s", (int)head, s, s + len - tail);
    return buf;
}

/* Function names: the same middle cut. */
static const char *fit_func(char *buf, size_t n, const char *s, size_t width)
{
    return fit(buf, n, s, width);
}

static int cmp_syscall(const void *a, const void *b)
{
    const struct sysent *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->func < y->func ? -1 : x->func > y->func;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    int64_t tx = 0, ty = 0;
    for (int c = 0; c < C_COUNT; c++) {
        tx = sat_add(tx, x->t[c]);
        ty = sat_add(ty, y->t[c]);
    }
    if (x->t[C_EXEC] != y->t[C_EXEC])
        return x->t[C_EXEC] < y->t[C_EXEC] ? 1 : -1;
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return x->func < y->func ? -1 : x->func > y->func;
}

static int cmp_block(const void *a, const void *b)
{
    const struct blockent *x = a, *y = b;
    if (x->total != y->total)
        return x->total < y->total ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->reason != y->reason)
        return x->reason < y->reason ? -1 : 1;
    return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static const struct strtab *g_sort_str;

static int cmp_name(const void *a, const void *b)
{
    const struct nament *x = a, *y = b;
    return strcmp(g_sort_str->s[x->name], g_sort_str->s[y->name]);
}

static int cmp_func(const void *a, const void *b)
{
    const struct funcent *x = a, *y = b;
    if (x->flat != y->flat)
        return x->flat < y->flat ? 1 : -1;
    if (x->cum != y->cum)
        return x->cum < y->cum ? 1 : -1;
    return strcmp(g_sort_str->s[x->func], g_sort_str->s[y->func]);
}

static void json_str(FILE *f, const char *p)
{
    fputc('"', f);
    for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if (*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void print_names_text(FILE *f, struct stats *s, const char *title,
                             struct nament *arr, uint32_t n)
{
    char b[5][16], nb[40];
    if (n == 0)
        return;
    fprintf(f, "\n%-24s %7s %8s %8s %8s %8s %8s\n", title, "count", "p50", "p90", "p99",
            "max", "open");
    for (uint32_t i = 0; i < n; i++) {
        struct nament *e = &arr[i];
        const char *nm = s->str.s[e->name];
        char shown[40];
        snprintf(shown, sizeof shown, "%s", *nm ? nm : "\"\"");
        uint64_t open = e->begun > e->h.n ? e->begun - e->h.n : 0;
        if (e->h.n == 0) {
            fprintf(f, "%-24s %7" PRIu64 " %8s %8s %8s %8s %8" PRIu64 "\n",
                    fit(nb, sizeof nb, shown, 24), e->h.n, "-", "-", "-", "-", open);
            continue;
        }
        fprintf(f, "%-24s %7" PRIu64 " %8s %8s %8s %8s %8" PRIu64 "\n",
                fit(nb, sizeof nb, shown, 24), e->h.n,
                fmt_dur(b[0], 16, (int64_t)hist_quantile(&e->h, 0.50)),
                fmt_dur(b[1], 16, (int64_t)hist_quantile(&e->h, 0.90)),
                fmt_dur(b[2], 16, (int64_t)hist_quantile(&e->h, 0.99)),
                fmt_dur(b[3], 16, (int64_t)e->h.max), open);
    }
}

/* What the trace says was lost, one sentence each; returns how many (at
 * most WARN_MAX). */
#define WARN_MAX 3
static int warnings(const struct stats *s, const char *err, char out[][256])
{
    int n = 0;
    if (err)
        snprintf(out[n++], 256, "the trace is cut short or damaged (%s): only the events before it are counted", err);
    if (s->resyncs)
        snprintf(out[n++], 256,
                 "%" PRIu64 " goroutine state%s resynchronised after dropped events: the tracer "
                 "hit its memory cap (CTRACE_MEM) and lost events, times are approximate",
                 s->resyncs, s->resyncs == 1 ? " was" : "s were");
    struct ctrace_losses lost;
    ctrace_reader_losses(s->r, &lost);
    if (losses_any(&lost)) {
        char what[200];
        losses_describe(&lost, what, sizeof what);
        snprintf(out[n++], 256, "the tracer lost %s: the counts below miss them", what);
    }
    return n;
}

static void print_text(FILE *f, struct stats *s, const char *path, unsigned top, const char *err)
{
    char b[8][16], nb[64];
    int64_t wall = ns_since(s->first_time, s->last_time);
    int ver = ctrace_reader_version(s->r);
    char warn[WARN_MAX][256];
    int nwarn = warnings(s, err, warn);

    fprintf(f, "%s\n", path);
    for (int i = 0; i < nwarn; i++) {
        /* Wrapped at 80 columns: the report fits a terminal. */
        const char *p = warn[i];
        const char *lead = "WARNING: ";
        while (*p) {
            size_t room = 80 - strlen(lead), l = strlen(p);
            if (l > room) {
                l = room;
                while (l > 0 && p[l] != ' ')
                    l--;
                if (l == 0)
                    l = room;
            }
            fprintf(f, "%s%.*s\n", lead, (int)l, p);
            p += l;
            while (*p == ' ')
                p++;
            lead = "         ";
        }
    }
    fprintf(f, "Go %d.%d trace, %s wall, %" PRIu64 " events, %" PRIu64 " generation%s\n",
            ver / 100, ver % 100, fmt_dur(b[0], 16, wall), s->events, s->generations,
            s->generations == 1 ? "" : "s");
    fprintf(f, "%" PRIu64 " goroutines (%" PRIu64 " created, %" PRIu64 " ended), %zu procs, %zu threads\n",
            s->goroutines_seen, s->goroutines_created, s->goroutines_ended, s->procs.len,
            s->threads.len);

    /* Goroutines by start function. */
    int64_t tot[C_COUNT] = {0};
    uint64_t gcount = 0;
    for (uint32_t i = 0; i < s->ngroups; i++) {
        gcount += s->groups[i].count;
        for (int c = 0; c < C_COUNT; c++)
            tot[c] = sat_add(tot[c], s->groups[i].t[c]);
    }
    fprintf(f, "\nGoroutines by start function (time summed over the group)\n");
    fprintf(f, "%-20s %4s %7s %7s %7s %7s %7s %7s %5s\n", "start function", "n", "exec", "sync",
            "net", "syscall", "sched", "other", "%wall");
    for (uint32_t i = 0; i < s->ngroups; i++) {
        struct group *g = &s->groups[i];
        double share = wall > 0 ? 100.0 * (double)g->t[C_EXEC] / (double)wall : 0;
        char cnt[16];
        fmt_count(cnt, sizeof cnt, g->count);
        fprintf(f, "%-20s %4s %7s %7s %7s %7s %7s %7s %5.1f\n",
                fit_func(nb, sizeof nb, s->str.s[g->func], 20), cnt,
                fmt_dur(b[0], 16, g->t[C_EXEC]), fmt_dur(b[1], 16, g->t[C_SYNC]),
                fmt_dur(b[2], 16, g->t[C_NET]), fmt_dur(b[3], 16, g->t[C_SYSCALL]),
                fmt_dur(b[4], 16, g->t[C_SCHED]), fmt_dur(b[5], 16, g->t[C_OTHER]), share);
    }
    {
        char cnt[16];
        fmt_count(cnt, sizeof cnt, gcount);
        fprintf(f, "%-20s %4s %7s %7s %7s %7s %7s %7s %5.1f\n", "(total)", cnt,
                fmt_dur(b[0], 16, tot[C_EXEC]), fmt_dur(b[1], 16, tot[C_SYNC]),
                fmt_dur(b[2], 16, tot[C_NET]), fmt_dur(b[3], 16, tot[C_SYSCALL]),
                fmt_dur(b[4], 16, tot[C_SCHED]), fmt_dur(b[5], 16, tot[C_OTHER]),
                wall > 0 ? 100.0 * (double)tot[C_EXEC] / (double)wall : 0);
    }

    /* Top blocking. */
    if (s->nblocks) {
        fprintf(f, "\nTop blocking (reason and stack, by total time)\n");
        fprintf(f, "%9s %7s  %s\n", "total", "count", "reason");
        for (uint32_t i = 0; i < s->nblocks && i < top; i++) {
            struct blockent *e = &s->blocks[i];
            const char *rs = s->str.s[e->reason];
            fprintf(f, "%9s %7" PRIu64 "  %s\n", fmt_dur(b[0], 16, e->total), e->count,
                    *rs ? rs : "(no reason)");
            if (!e->stack)
                continue;
            struct stackent *st = &s->stacks[e->stack - 1];
            for (uint32_t k = 0; k < st->nframes; k++) {
                /* "func  dir/file.go:line" in 61 columns: the file keeps
                 * its last two path elements, the function what is left. */
                const char *file = s->str.s[st->file[k]], *p = file + strlen(file);
                int slashes = 0;
                while (p > file && !(p[-1] == '/' && ++slashes == 2))
                    p--;
                char where[96], fn[128];
                if ((!*file || strcmp(file, "?") == 0) && st->line[k] == 0)
                    where[0] = '\0'; /* no line information */
                else
                    snprintf(where, sizeof where, "%s:%" PRIu64, p, st->line[k]);
                if (strlen(where) > 30)
                    fit(where, sizeof where, (snprintf(fn, sizeof fn, "%s:%" PRIu64, p, st->line[k]), fn), 30);
                size_t room = 61 - 2 - strlen(where);
                fprintf(f, "%19s%s%s%s\n", "", fit_func(fn, sizeof fn, s->str.s[st->func[k]], room),
                        *where ? "  " : "", where);
            }
            if (st->depth > st->nframes)
                fprintf(f, "%19s... %u more\n", "", st->depth - st->nframes);
        }
    }

    if (s->nsyscalls) {
        fprintf(f, "\nSystem calls (by innermost function of the calling stack, total time)\n");
        fprintf(f, "%9s %7s %9s  %s\n", "total", "count", "max", "function");
        for (uint32_t i = 0; i < s->nsyscalls && i < top; i++) {
            struct sysent *e = &s->syscalls[i];
            char cnt[16];
            fmt_count(cnt, sizeof cnt, e->count);
            fprintf(f, "%9s %7s %9s  %s\n", fmt_dur(b[0], 16, e->total), cnt,
                    fmt_dur(b[1], 16, e->max), fit_func(nb, sizeof nb, s->str.s[e->func], 50));
        }
    }

    print_names_text(f, s, "Tasks", s->tasks, s->ntasks);
    print_names_text(f, s, "Regions", s->regions, s->nregions);

    if (s->samples) {
        fprintf(f, "\nCPU samples: %" PRIu64 " (top functions by samples on top of stack)\n",
                s->samples);
        fprintf(f, "%8s %6s %8s %6s  %s\n", "flat", "flat%", "cum", "cum%", "function");
        for (uint32_t i = 0; i < s->nfuncs && i < top; i++) {
            struct funcent *e = &s->funcs[i];
            if (e->flat == 0)
                break;
            fprintf(f, "%8" PRIu64 " %5.1f%% %8" PRIu64 " %5.1f%%  %s\n", e->flat,
                    100.0 * (double)e->flat / (double)s->samples, e->cum,
                    100.0 * (double)e->cum / (double)s->samples,
                    fit_func(nb, sizeof nb, s->str.s[e->func], 44));
        }
    }
}

static void print_names_json(FILE *f, struct stats *s, struct nament *arr, uint32_t n)
{
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) {
        struct nament *e = &arr[i];
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        json_str(f, s->str.s[e->name]);
        fprintf(f,
                ", \"begun\": %" PRIu64 ", \"ended\": %" PRIu64 ", \"completed\": %" PRIu64
                ", \"unmatched_end\": %" PRIu64 ", \"min_ns\": %" PRIu64 ", \"p50_ns\": %" PRIu64
                ", \"p90_ns\": %" PRIu64 ", \"p99_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64
                ", \"total_ns\": %" PRIu64 "}",
                e->begun, e->ended, e->h.n, e->unmatched_end, e->h.min,
                hist_quantile(&e->h, 0.5), hist_quantile(&e->h, 0.9), hist_quantile(&e->h, 0.99),
                e->h.max, e->h.sum);
    }
    fprintf(f, "%s]", n ? "\n  " : "");
}

static void print_json(FILE *f, struct stats *s, const char *path, unsigned top, const char *err)
{
    int ver = ctrace_reader_version(s->r);
    fprintf(f, "{\n  \"file\": ");
    json_str(f, path);
    fprintf(f, ",\n  \"version\": \"%d.%d\",\n  \"error\": ", ver / 100, ver % 100);
    if (err)
        json_str(f, err);
    else
        fprintf(f, "null");
    fprintf(f,
            ",\n  \"events\": %" PRIu64 ",\n  \"generations\": %" PRIu64
            ",\n  \"wall_ns\": %" PRId64 ",\n  \"goroutines\": %" PRIu64
            ",\n  \"goroutines_created\": %" PRIu64 ",\n  \"goroutines_ended\": %" PRIu64
            ",\n  \"procs\": %zu,\n  \"threads\": %zu,\n  \"cpu_samples\": %" PRIu64,
            s->events, s->generations, ns_since(s->first_time, s->last_time), s->goroutines_seen,
            s->goroutines_created, s->goroutines_ended, s->procs.len, s->threads.len, s->samples);

    fprintf(f, ",\n  \"event_kinds\": {");
    int first = 1;
    for (int k = 0; k < CTRACE_EV_KIND_COUNT; k++) {
        if (!s->kinds[k])
            continue;
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ",
                ctrace_event_kind_name((enum ctrace_event_kind)k), s->kinds[k]);
        first = 0;
    }
    fprintf(f, "}");

    int64_t tot[C_COUNT] = {0};
    fprintf(f, ",\n  \"groups\": [");
    for (uint32_t i = 0; i < s->ngroups; i++) {
        struct group *g = &s->groups[i];
        fprintf(f, "%s\n    {\"start\": ", i ? "," : "");
        json_str(f, s->str.s[g->func]);
        fprintf(f, ", \"goroutines\": %" PRIu64, g->count);
        for (int c = 0; c < C_COUNT; c++) {
            fprintf(f, ", \"%s\": %" PRId64, cat_json[c], g->t[c]);
            tot[c] = sat_add(tot[c], g->t[c]);
        }
        fprintf(f, "}");
    }
    fprintf(f, "%s]", s->ngroups ? "\n  " : "");
    fprintf(f, ",\n  \"totals\": {");
    for (int c = 0; c < C_COUNT; c++)
        fprintf(f, "%s\"%s\": %" PRId64, c ? ", " : "", cat_json[c], tot[c]);
    fprintf(f, "}");

    fprintf(f, ",\n  \"pprof\": {");
    for (int k = 0; k < GOPROF_KINDS; k++) {
        uint64_t n;
        int64_t ns;
        goprof_total(s->goprof, (enum goprof_kind)k, &n, &ns);
        fprintf(f, "%s\"%s\": {\"count\": %" PRIu64 ", \"total_ns\": %" PRId64 "}", k ? ", " : "",
                goprof_kind_names[k], n, ns);
    }
    fprintf(f, "}");

    fprintf(f, ",\n  \"blocking\": [");
    for (uint32_t i = 0; i < s->nblocks && i < top; i++) {
        struct blockent *e = &s->blocks[i];
        fprintf(f, "%s\n    {\"reason\": ", i ? "," : "");
        json_str(f, s->str.s[e->reason]);
        fprintf(f, ", \"count\": %" PRIu64 ", \"total_ns\": %" PRId64 ", \"stack\": [", e->count,
                e->total);
        if (e->stack) {
            struct stackent *st = &s->stacks[e->stack - 1];
            for (uint32_t k = 0; k < st->nframes; k++) {
                fprintf(f, "%s{\"func\": ", k ? ", " : "");
                json_str(f, s->str.s[st->func[k]]);
                fprintf(f, ", \"file\": ");
                json_str(f, s->str.s[st->file[k]]);
                fprintf(f, ", \"line\": %" PRIu64 "}", st->line[k]);
            }
        }
        fprintf(f, "]}");
    }
    fprintf(f, "%s]", s->nblocks ? "\n  " : "");

    fprintf(f, ",\n  \"syscalls\": [");
    for (uint32_t i = 0; i < s->nsyscalls && i < top; i++) {
        struct sysent *e = &s->syscalls[i];
        fprintf(f, "%s\n    {\"func\": ", i ? "," : "");
        json_str(f, s->str.s[e->func]);
        fprintf(f, ", \"count\": %" PRIu64 ", \"total_ns\": %" PRId64 ", \"max_ns\": %" PRId64 "}",
                e->count, e->total, e->max);
    }
    fprintf(f, "%s]", s->nsyscalls ? "\n  " : "");

    char warn[WARN_MAX][256];
    int nwarn = warnings(s, err, warn);
    struct ctrace_losses lost;
    ctrace_reader_losses(s->r, &lost);
    fprintf(f,
            ",\n  \"losses\": {\"events\": %" PRIu64 ", \"samples\": %" PRIu64 ", \"stacks\": %" PRIu64
            ", \"strings\": %" PRIu64 ", \"threads\": %" PRIu64 ", \"generations\": %" PRIu64 "}",
            lost.events, lost.samples, lost.stacks, lost.strings, lost.threads, lost.records);
    fprintf(f, ",\n  \"resyncs_after_drops\": %" PRIu64 ",\n  \"warnings\": [", s->resyncs);
    for (int i = 0; i < nwarn; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, warn[i]);
    }
    fprintf(f, "]");

    fprintf(f, ",\n  \"tasks\": ");
    print_names_json(f, s, s->tasks, s->ntasks);
    fprintf(f, ",\n  \"regions\": ");
    print_names_json(f, s, s->regions, s->nregions);

    fprintf(f, ",\n  \"cpu_functions\": [");
    for (uint32_t i = 0; i < s->nfuncs && i < top; i++) {
        struct funcent *e = &s->funcs[i];
        fprintf(f, "%s\n    {\"func\": ", i ? "," : "");
        json_str(f, s->str.s[e->func]);
        fprintf(f, ", \"flat\": %" PRIu64 ", \"cum\": %" PRIu64 "}", e->flat, e->cum);
    }
    fprintf(f, "%s]\n}\n", s->nfuncs ? "\n  " : "");
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("usage: ctrace stat [--json] [--top=N] [-j 1|2] FILE\n"
          "\n"
          "Summarises a Go execution trace (Go's or libctrace's; '-' reads stdin):\n"
          "  - goroutines grouped by start function: time running (exec), blocked on\n"
          "    channels/select/sync (sync), waiting for the network (net), in system\n"
          "    calls (syscall), runnable but not running (sched), otherwise waiting\n"
          "    (other: sleep, GC ...), and exec as a share of wall time (%wall);\n"
          "  - the top blocking reasons with their stacks;\n"
          "  - system calls by the innermost function of their stack: count, total\n"
          "    and longest;\n"
          "  - tasks and regions by name: count and latency p50/p90/p99/max;\n"
          "  - CPU profile samples: top functions.\n"
          "A WARNING line under the file name says when the trace lost events (cut\n"
          "short or damaged; goroutine states resynchronised after events libctrace\n"
          "dropped at its memory cap).  Names too long for a column lose their\n"
          "middle (\"runtim...Start.func1\").\n"
          "\n"
          "  --json     machine-readable output (times in ns; includes \"pprof\": the\n"
          "             totals `go tool trace -pprof=sync|net|syscall|sched` reports)\n"
          "  --top=N    rows in the blocking, system call and CPU sections (default 10)\n"
          "  -j, --threads N  1 (the default): read the trace on one thread; 2: read\n"
          "             it ahead on a thread of its own\n"
          "  -h, --help this text\n"
          "\n"
          "Exit status: 0 ok; 1 the trace is invalid or unreadable (statistics of\n"
          "the events before the error are still printed); 2 usage error.\n",
          f);
}

int cmd_stat(int argc, char **argv)
{
    int json = 0;
    /* One thread by default: stat's own work per event is smaller than
     * what handing events between two cores costs (docs/PERFORMANCE.md,
     * "Reading ahead"). */
    unsigned top = 10, threads = 1;
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strncmp(a, "--top=", 6) == 0 || (strcmp(a, "--top") == 0 && i + 1 < argc)) {
            const char *v = a[5] == '=' ? a + 6 : argv[++i];
            char *end;
            errno = 0;
            unsigned long n = strtoul(v, &end, 10);
            if (errno || *end || end == v || n == 0 || n > 100000) {
                fprintf(stderr, "ctrace stat: bad --top value '%s'\n", v);
                return 2;
            }
            top = (unsigned)n;
        } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--threads") == 0) && i + 1 < argc) {
            if (tool_parse_threads("stat", argv[++i], &threads) < 0)
                return 2;
        } else if (strcmp(a, "--") == 0 && i + 1 < argc && !path) {
            path = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ctrace stat: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "ctrace stat: one trace file at a time\n");
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    return stat_report(path, json, top, threads, stdout, stderr);
}

int stat_report(const char *path, int json, unsigned top, unsigned threads, FILE *out, FILE *errf)
{
    struct stats s;
    memset(&s, 0, sizeof s);
    int rc = ctrace_reader_open(path, 0, &s.r);
    if (rc == 0)
        ctrace_reader_read_ahead(s.r, threads);
    if (rc < 0) {
        const char *msg = s.r ? ctrace_reader_error(s.r, NULL) : NULL;
        fprintf(errf, "ctrace stat: %s: %s%s%s\n", path, ctrace_reader_strerror(rc),
                msg ? ": " : "", msg ? msg : "");
        if (rc == CTRACE_READER_EOPEN && errno)
            fprintf(errf, "ctrace stat: %s: %s\n", path, strerror(errno));
        ctrace_reader_close(s.r);
        return 1;
    }

    strtab_init(&s.str);
    s.cache_gen = UINT64_MAX;
    s.last_m = s.last_p = CTRACE_NO_ID;
    /* Go's -pprof totals are in the JSON output only: the text report
     * does not compute them (about a quarter of stat's own work). */
    s.goprof = json ? goprof_new(s.r, NULL) : NULL;
    gtable_init(&s.gs, sizeof(struct gstate));

    const struct ctrace_event *ev;
    rc = ctrace_reader_next(s.r, &ev);
    if (rc == 1)
        s.first_time = ev->time;
    for (; rc == 1; rc = ctrace_reader_next(s.r, &ev))
        on_event(&s, ev);
    finish(&s);

    char errbuf[512] = "";
    if (rc < 0) {
        uint64_t off = 0;
        const char *msg = ctrace_reader_error(s.r, &off);
        snprintf(errbuf, sizeof errbuf, "%s at byte %" PRIu64 "%s%s", ctrace_reader_strerror(rc),
                 off, msg ? ": " : "", msg ? msg : "");
    }

    g_sort_str = &s.str;
    if (s.ngroups)
        qsort(s.groups, s.ngroups, sizeof *s.groups, cmp_group);
    if (s.nblocks)
        qsort(s.blocks, s.nblocks, sizeof *s.blocks, cmp_block);
    if (s.ntasks)
        qsort(s.tasks, s.ntasks, sizeof *s.tasks, cmp_name);
    if (s.nregions)
        qsort(s.regions, s.nregions, sizeof *s.regions, cmp_name);
    if (s.nfuncs)
        qsort(s.funcs, s.nfuncs, sizeof *s.funcs, cmp_func);
    if (s.nsyscalls)
        qsort(s.syscalls, s.nsyscalls, sizeof *s.syscalls, cmp_syscall);

    if (json)
        print_json(out, &s, path, top, rc < 0 ? errbuf : NULL);
    else
        print_text(out, &s, path, top, rc < 0 ? errbuf : NULL);
    fflush(out);
    if (rc < 0)
        fprintf(errf, "ctrace stat: %s: %s (statistics cover the events before it)\n", path,
                errbuf);

    goprof_free(s.goprof);
    struct gstate *g;
    for (uint32_t i = 0; (g = gtable_next(&s.gs, &i));)
        regions_goroutine_end(&g->regions);
    gtable_free(&s.gs);
    free(s.groups);
    free(s.blocks);
    free(s.tasks);
    free(s.regions);
    free(s.livet);
    free(s.funcs);
    free(s.syscalls);
    u64map_free(&s.syscall_by_func);
    free(s.stacks);
    u64map_free(&s.stack_by_hash);
    u64map_free(&s.stack_cache);
    u64map_free(&s.group_by_func);
    u64map_free(&s.block_by_key);
    u64map_free(&s.task_by_name);
    u64map_free(&s.region_by_name);
    u64map_free(&s.live_tasks);
    u64map_free(&s.func_by_id);
    u64map_free(&s.procs);
    u64map_free(&s.threads);
    strtab_free(&s.str);
    free(s.reason_info);
    ctrace_reader_close(s.r);
    return rc < 0 ? 1 : 0;
}
