/*
 * test_samples.c - no CPU sample the kernel delivers is lost: two threads
 * that burn 2 s of CPU each get, in the trace, at least 90 % of the
 * sampling signals the kernel delivered to them.
 *
 *   test_samples lib HZ TRACE COUNTS   trace with libctrace linked
 *   test_samples run COUNTS            the program for `ctrace run --cpu-hz`
 *   test_samples check TRACE COUNTS    compare the trace with COUNTS
 *
 * Counting what the kernel delivered, independently of the tracer: the
 * tracer owns SIGPROF and its timers, so each worker arms a timer of its
 * own on the same clock (CLOCK_THREAD_CPUTIME_ID of the thread) with the
 * same interval, signalling SIGUSR2 to itself, and counts those signals.
 * The kernel checks both timers at the same ticks, so it sends the
 * tracer's timer as many signals as ours, give or take one at the edges
 * (expiries between two ticks are merged into one signal on both: on a
 * 100 Hz kernel, 1000 Hz sampling gets ~100 signals per CPU-second, which
 * CPU time / rate would not predict).  The tracer's timer runs from the
 * thread's first instruction to its exit, ours only while it burns, so the
 * trace should hold at least as many samples as we count.
 *
 * The trace is one generation (period 60 s): with rings drained only at a
 * generation's end, each thread would keep at most one ring of samples,
 * far fewer than the ~200 (100 Hz) due over 2 CPU-seconds.
 *
 *   test_samples short HZ TRACE        short-lived threads
 *
 * Threads that live less than one sampling period of CPU (thread pools
 * that start a thread per job, OpenMP teams): 100 threads burning 8 ms of
 * CPU each at 100 Hz.  A timer whose first expiry is one whole period
 * after the thread starts gives every one of them no sample at all.  With
 * the first expiry at a random point of the period, a thread gets a sample
 * with probability (its CPU time) / period, 0.8 here, 80 samples in all --
 * as far as the kernel lets: it checks CPU timers at its ticks only, so a
 * thread's CPU time is seen up to its last tick (HZ 250: ~60 samples
 * expected; HZ 100: ~32).  The check: samples of the workers within [0.2,
 * 1.5] times what their CPU time predicts (HZ 100's mean is 3.4 standard
 * deviations above the lower bound).
 */
#define _GNU_SOURCE
#include <ctrace.h>
#include <ctrace_reader.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 2
#define BURN_NS 2000000000ull

struct worker {
    pthread_t th;
    unsigned hz;
    pid_t tid;
    long delivered;
};

static __thread volatile long my_signals;

static void on_sigusr2(int sig)
{
    (void)sig;
    my_signals++;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *burn(void *arg)
{
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    /* Calling in registers the thread (and arms its sampling timer) in
     * every build, also the TSan one, which has no pthread_create
     * interposer to do it at the thread's start. */
    ctrace_thread_name("burner");
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGUSR2;
    sev._sigev_un._tid = w->tid;
    timer_t timer;
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &timer) != 0) {
        perror("timer_create");
        exit(2);
    }
    long period = 1000000000L / (long)w->hz;
    struct itimerspec its = {{period / 1000000000L, period % 1000000000L},
                             {period / 1000000000L, period % 1000000000L}};
    timer_settime(timer, 0, &its, NULL);
    uint64_t start = thread_cpu_ns();
    volatile uint64_t x = 0;
    while (thread_cpu_ns() - start < BURN_NS)
        for (int i = 0; i < 10000; i++)
            x += (uint64_t)i * i;
    timer_delete(timer);
    w->delivered = my_signals;
    return NULL;
}

static int burn_all(unsigned hz, const char *counts)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr2;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    struct worker w[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].hz = hz;
        pthread_create(&w[i].th, NULL, burn, &w[i]);
    }
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(w[i].th, NULL);
    FILE *f = fopen(counts, "w");
    if (!f) {
        perror(counts);
        return 2;
    }
    for (int i = 0; i < NWORKERS; i++)
        fprintf(f, "%d %ld\n", (int)w[i].tid, w[i].delivered);
    fclose(f);
    return 0;
}

/* Samples of thread tid in the trace; -1 if it cannot be read whole. */
static long samples_of(const char *trace, long *per_tid, const int *tids, int n)
{
    ctrace_reader *r;
    int rc = ctrace_reader_open(trace, 0, &r);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", trace, ctrace_reader_strerror(rc));
        ctrace_reader_close(r);
        return -1;
    }
    const struct ctrace_event *ev;
    long total = 0;
    while ((rc = ctrace_reader_next(r, &ev)) == 1) {
        if (ev->kind != CTRACE_EV_STACK_SAMPLE)
            continue;
        total++;
        for (int i = 0; i < n; i++)
            if (ev->m == (uint64_t)tids[i])
                per_tid[i]++;
    }
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", trace, ctrace_reader_error(r, NULL));
    ctrace_reader_close(r);
    return rc == 0 ? total : -1;
}

