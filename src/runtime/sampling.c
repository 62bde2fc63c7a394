/*
 * sampling.c - CPU profile sampling across a trace: arms each thread's
 * CPU-time timer (cpuprof.c) on the thread itself, the first time it runs
 * tracer code in a trace, and disarms them at stop.
 *
 * Threads the tracer never runs on (adopted at start, never calling in) are
 * not sampled: their stack bounds are unknown, and the handler must not
 * walk a stack it cannot bound.
 */
#include <stdlib.h>

#include "cpuprof.h"
#include "thread.h"
#include "trace.h"

static _Atomic int installed; /* set by the starting thread, read by every thread */

void ct_sampling_start(void)
{
    if (ct_rt.cfg.cpu_hz && !installed && ct_cpuprof_install() == 0)
        installed = 1;
}

void ct_sampling_thread_init(struct ct_thread *t)
{
    t->prof_epoch = ct_rt.epoch;
    if (!installed || !ct_rt.cfg.cpu_hz || !CT_ENABLED())
        return;
    struct ct_cpuprof_thread *pt = t->prof;
    if (!pt) {
        pt = calloc(1, sizeof *pt);
        if (!pt)
            return;
        t->prof = pt; /* published (atomic store) once initialized */
    }
    ct_cpuprof_thread_start(pt, &t->bounds, ct_rt.cfg.cpu_hz);
}

void ct_sampling_thread_stop(struct ct_thread *t)
{
    if (t->prof)
        ct_cpuprof_thread_stop(t->prof);
}

void ct_sampling_stop(void)
{
    pthread_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next)
        if (t->prof)
            ct_cpuprof_thread_stop(t->prof);
    pthread_mutex_unlock(&ct_registry_lock);
}
