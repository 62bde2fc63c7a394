/*
 * trace.c - start, advance, stop, and the output queue the reader drains.
 *
 * Invariants:
 *  - ctl_lock serializes start, stop and every generation advance; only
 *    code holding it changes ct_gen.
 *  - ct_advance(old -> new) publishes new, then (membarrier) waits for every
 *    registered thread to leave any critical section begun under old.  From
 *    then on nothing writes into generation old: its thread buffers, tables
 *    and samples are flushed by the advancer alone, and the generation is
 *    complete when they are queued.
 *  - Output order: the reader returns the file header, then every batch of
 *    generation q_out_gen, and moves to the next generation only once it is
 *    complete (q_done_gen >= q_out_gen).  Buffers of a later generation that
 *    fill up early wait in their own list (q[gen & 3]).  The advancer never
 *    runs more than two generations ahead of the reader; while the reader
 *    lags it postpones advances, and the memory cap bounds the data.
 *  - The reader holds q_reading (the last buffer returned) until its next
 *    call, as Go's ReadTrace does.  One reader at a time.
 */
#define _GNU_SOURCE
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "cpuprof.h"
#include "event.h"
#include "proc.h"
#include "symbolize.h"
#include "thread.h"

_Atomic uint64_t ct_gen;
int ct_use_fence = 1;
struct ct_runtime ct_rt;
volatile int ctrace_enabled_flag;

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- output queue ---- */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct {
    struct ct_buf *head, *tail;
} q[4];
static uint64_t q_out_gen;   /* generation the reader is returning        */
static uint64_t q_done_gen;  /* every generation <= this one is queued    */
static int q_active;         /* a trace exists that has not been drained  */
static int q_header_sent;
static int q_finished;       /* the last generation is queued             */
static int q_reader;         /* a reader is inside ctrace_read_trace      */
static int q_drained;        /* the reader has seen the end               */
static struct ct_buf *q_reading;
static int q_owner;          /* the writer thread owns reading            */
static __thread int ct_tls_reader_owner;

/* The calling thread (the writer) becomes the only allowed reader. */
void ct_trace_own_reading(int on)
{
    pthread_mutex_lock(&q_lock);
    q_owner = on;
    ct_tls_reader_owner = on;
    pthread_mutex_unlock(&q_lock);
}

/* ---- advancer thread ---- */
static pthread_t adv_thread;
static int adv_running;
static int adv_stop;
static int adv_poke;
static pthread_mutex_t adv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t adv_cond = PTHREAD_COND_INITIALIZER;

static struct ct_symbolizer *symbolizer;
/* Exited threads waiting for their last CPU samples to be drained. */
static struct ct_thread *zombies;

static const char header[GT_HEADER_LEN] = GT_HEADER_GO122;

