/*
 * test_cpuprof.c - CPU samples through per-thread timers and the chaining
 * SIGPROF handler.
 *
 * Invariants checked:
 *  - a CPU-bound thread sampled at 200 Hz for ~300 ms of CPU gets at least
 *    30% of the expected samples, timestamps increase, and the symbolized
 *    stacks contain the busy function;
 *  - errno of the interrupted code never changes across deliveries;
 *  - a program's own SIGPROF handler keeps receiving its signals (process
 *    ITIMER_PROF and its own POSIX timer) while ctrace samples, and never
 *    sees ctrace's;
 *  - with SIG_DFL, ctrace's timer signals never kill the process, but a
 *    foreign SIGPROF still does (default action preserved); with SIG_IGN a
 *    foreign SIGPROF is ignored;
 *  - a handler the program installs after ctrace's (through
 *    ct_sigprof_action, as the sigaction interposer does) receives the
 *    program's own ticks and is reported to it, while ctrace's handler
 *    stays in the kernel and keeps sampling; uninstall then restores the
 *    program's latest choice;
 *  - a timer armed from another thread (ct_cpuprof_other_start) samples a
 *    thread that never touched cpuprof, with stacks walked without known
 *    bounds; arming it twice is refused; the thread's own start replaces
 *    it (one timer, not two); stop_all deletes what is left;
 *  - uninstall restores the program's handler; stop and restart work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cpuprof.h"
#include "ctrace.h"
#include "hooks.h"
#include "symbolize.h"
#include "test_util.h"
#include "../proc_timers.h"

#define HZ 200 /* below common kernel tick rates: CPU timers fire on ticks */
#define BURN_NS 300000000ull

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the sampled worker ------------------------------------------------ */

struct worker {
    struct ct_cpuprof_thread pt;
    struct ct_stack_bounds bounds;
    _Atomic int started, done;
    int start_rc;
    uint64_t cpu_ns;
    long errno_changes;
};

