/*
 * restart_counts.c - no event lost across restarts: a thread pool created
 * and named before any tracing, traced again and again in one process, and
 * every task, region and log emitted inside a trace is in that trace.
 *
 *   restart_counts [CYCLES] [REQUESTS] [PERIOD_MS] [SIGNALS]
 *   (defaults: 24 cycles, 300 requests, 20 ms generations, 40 signals)
 *
 * Each cycle starts a trace (even cycles: writer level, ctrace_start_file;
 * odd cycles: runtime level, ctrace_start_trace + a reader thread), hands
 * REQUESTS requests to the pool through a queue (mutex + condition
 * variable), waits until every one is done, and stops the trace.  So each
 * request's events are emitted while the trace is known to be on: between
 * the start's return and the stop's call.  Per request a worker writes one
 * task (begin and end), three regions (req-handle around req-parse and
 * req-work) and two logs (category "req").
 *
 * Around that, to vary the state the restarts meet:
 *  - workers 0 and 1 name themselves (registered while tracing is off),
 *    workers 2 and 3 are named by the main thread (never registered: the
 *    trace start adopts them from /proc);
 *  - every worker keeps a "cross" region open around its requests, ended
 *    and begun again every few requests, so that regions begun in one trace
 *    end in the next, and regions are begun while tracing is off;
 *  - a noise thread writes regions, logs and sleeps all the time, tracing
 *    on or off;
 *  - a spinner burns CPU and never calls the tracer;
 *  - a signal target writes logs in a loop, and the main thread interrupts
 *    it with SIGUSR1 SIGNALS times per trace; the handler writes a log of
 *    category "sig" and a block of reason "sig-wait".  A handler that
 *    interrupts the target inside an event cannot write its own (event.h,
 *    annotate.c): those drops must be counted.
 *
 * For each trace the program prints one line for the driver
 * (check_program.sh restart_counts), which counts the trace's events:
 *   expect FILE tasks=N regions=N logs=N signals=N dropped=N
 * tasks and regions count begins (ends are the same numbers), signals the
 * handler's runs, dropped is ctrace_get_stats' events_dropped after the
 * stop.  The driver requires the trace to hold exactly the requests'
 * events, and the handler's logs and blocks plus dropped to make exactly
 * 2 x signals (nothing else drops here: no memory cap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctrace.h"
#include "testutil.h"

#define NWORKERS 4
#define REGIONS_PER_REQUEST 3
#define LOGS_PER_REQUEST 2

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_nonempty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_alldone = PTHREAD_COND_INITIALIZER;
static int q_pending;  /* requests queued, not yet taken          */
static int q_done;     /* requests finished in this cycle         */
static int q_next_id;  /* id of the next request                  */
static int q_quit;

static atomic_int quit_background;
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER; /* contended */
static atomic_uint sink;

static void spin(unsigned n)
{
    unsigned x = n;
    for (unsigned i = 0; i < n; i++)
        x = x * 1664525u + 1013904223u;
    atomic_store_explicit(&sink, x, memory_order_relaxed);
}

static void handle(int id)
{
    ctrace_task tk = ctrace_task_begin(0, "req");
    ctrace_region_begin(tk, "req-handle");
    ctrace_region_begin(tk, "req-parse");
    ctrace_log(tk, "req", "parsed");
    spin(200 + (unsigned)(id % 7) * 100);
    ctrace_region_end(tk, "req-parse");
    ctrace_region_begin(tk, "req-work");
    pthread_mutex_lock(&shared_mu); /* contended: sync blocks */
    spin(300);
    pthread_mutex_unlock(&shared_mu);
    ctrace_logf(tk, "req", "request %d", id);
    ctrace_region_end(tk, "req-work");
    ctrace_region_end(tk, "req-handle");
    ctrace_task_end(tk);
}

static void *worker(void *arg)
{
    long w = (long)arg;
    if (w < 2) {
        char name[16];
        snprintf(name, sizeof name, "pool-self-%d", (int)w);
        pthread_setname_np(pthread_self(), name);
    }
    int served = 0, cross_open = 0;
    pthread_mutex_lock(&q_mu);
    for (;;) {
        while (!q_pending && !q_quit)
            pthread_cond_wait(&q_nonempty, &q_mu);
        if (q_quit)
            break;
        q_pending--;
        int id = q_next_id++;
        pthread_mutex_unlock(&q_mu);

        /* A region that spans requests and, often, traces. */
        if (served % 5 == 0) {
            if (cross_open)
                ctrace_region_end(0, "cross");
            ctrace_region_begin(0, "cross");
            cross_open = 1;
        }
        handle(id);
        served++;

        pthread_mutex_lock(&q_mu);
        if (++q_done >= 0)
            pthread_cond_broadcast(&q_alldone);
    }
    pthread_mutex_unlock(&q_mu);
    if (cross_open)
        ctrace_region_end(0, "cross");
    return NULL;
}

static void *noise(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "noise");
    for (unsigned n = 0; !atomic_load(&quit_background); n++) {
        ctrace_region_begin(0, "noise");
        ctrace_log(0, "noise", "tick");
        if (n % 4 == 0)
            t_sleep_ms(0); /* a sleep block (nanosleep is interposed) */
        spin(2000);
        ctrace_region_end(0, "noise");
    }
    return NULL;
}

/* The signal target: events back to back, so that many signals land
 * inside one. */
static atomic_int sig_handled;

/* ctrace's annotations are not async-signal-safe in general (a string or
 * stack new to the generation is allocated); here the handler can only
 * interrupt the target inside ctrace calls, where an allocation happens
 * inside an event, so the handler's events are then dropped before they
 * allocate.  (TSan still reports the malloc: the driver turns that report
 * off for this program.) */
