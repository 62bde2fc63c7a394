/*
 * metrics.c - the metrics Go's tools read from a trace, written once per
 * generation: "/sched/gomaxprocs:threads" (EvProcsChange) and
 * "/memory/classes/heap/objects:bytes" (EvHeapAlloc).
 *
 * Why: go tool trace's MMU page computes nothing (Go 1.23's server panics)
 * until it has seen a GOMAXPROCS metric, and its timeline draws the Heap
 * counter from the heap metric.  In a C program:
 *   - GOMAXPROCS is the number of Ps in use: one per live traced thread
 *     (FORMAT.md, the model), the P ids allocated (thread.c) when the
 *     metric is written;
 *   - the heap is malloc's bytes in use, from mallinfo2() (glibc >= 2.33:
 *     uordblks + hblkhd), read when the trace starts (by the starting
 *     thread, ct_advancer_start) and by the advancer at the end of each
 *     generation (a generation carries the value sampled at the end of the
 *     one before it).
 *     mallinfo2 locks each malloc arena in turn and walks its free lists,
 *     so its cost grows with the number of free chunks: once per period
 *     (1 s by default) on the advancer thread, never on the program's
 *     threads.  Without mallinfo2 (another C library) or with an allocator
 *     that replaces malloc (jemalloc, tcmalloc: glibc's arenas are then
 *     idle) the figure is absent or glibc's alone; FORMAT.md says so.
 *
 * Invariants:
 *   - Both events need a running G on its P (Go's parser: ProcsChange is
 *     an annotation of the running goroutine, HeapAlloc needs a P), so they
 *     are written by whoever first writes a batch of a generation in which
 *     a thread is visibly running: that thread itself (sched.c, the slow
 *     path of ct_acquire, once its G runs) or the advancer when it claims
 *     the statuses of a running thread.  procs_gen and heap_gen (a
 *     compare-and-swap each, once per generation) make it exactly one
 *     writer per metric.
 *   - The heap value is an atomic the advancer writes, read by any writer;
 *     0 means unknown and writes no heap event (never a false 0).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdatomic.h>

#include "event.h"
#include "metrics.h"
#include "thread.h"

static _Atomic uint64_t metric_heap;   /* malloc bytes in use, 0: unknown    */
static _Atomic uint64_t procs_gen;     /* last generation with GOMAXPROCS    */
static _Atomic uint64_t heap_gen;      /* last generation with the heap      */

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
/* Weak: a libctrace built on a newer glibc still loads on an older one. */
extern struct mallinfo2 mallinfo2(void) __attribute__((weak));
static uint64_t heap_in_use(void)
{
    if (!mallinfo2)
        return 0;
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}
#else
static uint64_t heap_in_use(void)
{
    return 0;
}
#endif

void ct_metrics_sample(void)
{
    atomic_store_explicit(&metric_heap, heap_in_use(), memory_order_relaxed);
}

int ct_metrics_due(uint64_t gen)
{
    return atomic_load_explicit(&procs_gen, memory_order_relaxed) != gen ||
           (atomic_load_explicit(&heap_gen, memory_order_relaxed) != gen &&
            atomic_load_explicit(&metric_heap, memory_order_relaxed) != 0);
}

/* Claims *last for gen: true for exactly one caller per generation. */
static int claim(_Atomic uint64_t *last, uint64_t gen)
{
    uint64_t old = atomic_load_explicit(last, memory_order_relaxed);
    return old != gen && atomic_compare_exchange_strong_explicit(last, &old, gen, memory_order_relaxed,
                                                                 memory_order_relaxed);
}

void ct_metrics_write(struct ct_buf *b, uint64_t gen, uint64_t ts)
{
    if (ct_buf_room_reserved(b) < CT_METRICS_MAX)
        return;
    if (claim(&procs_gen, gen)) {
        uint64_t procs = ct_pid_count();
        ct_buf_put_ev(b, GT_EV_PROCS_CHANGE, ts);
        ct_buf_put(b, procs ? procs : 1);
        ct_buf_put(b, 0); /* no stack */
    }
    /* Unknown (0) until the first sample, which may come after the first
     * writer of the first generation: a later writer then has it. */
    uint64_t heap = atomic_load_explicit(&metric_heap, memory_order_relaxed);
    if (heap && claim(&heap_gen, gen)) {
        ct_buf_put_ev(b, GT_EV_HEAP_ALLOC, ts);
        ct_buf_put(b, heap);
    }
}
