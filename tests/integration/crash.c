/*
 * crash.c - a traced program that dies: the fatal-signal and exit paths
 * (src/runtime/crash.c, proc.c).  Built three ways from this file:
 * it_crash (libctrace.so), it_crash_static (libctrace.a) and it_crash_plain
 * (no ctrace at all: the reference for how the program dies without the
 * tracer, and the runner that reports wait statuses).
 *
 *   it_crash MODE OUT.trace
 * traces to OUT.trace while four threads make events (logs, regions,
 * thread creation: they are mid-event and hold tracer locks all the time),
 * lets a few generations pass, then leaves by MODE:
 *   segv      write to address 16 (a null-pointer field)   abort    abort()
 *   assert    a failed assert                 term     kill(getpid(), SIGTERM)
 *   handler   a SIGSEGV handler of the program's own prints, restores
 *             SIG_DFL and returns: the fault happens again and kills
 *   badptr    a bad pointer passed to ctrace_log: the fault is inside the
 *             tracer, mid-event (the trace is cut at a generation boundary)
 *   return    returns from main              exit     exit(0)
 *   _exit     _exit(0)               linger   sleeps 2 s, then returns
 *
 *   it_crash_plain run SECONDS PROG ARGS...
 * runs PROG, prints "status 0x%x" (the raw wait status: signal and core
 * dump flag), or "hung" if PROG did not end within SECONDS (then kills it).
 */
#define _GNU_SOURCE
#undef NDEBUG /* the assert mode needs assert */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CRASH_PLAIN
#include "ctrace.h"
#else
#define ctrace_log(t, c, m) ((void)0)
#define ctrace_region_begin(t, n) ((void)0)
#define ctrace_region_end(t, n) ((void)0)
#endif

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void *short_lived(void *arg)
{
    ctrace_log(0, "crash", "short-lived thread");
    return arg;
}

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0;; i++) {
        ctrace_region_begin(0, "crash-work");
        ctrace_log(0, "crash", "worker event");
        ctrace_region_end(0, "crash-work");
        if ((i & 63) == 0) {
            pthread_t t;
            if (pthread_create(&t, NULL, short_lived, NULL) == 0)
                pthread_join(t, NULL);
        }
        if ((i & 15) == 0)
            usleep(100);
    }
    return NULL;
}

static void own_handler(int sig)
{
    static const char msg[] = "the program's own handler ran\n";
    if (write(1, msg, sizeof msg - 1) < 0) {
    }
    signal(sig, SIG_DFL); /* and return: the fault happens again */
}

static int run(int argc, char **argv)
{
    int secs = atoi(argv[2]);
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[3], argv + 3);
        _exit(127);
    }
    int st = 0;
    for (int i = 0; i < secs * 100; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            printf("status 0x%x\n", st);
            return 0;
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    printf("hung\n");
    (void)argc;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 3 && !strcmp(argv[1], "run"))
        return run(argc, argv);
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODE OUT.trace\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
#ifndef CRASH_PLAIN
    ctrace_config cfg;
    ctrace_config_init(&cfg);
    cfg.period_ns = 50ull * 1000 * 1000;
    ctrace_configure(&cfg);
    int rc = ctrace_start_file(argv[2]);
    if (rc != CTRACE_OK) {
        fprintf(stderr, "ctrace_start_file: %s\n", ctrace_strerror(rc));
        return 2;
    }
#endif
    if (!strcmp(mode, "handler"))
        signal(SIGSEGV, own_handler);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    ctrace_region_begin(0, "before-the-end");
    sleep_ms(300);
#ifndef CRASH_PLAIN
    /* At least two complete generations (on a loaded machine, or under a
     * sanitizer, the first stack table's symbolization may take seconds):
     * a file cut at its last complete generation needs one. */
    for (;;) {
        ctrace_stats st;
        ctrace_get_stats(&st);
        if (st.generations >= 2)
            break;
        sleep_ms(20);
    }
#endif
    printf("leaving by %s\n", mode);
    fflush(stdout);
    /* Not NULL: UBSan would catch a null store and exit before the fault. */
    volatile int *volatile nowhere = (volatile int *)16;
    if (!strcmp(mode, "segv") || !strcmp(mode, "handler")) {
        *nowhere = 1;
    } else if (!strcmp(mode, "abort")) {
        abort();
    } else if (!strcmp(mode, "assert")) {
        assert(mode[0] == 'x');
    } else if (!strcmp(mode, "term")) {
        kill(getpid(), SIGTERM);
        sleep_ms(10000);
    } else if (!strcmp(mode, "badptr")) {
#ifndef CRASH_PLAIN
        ctrace_log(0, "crash", (const char *)(uintptr_t)16);
#else
        *nowhere = 1;
#endif
    } else if (!strcmp(mode, "exit")) {
        exit(0);
    } else if (!strcmp(mode, "_exit")) {
        _exit(0);
    } else if (!strcmp(mode, "linger")) {
        /* then returns: time for a signal from outside (LINGER_MS: the
         * test gives a slow, sanitized build longer) */
        const char *ms = getenv("LINGER_MS");
        sleep_ms(ms ? atol(ms) : 2000);
    }
    return 0; /* "return" */
}
