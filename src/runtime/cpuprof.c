/*
 * cpuprof.c - CPU profile samples through per-thread CPU-time timers and a
 * chaining SIGPROF handler (see cpuprof.h).
 *
 * Invariants:
 *  - A SIGPROF is ours iff si_code == SI_TIMER and si_value.sival_ptr is the
 *    calling thread's current struct ct_cpuprof_thread (cp_self) or one it
 *    retired recently (cp_retired: a signal already queued when the timer
 *    was deleted is still delivered, and must not reach the program's
 *    handler or, worse, SIGPROF's default action, which kills).  Timers are
 *    SIGEV_THREAD_ID, so our signals only ever arrive on the owning thread,
 *    and comparing against thread-local pointers is enough: we never
 *    dereference a sival_ptr we did not just recognise as cp_self.
 *  - The handler is async-signal-safe: thread-local reads (initial-exec TLS,
 *    no allocation on first touch), ct_now(), ct_unwind_from_ucontext(),
 *    the ring write, and for forwarding only sigprocmask/sigaction/raise.
 *    It saves errno on entry and restores it on every path.
 *  - Ring: single producer (the owning thread's handler; SIGPROF is blocked
 *    while it runs, so it never nests), single consumer (the advancer,
 *    advance.c, and trace start, both under ct_ctl_lock).  The producer
 *    publishes a slot with a release store of head; the consumer
 *    reads the slot after an acquire load of head and frees it with a
 *    release store of tail, which the producer acquires before reuse.
 *  - Timers armed on another thread (ct_cpuprof_other_start) carry the
 *    address of their slot in other_slots[] as sival_ptr: recognised by
 *    address range alone; the slot's tid must be the calling thread's before
 *    its pt is used, so a late signal of a reused slot is dropped, never
 *    written into another thread's ring.  other_mu serializes arming and
 *    disarming (never taken in the handler); a thread's own start takes it
 *    too, so a thread never has both kinds of timer at once.
 *  - Signals that are not ours go to the disposition that was in place when
 *    ct_cpuprof_install() ran: its handler (with its sa_mask added), nothing
 *    for SIG_IGN, and for SIG_DFL the default action, i.e. the process is
 *    terminated by SIGPROF exactly as it would have been without ctrace.
 */
#define _GNU_SOURCE
#include "cpuprof.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "ctrace.h"
#include "hooks.h"
#include "libc.h"
#include "spinlock.h"
#include "proc.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif
#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

#define CT_TLS __thread __attribute__((tls_model("initial-exec")))
#define RETIRED_SLOTS 4

static CT_TLS struct ct_cpuprof_thread *cp_self;
static CT_TLS void *cp_retired[RETIRED_SLOTS];
static CT_TLS unsigned cp_retired_next;

/* The program's SIGPROF disposition: captured when ours is installed, and
 * replaced by every sigaction/signal(SIGPROF) the program makes while ours
 * stays installed (ct_sigprof_action, from the interposers).  Written under
 * cp_lock with every signal blocked; the handler reads it through the
 * sequence counter old_seq (odd while a write is in progress), word by
 * word, and retries if a write overlapped.  The SA_RESETHAND emulation
 * keeps its own flag. */
static struct sigaction old_sa;
static _Atomic unsigned old_seq;
static _Atomic int installed;
static _Atomic int old_reset_done; /* SA_RESETHAND consumed */
static _Atomic int live_timers;
static ct_spinlock cp_lock = CT_SPINLOCK_INIT; /* every signal blocked while held */
static CT_TLS int cp_lock_held; /* this thread holds cp_lock */

static void cp_lock_take(sigset_t *old)
{
    ct_spin_lock(&cp_lock, old);
    cp_lock_held = 1;
}

static void cp_lock_give(const sigset_t *old)
{
    cp_lock_held = 0;
    ct_spin_unlock(&cp_lock, old);
}

#define SA_WORDS (sizeof(struct sigaction) / sizeof(unsigned long))
_Static_assert(sizeof(struct sigaction) % sizeof(unsigned long) == 0, "sigaction in words");

