/*
 * flight.c - the flight recorder (include/ctrace.h, "Flight recorder"):
 * starting and stopping a trace whose sink is the ring (sink_ring.c),
 * snapshots, and their triggers -- the API, a signal, slow regions and
 * tasks -- and
 * the flight thread that serves the triggers that may not write
 * themselves (a signal handler, a traced thread ending a region).
 *
 * Invariants:
 *  - fl_lock serializes start and stop; snap_lock serializes snapshots
 *    (an API call waits for it; a trigger on the flight thread that finds
 *    it taken is skipped and counted).  Neither is taken by the advancer,
 *    so a snapshot may advance (ct_ctl_lock) while holding snap_lock.
 *  - A snapshot ends the generation in progress (ct_advance under
 *    ct_ctl_lock, as the stop does), pins the ring, writes the header and
 *    the sealed generations, and unpins: every generation up to the
 *    request is in it, whole, and the traced threads only see the early
 *    end of one generation.  The code that advances runs marked as the
 *    tracer's own (ct_tls_internal), so nothing it calls is traced while
 *    it holds ct_ctl_lock; a callback runs unmarked, with no tracer lock
 *    held.
 *  - Triggers from a signal handler or a traced thread only set a bit of
 *    fl_req and wake the flight thread (a futex: async-signal-safe, no
 *    lock).  The flight thread is a tracer thread with every signal
 *    blocked.
 *  - The snapshot signal's handler is installed only over SIG_DFL, and
 *    removed at stop only if it is still ours: a program's handler is
 *    never replaced.
 *  - While the recorder runs, the trace's period is at most MinAge/4 and
 *    its buffer cap is MaxBytes (the ring's bound); both are restored at
 *    stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "env.h"
#include "flight.h"
#include "libc.h"
#include "proc.h"
#include "say.h"
#include "sink.h"
#include "thread.h"
#include "trace.h"

/* Requests to the flight thread (bits of fl_req). */
#define REQ_SIGNAL 1u /* the snapshot signal arrived         */
#define REQ_SLOW 2u   /* a region was slower than its threshold */
#define REQ_SEAL 4u   /* a fatal signal: end the generation now  */
#define REQ_QUIT 8u   /* the recorder stops                      */

static pthread_mutex_t fl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int running;
static ctrace_flight_config fl_cfg;
static char prefix[4096];           /* expanded PREFIX                   */
static uint64_t saved_period, saved_cap;
static int sig_installed;           /* our handler is on fl_cfg.signal   */
static _Atomic int take_sig;        /* the snapshot signal, for stand-ins */
static pthread_t fl_thread;
static int fl_thread_on;
static _Atomic int fl_tid;
static _Atomic uint32_t fl_req;
static _Atomic uint32_t seal_done;
static _Atomic unsigned snap_number;
static _Atomic uint64_t n_snapshots, n_skipped;
static int autostarted;

/* Slow-region thresholds: appended under fl_lock, read without a lock by
 * traced threads (count published with release after the entry). */
#define SLOW_MAX 32
static struct {
    char name[CT_SETTING_SLOW_NAME_MAX + 1];
    size_t len;
    _Atomic uint64_t ns;
} slow[SLOW_MAX];
static _Atomic int slow_count;
static _Atomic uint64_t slow_last_ns;
int ct_flight_slow_armed;


/* Triggers (REQ_SIGNAL, REQ_SLOW) asked for, and those the flight thread
 * has taken up to (trig_done: trig_asked read after it took fl_req, then
 * stored once the snapshot is written): the exit waits for the
 * difference (ct_flight_before_exit). */
static _Atomic uint32_t trig_asked, trig_done;

/* Async-signal-safe: one atomic and one futex call. */
static void request(uint32_t bit)
{
    if (bit & (REQ_SIGNAL | REQ_SLOW))
        atomic_fetch_add(&trig_asked, 1);
    atomic_fetch_or(&fl_req, bit);
    ct_libc_futex_wake(&fl_req);
}

int ct_flight_running(void)
{
    /* Acquire: the configuration written before the start is visible. */
    return atomic_load_explicit(&running, memory_order_acquire);
}