__attribute__((noinline)) static unsigned long ctbusy_burn(struct worker *w)
{
    unsigned long x = 88172645463325252ul;
    uint64_t t0 = thread_cpu_ns();
    errno = 4242;
    while (thread_cpu_ns() - t0 < BURN_NS) {
        for (int i = 0; i < 20000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        if (errno != 4242) {
            w->errno_changes++;
            errno = 4242;
        }
    }
    w->cpu_ns = thread_cpu_ns() - t0;
    NO_TAIL(x);
    return x;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    ct_stack_bounds_init(&w->bounds);
    w->start_rc = ct_cpuprof_thread_start(&w->pt, &w->bounds, HZ);
    atomic_store(&w->started, 1);
    ctbusy_burn(w);
    ct_cpuprof_thread_stop(&w->pt);
    atomic_store(&w->done, 1);
    return NULL;
}

/* Drains the worker's ring while it runs (the ring holds 64 samples). */
static int drain(struct worker *w, struct ct_sample *out, int cap, int *n)
{
    struct ct_sample s;
    int got = 0;
    while (ct_cpuprof_pop(&w->pt, &s)) {
        if (*n < cap)
            out[(*n)++] = s;
        got++;
    }
    return got;
}

/* Runs a worker; with block_all it starts with every signal blocked, as
 * liblzma starts its workers. */
static int run_worker_masked(struct worker *w, struct ct_sample *samples, int cap, int block_all)
{
    memset(w, 0, sizeof *w);
    sigset_t all, old;
    sigfillset(&all);
    if (block_all)
        pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    pthread_create(&t, NULL, worker_main, w);
    if (block_all)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    int n = 0;
    while (!atomic_load(&w->done)) {
        drain(w, samples, cap, &n);
        usleep(5000);
    }
    pthread_join(t, NULL);
    drain(w, samples, cap, &n);
    return n;
}

static int run_worker(struct worker *w, struct ct_sample *samples, int cap)
{
    return run_worker_masked(w, samples, cap, 0);
}

static int stack_has(struct ct_symbolizer *sym, const struct ct_sample *s, const char *fn)
{
    for (uint32_t i = 0; i < s->nframes; i++) {
        struct ct_frame f[16];
        int n = ct_symbolize(sym, s->pcs[i], i > 0, f, 16);
        for (int k = 0; k < n; k++)
            if (strcmp(f[k].func, fn) == 0)
                return 1;
    }
    return 0;
}

static struct ct_sample samples[4096];

static void test_sampling(struct ct_symbolizer *sym)
{
    CHECK(ct_cpuprof_install() == 0);
    CHECK(ct_cpuprof_install() == 0); /* idempotent */
    struct worker *w = calloc(1, sizeof *w);
    int n = run_worker(w, samples, 4096);
    CHECK(w->start_rc == 0);
    double expected = (double)w->cpu_ns / 1e9 * HZ;
    printf("sampling: %d samples (expected ~%.0f, dropped %lu), cpu %.0f ms\n", n, expected,
           (unsigned long)w->pt.dropped, (double)w->cpu_ns / 1e6);
    CHECKF(n >= (int)(0.3 * expected), "n=%d expected=%.0f", n, expected);
    CHECKF(n <= (int)(1.5 * expected) + 5, "n=%d expected=%.0f", n, expected);
    CHECKF(w->errno_changes == 0, "errno changed %ld times", w->errno_changes);
    int with_busy = 0, mono = 1;
    for (int i = 0; i < n; i++) {
        if (stack_has(sym, &samples[i], "ctbusy_burn"))
            with_busy++;
        if (i > 0 && samples[i].ts < samples[i - 1].ts)
            mono = 0;
        CHECK(samples[i].nframes >= 1 && samples[i].nframes <= CT_SAMPLE_MAX_FRAMES);
    }
    CHECK(mono);
    CHECKF(with_busy >= n * 8 / 10, "busy in %d of %d stacks", with_busy, n);
    /* The worker's start routine should usually be visible too (the walk
     * goes past the busy function when the PC is in it). */
    int with_main = 0;
    for (int i = 0; i < n; i++)
        with_main += stack_has(sym, &samples[i], "worker_main");
    printf("sampling: ctbusy_burn in %d, worker_main in %d of %d stacks\n", with_busy,
           with_main, n);
    CHECK(with_main >= n / 2);
    /* A worker that starts with every signal blocked is sampled too (the
     * program has no SIGPROF handler here). */
    memset(w, 0, sizeof *w);
    n = run_worker_masked(w, samples, 4096, 1);
    expected = (double)w->cpu_ns / 1e9 * HZ;
    printf("sampling, signals blocked: %d samples (expected ~%.0f)\n", n, expected);
    CHECKF(n >= (int)(0.3 * expected), "signals blocked: n=%d expected=%.0f", n, expected);
    free(w);
    /* Restart on the same thread after stop. */
    struct ct_cpuprof_thread *pt = calloc(1, sizeof *pt);
    struct ct_stack_bounds b;
    ct_stack_bounds_init(&b);
    CHECK(ct_cpuprof_thread_start(pt, &b, 1000) == 0);
    CHECK(ct_cpuprof_thread_start(pt, &b, 1000) == 0); /* same pt: no-op */
    struct ct_cpuprof_thread other;
    memset(&other, 0, sizeof other);
    CHECK(ct_cpuprof_thread_start(&other, &b, 1000) == CTRACE_EBUSY);
    uint64_t t0 = thread_cpu_ns();
    /* CPU until 3 samples came (the consumer pops while the thread runs),
     * at most 2 s of it: the kernel tick caps the rate near 250 Hz, and a
     * loaded machine (CI with both cores busy) delays expiries by far more
     * than a fixed 100 ms allows; a restart must still sample. */
    struct ct_sample s;
    int m = 0;
    while (m < 3 && thread_cpu_ns() - t0 < 2000000000) {
        uint64_t t1 = thread_cpu_ns();
        while (thread_cpu_ns() - t1 < 10000000) {
        }
        while (ct_cpuprof_pop(pt, &s))
            m++;
    }
    ct_cpuprof_thread_stop(pt);
    ct_cpuprof_thread_stop(pt); /* harmless */
    while (ct_cpuprof_pop(pt, &s))
        m++;
    CHECKF(m >= 3, "restart: %d samples", m);
    free(pt);
    CHECK(ct_cpuprof_thread_start(&other, &b, 0) == CTRACE_EINVAL);
    ct_cpuprof_uninstall();
}

/* ---- the program's own SIGPROF handler ---------------------------------- */

static _Atomic long prog_itimer, prog_timer, prog_ours_seen, prog_other;
static int prog_timer_cookie;

static void prog_handler(int sig, siginfo_t *si, void *uc)
{
    int e = errno;
    if (si->si_code == SI_TIMER) {
        if (si->si_value.sival_ptr == &prog_timer_cookie)
            prog_timer++;
        else
            prog_ours_seen++; /* a ctrace signal leaked: bug */
    } else if (si->si_code == SI_KERNEL || si->si_code == 0x80 || si->si_code > 0) {
        prog_itimer++; /* setitimer(ITIMER_PROF) */
    } else {
        prog_other++;
    }
    errno = 777; /* a sloppy handler: the forwarding path must not "fix" it */
    errno = e;
}

static void test_chaining(void)
{
    struct sigaction sa, cur;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prog_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
    CHECK(ct_cpuprof_install() == 0);

    /* The program's own POSIX timer delivering SIGPROF (SI_TIMER, with a
     * sival_ptr that is not ctrace's). */
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGPROF;
    sev.sigev_value.sival_ptr = &prog_timer_cookie;
    timer_t tid;
    CHECK(timer_create(CLOCK_MONOTONIC, &sev, &tid) == 0);
    struct itimerspec its = {{0, 20000000}, {0, 20000000}};
    timer_settime(tid, 0, &its, NULL);
    /* And the classic process-wide profiling timer. */
    struct itimerval it = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &it, NULL);

    struct worker *w = calloc(1, sizeof *w);
    int n = run_worker(w, samples, 4096);
    setitimer(ITIMER_PROF, &off, NULL);
    timer_delete(tid);
    printf("chaining: ctrace %d samples; program itimer %ld, own timer %ld, leaked %ld\n", n,
           (long)prog_itimer, (long)prog_timer, (long)prog_ours_seen);
    double expected = (double)w->cpu_ns / 1e9 * HZ;
    CHECKF(n >= (int)(0.3 * expected), "n=%d expected=%.0f", n, expected);
    /* The program's own timers only have to keep firing: exact counts
     * depend on the load and (under TSan) on signal delivery delays. */
    CHECKF(prog_itimer >= 1, "program ITIMER_PROF signals: %ld", (long)prog_itimer);
    CHECKF(prog_timer >= 1, "program POSIX timer signals: %ld", (long)prog_timer);
    CHECK(prog_ours_seen == 0);
    CHECK(w->errno_changes == 0);
    free(w);

    ct_cpuprof_uninstall();
    CHECK(sigaction(SIGPROF, NULL, &cur) == 0);
    CHECK((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == prog_handler);
    signal(SIGPROF, SIG_DFL);
}

/* A profiler the program starts while ctrace samples. */
static void test_late_handler(void)
{
    prog_itimer = prog_timer = prog_ours_seen = prog_other = 0;
    signal(SIGPROF, SIG_DFL);
    CHECK(ct_cpuprof_install() == 0);
    struct sigaction sa, cur, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prog_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(ct_sigprof_action(&sa, &prev) == 0);
    CHECK(!(prev.sa_flags & SA_SIGINFO) && prev.sa_handler == SIG_DFL);
    CHECK(ct_sigprof_action(NULL, &cur) == 0);
    CHECK((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == prog_handler);
    CHECK(sigaction(SIGPROF, NULL, &cur) == 0); /* the kernel's: still ctrace's */
    CHECK((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction != prog_handler);

    struct itimerval it = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &it, NULL);
    struct worker *w = calloc(1, sizeof *w);
    int n = run_worker(w, samples, 4096);
    setitimer(ITIMER_PROF, &off, NULL);
    printf("late handler: ctrace %d samples; program itimer %ld, leaked %ld\n", n,
           (long)prog_itimer, (long)prog_ours_seen);
    double expected = (double)w->cpu_ns / 1e9 * HZ;
    CHECKF(n >= (int)(0.3 * expected), "n=%d expected=%.0f", n, expected);
    CHECKF(prog_itimer >= 1, "program ITIMER_PROF signals: %ld", (long)prog_itimer);
    CHECK(prog_ours_seen == 0);
    free(w);

    /* Back to SIG_DFL while ctrace's handler is in: ours are still dropped
     * (the worker above stopped its timer; a new one must not kill). */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    CHECK(ct_sigprof_action(&sa, &prev) == 0);
    CHECK((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction == prog_handler);
    w = calloc(1, sizeof *w);
    n = run_worker(w, samples, 4096);
    CHECKF(n >= 1, "samples after SIG_DFL: %d", n);
    free(w);
    ct_cpuprof_uninstall();
    CHECK(sigaction(SIGPROF, NULL, &cur) == 0);
    CHECK(!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL);
    /* Not installed: straight to the kernel. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    CHECK(ct_sigprof_action(&sa, NULL) == 0);
    CHECK(sigaction(SIGPROF, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN);
    signal(SIGPROF, SIG_DFL);
}

/* ---- timers armed from another thread ----------------------------------- */

struct plain_worker {
    _Atomic int tid, phase; /* phase: 0 burn, 1 take over, 2 burn, 3 done */
    struct ct_cpuprof_thread *pt;
    struct ct_stack_bounds bounds;
    int own_rc;
};

static void burn_ns(uint64_t ns)
{
    uint64_t t0 = thread_cpu_ns();
    volatile unsigned long x = 1;
    while (thread_cpu_ns() - t0 < ns)
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ul + 1;
}

__attribute__((noinline)) static void ctother_burn(void)
{
    int keep = 0;
    burn_ns(200000000ull);
    NO_TAIL(keep);
}

static void *plain_worker_main(void *arg)
{
    struct plain_worker *w = arg;
    ct_stack_bounds_init(&w->bounds);
    atomic_store(&w->tid, (int)syscall(SYS_gettid));
    while (atomic_load(&w->phase) == 0)
        ctother_burn(); /* sampled from outside */
    w->own_rc = ct_cpuprof_thread_start(w->pt, &w->bounds, HZ);
    atomic_store(&w->phase, 2);
    burn_ns(100000000ull);
    ct_cpuprof_thread_stop(w->pt);
    atomic_store(&w->phase, 3);
    return NULL;
}

static void test_other(struct ct_symbolizer *sym)
{
    CHECK(ct_cpuprof_install() == 0);
    struct plain_worker *w = calloc(1, sizeof *w);
    w->pt = calloc(1, sizeof *w->pt);
    pthread_t th;
    pthread_create(&th, NULL, plain_worker_main, w);
    while (!atomic_load(&w->tid))
        usleep(1000);
    int base = count_proc_timers();
    CHECK(ct_cpuprof_other_start(w->pt, atomic_load(&w->tid), HZ) == 0);
    CHECK(ct_cpuprof_other_start(w->pt, atomic_load(&w->tid), HZ) == CTRACE_EBUSY);
    if (base >= 0)
        CHECKF(count_proc_timers() == base + 1, "timers %d, before %d", count_proc_timers(), base);
    int n = 0, with_fn = 0, deep = 0;
    struct ct_sample s;
    uint64_t t0 = (uint64_t)time(NULL);
    while (n < 20 && (uint64_t)time(NULL) - t0 < 20) {
        while (ct_cpuprof_pop(w->pt, &s)) {
            n++;
            with_fn += stack_has(sym, &s, "ctother_burn");
            deep += s.nframes >= 3;
        }
        usleep(5000);
    }
    printf("other: %d samples, ctother_burn in %d, >= 3 frames in %d\n", n, with_fn, deep);
    CHECKF(n >= 10, "samples armed from outside: %d", n);
    CHECKF(with_fn >= n * 8 / 10, "ctother_burn in %d of %d", with_fn, n);
    CHECKF(deep >= n / 2, "walked past the leaf in %d of %d", deep, n);
    atomic_store(&w->phase, 1);
    while (atomic_load(&w->phase) < 2)
        usleep(1000);
    CHECK(w->own_rc == 0);
    if (base >= 0)
        CHECKF(count_proc_timers() == base + 1, "after takeover: timers %d, before %d",
               count_proc_timers(), base);
    while (atomic_load(&w->phase) < 3)
        usleep(1000);
    pthread_join(th, NULL);
    /* Armed from outside again, then everything deleted at once. */
    struct ct_cpuprof_thread *pt2 = calloc(1, sizeof *pt2);
    CHECK(ct_cpuprof_other_start(pt2, (pid_t)syscall(SYS_gettid), HZ) == 0);
    ct_cpuprof_other_stop_all();
    if (base >= 0)
        CHECKF(count_proc_timers() == base, "after stop_all: timers %d, before %d",
               count_proc_timers(), base);
    while (ct_cpuprof_pop(pt2, &s)) {
    }
    free(pt2);
    free(w->pt);
    free(w);
    ct_cpuprof_uninstall();
}

/* ---- default dispositions (in children: one of them must die) ----------- */

static int child_status(void (*fn)(void))
{
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    return st;
}

static void child_dfl_samples(void)
{
    /* SIG_DFL + our timer: must survive, with samples. */
    signal(SIGPROF, SIG_DFL);
    if (ct_cpuprof_install() != 0)
        _exit(2);
    struct worker *w = calloc(1, sizeof *w);
    int n = run_worker(w, samples, 4096);
    _exit(n > 10 ? 0 : 3);
}

static void child_dfl_foreign(void)
{
    signal(SIGPROF, SIG_DFL);
    if (ct_cpuprof_install() != 0)
        _exit(2);
    raise(SIGPROF); /* not ours: the default action (terminate) applies */
    _exit(4);
}

static void child_ign_foreign(void)
{
    signal(SIGPROF, SIG_IGN);
    if (ct_cpuprof_install() != 0)
        _exit(2);
    errno = 55;
    raise(SIGPROF);
    kill(getpid(), SIGPROF);
    _exit(errno == 55 ? 0 : 5);
}

static void test_dispositions(void)
{
    int st = child_status(child_dfl_samples);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIG_DFL + samples: status %#x", st);
    st = child_status(child_dfl_foreign);
    CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGPROF, "SIG_DFL + foreign: status %#x", st);
    st = child_status(child_ign_foreign);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIG_IGN + foreign: status %#x", st);
}

int main(void)
{
    ct_clock_init();
    struct ct_symbolizer *sym = ct_symbolizer_new();
    CHECK(sym != NULL);
    test_sampling(sym);
    test_chaining();
    test_late_handler();
    test_other(sym);
    test_dispositions();
    ct_symbolizer_free(sym);
    if (test_failures)
        fprintf(stderr, "test_cpuprof: %d failures\n", test_failures);
    else
        printf("test_cpuprof: ok\n");
    return test_failures != 0;
}