/* Writer side of old_sa (cp_lock held). */
static void old_sa_store(const struct sigaction *a)
{
    unsigned long w[SA_WORDS];
    memcpy(w, a, sizeof w);
    unsigned long *dst = (unsigned long *)(void *)&old_sa;
    unsigned seq = atomic_load_explicit(&old_seq, memory_order_relaxed);
    atomic_store_explicit(&old_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < SA_WORDS; i++)
        __atomic_store_n(&dst[i], w[i], __ATOMIC_RELAXED);
    atomic_store_explicit(&old_seq, seq + 2, memory_order_release);
    atomic_store(&old_reset_done, 0);
}

/* Reader side: a consistent copy, from any context (async-signal-safe). */
static void old_sa_load(struct sigaction *out)
{
    unsigned long w[SA_WORDS];
    const unsigned long *src = (const unsigned long *)(const void *)&old_sa;
    for (;;) {
        unsigned s1 = atomic_load_explicit(&old_seq, memory_order_acquire);
        if (s1 & 1)
            continue;
        for (size_t i = 0; i < SA_WORDS; i++)
            w[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&old_seq, memory_order_relaxed) == s1)
            break;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, w, sizeof w);
}

/* The program's disposition as it should see it now. */
static void program_action(struct sigaction *o)
{
    old_sa_load(o);
    if ((o->sa_flags & SA_RESETHAND) && atomic_load(&old_reset_done)) {
        memset(o, 0, sizeof *o);
        o->sa_handler = SIG_DFL;
    }
}

/* Timers armed from outside (see cpuprof.h). */
struct other_slot {
    _Atomic pid_t tid;
    struct ct_cpuprof_thread *_Atomic pt; /* NULL: free (or retired)     */
    timer_t timer;
    int live;
};
static struct other_slot other_slots[CT_OTHER_SLOTS];
static pthread_mutex_t other_mu = PTHREAD_MUTEX_INITIALIZER;

static struct other_slot *other_slot_of(void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)other_slots;
    if (a < lo || a >= lo + sizeof other_slots || (a - lo) % sizeof other_slots[0])
        return NULL;
    return (struct other_slot *)p;
}

/* Fork child: only the forking thread exists, no timer was inherited, and
 * no SIGPROF is pending.  Its thread-local state still names the parent's
 * ring (which the runtime drops in the child), the timer table the
 * parent's timers: forget both, so that the child's trace arms its own.
 * The locks another thread may have held at the fork are reset.  Called by
 * the runtime's one fork-child handler (proc.c), before the child can start
 * a trace of its own. */
void ct_cpuprof_atfork_child(void)
{
    cp_self = NULL;
    for (int i = 0; i < RETIRED_SLOTS; i++)
        cp_retired[i] = NULL;
    atomic_store(&live_timers, 0);
    for (int i = 0; i < CT_OTHER_SLOTS; i++) {
        atomic_store(&other_slots[i].pt, NULL);
        atomic_store(&other_slots[i].tid, 0);
        other_slots[i].live = 0;
    }
    ct_spin_reset(&cp_lock);
    cp_lock_held = 0;
    /* A write another thread had half done stays half done, but readers
     * must not wait for it. */
    unsigned seq = atomic_load(&old_seq);
    if (seq & 1)
        atomic_store(&old_seq, seq + 1);
    pthread_mutex_init(&other_mu, NULL);
}

static int is_retired(void *p)
{
    for (int i = 0; i < RETIRED_SLOTS; i++)
        if (cp_retired[i] == p)
            return 1;
    return 0;
}

static void take_sample(struct ct_cpuprof_thread *pt, ucontext_t *uc, int unbounded)
{
    uint32_t h = atomic_load_explicit(&pt->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&pt->tail, memory_order_acquire);
    if (h - t >= CT_SAMPLE_RING) {
        atomic_fetch_add_explicit(&pt->dropped, 1, memory_order_relaxed);
        return;
    }
    struct ct_sample *s = &pt->ring[h % CT_SAMPLE_RING];
    s->ts = ct_now();
    int n = unbounded ? ct_unwind_from_ucontext_checked(uc, s->pcs, CT_SAMPLE_MAX_FRAMES)
                      : ct_unwind_from_ucontext(pt->bounds, uc, s->pcs, CT_SAMPLE_MAX_FRAMES);
    s->nframes = n > 0 ? (uint32_t)n : 0;
    atomic_store_explicit(&pt->head, h + 1, memory_order_release);
}

