/* testutil.h - tiny check helpers for the integration test programs. */
#ifndef CTRACE_TESTUTIL_H
#define CTRACE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static int t_checks, t_failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        t_checks++;                                                       \
        if (cond) {                                                       \
            printf("ok:   ");                                             \
        } else {                                                          \
            t_failed++;                                                   \
            printf("FAIL: %s:%d: (%s) ", __FILE__, __LINE__, #cond);      \
        }                                                                 \
        printf(__VA_ARGS__);                                              \
        printf("\n");                                                     \
        fflush(stdout);                                                   \
    } while (0)

/* CHECK_RC(got, want, what): an int return code, named with ctrace_strerror. */
#define CHECK_RC(got, want, what)                                                   \
    do {                                                                            \
        int got_ = (got), want_ = (want);                                           \
        CHECK(got_ == want_, "%s returns %d (%s), want %d (%s)", what, got_,        \
              ctrace_strerror(got_), want_, ctrace_strerror(want_));                \
    } while (0)

static inline int t_finish(void)
{
    printf("%d passed, %d failed\n", t_checks - t_failed, t_failed);
    return t_failed ? 1 : 0;
}

static inline double t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void t_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Watchdog: t_phase("what", seconds) names what the program does next and
 * gives it that long; a hang then fails with the phase's name instead of
 * running into ctest's timeout. */
static const char *volatile t_phase_name = "start";

static void t_watchdog_fired(int sig)
{
    (void)sig;
    static const char pre[] = "FAIL: watchdog: hung in phase: ";
    const char *p = t_phase_name;
    if (write(1, pre, sizeof pre - 1) < 0 || write(1, p, strlen(p)) < 0 || write(1, "\n", 1) < 0)
        _exit(3);
    _exit(3);
}

static inline void t_phase(const char *name, unsigned seconds)
{
    t_phase_name = name;
    signal(SIGALRM, t_watchdog_fired);
    alarm(seconds);
}

#endif
