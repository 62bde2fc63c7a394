/* testutil.h - tiny check helpers for the integration test programs. */
#ifndef CTRACE_TESTUTIL_H
#define CTRACE_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

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
 * running into ctest's timeout, followed by every thread's stack (gdb, when
 * the machine has it) so that a rare hang seen once in CI can be read.
 * The stacks are taken by raw system calls: the hang may hold the tracer's
 * own locks, which its fork and exec interposers take. */
static const char *volatile t_phase_name = "start";

static void t_watchdog_stacks(void)
{
    static const char gdb[] = "/usr/bin/gdb";
    if (access(gdb, X_OK) != 0)
        return;
    char pid[24];
    long v = (long)getpid();
    int n = 0;
    char tmp[24];
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    for (int i = 0; i < n; i++)
        pid[i] = tmp[n - 1 - i];
    pid[n] = 0;
#ifdef PR_SET_PTRACER
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
    long child = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
    if (child == 0) {
        char *argv[] = {(char *)gdb, (char *)"-batch", (char *)"-nx", (char *)"-p", pid, (char *)"-ex",
                        (char *)"thread apply all bt", NULL};
        char *envp[] = {(char *)"PATH=/usr/bin:/bin", (char *)"HOME=/tmp", NULL};
        syscall(SYS_dup3, 1, 2, 0);
        syscall(SYS_execve, gdb, argv, envp);
        syscall(SYS_exit_group, 127);
    }
    if (child > 0)
        syscall(SYS_wait4, child, 0L, 0L, 0L);
}

static void t_watchdog_fired(int sig)
{
    (void)sig;
    static const char pre[] = "FAIL: watchdog: hung in phase: ";
    const char *p = t_phase_name;
    if (write(1, pre, sizeof pre - 1) < 0 || write(1, p, strlen(p)) < 0 || write(1, "\n", 1) < 0)
        _exit(3);
    t_watchdog_stacks();
    _exit(3);
}

static inline void t_phase(const char *name, unsigned seconds)
{
    t_phase_name = name;
    signal(SIGALRM, t_watchdog_fired);
    alarm(seconds);
}

#endif