/* Hands a signal that is not ours to the program's disposition. */
static void forward(int sig, siginfo_t *si, void *uc, int saved_errno)
{
    struct sigaction o;
    program_action(&o);
    if (!(o.sa_flags & SA_SIGINFO) && o.sa_handler == SIG_IGN) {
        errno = saved_errno;
        return;
    }
    if (!(o.sa_flags & SA_SIGINFO) && o.sa_handler == SIG_DFL) {
        /* Default action of SIGPROF: terminate.  Restore it, then let the
         * signal be delivered again with SIGPROF unblocked.  Should the
         * process survive (someone installed a handler meanwhile), carry on
         * without re-installing anything. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ct_libc_sigaction(sig, &dfl, NULL);
        atomic_store(&installed, 0);
        raise(sig);
        sigset_t un;
        sigemptyset(&un);
        sigaddset(&un, sig);
        sigprocmask(SIG_UNBLOCK, &un, NULL);
        errno = saved_errno;
        return;
    }
    if (o.sa_flags & SA_RESETHAND)
        atomic_store(&old_reset_done, 1);
    /* Run the program's handler with the mask it asked for. */
    sigset_t prev;
    sigprocmask(SIG_BLOCK, &o.sa_mask, &prev);
    errno = saved_errno;
    if (o.sa_flags & SA_SIGINFO)
        o.sa_sigaction(sig, si, uc);
    else
        o.sa_handler(sig);
    int e = errno;
    sigprocmask(SIG_SETMASK, &prev, NULL);
    errno = e; /* the program's handler owns errno on this path */
}

static void sigprof_handler(int sig, siginfo_t *si, void *ucv)
{
    int saved_errno = errno;
    if (si && si->si_code == SI_TIMER) {
        void *p = si->si_value.sival_ptr;
        struct ct_cpuprof_thread *self = cp_self;
        struct other_slot *os = other_slot_of(p);
        if (os != NULL) {
            /* Armed from outside: ours in any case. */
            struct ct_cpuprof_thread *pt = atomic_load_explicit(&os->pt, memory_order_acquire);
            if (pt != NULL && atomic_load_explicit(&os->tid, memory_order_relaxed) ==
                                  (pid_t)syscall(SYS_gettid))
                take_sample(pt, (ucontext_t *)ucv, 1);
            errno = saved_errno;
            return;
        }
        if (p != NULL && p == (void *)self) {
            take_sample(self, (ucontext_t *)ucv, 0);
            errno = saved_errno;
            return;
        }
        if (p != NULL && is_retired(p)) {
            errno = saved_errno; /* ours, late: drop */
            return;
        }
    }
    forward(sig, si, ucv, saved_errno); /* leaves errno as it should be */
}

int ct_cpuprof_install(void)
{
    int saved_errno = errno;
    int rc = 0;
    sigset_t mask;
    cp_lock_take(&mask);
    if (!atomic_load(&installed)) {
        struct sigaction cur, sa;
        if (ct_libc_sigaction(SIGPROF, NULL, &cur) != 0) {
            rc = CTRACE_ESYS;
            goto out;
        }
        if (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == sigprof_handler))
            old_sa_store(&cur); /* keep the previous one if ours is still in place */
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = sigprof_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (ct_libc_sigaction(SIGPROF, &sa, NULL) != 0) {
            rc = CTRACE_ESYS;
            goto out;
        }
        atomic_store(&installed, 1);
    }
out:
    cp_lock_give(&mask);
    errno = saved_errno;
    return rc;
}