static int check(const char *trace, const char *counts)
{
    FILE *f = fopen(counts, "r");
    if (!f) {
        perror(counts);
        return 2;
    }
    int tids[NWORKERS];
    long delivered[NWORKERS], got[NWORKERS] = {0};
    for (int i = 0; i < NWORKERS; i++)
        if (fscanf(f, "%d %ld", &tids[i], &delivered[i]) != 2) {
            fprintf(stderr, "%s: malformed\n", counts);
            fclose(f);
            return 2;
        }
    fclose(f);
    if (samples_of(trace, got, tids, NWORKERS) < 0)
        return 1;
    int bad = 0;
    for (int i = 0; i < NWORKERS; i++) {
        /* At least 90 %, and a count that means something. */
        int ok = delivered[i] >= 20 && got[i] * 10 >= delivered[i] * 9;
        printf("%s: thread %d: %ld samples in the trace, %ld signals delivered\n",
               ok ? "ok:  " : "FAIL:", tids[i], got[i], delivered[i]);
        bad |= !ok;
    }
    return bad;
}

#define SHORT_THREADS 100
#define SHORT_BURN_NS 8000000ull

struct shorty {
    pthread_t th;
    pid_t tid;
    uint64_t cpu_ns; /* its CPU time from registration to the end of its work */
};

static void *burn_short(void *arg)
{
    struct shorty *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    ctrace_thread_name("short"); /* registered (and its timer armed) in every build */
    uint64_t start = thread_cpu_ns();
    volatile uint64_t x = 0;
    while (thread_cpu_ns() - start < SHORT_BURN_NS)
        for (int i = 0; i < 1000; i++)
            x += (uint64_t)i * i;
    w->cpu_ns = thread_cpu_ns() - start;
    return NULL;
}

static int short_threads(unsigned hz, const char *trace)
{
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.cpu_hz = hz;
    cfg.period_ns = 60000000000ull;
    if (ctrace_configure(&cfg) != CTRACE_OK || ctrace_start_file(trace) != CTRACE_OK) {
        fprintf(stderr, "cannot start tracing\n");
        return 2;
    }
    static struct shorty w[SHORT_THREADS];
    uint64_t cpu = 0;
    for (int i = 0; i < SHORT_THREADS; i += 2) { /* two at a time: two cores */
        for (int k = i; k < i + 2; k++)
            pthread_create(&w[k].th, NULL, burn_short, &w[k]);
        for (int k = i; k < i + 2; k++) {
            pthread_join(w[k].th, NULL);
            cpu += w[k].cpu_ns;
        }
    }
    if (ctrace_stop() != CTRACE_OK) {
        fprintf(stderr, "ctrace_stop failed\n");
        return 2;
    }
    int tids[SHORT_THREADS];
    long per[SHORT_THREADS] = {0}, got = 0;
    for (int i = 0; i < SHORT_THREADS; i++)
        tids[i] = (int)w[i].tid;
    if (samples_of(trace, per, tids, SHORT_THREADS) < 0)
        return 1;
    for (int i = 0; i < SHORT_THREADS; i++)
        got += per[i];
    double expect = (double)cpu * hz / 1e9;
    int ok = expect >= 20 && got >= 0.2 * expect && got <= 1.5 * expect + 5;
    printf("%s: %d threads of %.1f ms of CPU on average: %ld samples, %.1f expected at %u Hz\n",
           ok ? "ok" : "FAIL", SHORT_THREADS, (double)cpu / SHORT_THREADS / 1e6, got, expect, hz);
    return !ok;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && !strcmp(argv[1], "lib")) {
        ctrace_config cfg;
        ctrace_config_init(&cfg);
        cfg.cpu_hz = (unsigned)atoi(argv[2]);
        cfg.period_ns = 60000000000ull; /* one generation: see the header */
        if (ctrace_configure(&cfg) != CTRACE_OK || ctrace_start_file(argv[3]) != CTRACE_OK) {
            fprintf(stderr, "cannot start tracing\n");
            return 2;
        }
        int rc = burn_all(cfg.cpu_hz, argv[4]);
        if (ctrace_stop() != CTRACE_OK) {
            fprintf(stderr, "ctrace_stop failed\n");
            return 2;
        }
        return rc;
    }
    if (argc == 3 && !strcmp(argv[1], "run")) {
        const char *hz = getenv("CTRACE_CPU_HZ");
        if (!hz || !getenv("CTRACE_OUTPUT")) {
            fprintf(stderr, "run mode: start me with ctrace run --cpu-hz N\n");
            return 2;
        }
        return burn_all((unsigned)atoi(hz), argv[2]);
    }
    if (argc == 4 && !strcmp(argv[1], "check"))
        return check(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "short"))
        return short_threads((unsigned)atoi(argv[2]), argv[3]);
    fprintf(stderr, "usage: test_samples lib HZ TRACE COUNTS | run COUNTS | check TRACE COUNTS | short HZ TRACE\n");
    return 2;
}
