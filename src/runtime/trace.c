/*
 * trace.c - starting and stopping a trace, the threads it adopts from
 * /proc, the global state (trace.h), statistics, and the fork handlers.
 * The generation handshake and the advancer are in advance.c, the tables
 * in tables.c, the output queue and the reader in sink_fifo.c.
 *
 * Invariants:
 *  - ct_ctl_lock serializes start, stop and every generation advance; only
 *    code holding it changes ct_gen.
 *  - A trace starts only once the previous one was read to its end
 *    (ct_output_busy), and its known threads' statuses are claimed before
 *    any thread can see its first generation.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpuprof.h"
#include "event.h"
#include "flight.h"
#include "libc.h"
#include "modmap.h"
#include "proc.h"
#include "sink.h"
#include "thread.h"
#include "unwind.h"

_Atomic uint64_t ct_gen;
int ct_use_fence = 1;
struct ct_runtime ct_rt;
volatile int ctrace_enabled_flag;

pthread_mutex_t ct_ctl_lock = PTHREAD_MUTEX_INITIALIZER;
struct ct_sink *ct_sink_current;

void ct_queue_buf(struct ct_buf *b)
{
    atomic_fetch_add_explicit(&ct_rt.bytes, (uint64_t)(b->pos - b->start), memory_order_relaxed);
    ct_sink_current->ops->put(ct_sink_current, b);
}

void ct_trace_discard_queue(void)
{
    if (ct_sink_current)
        ct_sink_current->ops->discard(ct_sink_current);
}

/* ---- start / stop ---- */

/* Registers threads of the process the tracer has not met, with their
 * current state read from /proc, so the first generation shows them. */
static void adopt_existing_threads(void)
{
    int dfd = ct_libc_open_high("/proc/self/task", O_RDONLY | O_DIRECTORY);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d && dfd >= 0)
        ct_libc_close(dfd);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        uint64_t tid = strtoull(de->d_name, NULL, 10);
        int known = 0;
        ct_libc_mutex_lock(&ct_registry_lock);
        for (struct ct_thread *t = ct_registry; t; t = t->next)
            if (t->m == tid)
                known = 1;
        ct_libc_mutex_unlock(&ct_registry_lock);
        if (known)
            continue;
        char path[300], buf[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        FILE *f = ct_libc_fopen_high(path);
        int state = CT_RUNNING;
        if (f) {
            if (fgets(buf, sizeof buf, f)) {
                char *rp = strrchr(buf, ')');
                if (rp && rp[1] == ' ' && rp[2] != 'R')
                    state = CT_BLOCKED;
            }
            fclose(f);
        }
        ct_thread_adopt(tid, state);
    }
    closedir(d);
}