void ct_cpuprof_uninstall(void)
{
    int saved_errno = errno;
    sigset_t mask;
    cp_lock_take(&mask);
    /* With timers still live, a late signal would meet the program's
     * disposition -- possibly SIG_DFL, which kills.  Keep our handler then;
     * it forwards everything that is not ours anyway. */
    if (atomic_load(&installed) && atomic_load(&live_timers) == 0) {
        struct sigaction cur;
        if (ct_libc_sigaction(SIGPROF, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
            cur.sa_sigaction == sigprof_handler) {
            struct sigaction o;
            program_action(&o);
            ct_libc_sigaction(SIGPROF, &o, NULL);
        }
        /* else: replaced behind our back (raw rt_sigaction); leave it. */
        atomic_store(&installed, 0);
    }
    cp_lock_give(&mask);
    errno = saved_errno;
}

int ct_sigprof_action(const struct sigaction *act, struct sigaction *old)
{
    sigset_t mask;
    struct sigaction prev;
    int r = 0;
    if (cp_lock_held) {
        /* Only if libc's sigaction was never handed over and the plain
         * name led back to our wrapper: never spin on our own lock. */
        errno = ENOSYS;
        return -1;
    }
    cp_lock_take(&mask);
    if (atomic_load(&installed)) {
        /* Ours stays in the kernel; the program's choice becomes what
         * forward() runs, and what it is told it has. */
        program_action(&prev);
        if (act)
            old_sa_store(act);
    } else {
        r = ct_libc_sigaction(SIGPROF, act, &prev);
    }
    int e = errno;
    cp_lock_give(&mask);
    if (r == 0 && old)
        *old = prev;
    errno = e;
    return r;
}

/* A timer on clock clk that sends SIGPROF to thread tid with value. */
static int create_timer(clockid_t clk, pid_t tid, void *value, timer_t *out)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev.sigev_value.sival_ptr = value;
    sev.sigev_notify_thread_id = tid;
    return timer_create(clk, &sev, out);
}

static void other_stop_locked(struct ct_cpuprof_thread *pt);
static void other_disarm(struct other_slot *x);
static int arm(timer_t timer, unsigned hz, pid_t tid);

static int thread_start_locked(struct ct_cpuprof_thread *pt, const struct ct_stack_bounds *bounds,
                               unsigned hz);

int ct_cpuprof_thread_start(struct ct_cpuprof_thread *pt, const struct ct_stack_bounds *bounds,
                            unsigned hz)
{
    if (pt == NULL || hz == 0)
        return CTRACE_EINVAL;
    int saved_errno = errno;
    if (cp_self != NULL && cp_self != pt)
        return CTRACE_EBUSY;
    if (cp_self == pt && atomic_load(&pt->timer_live))
        return CTRACE_OK;
    ct_libc_mutex_lock(&other_mu);
    other_stop_locked(pt); /* armed from outside until now: ours replaces it */
    int r = thread_start_locked(pt, bounds, hz);
    ct_libc_mutex_unlock(&other_mu);
    errno = saved_errno;
    return r;
}

/* A thread that blocks SIGPROF never takes a sample: liblzma's workers
 * (xz -T) start with every signal blocked.  When the program has no SIGPROF
 * handler of its own (default or ignore), no SIGPROF of the program's is
 * handled differently for the change, so the calling thread unblocks it.
 * With a handler of the program's, its mask is the program's business. */
