/*
 * fdclose.c - a program that closes or redirects descriptors it does not
 * know about, as daemons do; the trace written by ctrace run (whose file
 * descriptor is among them) must come out whole.
 *
 *   fdclose close        close(fd) for every fd from 3 to the fd limit
 *   fdclose close_range  close_range(3, ~0U, 0)
 *   fdclose closefrom    closefrom(3)
 *   fdclose unwind       close(fd) for every fd, then a pipe holding a byte
 *                        while 20 threads start and end: under
 *                        CTRACE_STACKS=unwind, libunwind's own pipe (its
 *                        address checks) must never be the program's
 *   fdclose dup2         dup2(/dev/null, fd) for every fd in /proc/self/fd
 *                        (then close them), and dup3 likewise
 *   fdclose race         for 1 s, a pipe closed twice (the second close
 *                        must fail with EBADF) while another thread starts
 *                        threads (each one the tracer registers, reading a
 *                        /proc file): the tracer's own descriptors must
 *                        never take a number the program closes
 *
 * Before and after, it does traced work (a thread, a mutex handoff, a
 * sleep), so the trace must show events from after the descriptors went.
 * Output: what the program itself can tell (the same traced or not): each
 * step's "ok", then that it can still write to stdout and a pipe.
 * Exit 0 if every check passed.
 *
 * Invariants: deterministic stdout; no outside programs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int failures;
static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

static void *worker(void *arg)
{
    usleep(2000);
    return arg;
}

/* A thread, a join, a sleep: events the trace must have. */
static void traced_work(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_join(t, NULL);
    usleep(3000);
}

static int fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur > 65536)
        return 65536;
    return (int)rl.rlim_cur;
}

/* How many fds from 3 to 99 are pipes. */
static int low_pipes(void)
{
    int n = 0;
    for (int fd = 3; fd < 100; fd++) {
        char link[64], to[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(link, to, sizeof to - 1);
        if (len > 0) {
            to[len] = 0;
            n += strncmp(to, "pipe:", 5) == 0;
        }
    }
    return n;
}

/* Redirects every open fd >= 3 to /dev/null with dup (2 or 3). */
static int redirect_all(int use_dup3)
{
    int null = open("/dev/null", O_RDWR);
    if (null < 0)
        return 0;
    int fds[4096], n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 4096) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd >= 3 && fd != null &&
            fd != dirfd(d))
            fds[n++] = fd;
    }
    closedir(d);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        int r = use_dup3 ? dup3(null, fds[i], O_CLOEXEC) : dup2(null, fds[i]);
        if (r != fds[i])
            ok = 0;
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
    close(null);
    return ok;
}

static atomic_int racing;

static void *nop(void *arg) { return arg; }

/* Starts threads while the main thread races (race mode). */
static void *spawner(void *arg)
{
    while (atomic_load(&racing)) {
        pthread_t t;
        if (pthread_create(&t, NULL, nop, NULL) == 0)
            pthread_join(t, NULL);
    }
    return arg;
}

/* Pipes closed twice for 1 s: the number of second closes that did not
 * fail with EBADF (they closed someone else's descriptor). */
static long race_double_closes(void)
{
    pthread_t sp;
    atomic_store(&racing, 1);
    pthread_create(&sp, NULL, spawner, NULL);
    long bad = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        int p[2];
        if (pipe(p) != 0)
            break;
        close(p[0]);
        close(p[1]);
        errno = 0;
        if (!(close(p[0]) == -1 && errno == EBADF))
            bad++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 1000000000L);
    atomic_store(&racing, 0);
    pthread_join(sp, NULL);
    return bad;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "close";
    traced_work();
    fflush(stdout);
    if (strcmp(mode, "close") == 0) {
        int lim = fd_limit(), bad = 0;
        for (int fd = 3; fd < lim; fd++)
            if (close(fd) != 0 && errno != EBADF)
                bad++;
        check(bad == 0, "close every fd: only EBADF failures");
    } else if (strcmp(mode, "close_range") == 0) {
        check(close_range(3, ~0U, 0) == 0, "close_range(3, ~0U)");
    } else if (strcmp(mode, "closefrom") == 0) {
        closefrom(3);
        check(1, "closefrom(3)");
    } else if (strcmp(mode, "race") == 0) {
        long bad = race_double_closes();
        if (bad)
            printf("%ld second closes did not fail\n", bad);
        check(bad == 0, "a pipe closed twice while threads start: EBADF every time");
    } else if (strcmp(mode, "unwind") == 0) {
        /* Every fd closed, then a pipe made (the lowest numbers) holding
         * a byte while a thread starts: the tracer walks the new thread's
         * stack, and libunwind (CTRACE_STACKS=unwind) checks addresses
         * with a pipe of its own, reading and writing it -- which must
         * never be the program's (it had libunwind's numbers, closed by
         * the loop: libunwind took the byte and wrote one of its own). */
        /* (Printed, not checked: the pipes it inherits are the same
         * traced or not, the ones libunwind would add are not.) */
        printf("pipes from 3 to 99: %d\n", low_pipes());
        int lim = fd_limit(), bad = 0;
        for (int fd = 3; fd < lim; fd++)
            if (close(fd) != 0 && errno != EBADF)
                bad++;
        check(bad == 0, "close every fd: only EBADF failures");
        int q[2];
        char c = 0;
        check(pipe(q) == 0 && write(q[1], "y", 1) == 1, "a pipe holding a byte");
        for (int i = 0; i < 20; i++) {
            pthread_t t;
            pthread_create(&t, NULL, worker, NULL);
            pthread_join(t, NULL);
        }
        check(read(q[0], &c, 1) == 1 && c == 'y', "the byte is still the program's after 20 threads");
        check(close(q[0]) == 0 && close(q[1]) == 0, "and the pipe closes");
    } else if (strcmp(mode, "dup2") == 0) {
        check(redirect_all(0), "dup2(/dev/null) over every open fd");
        check(redirect_all(1), "dup3(/dev/null) over every open fd");
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    /* The program's own descriptors behave as before. */
    int p[2];
    check(pipe(p) == 0 && write(p[1], "x", 1) == 1, "a new pipe works");
    char c = 0;
    check(read(p[0], &c, 1) == 1 && c == 'x', "and reads back");
    check(close(p[0]) == 0 && close(p[1]) == 0, "and closes");
    errno = 0;
    check(close(p[0]) == -1 && errno == EBADF, "closing it twice: EBADF");
    traced_work();
    printf("%d failures\n", failures);
    return failures != 0;
}