int ct_trace_start(struct ct_sink *sink)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    ct_lifecycle_init();
    pthread_once(&once, ct_membarrier_setup);

    ct_libc_mutex_lock(&ct_ctl_lock);
    if (atomic_load(&ct_gen) != 0) {
        ct_libc_mutex_unlock(&ct_ctl_lock);
        return CTRACE_EBUSY;
    }
    for (int i = 0; i < 2; i++) {
        if (!ct_rt.strings[i].slots && ct_dedup_init(&ct_rt.strings[i], 1u << 15) != 0)
            goto nomem;
        if (!ct_rt.stacks[i].slots && ct_dedup_init(&ct_rt.stacks[i], 1u << 15) != 0)
            goto nomem;
    }
    /* The sink may refuse (it holds a trace not read yet).  Generation
     * numbers keep counting across traces (below). */
    if (sink->ops->begin(sink, ct_rt.last_gen + 1) != CTRACE_OK) {
        ct_libc_mutex_unlock(&ct_ctl_lock);
        return CTRACE_EBUSY;
    }
    ct_sink_current = sink;
    ct_buf_set_cap(ct_rt.cfg.mem_cap);
    ct_rt.stack_mode = ct_rt.cfg.stacks;
    if (ct_rt.stack_mode == CTRACE_STACKS_AUTO) {
        /* The module map now, not in an event's walk (no thread of this
         * trace can hold the map being replaced: the last trace's stop
         * passed a handshake); libunwind only if a module needs it (it
         * keeps a pipe open for the life of the process). */
        ct_modmap_free(ct_modmap_refresh());
        if (ct_modmap_has_cfi(atomic_load(&ct_modmap_current)))
            ct_unwind_load();
    }
    ct_rt.epoch++;
    /* Generation numbers keep counting across traces, so that per-thread
     * caches tagged with a generation of an earlier trace never match. */
    ct_rt.first_gen = ct_rt.last_gen + 1;
    ct_rt.pid = getpid();
    atomic_store(&ct_rt.generations, 0);
    atomic_store(&ct_rt.bytes, GT_HEADER_LEN);
    atomic_store(&ct_rt.events_dropped, 0);
    atomic_store(&ct_rt.stacks_dropped, 0);
    atomic_store(&ct_rt.strings_dropped, 0);
    atomic_store(&ct_rt.samples, 0);
    atomic_store(&ct_rt.samples_dropped, 0);
    ct_losses_trace_start();

    adopt_existing_threads();

    /* Statuses of known threads must precede their events: claim them all
     * before any thread can see the generation... */
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next) {
        t->dark_gen = 0;
        t->seq_gen = 0;
        struct ct_sample stale; /* samples from between traces */
        while (t->prof && ct_cpuprof_pop(t->prof, &stale)) {
        }
        if (t->prof)
            ct_cpuprof_take_dropped(t->prof);
    }
    ct_libc_mutex_unlock(&ct_registry_lock);
    ct_buf_thread_batches_reset(ct_rt.first_gen); /* a previous trace's count */
    atomic_store(&ct_gen, ct_rt.first_gen);
    __atomic_store_n(&ctrace_enabled_flag, 1, __ATOMIC_RELAXED);
    ct_barrier_all_threads();
    /* ...which threads that race with us handle through the claim. */
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next)
        ct_claim_status_for(t, ct_rt.first_gen);
    ct_libc_mutex_unlock(&ct_registry_lock);

    ct_sampling_start();

    ct_advancer_start();
    ct_libc_mutex_unlock(&ct_ctl_lock);
    return CTRACE_OK;
nomem:
    ct_libc_mutex_unlock(&ct_ctl_lock);
    return CTRACE_ENOMEM;
}

int ct_trace_stop(void)
{
    ct_libc_mutex_lock(&ct_ctl_lock);
    uint64_t old = atomic_load(&ct_gen);
    if (!old) {
        ct_libc_mutex_unlock(&ct_ctl_lock);
        return CTRACE_ENOTRACING;
    }
    if (ct_advancer_stop()) {
        old = atomic_load(&ct_gen);
        if (!old) {
            /* Another stopper finished the trace meanwhile. */
            ct_libc_mutex_unlock(&ct_ctl_lock);
            return CTRACE_OK;
        }
    }
    ct_advance(old, 0);
    /* After the last advance no thread is inside an event (where timers are
     * armed), so disarming them cannot race with arming. */
    ct_sampling_stop();
    ct_libc_mutex_unlock(&ct_ctl_lock);
    return CTRACE_OK;
}

int ctrace_start_trace(void)
{
    int r = ct_proc_before_start();
    if (r)
        return r;
    int e = errno;
    r = ct_trace_start(ct_fifo_sink(CT_FIFO_ANY_READER));
    errno = e;
    return r;
}

int ctrace_stop_trace(void)
{
    int e = errno;
    /* The flight recorder's trace is stopped by ctrace_flight_stop only. */
    int r = ct_flight_running() ? CTRACE_ENOTRACING : ct_trace_stop();
    if (r == CTRACE_OK)
        ct_fifo_wait_reader();
    errno = e;
    return r;
}