static void unblock_sigprof_if_unhandled(void)
{
    struct sigaction o;
    program_action(&o);
    if ((o.sa_flags & SA_SIGINFO) || (o.sa_handler != SIG_DFL && o.sa_handler != SIG_IGN))
        return;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static int thread_start_locked(struct ct_cpuprof_thread *pt, const struct ct_stack_bounds *bounds,
                               unsigned hz)
{
    pt->bounds = bounds;
    if (cp_self == NULL && !atomic_load(&pt->other_used)) {
        /* First start: the ring is not in use.  A restart (the timer was
         * stopped from another thread at the end of a trace, leaving cp_self
         * set so late signals stay recognised), or a ring a timer armed from
         * outside filled, is kept: the consumer may be reading it. */
        atomic_store_explicit(&pt->dropped, 0, memory_order_relaxed);
        atomic_store_explicit(&pt->head, 0, memory_order_relaxed);
        atomic_store_explicit(&pt->tail, 0, memory_order_relaxed);
    }
    atomic_store(&pt->timer_live, 0);
    if (create_timer(CLOCK_THREAD_CPUTIME_ID, (pid_t)syscall(SYS_gettid), pt, &pt->timer) != 0)
        return CTRACE_ESYS;
    /* Recognisable before the first expiry can fire. */
    cp_self = pt;
    atomic_signal_fence(memory_order_seq_cst);
    if (arm(pt->timer, hz, (pid_t)syscall(SYS_gettid)) != 0) {
        cp_self = NULL;
        timer_delete(pt->timer);
        return CTRACE_ESYS;
    }
    atomic_fetch_add(&live_timers, 1);
    atomic_store(&pt->timer_live, 1);
    unblock_sigprof_if_unhandled();
    return CTRACE_OK;
}

/* Sets timer to expire hz times per second of the clock it measures.  The
 * first expiry comes at a random point of the first period, not at its
 * end: a thread that runs for a fraction f of a period then gets a sample
 * with probability f, so threads shorter than a period (a thread per job,
 * OpenMP teams) get their share of samples instead of none, and the
 * expected count of any thread is its CPU time times hz.  (Go arms its
 * per-thread profiling timers the same way.)  The randomness only spreads
 * the phase: a mix of the time and the thread id is enough. */
static int arm(timer_t timer, unsigned hz, pid_t tid)
{
    uint64_t period = 1000000000u / hz;
    if (period == 0)
        period = 1;
    uint64_t x = ct_now() ^ ((uint64_t)(uint32_t)tid * 0x9e3779b97f4a7c15ull);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    uint64_t first = 1 + x % period; /* in [1, period]: 0 would disarm */
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(period / 1000000000u);
    its.it_interval.tv_nsec = (long)(period % 1000000000u);
    its.it_value.tv_sec = (time_t)(first / 1000000000u);
    its.it_value.tv_nsec = (long)(first % 1000000000u);
    return timer_settime(timer, 0, &its, NULL);
}

/* The CPU-time clock of thread tid of this process (the kernel's encoding,
 * as pthread_getcpuclockid makes it: per-thread, scheduler time). */
static clockid_t thread_cpu_clock(pid_t tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | 6u);
}

int ct_cpuprof_other_start(struct ct_cpuprof_thread *pt, pid_t tid, unsigned hz)
{
    if (pt == NULL || hz == 0 || tid <= 0)
        return CTRACE_EINVAL;
    int saved_errno = errno;
    int r = CTRACE_EBUSY;
    ct_libc_mutex_lock(&other_mu);
    struct other_slot *os = NULL;
    for (int i = 0; i < CT_OTHER_SLOTS; i++) {
        struct other_slot *x = &other_slots[i];
        if (x->live && atomic_load(&x->pt) == pt) {
            if (atomic_load(&x->tid) == tid)
                goto out; /* armed already */
            other_disarm(x); /* a dead thread's, whose freed record pt reuses */
        }
        if (!x->live && os == NULL)
            os = x;
    }
    if (os == NULL) {
        /* Full: reclaim the slots of threads that died meanwhile (their
         * records may be freed already: only the slot is touched). */
        pid_t pid = (pid_t)syscall(SYS_getpid);
        for (int i = 0; i < CT_OTHER_SLOTS; i++) {
            struct other_slot *x = &other_slots[i];
            if (x->live && syscall(SYS_tgkill, pid, atomic_load(&x->tid), 0) != 0 &&
                errno == ESRCH) {
                other_disarm(x);
                if (os == NULL)
                    os = x;
            }
        }
    }
    if (pt->timer_live || os == NULL)
        goto out;
    r = CTRACE_ESYS;
    if (create_timer(thread_cpu_clock(tid), tid, os, &os->timer) != 0)
        goto out;
    atomic_store(&pt->other_used, 1);
    atomic_store_explicit(&os->tid, tid, memory_order_relaxed);
    atomic_store_explicit(&os->pt, pt, memory_order_release);
    if (arm(os->timer, hz, tid) != 0) {
        atomic_store(&os->pt, NULL);
        timer_delete(os->timer);
        goto out;
    }
    os->live = 1;
    atomic_fetch_add(&live_timers, 1);
    r = CTRACE_OK;
out:
    ct_libc_mutex_unlock(&other_mu);
    errno = saved_errno;
    return r;
}

