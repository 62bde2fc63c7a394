/*
 * losses.c - the loss record: at each generation's end, what the trace lost
 * since the previous one is written into the generation (the format:
 * src/format/lossrec.h), so a trace says itself what it is missing.
 *
 * Invariants:
 *  - Only code holding ct_ctl_lock runs here: trace start
 *    (ct_losses_trace_start) and the generation's end (ct_losses_write,
 *    from ct_advance), so `reported` needs no other lock.
 *  - The counters of ct_rt only grow during a trace.  events_dropped,
 *    samples_dropped, stacks_dropped and strings_dropped restart at 0 with each trace;
 *    threads_dropped counts since the process started, so its value at
 *    the trace's start is the base.  Each record holds the growth since
 *    the previous record: the records of a trace add up to the trace's
 *    totals as ctrace_get_stats() reports them at its end (threads: those
 *    dropped while it ran).
 *  - A loss is counted where it happens, possibly just after the
 *    generation it belongs to ended: it then goes into the next record.
 *    The last generation's record is written after its last samples were
 *    drained, so nothing counted before the trace ends is left out.
 */
#include <inttypes.h>
#include <stdio.h>

#include "lossrec.h"
#include "tables.h"
#include "trace.h"

enum { L_EVENTS, L_SAMPLES, L_STACKS, L_STRINGS, L_THREADS, L_COUNT };
static uint64_t reported[L_COUNT];

static void current(uint64_t v[L_COUNT])
{
    v[L_EVENTS] = atomic_load(&ct_rt.events_dropped);
    v[L_SAMPLES] = atomic_load(&ct_rt.samples_dropped);
    v[L_STACKS] = atomic_load(&ct_rt.stacks_dropped);
    v[L_STRINGS] = atomic_load(&ct_rt.strings_dropped);
    v[L_THREADS] = atomic_load(&ct_rt.threads_dropped);
}

void ct_losses_trace_start(void)
{
    current(reported);
}

void ct_losses_write(uint64_t gen)
{
    uint64_t now[L_COUNT], d[L_COUNT];
    int any = 0;
    current(now);
    for (int i = 0; i < L_COUNT; i++) {
        /* A counter reset behind our back (it never is during a trace)
         * must not show as a huge loss. */
        d[i] = now[i] >= reported[i] ? now[i] - reported[i] : 0;
        any |= d[i] != 0;
    }
    if (!any)
        return;
    char rec[160];
    snprintf(rec, sizeof rec, GT_LOSS_PREFIX "events=%" PRIu64 " samples=%" PRIu64 " stacks=%" PRIu64
             " strings=%" PRIu64 " threads=%" PRIu64, d[L_EVENTS], d[L_SAMPLES], d[L_STACKS], d[L_STRINGS],
             d[L_THREADS]);
    if (ct_table_write_lone_string(gen, rec) != 0)
        return; /* no memory for it now: the next record carries it */
    for (int i = 0; i < L_COUNT; i++)
        reported[i] = now[i];
}