void ct_queue_buf(struct ct_buf *b)
{
    atomic_fetch_add_explicit(&ct_rt.bytes, (uint64_t)(b->pos - b->start), memory_order_relaxed);
    pthread_mutex_lock(&q_lock);
    int i = (int)(b->gen & 3);
    b->next = NULL;
    if (q[i].tail)
        q[i].tail->next = b;
    else
        q[i].head = b;
    q[i].tail = b;
    if (b->gen == q_out_gen)
        pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

/* ---- membarrier: the advancer's half of the handshake ---- */

static int membarrier_ok;

static void membarrier_setup(void)
{
#if defined(__SANITIZE_THREAD__)
    membarrier_ok = 0; /* ThreadSanitizer cannot see membarrier: use fences */
#else
    long mask = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (mask > 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0)
        membarrier_ok = 1;
#endif
    if (getenv("CTRACE_NO_MEMBARRIER"))
        membarrier_ok = 0;
    ct_use_fence = !membarrier_ok;
}

static void barrier_all_threads(void)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (membarrier_ok) {
        int e = errno;
        if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0) {
            /* Should not happen once registered; fall back for good. */
            ct_use_fence = 1;
            membarrier_ok = 0;
            /* Threads may have skipped the fence before seeing the flag. */
            usleep(1000);
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

/* ---- the generation's tables ---- */

struct table_writer {
    uint64_t gen;
    uint8_t first;  /* EvStacks / EvStrings / EvCPUSamples */
    struct ct_buf *b;
};

static struct ct_buf *tw_room(struct table_writer *w, size_t need)
{
    if (w->b && ct_buf_room_reserved(w->b) >= need)
        return w->b;
    if (w->b) {
        ct_buf_finish(w->b);
        ct_queue_buf(w->b);
    }
    w->b = ct_buf_alloc(w->gen, GT_NO_ID, 0, 1);
    if (w->b)
        ct_buf_put_byte(w->b, w->first);
    return w->b;
}

static void tw_flush(struct table_writer *w)
{
    if (w->b) {
        ct_buf_finish(w->b);
        ct_queue_buf(w->b);
        w->b = NULL;
    }
}

/* Inserts a string into generation gen's table from the advancer. */
static uint64_t adv_string(uint64_t gen, const char *s)
{
    size_t len = strlen(s);
    if (len > GT_MAX_STRING_SIZE)
        len = GT_MAX_STRING_SIZE;
    return ct_dedup_put(&ct_rt.strings[gen & 1], s, (uint32_t)len, ct_hash_bytes(s, len), NULL);
}

struct stack_emit {
    struct table_writer w;
    uint8_t tmp[GT_MAX_FRAMES_PER_STACK * 4 * VARINT_MAX_LEN + 32];
};

static void write_stack(void *arg, const struct ct_dedup_node *n)
{
    struct stack_emit *se = arg;
    const uintptr_t *pcs = (const uintptr_t *)n->data;
    int npcs = (int)(n->len / sizeof(uintptr_t));
    /* Frame count is known only after inline expansion: encode the frames
     * to tmp first. */
    uint8_t *p = se->tmp;
    int nframes = 0;
    for (int i = 0; i < npcs && nframes < GT_MAX_FRAMES_PER_STACK; i++) {
        struct ct_frame fr[8];
        /* pcs[0] of a CPU sample or a start routine is an exact address:
         * such stacks have an odd hash (ct_stack_id_exact). */
        int is_return = !(i == 0 && (n->hash & 1));
        int k = symbolizer ? ct_symbolize(symbolizer, pcs[i], is_return, fr, 8) : 0;
        if (k <= 0) {
            fr[0].pc = pcs[i];
            fr[0].func = "?";
            fr[0].file = "?";
            fr[0].line = 0;
            k = 1;
        }
        /* The interposer's thread trampoline sits between start_thread and
         * the program's start routine: the trace shows the program's own
         * frames, as Go's stacks do not show the scheduler's. */
        if (i > 0 && !strcmp(fr[k - 1].func, "ct_thread_trampoline"))
            continue;
        for (int j = 0; j < k && nframes < GT_MAX_FRAMES_PER_STACK; j++) {
            /* Go 1.23 keys frames by PC: give each inlined caller a PC of
             * its own, outside any user address (bits 48+). */
            uint64_t pc = (uint64_t)pcs[i] + ((uint64_t)j << 48);
            p = varint_put(p, pc);
            p = varint_put(p, adv_string(se->w.gen, fr[j].func));
            p = varint_put(p, adv_string(se->w.gen, fr[j].file));
            p = varint_put(p, fr[j].line);
            nframes++;
        }
    }
    size_t body = (size_t)(p - se->tmp);
    struct ct_buf *b = tw_room(&se->w, body + 1 + 2 * VARINT_MAX_LEN);
    if (!b)
        return;
    ct_buf_put_byte(b, GT_EV_STACK);
    ct_buf_put(b, n->id);
    ct_buf_put(b, (uint64_t)nframes);
    memcpy(b->pos, se->tmp, body);
    b->pos += body;
}

static void write_string(void *arg, const struct ct_dedup_node *n)
{
    struct table_writer *w = arg;
    struct ct_buf *b = tw_room(w, n->len + 1 + 2 * VARINT_MAX_LEN);
    if (!b)
        return;
    ct_buf_put_byte(b, GT_EV_STRING);
    ct_buf_put(b, n->id);
    ct_buf_put(b, n->len);
    memcpy(b->pos, n->data, n->len);
    b->pos += n->len;
}

/* Drains t's CPU samples into generation gen's sample batches. */
static void drain_samples(struct ct_thread *t, struct table_writer *sw)
{
    if (!t->prof)
        return;
    struct ct_sample s;
    while (ct_cpuprof_pop(t->prof, &s)) {
        uint64_t stack = 0;
        if (ct_rt.stack_mode != CTRACE_STACKS_NONE)
            stack = ct_stack_id_exact(sw->gen, s.pcs, (int)s.nframes);
        struct ct_buf *b = tw_room(sw, 1 + 5 * VARINT_MAX_LEN);
        if (!b)
            return;
        ct_buf_put_byte(b, GT_EV_CPU_SAMPLE);
        ct_buf_put(b, s.ts >> ct_clock.shift);
        ct_buf_put(b, t->m);
        ct_buf_put(b, t->p);
        ct_buf_put(b, t->g);
        ct_buf_put(b, stack);
        atomic_fetch_add_explicit(&ct_rt.samples, 1, memory_order_relaxed);
    }
}

/* Writes the statuses of t for gen into a small batch of t's M, unless t
 * claimed them first.  Called with the registry lock held. */
static void claim_status_for(struct ct_thread *t, uint64_t gen)
{
    uint64_t s = atomic_load_explicit(&t->status_gen, memory_order_acquire);
    if (s == gen || (s & CT_STATUS_BUSY) || t->internal)
        return;
    if (!atomic_compare_exchange_strong_explicit(&t->status_gen, &s, gen | CT_STATUS_BUSY,
                                                 memory_order_acq_rel, memory_order_acquire))
        return;
    /* t is now frozen: it cannot write anything of gen until we release. */
    if (ct_state(t) == CT_EXITED) {
        atomic_store_explicit(&t->status_gen, s, memory_order_release);
        return;
    }
    struct ct_buf *b = ct_buf_alloc(gen, t->m, 0, 1);
    if (!b) {
        atomic_store_explicit(&t->status_gen, s, memory_order_release);
        return;
    }
    uint64_t ts = ct_now_ordered() >> ct_clock.shift;
    b->base_ts = b->last_ts = ts;
    int state = ct_state(t);
    if (t->epoch != ct_rt.epoch) {
        /* A thread this trace has not met: introduce it (its P id may have
         * been used by a thread that exited in this trace, so only an Idle
         * P status is safe), then bring it to its state. */
        ct_write_intro(t, b, gen, ts);
        t->epoch = ct_rt.epoch;
        if (state == CT_BLOCKED) {
            uint64_t reason = adv_string(gen, "wait (blocked when tracing started)");
            ct_write_transition(t, b, gen, ts, CT_BLOCKED, reason, 0);
        } else if (state == CT_SYSCALL) {
            ct_write_transition(t, b, gen, ts, CT_SYSCALL, 0, 0);
        }
    } else {
        ct_write_status(t, b, gen, ts);
    }
    /* A thread created but not yet started (RUNNABLE) shows as such or,
     * once introduced, as running: it catches up itself when it runs. */
    if (t->vis_state != state && state != CT_RUNNABLE && t->dark_gen != gen) {
        uint64_t reason = adv_string(gen, "ctrace: state resync after dropped events");
        ct_write_transition(t, b, gen, ts, state, reason, 0);
    }
    ct_buf_finish(b);
    ct_queue_buf(b);
    atomic_store_explicit(&t->status_gen, gen, memory_order_release);
}

/* A thread adopted from /proc that never called into the tracer cannot
 * report its own exit: when its tid is gone, write the exit on its behalf
 * (into a batch of its M, in generation gen) and drop the record.
 * Registry lock held.  Returns 1 if t was freed. */
static int reap_if_dead(struct ct_thread *t, uint64_t gen)
{
    if (atomic_load_explicit(&t->bound, memory_order_acquire) || ct_state(t) == CT_EXITED)
        return 0;
    int e = errno;
    int dead = syscall(SYS_tgkill, (int)getpid(), (int)t->m, 0) != 0 && errno == ESRCH;
    errno = e;
    if (!dead)
        return 0;
    if (t->epoch == ct_rt.epoch && atomic_load(&t->status_gen) == gen) {
        struct ct_buf *b = ct_buf_alloc(gen, t->m, 0, 1);
        if (b) {
            uint64_t ts = ct_now_ordered() >> ct_clock.shift;
            b->base_ts = b->last_ts = ts;
            ct_write_transition(t, b, gen, ts, CT_EXITED, 0, 0);
            ct_buf_finish(b);
            ct_queue_buf(b);
        }
    }
    if (t->prev)
        t->prev->next = t->next;
    else
        ct_registry = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->vis_state == CT_EXITED || t->epoch != ct_rt.epoch)
        ct_pid_free(t->p);
    ct_sampling_thread_stop(t); /* the timer armed on its behalf goes now */
    free(t->prof);
    free(t);
    return 1;
}

/* Moves the trace from generation old to new (0: stop).  ctl_lock held. */
static void advance(uint64_t old, uint64_t newg)
{
    atomic_store_explicit(&ct_gen, newg, memory_order_seq_cst);
    if (!newg)
        __atomic_store_n(&ctrace_enabled_flag, 0, __ATOMIC_RELAXED);
    barrier_all_threads();

    struct table_writer sw = {old, GT_EV_CPU_SAMPLES, NULL};
    pthread_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry, *next; t; t = next) {
        next = t->next;
        if (t->internal)
            continue;
        if (reap_if_dead(t, old))
            continue;
        wait_quiescent(t);
        struct ct_buf *b = t->buf[old & 1];
        if (b && b->gen == old) {
            t->buf[old & 1] = NULL;
            ct_buf_finish(b);
            ct_queue_buf(b);
        }
        drain_samples(t, &sw);
        if (newg)
            claim_status_for(t, newg);
    }
    struct ct_thread *z = zombies;
    zombies = NULL;
    pthread_mutex_unlock(&ct_registry_lock);
    while (z) {
        struct ct_thread *n = z->next;
        drain_samples(z, &sw);
        free(z->prof);
        free(z);
        z = n;
    }
    tw_flush(&sw);

    /* Stacks first: symbolizing them adds function and file names. */
    if (ct_rt.stack_mode != CTRACE_STACKS_NONE && !symbolizer)
        symbolizer = ct_symbolizer_new();
    else
        ct_symbolizer_sync(symbolizer);
    struct stack_emit *se = malloc(sizeof *se);
    if (se) {
        se->w = (struct table_writer){old, GT_EV_STACKS, NULL};
        ct_dedup_each(&ct_rt.stacks[old & 1], write_stack, se);
        tw_flush(&se->w);
        free(se);
    }
    struct table_writer strw = {old, GT_EV_STRINGS, NULL};
    ct_dedup_each(&ct_rt.strings[old & 1], write_string, &strw);
    tw_flush(&strw);
    atomic_fetch_add_explicit(&ct_rt.stacks_dropped,
                              atomic_exchange(&ct_rt.stacks[old & 1].full_misses, 0),
                              memory_order_relaxed);
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

    if (!newg)
        ct_rt.last_gen = old;
    pthread_mutex_lock(&q_lock);
    q_done_gen = old;
    if (!newg)
        q_finished = 1;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

/* Called by an exiting thread after unlinking itself (registry lock held):
 * keeps the record until its last samples are drained. */
void ct_trace_bury(struct ct_thread *t)
{
    t->next = zombies;
    zombies = t;
}

/* ---- the advancer thread ---- */

static void *advancer_main(void *arg)
{
    (void)arg;
    ct_thread_mark_internal();
    pthread_mutex_lock(&adv_lock);
    while (!adv_stop) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        uint64_t ns = (uint64_t)dl.tv_nsec + ct_rt.cfg.period_ns;
        dl.tv_sec += (time_t)(ns / 1000000000u);
        dl.tv_nsec = (long)(ns % 1000000000u);
        while (!adv_stop && !adv_poke) {
            if (pthread_cond_timedwait(&adv_cond, &adv_lock, &dl) == ETIMEDOUT)
                break;
        }
        if (adv_stop)
            break;
        adv_poke = 0;
        pthread_mutex_unlock(&adv_lock);

        pthread_mutex_lock(&ctl_lock);
        uint64_t old = atomic_load(&ct_gen);
        int lag;
        pthread_mutex_lock(&q_lock);
        lag = old >= q_out_gen + 2; /* reader too far behind: wait */
        pthread_mutex_unlock(&q_lock);
        if (old && !lag)
            advance(old, old + 1);
        pthread_mutex_unlock(&ctl_lock);

        pthread_mutex_lock(&adv_lock);
    }
    pthread_mutex_unlock(&adv_lock);
    return NULL;
}

