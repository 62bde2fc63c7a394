/*
 * lockbench.c - cost of the interposers on their hottest paths, per call:
 * an uncontended pthread_mutex_lock/unlock pair, and a 1-byte read() of
 * /dev/zero (the file-syscall path: fd-cache lookup + syscall events).
 * Run by lock_cost.sh plain, preloaded with tracing off, and traced.
 * Prints "mutex_pair_ns N" and "read_ns N" (best of 5 rounds).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    const long n = 5000000, nr = 200000;
    double best_m = 1e30, best_r = 1e30;
    int fd = open("/dev/zero", O_RDONLY);
    char c;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&m);
            pthread_mutex_unlock(&m);
        }
        double t1 = now_ns();
        for (long i = 0; i < nr; i++)
            if (read(fd, &c, 1) != 1)
                return 1;
        double t2 = now_ns();
        if ((t1 - t0) / n < best_m)
            best_m = (t1 - t0) / n;
        if ((t2 - t1) / nr < best_r)
            best_r = (t2 - t1) / nr;
    }
    printf("mutex_pair_ns %.2f\nread_ns %.1f\n", best_m, best_r);
    return 0;
}
