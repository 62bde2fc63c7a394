/*
 * exitterm.c - workers terminated while they exit, as a process pool does
 * (Python's multiprocessing.Pool: its workers exit, and the parent sends
 * each a SIGTERM in case one did not).  Under `ctrace run` each worker's
 * trace must come out whole: the SIGTERM lands while the exiting worker
 * finishes its trace, which takes longer than an exit without ctrace.
 *
 *   exitterm [N]    N workers (default 4), one after the other
 *
 * A worker does traced work (threads, a sleep, distinct stacks), tells the
 * parent through a pipe that it is about to exit, and calls exit(0); the
 * parent, on that word, sends it SIGTERM and reaps it.  Output: one line
 * per worker that says only what is the same with or without ctrace (it
 * ended); exit 0.
 *
 * Invariants: deterministic stdout; no outside programs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *nop(void *arg) { return arg; }

/* Distinct stacks: the last generation has more to symbolize. */
static int __attribute__((noinline)) deep(int n)
{
    if (n == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, nop, NULL) == 0)
            pthread_join(t, NULL);
        return 0;
    }
    return deep(n - 1) + 1;
}

static void worker(int w)
{
    for (int d = 0; d < 40; d++)
        deep(d + w);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    for (int w = 0; w < n; w++) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            close(p[0]);
            worker(w);
            char c = 'x';
            if (write(p[1], &c, 1) != 1)
                _exit(2);
            exit(0);
        }
        close(p[1]);
        char c;
        if (read(p[0], &c, 1) == 1)
            kill(pid, SIGTERM); /* it is exiting: make sure, as a pool does */
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
        printf("worker %d ended\n", w);
    }
    return 0;
}
