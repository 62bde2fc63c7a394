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
 *    SA_RESTART returns EINTR (EINTR semantics kept).
 * Exits 0 if every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_int, got_alrm;
static void on_usr1(int s) { (void)s; got_usr1++; }
static void on_int(int s) { (void)s; got_int++; }
static void on_alrm(int s) { (void)s; got_alrm++; }

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

    /* errno untouched by traced calls that succeed. */
    errno = 12345;
    usleep(1000);
    check(errno == 12345, "errno preserved across usleep");
    printf("%d failures\n", failures);
    return failures != 0;
}
