/*
 * modmap.h - which loaded modules keep frame pointers: the map the hybrid
 * stack walk (CTRACE_STACKS_AUTO, unwind.c) consults for every frame.
 *
 * Invariants:
 *  - A map is immutable once published: a sorted array of the executable
 *    address ranges of the process's modules, each flagged "keeps frame
 *    pointers" or not.  Readers (the hot path, any thread) only load the
 *    published pointer and binary-search it: no lock, no allocation, no
 *    system call, so ct_modmap_lookup() is async-signal-safe.
 *  - Whether a module keeps frame pointers is decided once per module
 *    (path + load address), from its own call-frame information: a
 *    sample of its FDEs (the .eh_frame_hdr search table, read in memory)
 *    is looked up with libdw, and a function whose CFA is computed from
 *    the frame-pointer register (rbp, x29) in the middle of its body keeps
 *    one.  Most sampled functions must (ct_modmap_build explains the
 *    threshold).  A module without call-frame information, or one we
 *    cannot read (the vDSO, a deleted file), counts as a frame-pointer
 *    module: there is nothing to unwind it with, and the frame-pointer walk
 *    is bounded by the stack anyway.
 *  - A PC in no module (JIT code, an anonymous mapping) is looked up as a
 *    frame-pointer PC for the same reason -- unless the dynamic loader
 *    loaded a module since the map was built (dlopen: Perl's XS modules,
 *    Python's extensions, plugins): the hybrid walk then unwinds it with
 *    CFI (libunwind finds the new module), until the next generation's map
 *    has it.  Without that, its frames were walked as frame-pointer code,
 *    and the stacks of a program's first generation stopped in the
 *    module.
 *  - Publication and reclamation: ct_modmap_refresh() (the trace's start,
 *    and the advancer before it publishes a new generation) builds a new map
 *    when the dynamic loader's counters moved, publishes it with release
 *    ordering and returns the previous one; its caller frees that with
 *    ct_modmap_free() only after the generation handshake, when no thread
 *    can still be in a critical section (where stacks are captured) that
 *    loaded it.
 *  - Built with libdw and dl_iterate_phdr: never from a signal handler,
 *    never on an event's path.  Memory: one classification per distinct
 *    module for the life of the process, one live map (plus the one being
 *    retired).
 */
#ifndef CTRACE_RUNTIME_MODMAP_H
#define CTRACE_RUNTIME_MODMAP_H

#include <stddef.h>
#include <stdint.h>

struct ct_modrange {
    uintptr_t lo, hi; /* executable segment(s) of a module: [lo, hi)       */
    int fp;           /* 1: the module's functions keep frame pointers     */
    uintptr_t bias;   /* load address: ELF address = PC - bias             */
    const char *path; /* its file ("" if none); lives for the process      */
};


struct ct_modmap {
    size_t n;
    /* The dynamic loader's counters when the map was built (dlcounts.h;
     * counted = 0: unknown): a PC in no range while they have moved may
     * be in a module loaded since (ct_unwind_hybrid). */
    unsigned long long adds, subs;
    int counted;
    struct ct_modrange r[]; /* sorted by lo, disjoint */
};

/* The published map (NULL: none yet: every PC counts as frame-pointer).
 * Defined in unwind.c, its reader, so that the walkers link without
 * libdw. */
extern struct ct_modmap *_Atomic ct_modmap_current;

/* The last two modules a walk met (indexes into the map; start with {0,
 * 0}): a stack mostly alternates between the program and the C library,
 * and an unpredictable binary search per frame cost more than the rest of
 * the step (bench/unwind). */
struct ct_modmap_hint {
    size_t a, b;
};

/* 1 if pc lies in a module that keeps frame pointers (or in no known
 * module), 0 if its module needs CFI unwinding. */
static inline int ct_modmap_is_fp(const struct ct_modmap *m, uintptr_t pc,
                                  struct ct_modmap_hint *hint)
{
    if (m == NULL || m->n == 0)
        return 1;
    size_t a = hint->a < m->n ? hint->a : 0, b = hint->b < m->n ? hint->b : 0;
    if (pc >= m->r[a].lo && pc < m->r[a].hi)
        return m->r[a].fp;
    if (pc >= m->r[b].lo && pc < m->r[b].hi) {
        hint->b = a;
        hint->a = b;
        return m->r[b].fp;
    }
    size_t lo = 0, hi = m->n; /* first range with r.lo > pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->r[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || pc >= m->r[lo - 1].hi)
        return 1;
    hint->b = a;
    hint->a = lo - 1;
    return m->r[lo - 1].fp;
}

/* The range holding pc, or NULL. */
static inline const struct ct_modrange *ct_modmap_find(const struct ct_modmap *m, uintptr_t pc)
{
    struct ct_modmap_hint hint = {0, 0};
    if (!m || m->n == 0)
        return NULL;
    ct_modmap_is_fp(m, pc, &hint);
    const struct ct_modrange *r = &m->r[hint.a];
    return pc >= r->lo && pc < r->hi ? r : NULL;
}

/* 1 if some module of m needs CFI unwinding (then libunwind must be
 * loaded: ct_unwind_load). */
static inline int ct_modmap_has_cfi(const struct ct_modmap *m)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (!m->r[i].fp)
            return 1;
    return 0;
}

/* Builds a map of the modules loaded now (classifying the new ones).
 * NULL when out of memory. */
struct ct_modmap *ct_modmap_build(void);

/* Publishes a new map if none is published or the loader's counters moved
 * since the last one; returns the map it replaced (to be freed after the
 * next handshake), or NULL. */
struct ct_modmap *ct_modmap_refresh(void);

/* Frees a map (NULL is harmless). */
void ct_modmap_free(struct ct_modmap *m);

/* Classifies one module file: 1 keeps frame pointers, 0 does not, -1
 * unknown (no CFI, unreadable).  path: the ELF file; bias: its load
 * address; eh_frame_hdr: its .eh_frame_hdr as mapped (or NULL). */
int ct_modmap_classify(const char *path, uintptr_t bias, const void *eh_frame_hdr,
                       size_t eh_frame_hdr_size);

#endif /* CTRACE_RUNTIME_MODMAP_H */