void ct_request_advance(void)
{
    /* Called from traced threads: never block long, never recurse. */
    if (pthread_mutex_trylock(&adv_lock) == 0) {
        adv_poke = 1;
        pthread_cond_signal(&adv_cond);
        pthread_mutex_unlock(&adv_lock);
    }
}

/* ---- start / stop ---- */

/* Registers threads of the process the tracer has not met, with their
 * current state read from /proc, so the first generation shows them. */
static void adopt_existing_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        uint64_t tid = strtoull(de->d_name, NULL, 10);
        int known = 0;
        pthread_mutex_lock(&ct_registry_lock);
        for (struct ct_thread *t = ct_registry; t; t = t->next)
            if (t->m == tid)
                known = 1;
        pthread_mutex_unlock(&ct_registry_lock);
        if (known)
            continue;
        char path[300], buf[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        FILE *f = fopen(path, "re");
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

int ct_trace_start(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    ct_lifecycle_init();
    pthread_once(&once, membarrier_setup);

    pthread_mutex_lock(&ctl_lock);
    pthread_mutex_lock(&q_lock);
    int busy = atomic_load(&ct_gen) != 0 || (q_active && !q_drained);
    pthread_mutex_unlock(&q_lock);
    if (busy) {
        pthread_mutex_unlock(&ctl_lock);
        return CTRACE_EBUSY;
    }
    for (int i = 0; i < 2; i++) {
        if (!ct_rt.strings[i].slots && ct_dedup_init(&ct_rt.strings[i], 1u << 15) != 0)
            goto nomem;
        if (!ct_rt.stacks[i].slots && ct_dedup_init(&ct_rt.stacks[i], 1u << 15) != 0)
            goto nomem;
    }
    ct_buf_set_cap(ct_rt.cfg.mem_cap);
    ct_rt.stack_mode = ct_rt.cfg.stacks;
    ct_rt.epoch++;
    /* Generation numbers keep counting across traces, so that per-thread
     * caches tagged with a generation of an earlier trace never match. */
    ct_rt.first_gen = ct_rt.last_gen + 1;
    ct_rt.pid = getpid();
    atomic_store(&ct_rt.generations, 0);
    atomic_store(&ct_rt.bytes, GT_HEADER_LEN);
    atomic_store(&ct_rt.events_dropped, 0);
    atomic_store(&ct_rt.stacks_dropped, 0);
    atomic_store(&ct_rt.samples, 0);
    atomic_store(&ct_rt.samples_dropped, 0);

    pthread_mutex_lock(&q_lock);
    for (int i = 0; i < 4; i++)
        q[i].head = q[i].tail = NULL;
    q_out_gen = ct_rt.first_gen;
    q_done_gen = 0;
    q_header_sent = 0;
    q_finished = 0;
    q_drained = 0;
    q_active = 1;
    pthread_mutex_unlock(&q_lock);

    adopt_existing_threads();

    /* Statuses of known threads must precede their events: claim them all
     * before any thread can see the generation... */
    pthread_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next) {
        t->dark_gen = 0;
        t->seq_gen = 0;
        struct ct_sample stale; /* samples from between traces */
        while (t->prof && ct_cpuprof_pop(t->prof, &stale)) {
        }
    }
    pthread_mutex_unlock(&ct_registry_lock);
    atomic_store(&ct_gen, ct_rt.first_gen);
    __atomic_store_n(&ctrace_enabled_flag, 1, __ATOMIC_RELAXED);
    barrier_all_threads();
    /* ...which threads that race with us handle through the claim. */
    pthread_mutex_lock(&ct_registry_lock);
    for (struct ct_thread *t = ct_registry; t; t = t->next)
        claim_status_for(t, ct_rt.first_gen);
    pthread_mutex_unlock(&ct_registry_lock);

    ct_sampling_start();

    pthread_mutex_lock(&adv_lock);
    adv_stop = 0;
    adv_poke = 0;
    pthread_mutex_unlock(&adv_lock);
    int e = errno;
    if (ct_start_internal_thread(&adv_thread, advancer_main, NULL) == 0)
        adv_running = 1;
    errno = e;
    pthread_mutex_unlock(&ctl_lock);
    return CTRACE_OK;
nomem:
    pthread_mutex_unlock(&ctl_lock);
    return CTRACE_ENOMEM;
}

