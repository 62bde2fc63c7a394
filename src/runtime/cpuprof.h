/*
 * cpuprof.h - CPU profile samples: a per-thread CPU-time timer delivers
 * SIGPROF to the thread that consumed the CPU; the handler captures the
 * interrupted stack into that thread's sample ring; the advancer drains the
 * rings into the generation's CPU-sample batch, every
 * ct_cpuprof_drain_interval_ns() and at each generation's end.
 *
 * Invariants:
 *  - The handler is async-signal-safe: no locks, no malloc, no errno change;
 *    it writes only the calling thread's ring (single producer) and the
 *    advancer only reads it (single consumer), ordered by acquire/release on
 *    the ring's head and tail.  A full ring drops the sample and counts it
 *    (dropped, an atomic add: lock-free, so signal-safe); the consumer
 *    takes the count with ct_cpuprof_take_dropped().
 *  - The ring never fills while the advancer keeps its drain interval: a
 *    thread burns at most one CPU-second per second, so at most hz
 *    samples arrive per second, and the interval lets only a quarter of
 *    the ring fill between drains (the rest absorbs a late drain).
 *  - A program's own SIGPROF handler keeps working: ct_cpuprof_install()
 *    saves it and the handler forwards signals not sent by ctrace's timers;
 *    one the program installs later is routed here (ct_sigprof_action) and
 *    becomes the one forwarded to, while ctrace's handler stays in place.
 *  - Timers are per thread (timer_create on CLOCK_THREAD_CPUTIME_ID with
 *    SIGEV_THREAD_ID), so samples are attributed to the thread that burnt
 *    the CPU, in proportion to CPU time.
 */
#ifndef CTRACE_RUNTIME_CPUPROF_H
#define CTRACE_RUNTIME_CPUPROF_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "unwind.h"

#define CT_SAMPLE_MAX_FRAMES 32
#define CT_SAMPLE_RING 64 /* samples buffered per thread between drains */
#define CT_SAMPLE_DRAIN_MIN_NS 2000000u /* never drain more often than this */

struct ct_sample {
    uint64_t ts;      /* ct_now() at the signal                       */
    uint32_t nframes;
    uintptr_t pcs[CT_SAMPLE_MAX_FRAMES]; /* pcs[0] is the interrupted PC */
};

struct ct_cpuprof_thread {
    const struct ct_stack_bounds *bounds;
    timer_t timer;
    _Atomic int timer_live;       /* taken (exchanged to 0) by one stopper */
    /* Ever armed by ct_cpuprof_other_start (set under its lock, read
     * without it by the owner at exit: atomic; a slot armed just after that
     * read is a dead thread's, reclaimed when the table fills or at stop). */
    _Atomic int other_used;
    _Atomic uint64_t dropped;     /* samples lost to a full ring (handler
                                     adds, consumer takes)               */
    _Atomic uint32_t head, tail;  /* producer: head; consumer: tail     */
    struct ct_sample ring[CT_SAMPLE_RING];
};

/* Installs the SIGPROF handler (chaining to the program's).  Idempotent.
 * Returns 0 or a negative CTRACE_E code. */
int ct_cpuprof_install(void);

/* Restores the program's SIGPROF disposition. */
void ct_cpuprof_uninstall(void);

/* ct_sigprof_action(): see hooks.h. */

/* Starts hz samples per CPU-second for the calling thread.  pt must stay
 * valid until ct_cpuprof_thread_stop().  If the thread blocks SIGPROF and
 * the program has no SIGPROF handler of its own, SIGPROF is unblocked in
 * the calling thread (else it would never be sampled).  Returns 0 or
 * negative. */
int ct_cpuprof_thread_start(struct ct_cpuprof_thread *pt,
                            const struct ct_stack_bounds *bounds, unsigned hz);

/* Stops the calling thread's timer (call on the owning thread, or at
 * thread exit). */
void ct_cpuprof_thread_stop(struct ct_cpuprof_thread *pt);

/* Arms a timer on another thread of this process, tid, from any thread:
 * for threads the tracer never runs on (their stack bounds are unknown;
 * the handler then reads each frame record with process_vm_readv, which
 * fails instead of faulting).  At most CT_OTHER_SLOTS such timers at once.
 * A later ct_cpuprof_thread_start(pt) on tid itself replaces it.  Returns
 * 0, CTRACE_EBUSY (already armed, or no slot free) or CTRACE_ESYS. */
#define CT_OTHER_SLOTS 256
int ct_cpuprof_other_start(struct ct_cpuprof_thread *pt, pid_t tid, unsigned hz);

/* Disarms and deletes pt's timer armed by ct_cpuprof_other_start, if any
 * (any thread).  pt is not touched. */
void ct_cpuprof_other_stop(struct ct_cpuprof_thread *pt);

/* Disarms and deletes every such timer (end of a trace); touches no pt, so
 * records already freed (threads that died) are fine. */
void ct_cpuprof_other_stop_all(void);

/* Consumer side: pops one sample into *out.  Returns 1 if one was popped,
 * 0 if the ring is empty. */
int ct_cpuprof_pop(struct ct_cpuprof_thread *pt, struct ct_sample *out);

/* Consumer side: the number of samples waiting in pt's ring. */
uint32_t ct_cpuprof_pending(struct ct_cpuprof_thread *pt);

/* Consumer side: the samples pt's ring dropped since the last call (the
 * count restarts at 0). */
uint64_t ct_cpuprof_take_dropped(struct ct_cpuprof_thread *pt);

/* How often the consumer must drain the rings at hz samples per
 * CPU-second so that none fills: the time a quarter of a ring takes to
 * fill, at least CT_SAMPLE_DRAIN_MIN_NS (the kernel checks CPU timers at
 * its tick, at most 1000 times a second, so no thread gets more signals
 * than that however high hz is).  0 when hz is 0. */
uint64_t ct_cpuprof_drain_interval_ns(unsigned hz);

#endif /* CTRACE_RUNTIME_CPUPROF_H */
