/*
 * signals.c - a program that installs its own handlers and queries
 * dispositions; the tracer's stand-in handlers for SIGTERM/SIGINT/SIGHUP/
 * SIGPIPE must stay invisible.
 *
 * What it checks and prints (same output traced and untraced):
 *  - SIGTERM, SIGHUP start at SIG_DFL as far as sigaction/signal report;
 *  - its own SIGUSR1 and SIGINT handlers run when it raises them;
 *  - after restoring SIG_DFL, a query says SIG_DFL again;
 *  - SIGINT handler installed with signal() is reported back by signal();
 *  - a blocking read on a pipe interrupted by a handled SIGALRM without
 *    SA_RESTART returns EINTR (EINTR semantics kept);
 *  - a SIGPROF handler installed while tracing runs (as a profiler would)
 *    receives its own setitimer(ITIMER_PROF) ticks and its own POSIX CPU
 *    timer's, never a signal of ctrace's CPU timers (SI_TIMER with a value
 *    it did not set); sigaction reports it; back at SIG_DFL, the process
 *    keeps burning CPU without being killed (ctrace's ticks are not
 *    forwarded).  Under ctrace run the trace keeps its CPU samples.
 * Exits 0 if every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "burn_cpu.h"

static volatile sig_atomic_t got_usr1, got_int, got_alrm;
static void on_usr1(int s) { (void)s; got_usr1++; }
static void on_int(int s) { (void)s; got_int++; }
static void on_alrm(int s) { (void)s; got_alrm++; }

#define OWN_TIMER_VALUE 77
static volatile sig_atomic_t prof_itimer, prof_own_timer, prof_foreign;
static void on_prof(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)uc;
    if (si->si_code == SI_TIMER && si->si_value.sival_int == OWN_TIMER_VALUE)
        prof_own_timer++;
    else if (si->si_code == SI_TIMER)
        prof_foreign++; /* a timer this program never created */
    else
        prof_itimer++;
}

static void check(int ok, const char *what);

/* A profiler of the program's own, installed after tracing started. */
static void own_profiler(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    check(sigaction(SIGPROF, &sa, &old) == 0 && old.sa_handler == SIG_DFL,
          "SIGPROF starts at SIG_DFL");
    sigaction(SIGPROF, NULL, &old);
    check((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_prof,
          "sigaction reports the program's SIGPROF handler");

    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_PROF, &it, NULL);
    timer_t tm;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGPROF;
    sev.sigev_value.sival_int = OWN_TIMER_VALUE;
    int have_timer = timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &tm) == 0;
    if (have_timer) {
        struct itimerspec its = {{0, 20000000}, {0, 20000000}};
        timer_settime(tm, 0, &its, NULL);
    }
    burn_cpu_ms(400);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    if (have_timer)
        timer_delete(tm);
    check(prof_itimer >= 5, "own ITIMER_PROF ticks reach the program's handler");
    check(!have_timer || prof_own_timer >= 3, "own POSIX CPU timer reaches the program's handler");
    check(prof_foreign == 0, "no foreign timer signal reaches the program's handler");

    signal(SIGPROF, SIG_DFL);
    sigaction(SIGPROF, NULL, &old);
    check(old.sa_handler == SIG_DFL, "SIGPROF back at SIG_DFL");
    burn_cpu_ms(100); /* must not be killed by anyone's SIGPROF */
    check(1, "alive after burning CPU at SIG_DFL");
}

static int failures;
static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

int main(void)
{
    struct sigaction sa, old;
    sigaction(SIGTERM, NULL, &old);
    check(old.sa_handler == SIG_DFL, "SIGTERM starts at SIG_DFL");
    sighandler_t prev = signal(SIGHUP, SIG_DFL);
    check(prev == SIG_DFL, "signal(SIGHUP) reports SIG_DFL");

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    check(got_usr1 == 1, "own SIGUSR1 handler runs");

    prev = signal(SIGINT, on_int);
    check(prev == SIG_DFL, "signal(SIGINT, h) returns SIG_DFL");
    raise(SIGINT);
    check(got_int == 1, "own SIGINT handler runs");
    prev = signal(SIGINT, SIG_DFL);
    check(prev == on_int, "signal(SIGINT, SIG_DFL) returns the handler");
    sigaction(SIGINT, NULL, &old);
    check(old.sa_handler == SIG_DFL, "SIGINT back at SIG_DFL");

    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGPIPE, NULL, &old);
    check(old.sa_handler == SIG_IGN, "SIGPIPE ignored when asked");

    /* EINTR: read on an empty pipe, interrupted by SIGALRM (no SA_RESTART). */
    int p[2];
    if (pipe(p) != 0)
        return 2;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    char c;
    errno = 0;
    ssize_t r = read(p[0], &c, 1);
    check(r == -1 && errno == EINTR && got_alrm == 1, "read interrupted with EINTR");

    own_profiler();

    /* errno untouched by traced calls that succeed. */
    errno = 12345;
    usleep(1000);
    check(errno == 12345, "errno preserved across usleep");
    printf("%d failures\n", failures);
    return failures != 0;
}
