/*
 * unwind.h - stack capture for events and CPU samples.
 *
 * Invariants:
 *  - ct_unwind_fp() and ct_unwind_from_ucontext() never fault: every frame
 *    pointer is checked to lie inside the thread's stack [lo, hi), aligned,
 *    and strictly above the previous one before it is dereferenced.
 *  - ct_unwind_from_ucontext() is async-signal-safe (no locks, no malloc).
 *  - ct_unwind_libunwind() is for CTRACE_STACKS_UNWIND (binaries without
 *    frame pointers); it is not called from signal handlers.
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

#endif /* CTRACE_RUNTIME_UNWIND_H */