int ct_trace_stop(int wait_for_reader)
{
    pthread_mutex_lock(&ctl_lock);
    uint64_t old = atomic_load(&ct_gen);
    if (!old) {
        pthread_mutex_unlock(&ctl_lock);
        return CTRACE_ENOTRACING;
    }
    if (adv_running) {
        /* Only one stopper joins the advancer (the writer thread may stop
         * the trace on a write error while the program stops it too). */
        adv_running = 0;
        pthread_t th = adv_thread;
        pthread_mutex_lock(&adv_lock);
        adv_stop = 1;
        pthread_cond_signal(&adv_cond);
        pthread_mutex_unlock(&adv_lock);
        /* The advancer takes ctl_lock: let it go while we join. */
        pthread_mutex_unlock(&ctl_lock);
        pthread_join(th, NULL);
        pthread_mutex_lock(&ctl_lock);
        old = atomic_load(&ct_gen);
        if (!old) {
            /* Another stopper finished the trace meanwhile. */
            pthread_mutex_unlock(&ctl_lock);
            goto wait;
        }
    }
    advance(old, 0);
    /* After the last advance no thread is inside an event (where timers are
     * armed), so disarming them cannot race with arming. */
    ct_sampling_stop();
    pthread_mutex_unlock(&ctl_lock);
wait:
    if (wait_for_reader) {
        pthread_mutex_lock(&q_lock);
        while (!q_drained)
            pthread_cond_wait(&q_cond, &q_lock);
        pthread_mutex_unlock(&q_lock);
    }
    return CTRACE_OK;
}