void ctrace_get_stats(ctrace_stats *st)
{
    if (!st)
        return;
    st->generations = atomic_load(&ct_rt.generations);
    st->bytes = atomic_load(&ct_rt.bytes);
    st->events_dropped = atomic_load(&ct_rt.events_dropped);
    st->stacks_dropped = atomic_load(&ct_rt.stacks_dropped);
    st->strings_dropped = atomic_load(&ct_rt.strings_dropped);
    st->samples = atomic_load(&ct_rt.samples);
    st->samples_dropped = atomic_load(&ct_rt.samples_dropped);
    st->threads = atomic_load(&ct_rt.threads);
    st->threads_dropped = atomic_load(&ct_rt.threads_dropped);
}

/* ---- fork ---- */

void ct_trace_atfork_prepare(void)
{
    ct_libc_mutex_lock(&ct_ctl_lock);
    ct_libc_mutex_lock(&ct_registry_lock);
    ct_output_atfork_prepare();
}

void ct_trace_atfork_parent(void)
{
    ct_output_atfork_parent();
    ct_libc_mutex_unlock(&ct_registry_lock);
    ct_libc_mutex_unlock(&ct_ctl_lock);
}

/* The child has one thread and a copy of the parent's trace state: it must
 * never write into the parent's trace.  Tracing is off in the child; every
 * record but the calling thread's is dropped (their threads do not exist
 * here), and the queue is emptied without being written.  The prepare
 * handler held ctl_lock, the registry, the queue, the P ids and the pool,
 * so those are consistent.  The other threads' buffers are not: such a
 * thread may have queued its full buffer and not yet cleared its slot (a
 * buffer in both places), or be half way through taking one; they are
 * abandoned, never freed (proc.c explains why that costs nothing). */
/* Thread records of a fork child's parent, abandoned (see below). */
static struct ct_thread *fork_abandoned;

void ct_trace_atfork_child(void)
{
    uint64_t g = atomic_load(&ct_gen);
    if (g > ct_rt.last_gen)
        ct_rt.last_gen = g; /* a trace of the child numbers on from here */
    atomic_store(&ct_gen, 0);
    __atomic_store_n(&ctrace_enabled_flag, 0, __ATOMIC_RELAXED);
    ct_output_atfork_child();
    pthread_mutex_init(&ct_registry_lock, NULL);
    pthread_mutex_init(&ct_ctl_lock, NULL);
    ct_advance_atfork_child();
    struct ct_thread *self = ct_tls_self;
    struct ct_thread *t = ct_registry;
    ct_registry = NULL;
    while (t) {
        struct ct_thread *n = t->next;
        if (t == self) {
            /* Our own buffers are ours unless the fork came from a signal
             * handler that interrupted one of our events. */
            int in_event = atomic_load(&t->wseq) & 1;
            for (int i = 0; i < 2; i++) {
                if (!in_event)
                    ct_buf_free(t->buf[i]);
                t->buf[i] = NULL;
            }
            t->next = t->prev = NULL;
            ct_registry = t;
            t->m = ct_gettid();
            free(t->prof); /* its timer is not inherited by the child */
            t->prof = NULL;
            t->prof_epoch = 0;
            atomic_store(&t->status_gen, 0);
            atomic_store(&t->wseq, 0);
            t->epoch = 0; /* a new trace introduces the thread afresh */
            t->dark_gen = 0;
            ct_set_state(t, CT_RUNNING);
            t->vis_state = CT_RUNNING;
            t->block_depth = t->syscall_depth = 0;
        } else {
            /* Kept, not freed: its buffer slots may point at buffers the
             * queue also holds, or that the writer already freed (queued
             * and read before the thread cleared its slot), so they are
             * never freed here; the record stays reachable so that the
             * buffers it still points at are not reported as leaks. */
            ct_pid_free(t->p);
            free(t->prof);
            t->prof = NULL;
            t->next = fork_abandoned;
            fork_abandoned = t;
        }
        t = n;
    }
    for (int i = 0; i < 2; i++) {
        ct_dedup_reset(&ct_rt.strings[i]);
        ct_dedup_reset(&ct_rt.stacks[i]);
    }
    ct_rt.pid = ct_proc_pid();
    ct_buf_reset_in_use();
}