int ctrace_flight_enabled(void)
{
    return ct_flight_running();
}

const char *ct_flight_prefix(void)
{
    return prefix;
}

unsigned ct_flight_next_number(void)
{
    return atomic_fetch_add(&snap_number, 1) + 1;
}

int ct_flight_thread_tid(void)
{
    return atomic_load(&fl_tid);
}

/* ---- configuration ---- */

void ctrace_flight_config_init(ctrace_flight_config *cfg)
{
    if (!cfg)
        return;
    const struct ct_env *env = ct_env();
    cfg->min_age_ns = env->has[CT_ENV_FLIGHT] ? env->flight_age_ns : CT_SETTING_FLIGHT_AGE_DEFAULT;
    cfg->max_bytes = (size_t)env->flight_max;
    cfg->signal = env->flight_signal;
    cfg->crash = env->flight_crash;
    cfg->prefix = env->flight_prefix[0] ? env->flight_prefix : "ctrace-flight";
}

static void add_slow(void *arg, const char *name, size_t len, uint64_t ns);

int ctrace_flight_slow(const char *name, uint64_t threshold_ns)
{
    if (!name || !*name)
        return CTRACE_EINVAL;
    size_t len = strlen(name);
    if (len > CT_SETTING_SLOW_NAME_MAX)
        return CTRACE_EINVAL;
    int r = CTRACE_OK;
    add_slow(&r, name, len, threshold_ns);
    return r;
}

/* Sets name's threshold (arg: an int result, CTRACE_EINVAL when full). */
static void add_slow(void *arg, const char *name, size_t len, uint64_t ns)
{
    ct_libc_mutex_lock(&fl_lock);
    int n = atomic_load(&slow_count), i;
    for (i = 0; i < n; i++)
        if (slow[i].len == len && !memcmp(slow[i].name, name, len))
            break;
    if (i == n) {
        if (n == SLOW_MAX) {
            *(int *)arg = CTRACE_EINVAL;
            ct_libc_mutex_unlock(&fl_lock);
            return;
        }
        memcpy(slow[i].name, name, len);
        slow[i].name[len] = 0;
        slow[i].len = len;
        atomic_store(&slow[i].ns, ns);
        atomic_store_explicit(&slow_count, n + 1, memory_order_release);
    } else {
        atomic_store(&slow[i].ns, ns);
    }
    __atomic_store_n(&ct_flight_slow_armed, 1, __ATOMIC_RELAXED);
    ct_libc_mutex_unlock(&fl_lock);
}

