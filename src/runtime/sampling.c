/*
 * sampling.c - CPU profile sampling across a trace (timers: cpuprof.c).
 *
 *  - At start, every thread the registry knows (adopted from /proc, or met
 *    in an earlier trace) gets a timer armed from the starting thread
 *    (ct_cpuprof_other_start), so threads that never call into the tracer
 *    are sampled too; their stacks are walked with checked reads, since
 *    their bounds are unknown.
 *  - The first time a thread runs tracer code in a trace it arms its own
 *    timer (ct_cpuprof_thread_start), which replaces one armed from
 *    outside; threads spawned while tracing do so from their first
 *    instruction.
 *  - At stop every timer is disarmed and deleted; a thread that exits
 *    deletes its own.  A thread that dies without telling us (adopted,
 *    never called in) has its timer deleted at stop, or earlier when its
 *    slot is needed: the kernel stops a dead thread's CPU timer anyway, and
 *    there are at most CT_OTHER_SLOTS of them.
 *
 * Invariants: t->prof is set once (compare-and-swap: the starting thread
 * and the thread itself may race to allocate it) and freed with the record,
 * or in a fork child (trace.c: the child inherits no timer); lock order is ct_registry_lock, then cpuprof's own lock.
 */
#include <stdlib.h>

#include "cpuprof.h"
#include "libc.h"
#include "thread.h"
#include "trace.h"

static _Atomic int installed; /* set by the starting thread, read by every thread */

/* t's sampling state, allocated on first use. */
static struct ct_cpuprof_thread *prof_of(struct ct_thread *t)
{
    struct ct_cpuprof_thread *p = atomic_load_explicit(&t->prof, memory_order_acquire);
    if (p)
        return p;
    struct ct_cpuprof_thread *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(&t->prof, &p, n, memory_order_acq_rel,
                                                memory_order_acquire))
        return n;
    free(n);
    return p;
}

void ct_sampling_start(void)
{
    if (ct_rt.cfg.cpu_hz && !installed && ct_cpuprof_install() == 0)
        installed = 1;
    if (!installed || !ct_rt.cfg.cpu_hz)
        return;
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next) {
        if (t->internal || ct_state(t) == CT_EXITED)
            continue;
        struct ct_cpuprof_thread *p = prof_of(t);
        if (p && !p->timer_live)
            ct_cpuprof_other_start(p, (pid_t)t->m, ct_rt.cfg.cpu_hz);
    }
    ct_libc_mutex_unlock(&ct_registry_lock);
}

void ct_sampling_thread_init(struct ct_thread *t)
{
    t->prof_epoch = ct_rt.epoch;
    if (!installed || !ct_rt.cfg.cpu_hz || !CT_ENABLED())
        return;
    struct ct_cpuprof_thread *p = prof_of(t);
    if (p)
        ct_cpuprof_thread_start(p, &t->bounds, ct_rt.cfg.cpu_hz);
}

void ct_sampling_thread_stop(struct ct_thread *t)
{
    if (t->prof) {
        ct_cpuprof_thread_stop(t->prof);
        ct_cpuprof_other_stop(t->prof);
    }
}

void ct_sampling_stop(void)
{
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next)
        if (t->prof)
            ct_cpuprof_thread_stop(t->prof);
    ct_libc_mutex_unlock(&ct_registry_lock);
    ct_cpuprof_other_stop_all();
}