/* Abandons a trace without waiting for a reader (fork child, writer
 * failure after the writer gave up): drops every queued byte. */
void ct_trace_discard_queue(void)
{
    pthread_mutex_lock(&q_lock);
    for (int i = 0; i < 4; i++) {
        struct ct_buf *b = q[i].head;
        while (b) {
            struct ct_buf *n = b->next;
            ct_buf_free(b);
            b = n;
        }
        q[i].head = q[i].tail = NULL;
    }
    q_drained = 1;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

/* The reader's waits on q_lock/q_cond must not be traced: an event written
 * while holding q_lock may have to wait for the advancer's status claim,
 * and the claim queues its batch under q_lock (a deadlock the stress test
 * found).  ctrace_read_trace_chunk runs this as tracer-internal code. */
static int read_trace_chunk(const void **chunk, size_t *len)
{
    *chunk = NULL;
    *len = 0;
    pthread_mutex_lock(&q_lock);
    if (q_reader || (q_owner && !ct_tls_reader_owner)) {
        pthread_mutex_unlock(&q_lock);
        return CTRACE_EBUSY;
    }
    if (!q_active) {
        pthread_mutex_unlock(&q_lock);
        return CTRACE_ENOTRACING;
    }
    q_reader = 1;
    if (q_reading) {
        struct ct_buf *b = q_reading;
        q_reading = NULL;
        pthread_mutex_unlock(&q_lock);
        ct_buf_free(b);
        pthread_mutex_lock(&q_lock);
    }
    int r;
    for (;;) {
        if (q_drained) {
            /* The end was returned already: no trace any more. */
            q_active = 0;
            r = CTRACE_ENOTRACING;
            break;
        }
        if (!q_header_sent) {
            q_header_sent = 1;
            *chunk = header;
            *len = GT_HEADER_LEN;
            r = 1;
            break;
        }
        int i = (int)(q_out_gen & 3);
        struct ct_buf *b = q[i].head;
        /* Only buffers of the generation being returned; a later one that
         * shares the slot waits (cannot happen while the advancer stays at
         * most two generations ahead, kept as a guard). */
        if (b && b->gen == q_out_gen) {
            q[i].head = b->next;
            if (!q[i].head)
                q[i].tail = NULL;
            q_reading = b;
            *chunk = b->start;
            *len = (size_t)(b->pos - b->start);
            r = 1;
            break;
        }
        if (q_done_gen >= q_out_gen) {
            q_out_gen++;
            continue;
        }
        if (q_finished) {
            q_drained = 1;
            pthread_cond_broadcast(&q_cond);
            r = 0;
            break;
        }
        pthread_cond_wait(&q_cond, &q_lock);
    }
    q_reader = 0;
    pthread_mutex_unlock(&q_lock);
    return r;
}

int ctrace_read_trace_chunk(const void **chunk, size_t *len)
{
    int e = errno, saved = ct_tls_internal;
    ct_tls_internal = 1;
    int r = read_trace_chunk(chunk, len);
    ct_tls_internal = saved;
    errno = e;
    return r;
}

const void *ctrace_read_trace(size_t *len)
{
    const void *chunk;
    size_t n;
    int r = ctrace_read_trace_chunk(&chunk, &n);
    if (len)
        *len = r == 1 ? n : 0;
    if (r < 0)
        errno = r == CTRACE_EBUSY ? EBUSY : EINVAL;
    return r == 1 ? chunk : NULL;
}

int ctrace_start_trace(void)
{
    int e = errno, saved = ct_tls_internal;
    ct_tls_internal = 1;
    int r = ct_trace_start();
    ct_tls_internal = saved;
    errno = e;
    return r;
}

int ctrace_stop_trace(void)
{
    int e = errno, saved = ct_tls_internal;
    ct_tls_internal = 1;
    int r = ct_trace_stop(1);
    ct_tls_internal = saved;
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
    st->samples = atomic_load(&ct_rt.samples);
    st->samples_dropped = atomic_load(&ct_rt.samples_dropped);
    st->threads = atomic_load(&ct_rt.threads);
}

/* ---- fork ---- */

void ct_trace_atfork_prepare(void)
{
    pthread_mutex_lock(&ctl_lock);
    pthread_mutex_lock(&ct_registry_lock);
    pthread_mutex_lock(&q_lock);
}

void ct_trace_atfork_parent(void)
{
    pthread_mutex_unlock(&q_lock);
    pthread_mutex_unlock(&ct_registry_lock);
    pthread_mutex_unlock(&ctl_lock);
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
void ct_trace_atfork_child(void)
{
    uint64_t g = atomic_load(&ct_gen);
    if (g > ct_rt.last_gen)
        ct_rt.last_gen = g; /* a trace of the child numbers on from here */
    atomic_store(&ct_gen, 0);
    __atomic_store_n(&ctrace_enabled_flag, 0, __ATOMIC_RELAXED);
    pthread_mutex_init(&q_lock, NULL);
    pthread_cond_init(&q_cond, NULL);
    pthread_mutex_init(&ct_registry_lock, NULL);
    pthread_mutex_init(&ctl_lock, NULL);
    pthread_mutex_init(&adv_lock, NULL);
    pthread_cond_init(&adv_cond, NULL);
    adv_running = 0;
    adv_stop = 0;
    q_owner = 0;
    ct_tls_reader_owner = 0;
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
            ct_pid_free(t->p);
            free(t->prof);
            free(t);
        }
        t = n;
    }
    zombies = NULL;
    for (int i = 0; i < 4; i++) {
        struct ct_buf *b = q[i].head;
        while (b) {
            struct ct_buf *n = b->next;
            ct_buf_free(b);
            b = n;
        }
        q[i].head = q[i].tail = NULL;
    }
    if (q_reading)
        ct_buf_free(q_reading);
    q_reading = NULL;
    q_active = 0;
    q_reader = 0;
    q_drained = 1;
    for (int i = 0; i < 2; i++) {
        ct_dedup_reset(&ct_rt.strings[i]);
        ct_dedup_reset(&ct_rt.stacks[i]);
    }
    symbolizer = NULL; /* its state may be mid-update: leak it */
    ct_rt.pid = ct_proc_pid();
    ct_buf_reset_in_use();
}