static void on_sigusr1(int sig)
{
    (void)sig;
    int e = errno;
    ctrace_log(0, "sig", "handler");
    ctrace_block_reason("sig-wait"); /* a wait (nothing is waited for) */
    ctrace_unblock();
    atomic_fetch_add(&sig_handled, 1);
    errno = e;
}

static void *sig_target(void *arg)
{
    (void)arg;
    while (!atomic_load(&quit_background)) {
        ctrace_log(0, "busy", "target");
        ctrace_region_begin(0, "busy");
        ctrace_region_end(0, "busy");
    }
    return NULL;
}

/* Interrupts the target n times; returns the handler runs (one per signal:
 * each waits for the previous one to be handled). */
static int send_signals(pthread_t target, int n)
{
    int before = atomic_load(&sig_handled);
    for (int i = 0; i < n; i++) {
        int want = atomic_load(&sig_handled) + 1;
        pthread_kill(target, SIGUSR1);
        while (atomic_load(&sig_handled) < want)
            sched_yield();
    }
    return atomic_load(&sig_handled) - before;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&quit_background))
        spin(100000);
    return NULL;
}

struct reader {
    FILE *out;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    const void *p;
    size_t len;
    while ((p = ctrace_read_trace(&len)) != NULL)
        fwrite(p, 1, len, r->out);
    return NULL;
}

/* Hands n requests to the pool and waits until all are done. */
static void run_requests(int n)
{
    pthread_mutex_lock(&q_mu);
    q_done = 0;
    pthread_mutex_unlock(&q_mu);
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&q_mu);
        q_pending++;
        pthread_cond_signal(&q_nonempty);
        pthread_mutex_unlock(&q_mu);
        if (i % 50 == 49)
            t_sleep_ms(1); /* let the pool drain and wait again */
    }
    pthread_mutex_lock(&q_mu);
    while (q_done < n)
        pthread_cond_wait(&q_alldone, &q_mu);
    pthread_mutex_unlock(&q_mu);
}

int main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 24;
    int requests = argc > 2 ? atoi(argv[2]) : 300;
    long period_ms = argc > 3 ? atol(argv[3]) : 20;
    int signals = argc > 4 ? atoi(argv[4]) : 40;

    t_phase("setting up the pool (tracing off)", 30);
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = (uint64_t)period_ms * 1000 * 1000; /* generations advance meanwhile */
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure(short period)");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);

    pthread_t th[NWORKERS], noise_th, spin_th, sig_th;
    for (long w = 0; w < NWORKERS; w++) {
        pthread_create(&th[w], NULL, worker, (void *)w);
        if (w >= 2) {
            char name[16];
            snprintf(name, sizeof name, "pool-named-%d", (int)w);
            pthread_setname_np(th[w], name); /* by another thread: not registered */
        }
    }
    pthread_create(&noise_th, NULL, noise, NULL);
    pthread_create(&spin_th, NULL, spinner, NULL);
    pthread_create(&sig_th, NULL, sig_target, NULL);
    t_sleep_ms(20);

    int start_failed = 0, stop_failed = 0, done = 0;
    for (int c = 0; c < cycles; c++) {
        char name[64];
        snprintf(name, sizeof name, "restart-%02d.trace", c);
        int runtime_level = c % 2;
        struct reader rd = {NULL};
        pthread_t rth;
        int rc;
        t_phase(name, 60);
        if (runtime_level) {
            rd.out = fopen(name, "wb");
            if (!rd.out) {
                printf("FAIL: cannot create %s\n", name);
                return 1;
            }
            rc = ctrace_start_trace();
            if (rc == CTRACE_OK)
                pthread_create(&rth, NULL, reader_main, &rd);
        } else {
            rc = ctrace_start_file(name);
        }
        if (rc != CTRACE_OK) {
            printf("FAIL: cycle %d: start: %s\n", c, ctrace_strerror(rc));
            start_failed++;
            if (rd.out)
                fclose(rd.out);
            continue;
        }
        run_requests(requests);
        int handled = send_signals(sig_th, signals);
        if (runtime_level) {
            rc = ctrace_stop_trace();
            pthread_join(rth, NULL);
            fclose(rd.out);
        } else {
            rc = ctrace_stop();
        }
        if (rc != CTRACE_OK) {
            printf("FAIL: cycle %d: stop: %s\n", c, ctrace_strerror(rc));
            stop_failed++;
        }
        ctrace_stats st;
        ctrace_get_stats(&st);
        printf("expect %s tasks=%d regions=%d logs=%d signals=%d dropped=%llu\n", name,
               requests, requests * REGIONS_PER_REQUEST, requests * LOGS_PER_REQUEST, handled,
               (unsigned long long)st.events_dropped);
        fflush(stdout);
        done++;
        /* Sometimes restart at once, sometimes let the threads run untraced. */
        if (c % 3 == 1)
            t_sleep_ms(3);
    }

    t_phase("stopping the pool", 30);
    pthread_mutex_lock(&q_mu);
    q_quit = 1;
    pthread_cond_broadcast(&q_nonempty);
    pthread_mutex_unlock(&q_mu);
    for (int w = 0; w < NWORKERS; w++)
        pthread_join(th[w], NULL);
    atomic_store(&quit_background, 1);
    pthread_join(noise_th, NULL);
    pthread_join(spin_th, NULL);
    pthread_join(sig_th, NULL);

    CHECK(done == cycles, "%d of %d start/stop cycles done", done, cycles);
    CHECK(start_failed == 0, "every start succeeded (%d failed)", start_failed);
    CHECK(stop_failed == 0, "every stop succeeded (%d failed)", stop_failed);
    CHECK(!ctrace_enabled(), "tracing is off at the end");
    return t_finish();
}
