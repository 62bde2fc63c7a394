/*
 * advance.c - the generation handshake and the advancer thread that ends a
 * generation every period (or early, when a table fills up).
 *
 * Invariants:
 *  - Only code holding ct_ctl_lock changes ct_gen: trace start and stop
 *    (trace.c) and the advancer, here.
 *  - ct_advance(old -> new) publishes new, then (membarrier) waits for every
 *    registered thread to leave any critical section begun under old.  From
 *    then on nothing writes into generation old: its thread buffers, tables
 *    and samples are flushed by the advancer alone, and the generation is
 *    complete when they are queued.
 *  - An exited thread's record stays on the zombie list until the next
 *    advance drained its last CPU samples.
 *  - CPU-sample rings are drained by the advancer alone (their single
 *    consumer), with ct_ctl_lock held: at each advance, into the generation
 *    that ends, and between advances every ct_cpuprof_drain_interval_ns(),
 *    into the current generation, so no ring fills up (cpuprof.h).  The
 *    batch being filled (sample_w) is kept across those drains and handed
 *    on when full or when its generation ends.
 *  - The heap metric (metrics.c) is sampled at the start (ct_advancer_start)
 *    and by the advancer before each advance, outside any critical section
 *    and without the registry or queue locks.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "cpuprof.h"
#include "env.h"
#include "event.h"
#include "libc.h"
#include "metrics.h"
#include "cfirules.h"
#include "modmap.h"
#include "sink.h"
#include "symbolize.h"
#include "tables.h"
#include "thread.h"

/* ---- advancer thread ---- */
static pthread_t adv_thread;
static int adv_running;
static int adv_stop;
static int adv_poke;
static pthread_mutex_t adv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t adv_cond = PTHREAD_COND_INITIALIZER;

static struct ct_symbolizer *symbolizer;
/* What an exited thread leaves for the next drain: the CPU samples its
 * ring still held, copied out at its exit, and the count of those its ring
 * dropped; its record and its 17 KiB ring are freed at once.  So the
 * memory of exited threads follows their samples, not their number: a
 * program starting thousands of short threads a second kept thousands of
 * records and rings until the next drain.  (ct_registry_lock held.) */
struct ct_zombie {
    struct ct_zombie *next;
    uint64_t m, p, g;
    uint64_t dropped;
    uint32_t n;
    struct ct_sample s[];
};
static struct ct_zombie *zombies;

/* Writes a zombie's samples into sw's generation and frees it. */
static void drain_zombie(struct ct_zombie *z, struct ct_table_writer *sw)
{
    uint64_t lost = z->dropped;
    for (uint32_t i = 0; i < z->n; i++)
        if (ct_table_put_sample(sw, &z->s[i], z->m, z->p, z->g) != 0)
            lost++;
    if (lost)
        atomic_fetch_add_explicit(&ct_rt.samples_dropped, lost, memory_order_relaxed);
    free(z);
}
/* The CPU-sample batch being filled (ct_ctl_lock held). */
static struct ct_table_writer sample_w = {0, GT_EV_CPU_SAMPLES, NULL};

/* The sample batch writer for generation gen: one of another generation
 * is handed on first (it is complete). */
static struct ct_table_writer *samples_for(uint64_t gen)
{
    if (sample_w.gen != gen) {
        ct_table_writer_flush(&sample_w);
        sample_w.gen = gen;
    }
    return &sample_w;
}

/* Drains every ring into the current generation's sample batches, between
 * advances (ct_ctl_lock held). */
static void drain_samples_now(void)
{
    uint64_t gen = atomic_load(&ct_gen);
    if (!gen)
        return;
    struct ct_table_writer *sw = samples_for(gen);
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next)
        if (!t->internal)
            ct_table_drain_samples(t, sw);
    struct ct_zombie *z = zombies;
    zombies = NULL;
    ct_libc_mutex_unlock(&ct_registry_lock);
    while (z) {
        struct ct_zombie *n = z->next;
        drain_zombie(z, sw);
        z = n;
    }
}


/* ---- membarrier: the advancer's half of the handshake ---- */

static int membarrier_ok;

void ct_membarrier_setup(void)
{
#if defined(__SANITIZE_THREAD__)
    membarrier_ok = 0; /* ThreadSanitizer cannot see membarrier: use fences */
#else
    long mask = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (mask > 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0)
        membarrier_ok = 1;
#endif
    if (ct_env()->no_membarrier) /* CTRACE_NO_MEMBARRIER=1 (env.h) */
        membarrier_ok = 0;
    ct_use_fence = !membarrier_ok;
}

void ct_barrier_all_threads(void)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (membarrier_ok) {
        int e = errno;
        if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0) {
            /* Should not happen once registered; fall back for good. */
            ct_use_fence = 1;
            membarrier_ok = 0;
            /* Threads may have skipped the fence before seeing the flag. */
            ct_libc_sleep_ns(1000000);
        }
        errno = e;
    }
}