/* other_mu held.  The slot's pt is cleared before the timer goes, so a
 * signal still queued finds the slot ours and drops it. */
static void other_disarm(struct other_slot *x)
{
    atomic_store_explicit(&x->pt, NULL, memory_order_release);
    timer_delete(x->timer);
    x->live = 0;
    atomic_fetch_sub(&live_timers, 1);
}

static void other_stop_locked(struct ct_cpuprof_thread *pt)
{
    for (int i = 0; i < CT_OTHER_SLOTS; i++)
        if (other_slots[i].live && atomic_load(&other_slots[i].pt) == pt)
            other_disarm(&other_slots[i]);
}

void ct_cpuprof_other_stop(struct ct_cpuprof_thread *pt)
{
    if (pt == NULL || !atomic_load(&pt->other_used))
        return;
    int saved_errno = errno;
    ct_libc_mutex_lock(&other_mu);
    other_stop_locked(pt);
    ct_libc_mutex_unlock(&other_mu);
    errno = saved_errno;
}

void ct_cpuprof_other_stop_all(void)
{
    int saved_errno = errno;
    ct_libc_mutex_lock(&other_mu);
    for (int i = 0; i < CT_OTHER_SLOTS; i++)
        if (other_slots[i].live)
            other_disarm(&other_slots[i]);
    ct_libc_mutex_unlock(&other_mu);
    errno = saved_errno;
}

void ct_cpuprof_thread_stop(struct ct_cpuprof_thread *pt)
{
    /* The owner (at exit) and the thread stopping the trace may both get
     * here: exactly one of them takes the timer and deletes it (a second
     * timer_delete could hit a timer id the kernel has handed out again). */
    if (pt == NULL || !atomic_exchange(&pt->timer_live, 0))
        return;
    int saved_errno = errno;
    /* Retire first: an expiry between here and timer_delete (or one already
     * queued) is recognised as ours and dropped. */
    cp_retired[cp_retired_next++ % RETIRED_SLOTS] = pt;
    atomic_signal_fence(memory_order_seq_cst);
    if (cp_self == pt)
        cp_self = NULL;
    atomic_signal_fence(memory_order_seq_cst);
    timer_delete(pt->timer);
    atomic_fetch_sub(&live_timers, 1);
    errno = saved_errno;
}

int ct_cpuprof_pop(struct ct_cpuprof_thread *pt, struct ct_sample *out)
{
    uint32_t t = atomic_load_explicit(&pt->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&pt->head, memory_order_acquire);
    if (t == h)
        return 0;
    const struct ct_sample *s = &pt->ring[t % CT_SAMPLE_RING];
    uint32_t n = s->nframes;
    if (n > CT_SAMPLE_MAX_FRAMES)
        n = CT_SAMPLE_MAX_FRAMES;
    out->ts = s->ts;
    out->nframes = n;
    memcpy(out->pcs, s->pcs, n * sizeof s->pcs[0]);
    atomic_store_explicit(&pt->tail, t + 1, memory_order_release);
    return 1;
}

uint32_t ct_cpuprof_pending(struct ct_cpuprof_thread *pt)
{
    uint32_t t = atomic_load_explicit(&pt->tail, memory_order_relaxed);
    uint32_t h = atomic_load_explicit(&pt->head, memory_order_acquire);
    return h - t;
}

uint64_t ct_cpuprof_take_dropped(struct ct_cpuprof_thread *pt)
{
    return atomic_exchange_explicit(&pt->dropped, 0, memory_order_relaxed);
}

uint64_t ct_cpuprof_drain_interval_ns(unsigned hz)
{
    if (hz == 0)
        return 0;
    /* Signals per second a thread can get: hz, but no more than the
     * kernel's tick rate (at most 1000), as expiries between two ticks are
     * merged into one signal (an overrun). */
    unsigned rate = hz < 1000 ? hz : 1000;
    uint64_t ns = (uint64_t)CT_SAMPLE_RING / 4 * 1000000000u / rate;
    return ns < CT_SAMPLE_DRAIN_MIN_NS ? CT_SAMPLE_DRAIN_MIN_NS : ns;
}
