/*
 * unwind.h - stack capture for events and CPU samples.
 *
 * Invariants:
 *  - ct_unwind_fp() and ct_unwind_from_ucontext() never fault: every frame
 *    pointer is checked to lie inside the thread's stack [lo, hi), aligned,
 *    and strictly above the previous one before it is dereferenced.
 *  - ct_unwind_from_ucontext() is async-signal-safe (no locks, no malloc).
 *  - ct_unwind_libunwind() is for CTRACE_STACKS_UNWIND (binaries without
 *    frame pointers), ct_unwind_hybrid() for CTRACE_STACKS_AUTO (the
 *    default); neither is called from signal handlers (the SIGPROF
 *    handler's walk stays frame-pointer only).
 * PCs are return addresses except pcs[0] of a ucontext walk (the interrupted
 * instruction); the symbolizer is told which.
 */
#ifndef CTRACE_RUNTIME_UNWIND_H
#define CTRACE_RUNTIME_UNWIND_H

#include <stdint.h>
#include <ucontext.h>

/* The calling thread's stack, read once per thread (not AS-safe). */
struct ct_stack_bounds {
    uintptr_t lo, hi;
};

/* Fills *b for the calling thread (pthread_getattr_np; falls back to
 * /proc/self/maps for the main thread).  Returns 0, or -1 with b zeroed (the
 * walkers then capture nothing). */
int ct_stack_bounds_init(struct ct_stack_bounds *b);

/* Walks frame pointers from the caller of this function, skipping `skip`
 * frames more, storing up to max return addresses.  Returns the count. */
int ct_unwind_fp(const struct ct_stack_bounds *b, uintptr_t *pcs, int max, int skip);

/* Walks frame pointers from frame (a caller's __builtin_frame_address(0),
 * at or above the current frame): pcs[0] is that frame's return address.
 * Robust to inlining between that caller and here. */
int ct_unwind_fp_from(const struct ct_stack_bounds *b, const void *frame, uintptr_t *pcs,
                      int max, int skip);

/* Walks the interrupted context of a signal: pcs[0] is the interrupted PC,
 * then frame-pointer return addresses.  Async-signal-safe. */
int ct_unwind_from_ucontext(const struct ct_stack_bounds *b, const ucontext_t *uc,
                            uintptr_t *pcs, int max);

/* The same for a thread whose stack bounds are unknown: every frame record
 * is read with process_vm_readv, so a wild frame pointer ends the walk
 * instead of faulting.  Async-signal-safe. */
int ct_unwind_from_ucontext_checked(const ucontext_t *uc, uintptr_t *pcs, int max);

/* DWARF-CFI unwinding through libunwind (unw_backtrace), skipping frames. */
int ct_unwind_libunwind(uintptr_t *pcs, int max, int skip);

/* Loads libunwind now (dlopen; once), so that no event's walk pays for it. */
void ct_unwind_load(void);

/* 1 if pc is in libunwind's code: a call it makes (read/write on its pipe,
 * to check an address) from inside a walk is the tracer's own, not the
 * program's. */
int ct_unwind_owns_pc(uintptr_t pc);

/* The hybrid walk (CTRACE_STACKS_AUTO): frame pointers from frame (as
 * ct_unwind_fp_from) while each return address lies in a module that keeps
 * frame pointers (ct_modmap_current, modmap.h); from the first one that
 * does not, DWARF CFI through libunwind, every unwound stack pointer
 * checked against the bounds.  Not for signal handlers (libunwind may
 * allocate its per-thread cache on first use). */
int ct_unwind_hybrid(const struct ct_stack_bounds *b, const void *frame, uintptr_t *pcs,
                     int max, int skip);

#endif /* CTRACE_RUNTIME_UNWIND_H */
