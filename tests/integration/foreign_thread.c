/*
 * foreign_thread.c - a thread that exists before tracing starts and never
 * calls into the tracer (a pure CPU loop) is still sampled: its CPU timer
 * is armed from the thread that starts tracing.  Then many start/stop
 * cycles must leave no timer behind.
 *
 * Prints "spinner tid N"; the driver (check_program.sh foreign) checks that
 * foreign.trace holds CPU samples on M=N whose stacks show foreign_spin.
 * Checks here: the cycles' starts and stops succeed, and afterwards the
 * process has no POSIX timer left (/proc/self/timers, when the kernel has
 * it) -- the spinner is still running, so its timers were deleted by stop.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctrace.h"
#include "testutil.h"
#include "../proc_timers.h"

static atomic_int stop_spin;
static atomic_int spinner_tid;
static volatile unsigned long sink;

/* No library call in the loop: the tracer never runs on this thread. */
__attribute__((noinline)) static void foreign_spin(void)
{
    unsigned long x = 1;
    while (!atomic_load_explicit(&stop_spin, memory_order_relaxed))
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
    sink = x;
}

static void *spinner(void *arg)
{
    atomic_store(&spinner_tid, (int)syscall(SYS_gettid));
    foreign_spin();
    return arg;
}

int main(void)
{
    t_phase("spinner", 30);
    pthread_t th;
    pthread_create(&th, NULL, spinner, NULL); /* tracing is off */
    while (!atomic_load(&spinner_tid))
        t_sleep_ms(1);
    printf("spinner tid %d\n", atomic_load(&spinner_tid));
    int before = count_proc_timers();

    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.cpu_hz = 100;
    CHECK_RC(ctrace_configure(&cfg), CTRACE_OK, "ctrace_configure");
    CHECK_RC(ctrace_start_file("foreign.trace"), CTRACE_OK, "ctrace_start_file");
    /* Until the spinner has had 600 ms of CPU (a loaded machine gives it
     * less than the wall time). */
    clockid_t clk;
    struct timespec c0, c;
    CHECK(pthread_getcpuclockid(th, &clk) == 0, "the spinner's CPU clock");
    clock_gettime(clk, &c0);
    double w0 = t_now();
    do {
        t_sleep_ms(10);
        clock_gettime(clk, &c);
    } while ((c.tv_sec - c0.tv_sec) * 1000L + (c.tv_nsec - c0.tv_nsec) / 1000000L < 600 &&
             t_now() - w0 < 20);
    CHECK_RC(ctrace_stop(), CTRACE_OK, "ctrace_stop");

    t_phase("cycles", 60);
    int bad = 0;
    for (int i = 0; i < 40; i++) {
        bad += ctrace_start_file("foreign-cycle.trace") != CTRACE_OK;
        t_sleep_ms(5);
        bad += ctrace_stop() != CTRACE_OK;
    }
    CHECK(bad == 0, "40 start/stop cycles with the spinner running");
    int after = count_proc_timers();
    if (before >= 0)
        CHECK(after == before, "POSIX timers after the cycles: %d (before tracing: %d)", after,
              before);
    atomic_store(&stop_spin, 1);
    pthread_join(th, NULL);
    return t_finish();
}