/* Waits until t is not inside a critical section begun before now. */
static void wait_quiescent(struct ct_thread *t)
{
    uint64_t s = atomic_load_explicit(&t->wseq, memory_order_acquire);
    if (!(s & 1))
        return;
    for (unsigned spins = 0; atomic_load_explicit(&t->wseq, memory_order_acquire) == s; spins++) {
        if (spins > 100)
            sched_yield();
    }
}

/* Moves the trace from generation old to new (0: stop).  ct_ctl_lock held. */
void ct_advance(uint64_t old, uint64_t newg)
{
    /* A module loaded since the last map: map it before the handshake,
     * free the map it replaces after (modmap.h). */
    struct ct_modmap *old_map =
        newg && ct_rt.stack_mode == CTRACE_STACKS_AUTO ? ct_modmap_refresh() : NULL;
    if (old_map && ct_modmap_has_cfi(atomic_load(&ct_modmap_current)))
        ct_unwind_load();
    /* The rules the walks asked for during the generation (cfirules.h);
     * at the stop too: they serve the next trace. */
    if (ct_rt.stack_mode == CTRACE_STACKS_AUTO)
        ct_cfirules_fill();
    if (!newg)
        ct_cfirules_close_files(); /* no fd of ours between traces */
    if (newg)
        ct_buf_thread_batches_reset(newg); /* its slot last counted old - 1 */
    atomic_store_explicit(&ct_gen, newg, memory_order_seq_cst);
    if (!newg)
        __atomic_store_n(&ctrace_enabled_flag, 0, __ATOMIC_RELAXED);
    ct_barrier_all_threads();

    struct ct_table_writer *sw = samples_for(old);
    ct_libc_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry, *next; t; t = next) {
        next = t->next;
        if (t->internal)
            continue;
        if (ct_reap_if_dead(t, old))
            continue;
        wait_quiescent(t);
        struct ct_buf *b = t->buf[old & 1];
        if (b && b->gen == old) {
            t->buf[old & 1] = NULL;
            ct_buf_finish(b);
            ct_queue_buf(b);
        }
        ct_table_drain_samples(t, sw);
        if (newg)
            ct_claim_status_for(t, newg);
    }
    struct ct_zombie *z = zombies;
    zombies = NULL;
    ct_libc_mutex_unlock(&ct_registry_lock);
    while (z) {
        struct ct_zombie *n = z->next;
        drain_zombie(z, sw);
        z = n;
    }
    ct_table_writer_flush(sw);
    /* Every program thread gone, the process still alive (lastthread.c). */
    if (ct_buf_thread_batches(old) == 0)
        ct_status_placeholder(old);
    ct_modmap_free(old_map); /* every thread passed the handshake above */

    /* Stacks first: symbolizing them adds function and file names. */
    if (ct_rt.stack_mode != CTRACE_STACKS_NONE && !symbolizer)
        symbolizer = ct_symbolizer_new();
    else
        ct_symbolizer_sync(symbolizer);
    ct_table_write_stacks(old, symbolizer);
    ct_table_write_strings(old);
    atomic_fetch_add_explicit(&ct_rt.stacks_dropped,
                              atomic_exchange(&ct_rt.stacks[old & 1].full_misses, 0),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&ct_rt.strings_dropped,
                              atomic_exchange(&ct_rt.strings[old & 1].full_misses, 0),
                              memory_order_relaxed);
    ct_losses_write(old); /* after the last drain and the stack count */
    ct_dedup_reset(&ct_rt.stacks[old & 1]);
    ct_dedup_reset(&ct_rt.strings[old & 1]);

    struct ct_buf *fb = ct_buf_alloc(old, GT_NO_ID, 0, 1);
    if (fb) {
        ct_buf_put_byte(fb, GT_EV_FREQUENCY);
        ct_buf_put(fb, ct_clock_units_per_sec());
        ct_buf_finish(fb);
        ct_queue_buf(fb);
    }
    atomic_fetch_add_explicit(&ct_rt.generations, 1, memory_order_relaxed);

    if (!newg) {
        ct_rt.last_gen = old;
        ct_symbolizer_close_files(symbolizer); /* no fd of ours between traces */
    }
    struct ct_sink *sink = ct_sink_current;
    sink->ops->generation_complete(sink, old);
    if (!newg)
        sink->ops->end(sink);
}

/* Called by an exiting thread after unlinking itself and stopping its
 * timers (registry lock held: no drain reads its ring meanwhile): keeps
 * the samples its ring still holds for the next drain, frees the rest. */
void ct_trace_bury(struct ct_thread *t)
{
    struct ct_cpuprof_thread *pt = t->prof;
    uint32_t n = ct_cpuprof_pending(pt);
    uint64_t dropped = ct_cpuprof_take_dropped(pt);
    if (n > CT_SAMPLE_RING)
        n = CT_SAMPLE_RING;
    if (n || dropped) {
        struct ct_zombie *z = malloc(sizeof *z + (size_t)n * sizeof z->s[0]);
        if (z) {
            z->m = t->m;
            z->p = t->p;
            z->g = t->g;
            z->dropped = dropped;
            z->n = 0;
            while (z->n < n && ct_cpuprof_pop(pt, &z->s[z->n]))
                z->n++;
            z->next = zombies;
            zombies = z;
        } else {
            atomic_fetch_add_explicit(&ct_rt.samples_dropped, n + dropped, memory_order_relaxed);
        }
    }
    t->prof = NULL;
    free(pt);
    free(t);
}

