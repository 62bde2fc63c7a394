/*
 * cfirules.h - a cache of call-frame rules by return address: how the
 * hybrid walk (unwind.c) steps over a frame of a module built without
 * frame pointers by itself, in a few loads, instead of asking libunwind.
 *
 * Invariants:
 *  - A rule tells, for one return address (a PC in a function without a
 *    frame record), where its caller's return address and frame pointer
 *    are: CFA = sp or fp of the frame + cfa_off; return address at CFA +
 *    ra_off; caller's fp at CFA + fp_off, or unchanged.  Only rules of that
 *    shape are cached (what compilers emit for ordinary code); anything
 *    else (CFA expressions, signal frames) is cached as "complex", and the
 *    walk hands such frames to libunwind.  "Outermost" marks a PC whose
 *    caller's return address is undefined (_start, clone3): the stack ends.
 *  - The table is insert-only and lock-free for readers: a slot's rule is
 *    written before its key is published (release), read after the key
 *    (acquire); only the advancer inserts (ct_cfirules_fill, under
 *    ct_ctl_lock), so a key is never rewritten while read.  Fixed size:
 *    a full table leaves later PCs to libunwind (counted in
 *    ct_cfirules_full).  Entries stay valid for the process's life except
 *    when a module is unloaded and another mapped at its addresses during
 *    a trace: its PCs may then meet a stale rule, which the walker still
 *    reads within the stack bounds (a wrong stack, not a fault: every
 *    address it reads is checked).  Rules are kept across traces (a
 *    trace shorter than a generation would otherwise never get past
 *    libunwind), and computed at every generation's end, the stop's too.
 *  - A walker that misses asks for the rule by storing the PC in a small
 *    lossy request array (any thread, atomic store, may overwrite another
 *    request: a PC that keeps missing asks again); the advancer computes
 *    requested rules with libdw at each generation's end.
 */
#ifndef CTRACE_RUNTIME_CFIRULES_H
#define CTRACE_RUNTIME_CFIRULES_H

#include <stdatomic.h>
#include <stdint.h>

enum ct_cfi_kind {
    CT_CFI_NONE = 0,      /* no rule cached (yet)                         */
    CT_CFI_SIMPLE = 1,    /* cfa_reg/cfa_off/ra_off/fp_off apply          */
    CT_CFI_COMPLEX = 2,   /* ask libunwind                                */
    CT_CFI_OUTERMOST = 3  /* the stack ends here                          */
};

#define CT_CFI_FP_SAME INT16_MIN /* fp_off: the caller's fp is unchanged */

struct ct_cfi_rule {
    int32_t cfa_off;
    int16_t ra_off, fp_off;
    uint8_t kind, cfa_is_fp; /* CFA from the frame pointer, else from sp */
};

#define CT_CFI_SLOTS 8192 /* power of two */
#define CT_CFI_PROBE 8
#define CT_CFI_REQUESTS 256

struct ct_cfi_slot {
    _Atomic uint64_t key; /* return address; 0 = empty */
    struct ct_cfi_rule rule;
};

/* Defined in unwind.c (the reader), so that the walkers link without
 * libdw. */
extern struct ct_cfi_slot ct_cfi_table[CT_CFI_SLOTS];
extern _Atomic uint64_t ct_cfi_requests[CT_CFI_REQUESTS];

static inline uint64_t ct_cfi_hash(uint64_t pc)
{
    return (pc * 0x9e3779b97f4a7c15ull) >> 40;
}

/* The rule for return address pc, or kind CT_CFI_NONE (and a request). */
static inline struct ct_cfi_rule ct_cfi_lookup(uint64_t pc)
{
    uint64_t h = ct_cfi_hash(pc);
    for (unsigned i = 0; i < CT_CFI_PROBE; i++) {
        struct ct_cfi_slot *s = &ct_cfi_table[(h + i) & (CT_CFI_SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == pc)
            return s->rule;
        if (k == 0)
            break;
    }
    atomic_store_explicit(&ct_cfi_requests[h & (CT_CFI_REQUESTS - 1)], pc, memory_order_relaxed);
    return (struct ct_cfi_rule){0, 0, 0, CT_CFI_NONE, 0};
}

/* Advancer: computes the requested rules (libdw, the modules' own CFI,
 * found through the published module map) and publishes them. */
void ct_cfirules_fill(void);

/* Closes the module files the fills opened (the trace's stop). */
void ct_cfirules_close_files(void);

/* Forgets every rule and request (benchmarks: the cold case).  No walk
 * may be running. */
void ct_cfirules_clear(void);

/* PCs that found the table full (for the docs' figures; never reset). */
extern _Atomic uint64_t ct_cfirules_full;

#endif /* CTRACE_RUNTIME_CFIRULES_H */