/* The threshold entry of name (len bytes), or -1. */
static int slow_find(const char *name, size_t len)
{
    int n = atomic_load_explicit(&slow_count, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (slow[i].len == len && !memcmp(slow[i].name, name, len))
            return i;
    return -1;
}

/* Entry i's region or task lasted dur_ns: a snapshot if past its
 * threshold, rate limited (one per MinAge: the next would mostly repeat
 * it). */
static void slow_check(int i, uint64_t dur_ns)
{
    uint64_t th = atomic_load_explicit(&slow[i].ns, memory_order_relaxed);
    if (!th || dur_ns < th)
        return;
    uint64_t now = ct_mono_ns(), last = atomic_load(&slow_last_ns);
    if ((last && now - last < fl_cfg.min_age_ns) ||
        !atomic_compare_exchange_strong(&slow_last_ns, &last, now)) {
        atomic_fetch_add(&n_skipped, 1);
        return;
    }
    request(REQ_SLOW);
}

void ct_flight_region_ended(const char *name, size_t len, uint64_t dur_ns)
{
    if (!ct_flight_running())
        return;
    int i = slow_find(name, len);
    if (i >= 0)
        slow_check(i, dur_ns);
}

/*
 * Tasks with a threshold: their handles and begin times, in a small open
 * table (tasks may end on another thread).  A slot is claimed by CAS of
 * its id from 0 to TASK_BUSY, filled, then published (release) with the
 * task's handle; the end finds it (acquire), reads it and frees it.  At
 * most TASK_PROBE slots are tried: a task that finds none is not timed
 * (counted in snapshots_skipped).
 */
#define TASK_SLOTS 256
#define TASK_PROBE 16
#define TASK_BUSY UINT64_MAX
static struct {
    _Atomic uint64_t id;
    uint64_t begin_ns;
    int slow;
} open_tasks[TASK_SLOTS];

static unsigned task_slot(uint64_t id, int k)
{
    return ((unsigned)((id * 0x9E3779B97F4A7C15ull) >> 56) + (unsigned)k) & (TASK_SLOTS - 1);
}

void ct_flight_task_begun(uint64_t task, const char *name)
{
    if (!task || !ct_flight_running())
        return;
    size_t len = strnlen(name, CT_SETTING_SLOW_NAME_MAX + 1);
    int i = len <= CT_SETTING_SLOW_NAME_MAX ? slow_find(name, len) : -1;
    if (i < 0)
        return;
    for (int k = 0; k < TASK_PROBE; k++) {
        unsigned s = task_slot(task, k);
        uint64_t zero = 0;
        if (atomic_compare_exchange_strong(&open_tasks[s].id, &zero, TASK_BUSY)) {
            open_tasks[s].begin_ns = ct_mono_ns();
            open_tasks[s].slow = i;
            atomic_store_explicit(&open_tasks[s].id, task, memory_order_release);
            return;
        }
    }
    atomic_fetch_add(&n_skipped, 1);
}

void ct_flight_task_ended(uint64_t task)
{
    if (!task)
        return;
    for (int k = 0; k < TASK_PROBE; k++) {
        unsigned s = task_slot(task, k);
        if (atomic_load_explicit(&open_tasks[s].id, memory_order_acquire) != task)
            continue;
        uint64_t dur = ct_mono_ns() - open_tasks[s].begin_ns;
        int i = open_tasks[s].slow;
        uint64_t expect = task;
        if (!atomic_compare_exchange_strong(&open_tasks[s].id, &expect, 0))
            return; /* ended twice at once: the other one times it */
        if (ct_flight_running())
            slow_check(i, dur);
        return;
    }
}

/* ---- snapshots ---- */

typedef int (*out_fn)(void *arg, const void *data, size_t len);

/* Writes all of data to fd; 0 or an errno value. */
static int out_fd(void *arg, const void *data, size_t len)
{
    int fd = (int)(intptr_t)arg;
    const char *p = data;
    while (len) {
        ssize_t n = ct_libc_write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (ct_libc_poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return errno;
            continue;
        }
        if (n <= 0)
            return n < 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Ends the generation in progress, so that the snapshot holds every event
 * up to now.  ct_ctl_lock is taken: the caller must be marked internal. */
static void seal_current(void)
{
    ct_libc_mutex_lock(&ct_ctl_lock);
    uint64_t g = atomic_load(&ct_gen);
    if (g && ct_sink_current == ct_ring_sink())
        ct_advance(g, g + 1);
    ct_libc_mutex_unlock(&ct_ctl_lock);
}

/* The snapshot itself; snap_lock held.  program_fn: fn is the program's
 * callback, run with the caller's own ct_tls_internal (its events are
 * traced as usual; no tracer lock is held meanwhile). */
static int snapshot_locked(out_fn fn, void *arg, int program_fn)
{
    if (!ct_flight_running())
        return CTRACE_ENOTRACING;
    int was_internal = ct_tls_internal;
    ct_tls_internal = 1;
    seal_current();
    struct ct_ring_view v;
    ct_ring_pin(&v);
    static const char header[GT_HEADER_LEN] = GT_HEADER_GO122;
    if (program_fn)
        ct_tls_internal = was_internal;
    int e = fn(arg, header, GT_HEADER_LEN);
    for (struct ct_ring_gen *g = v.first; g && !e; g = g == v.last ? NULL : g->next)
        for (struct ct_buf *b = g->head; b && !e; b = b->next)
            e = fn(arg, b->start, (size_t)(b->pos - b->start));
    ct_tls_internal = 1;
    ct_ring_unpin();
    ct_tls_internal = was_internal;
    if (e) {
        errno = e;
        return CTRACE_EWRITE;
    }
    atomic_fetch_add(&n_snapshots, 1);
    return CTRACE_OK;
}

static int snapshot(out_fn fn, void *arg, int program_fn)
{
    ct_libc_mutex_lock(&snap_lock);
    int r = snapshot_locked(fn, arg, program_fn);
    ct_libc_mutex_unlock(&snap_lock);
    return r;
}

int ctrace_flight_write_fd(int fd)
{
    if (fd < 0)
        return CTRACE_EINVAL;
    int e = errno;
    int r = snapshot(out_fd, (void *)(intptr_t)fd, 0);
    if (r != CTRACE_EWRITE)
        errno = e;
    return r;
}

int ctrace_flight_write(ctrace_write_fn fn, void *arg)
{
    if (!fn)
        return CTRACE_EINVAL;
    int e = errno;
    int r = snapshot(fn, arg, 1);
    if (r != CTRACE_EWRITE)
        errno = e;
    return r;
}

/* Opens path (already expanded) and writes a snapshot into it. */
static int snapshot_to_path_locked(const char *full)
{
    if (!ct_flight_running())
        return CTRACE_ENOTRACING;
    int fd = ct_open_trace_file(full);
    if (fd < 0)
        return CTRACE_EOPEN;
    int r = snapshot_locked(out_fd, (void *)(intptr_t)fd, 0);
    int e = errno;
    if (ct_libc_close(fd) != 0 && r == CTRACE_OK) {
        e = errno;
        r = CTRACE_EWRITE;
    }
    errno = e;
    return r;
}

int ctrace_flight_write_file(const char *path)
{
    char full[4096];
    if (!path || !*path || ct_expand_path(path, full, sizeof full) != 0)
        return CTRACE_EINVAL;
    int e = errno;
    ct_libc_mutex_lock(&snap_lock);
    int r = snapshot_to_path_locked(full);
    ct_libc_mutex_unlock(&snap_lock);
    if (r != CTRACE_EWRITE && r != CTRACE_EOPEN)
        errno = e;
    return r;
}

/* A triggered snapshot, on the flight thread: PREFIX.PID.N.trace, or
 * skipped (counted) if another is being written. */
static void triggered_snapshot(void)
{
    if (ct_libc_mutex_trylock(&snap_lock) != 0) {
        atomic_fetch_add(&n_skipped, 1);
        return;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s.%d.%u.trace", prefix, (int)ct_proc_pid(),
             ct_flight_next_number());
    if (snapshot_to_path_locked(path) != CTRACE_OK)
        atomic_fetch_add(&n_skipped, 1);
    ct_libc_mutex_unlock(&snap_lock);
}

/* ---- the flight thread ---- */

static void *flight_main(void *arg)
{
    (void)arg;
    atomic_store(&fl_tid, (int)syscall(SYS_gettid));
    for (;;) {
        uint32_t r = atomic_exchange(&fl_req, 0);
        uint32_t asked = atomic_load(&trig_asked);
        if (!r) {
            ct_libc_futex_wait(&fl_req, 0, -1);
            continue;
        }
        if (r & REQ_SEAL) {
            seal_current();
            atomic_store(&seal_done, 1);
            ct_libc_futex_wake(&seal_done);
        }
        if (r & REQ_QUIT)
            break;
        if (r & (REQ_SIGNAL | REQ_SLOW)) {
            triggered_snapshot();
            atomic_store(&trig_done, asked);
            ct_libc_futex_wake(&trig_done);
        }
    }
    atomic_store(&fl_tid, 0);
    return NULL;
}

int ct_flight_seal_now(long wait_ms)
{
    if (!atomic_load(&fl_tid))
        return 0;
    atomic_store(&seal_done, 0);
    request(REQ_SEAL);
    uint64_t deadline = ct_mono_ns() + (uint64_t)wait_ms * 1000000u;
    while (!atomic_load(&seal_done)) {
        uint64_t now = ct_mono_ns();
        if (now >= deadline)
            return 0;
        ct_libc_futex_wait(&seal_done, 0, (long)((deadline - now) / 1000000u) + 1);
    }
    return 1;
}

/* ---- the snapshot signal ----
 * Two ways in: our handler, installed over SIG_DFL, or -- where the
 * tracer's stand-in for SIG_DFL already stands there (every signal whose
 * default action kills: CT_FATAL_SIGNALS) -- the stand-in, which asks
 * ct_flight_take_signal first. */

int ct_flight_take_signal(int sig)
{
    if (sig <= 0 || atomic_load(&take_sig) != sig || !ct_flight_running())
        return 0;
    request(REQ_SIGNAL);
    return 1;
}

static void snapshot_signal_handler(int sig)
{
    (void)sig;
    int e = errno;
    request(REQ_SIGNAL);
    errno = e;
}

static void install_signal(int sig)
{
    struct sigaction cur, sa;
    if (sig <= 0 || ct_libc_sigaction(sig, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO))
        return;
    if (cur.sa_handler == snapshot_signal_handler) {
        sig_installed = 1; /* a fork child's, inherited */
        return;
    }
    if (cur.sa_handler != SIG_DFL)
        return; /* the program's own: never stolen */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = snapshot_signal_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sig_installed = ct_libc_sigaction(sig, &sa, NULL) == 0;
}

static void remove_signal(int sig)
{
    struct sigaction cur, dfl;
    if (!sig_installed)
        return;
    sig_installed = 0;
    if (ct_libc_sigaction(sig, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
        cur.sa_handler != snapshot_signal_handler)
        return; /* replaced by the program meanwhile: its own now */
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    ct_libc_sigaction(sig, &dfl, NULL);
}

/* ---- start / stop ---- */

static int flight_start_locked(const ctrace_flight_config *cfg)
{
    if (ct_flight_running() || CT_ENABLED() || ct_writer_active() || ct_fifo_unread())
        return CTRACE_EBUSY;
    if (cfg->min_age_ns < 1000000u || cfg->max_bytes < CT_SETTING_FLIGHT_MAX_MIN ||
        cfg->signal < 0 || cfg->signal > 64 || cfg->signal == SIGKILL || cfg->signal == SIGSTOP)
        return CTRACE_EINVAL;
    const char *pre = cfg->prefix && *cfg->prefix ? cfg->prefix : "ctrace-flight";
    if (ct_expand_path(pre, prefix, sizeof prefix - 64) != 0)
        return CTRACE_EINVAL;
    fl_cfg = *cfg;
    fl_cfg.prefix = prefix;
    ct_ring_configure(cfg->min_age_ns, cfg->max_bytes);
    saved_period = ct_rt.cfg.period_ns;
    saved_cap = ct_rt.cfg.mem_cap;
    uint64_t period = cfg->min_age_ns / 4;
    if (period < CT_SETTING_PERIOD_MIN_NS)
        period = CT_SETTING_PERIOD_MIN_NS;
    if (period < ct_rt.cfg.period_ns)
        ct_rt.cfg.period_ns = period;
    ct_rt.cfg.mem_cap = cfg->max_bytes;
    atomic_store(&fl_req, 0);
    atomic_store(&running, 1); /* before the first put: puts check nothing */
    int r = ct_trace_start(ct_ring_sink());
    if (r != CTRACE_OK) {
        atomic_store(&running, 0);
        ct_rt.cfg.period_ns = saved_period;
        ct_rt.cfg.mem_cap = saved_cap;
        return r;
    }
    fl_thread_on = ct_start_internal_thread(&fl_thread, flight_main, NULL) == 0;
    install_signal(cfg->signal);
    atomic_store(&take_sig, cfg->signal);
    return CTRACE_OK;
}

int ctrace_flight_start(const ctrace_flight_config *cfg)
{
    ctrace_flight_config def;
    int r0 = ct_proc_before_start();
    if (r0)
        return r0;
    int e = errno;
    ct_lifecycle_init();
    if (!cfg) {
        ctrace_flight_config_init(&def);
        cfg = &def;
    }
    ct_libc_mutex_lock(&fl_lock);
    int r = flight_start_locked(cfg);
    ct_libc_mutex_unlock(&fl_lock);
    errno = e;
    return r;
}

int ctrace_flight_stop(void)
{
    int e = errno;
    ct_libc_mutex_lock(&fl_lock);
    if (!ct_flight_running()) {
        ct_libc_mutex_unlock(&fl_lock);
        errno = e;
        return CTRACE_ENOTRACING;
    }
    atomic_store(&take_sig, 0);
    remove_signal(fl_cfg.signal);
    /* No snapshot in progress once we hold snap_lock; none starts after. */
    ct_libc_mutex_lock(&snap_lock);
    atomic_store(&running, 0);
    ct_libc_mutex_unlock(&snap_lock);
    if (fl_thread_on) {
        request(REQ_QUIT);
        ct_join_internal_thread(fl_thread);
        fl_thread_on = 0;
    }
    int was_internal = ct_tls_internal;
    ct_tls_internal = 1;
    ct_trace_stop();
    ct_tls_internal = was_internal;
    ct_ring_drop_all();
    ct_rt.cfg.period_ns = saved_period;
    ct_rt.cfg.mem_cap = saved_cap;
    ct_libc_mutex_unlock(&fl_lock);
    ct_buf_pool_trim();
    errno = e;
    return CTRACE_OK;
}

void ctrace_flight_get_stats(ctrace_flight_stats *st)
{
    if (!st)
        return;
    st->snapshots = atomic_load(&n_snapshots);
    st->snapshots_skipped = atomic_load(&n_skipped);
    ct_ring_stats(&st->generations_dropped, &st->bytes_held);
}

/* ---- the environment (ctrace run --flight) ---- */

int ct_flight_autostart(void)
{
    const struct ct_env *env = ct_env();
    if (env->flight_slow[0]) {
        int r = CTRACE_OK;
        ct_parse_slow_list(env->flight_slow, add_slow, &r);
    }
    if (!env->has[CT_ENV_FLIGHT])
        return 0;
    int r = ctrace_flight_start(NULL);
    if (r != CTRACE_OK) {
        ct_say("ctrace: cannot start the flight recorder: %s\n", ctrace_strerror(r));
        return 0;
    }
    __atomic_store_n(&autostarted, 1, __ATOMIC_RELEASE);
    return 1;
}

int ct_flight_is_auto(void)
{
    return __atomic_load_n(&autostarted, __ATOMIC_ACQUIRE) && ct_flight_running();
}

void ct_flight_before_exit(void)
{
    int tid = atomic_load(&fl_tid);
    if (!ct_flight_running() || !tid || tid == ct_libc_gettid())
        return;
    uint64_t deadline = ct_mono_ns() + 5000000000u;
    for (;;) {
        uint32_t done = atomic_load(&trig_done);
        if ((int32_t)(atomic_load(&trig_asked) - done) <= 0)
            return;
        uint64_t now = ct_mono_ns();
        if (now >= deadline)
            return; /* the flight thread is stuck (a lock this thread holds) */
        ct_libc_futex_wait(&trig_done, done, (long)((deadline - now) / 1000000u) + 1);
    }
}

int ct_flight_stop_auto(void)
{
    if (!__atomic_exchange_n(&autostarted, 0, __ATOMIC_ACQ_REL))
        return 0;
    return ctrace_flight_stop() == CTRACE_OK;
}

/* Fork child: the recorder, its thread and its ring are the parent's.
 * Returns 1 if the child should start a recorder of its own (one started
 * from the environment: its snapshots carry the child's pid); proc.c does
 * that once the trace state is reset. */
int ct_flight_atfork_child(void)
{
    pthread_mutex_init(&fl_lock, NULL);
    pthread_mutex_init(&snap_lock, NULL);
    int was = atomic_exchange(&running, 0);
    atomic_store(&take_sig, 0);
    fl_thread_on = 0;
    atomic_store(&fl_tid, 0);
    atomic_store(&fl_req, 0);
    atomic_store(&trig_asked, 0);
    atomic_store(&trig_done, 0);
    if (was) {
        ct_rt.cfg.period_ns = saved_period;
        ct_rt.cfg.mem_cap = saved_cap;
    }
    int restart = was && autostarted;
    autostarted = 0;
    return restart;
}