/* ---- the advancer thread ---- */

/* The clock of adv_cond's deadlines, in ns. */
static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *advancer_main(void *arg)
{
    (void)arg;
    ct_thread_mark_internal();
    /* Wakes at each generation's end, and in between every drain
     * interval to empty the sample rings (0: not sampling). */
    uint64_t drain_ns = ct_cpuprof_drain_interval_ns(ct_rt.cfg.cpu_hz);
    ct_libc_mutex_lock(&adv_lock);
    uint64_t gen_end = realtime_ns() + ct_rt.cfg.period_ns;
    while (!adv_stop) {
        uint64_t now = realtime_ns();
        uint64_t wake = drain_ns && now + drain_ns < gen_end ? now + drain_ns : gen_end;
        struct timespec dl = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
        int timed_out = 0;
        while (!adv_stop && !adv_poke && !timed_out)
            timed_out = ct_libc_cond_timedwait(&adv_cond, &adv_lock, &dl) == ETIMEDOUT;
        if (adv_stop)
            break;
        if (!adv_poke && realtime_ns() < gen_end) {
            /* Between generation ends: empty the rings. */
            ct_libc_mutex_unlock(&adv_lock);
            ct_libc_mutex_lock(&ct_ctl_lock);
            drain_samples_now();
            ct_libc_mutex_unlock(&ct_ctl_lock);
            ct_libc_mutex_lock(&adv_lock);
            continue;
        }
        adv_poke = 0;
        ct_libc_mutex_unlock(&adv_lock);

        /* Sampled with no tracer lock held: mallinfo2 takes malloc's
         * arena locks (metrics.c). */
        ct_metrics_sample();
        ct_libc_mutex_lock(&ct_ctl_lock);
        uint64_t old = atomic_load(&ct_gen);
        /* The sink may hold the advance back (a reader too far behind). */
        int lag = old && !ct_sink_current->ops->may_advance(ct_sink_current, old);
        if (old && !lag)
            ct_advance(old, old + 1);
        ct_libc_mutex_unlock(&ct_ctl_lock);

        ct_libc_mutex_lock(&adv_lock);
        gen_end = realtime_ns() + ct_rt.cfg.period_ns;
    }
    ct_libc_mutex_unlock(&adv_lock);
    return NULL;
}

void ct_request_advance(void)
{
    /* Called from traced threads: never block long, never recurse. */
    if (ct_libc_mutex_trylock(&adv_lock) == 0) {
        adv_poke = 1;
        ct_libc_cond_signal(&adv_cond);
        ct_libc_mutex_unlock(&adv_lock);
    }
}

/* Starts the advancer thread (ct_ctl_lock held). */
void ct_advancer_start(void)
{
    /* The first generation's heap metric, sampled here by the starting
     * thread rather than by the advancer once it runs: the program's
     * threads write their first events meanwhile. */
    ct_metrics_sample();
    ct_libc_mutex_lock(&adv_lock);
    adv_stop = 0;
    adv_poke = 0;
    ct_libc_mutex_unlock(&adv_lock);
    int e = errno;
    if (ct_start_internal_thread(&adv_thread, advancer_main, NULL) == 0)
        adv_running = 1;
    errno = e;
}

/* Stops and joins the advancer thread, if it runs; returns 1 if this
 * caller joined it.  ct_ctl_lock held, released while joining (the
 * advancer takes it). */
int ct_advancer_stop(void)
{
    if (!adv_running)
        return 0;
    /* Only one stopper joins the advancer (the writer thread may stop
     * the trace on a write error while the program stops it too). */
    adv_running = 0;
    pthread_t th = adv_thread;
    ct_libc_mutex_lock(&adv_lock);
    adv_stop = 1;
    ct_libc_cond_signal(&adv_cond);
    ct_libc_mutex_unlock(&adv_lock);
    /* The advancer takes ct_ctl_lock: let it go while we join. */
    ct_libc_mutex_unlock(&ct_ctl_lock);
    ct_join_internal_thread(th);
    ct_libc_mutex_lock(&ct_ctl_lock);
    return 1;
}

/* Fork child: the advancer does not exist here; exited threads' records
 * and the symbolizer belong to the parent's state. */
void ct_advance_atfork_child(void)
{
    pthread_mutex_init(&adv_lock, NULL);
    pthread_cond_init(&adv_cond, NULL);
    adv_running = 0;
    adv_stop = 0;
    zombies = NULL;
    sample_w.gen = 0;
    sample_w.b = NULL; /* the parent's: abandoned with its other buffers */
    symbolizer = NULL; /* its state may be mid-update: leak it */
}
